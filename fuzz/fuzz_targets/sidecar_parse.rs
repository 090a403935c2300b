//! The sidecar reader on arbitrary bytes: never panics; with a line cap, every line over it is
//! reported and no result is read from it.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart::sidecar::{LineProblemKind, ParseOptions, parse, parse_with};

fuzz_target!(|data: &[u8]| {
    let uncapped = parse(data);
    let capped = parse_with(data, &ParseOptions::new().with_max_line_bytes(256));
    if let (Ok(uncapped), Ok(capped)) = (&uncapped, &capped) {
        assert_eq!(uncapped.header, capped.header);
        for problem in &capped.problems {
            if let LineProblemKind::Oversized { limit } = problem.kind {
                assert!(problem.n_bytes > limit);
            }
        }
        // Every result read with the cap is either read the same without it, or a marker.
        for result in &capped.results {
            let marker = result.result.metadata.get("rampart_truncated").is_some();
            assert!(marker || uncapped.results.iter().any(|r| r.line == result.line));
        }
    }
    // The report side's reader: caps, depth sanitizing and diagnostics never panic either.
    let _ = rampart_report::parse_sidecar("fuzz.jsonl", data);
});
