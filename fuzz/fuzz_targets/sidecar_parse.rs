//! The sidecar reader on arbitrary bytes: never panics; with a line cap, every line over it is
//! reported and no result is read from it; and no UNSAFE status is lost: every line the
//! uncapped parse reads whole as an UNSAFE result is, with the cap, an UNSAFE result (the line
//! itself, or the marker the probe leaves) with the same index.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart::SafetyStatus;
use rampart::sidecar::{LineProblemKind, ParseOptions, Sidecar, parse, parse_with};

fuzz_target!(|data: &[u8]| {
    let uncapped = parse(data);
    // 256 bytes, and (so realistic headers, which are longer, pass) the header's own length:
    // a header over the cap refuses the whole file.
    let header_len = data.iter().position(|&b| b == b'\n').unwrap_or(data.len());
    let mut caps = vec![256];
    if header_len >= 256 {
        caps.push(header_len + 1);
    }
    for cap in caps {
        let capped = parse_with(data, &ParseOptions::new().with_max_line_bytes(cap));
        if let (Ok(uncapped), Ok(capped)) = (&uncapped, &capped) {
            check(uncapped, capped, cap);
        }
    }
    // The report side's reader: caps, depth sanitizing and diagnostics never panic either.
    let _ = rampart_report::parse_sidecar("fuzz.jsonl", data);
});

fn check(uncapped: &Sidecar, capped: &Sidecar, cap: usize) {
    assert_eq!(uncapped.header, capped.header);
    for problem in &capped.problems {
        if let LineProblemKind::Oversized { limit } = problem.kind {
            assert_eq!(limit, cap);
            assert!(problem.n_bytes > limit);
        }
    }
    // Every result read with the cap is either read the same without it, or a marker.
    for result in &capped.results {
        let marker = result.result.metadata.get("rampart_truncated").is_some();
        assert!(
            marker || uncapped.results.iter().any(|r| r.line == result.line),
            "line {} (index {}, {:?}) is read with a {cap}-byte cap but not without: {:?} / uncapped {:?}",
            result.line,
            result.index,
            result.result.status,
            result.result.metadata.keys().collect::<Vec<_>>(),
            uncapped.results.iter().map(|r| (r.line, r.index, r.result.status)).collect::<Vec<_>>()
        );
    }
    // No UNSAFE status lost: a line serde_json read whole as UNSAFE (not a marker of the
    // uncapped parse) stays UNSAFE with its index under the cap.
    for read in &uncapped.results {
        let whole = !read.result.metadata.contains_key("rampart_unreadable")
            && !read.result.metadata.contains_key("rampart_truncated")
            && !read.result.metadata.contains_key("rampart_status_read");
        if whole && read.result.status == SafetyStatus::Unsafe {
            assert!(
                capped
                    .results
                    .iter()
                    .any(|r| r.index == read.index && r.result.status == SafetyStatus::Unsafe),
                "line {} (index {}) is UNSAFE uncapped, but not with a {cap}-byte cap: {:?}",
                read.line,
                read.index,
                capped.results.iter().map(|r| (r.line, r.index, r.result.status)).collect::<Vec<_>>()
            );
        }
    }
}
