//! Opens a synthetic report of 100,000 results in headless Chromium 5 times in each mode
//! (data split into files beside the page, the default at this size; and everything in one
//! file) and prints the median time from navigation start to the interactive overview
//! (`data-ready`, the `rampart-ready` performance mark), plus the file sizes and the time a
//! filter click and a drill-down into one result's conversation take. Target: under 2 s.
//!
//! `cargo bench -p rampart-html --bench load_100k` (needs `chromium` and `chromium-driver`).
//! `LOAD_100K_MODE=split` or `single` measures one mode only.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use rampart_html::{HtmlOptions, HtmlSink};
use serde_json::json;
use support::webdriver::Browser;

const N_GROUPS: usize = 1000;
const TRIALS: u32 = 100;
const RUNS: usize = 5;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: only check that
    // it builds then.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("load_100k: run with `cargo bench -p rampart-html --bench load_100k`");
        return;
    }
    let started = Instant::now();
    let tests = support::reports::synthetic_tests(N_GROUPS, TRIALS);
    let report = support::reports::build_report(&tests);
    assert_eq!(report.results.len(), N_GROUPS * TRIALS as usize);
    eprintln!("built a report of {} results in {:.1?}", report.results.len(), started.elapsed());
    let json_size = serde_json::to_string(&report).unwrap().len();
    println!("load_100k: {} results, {N_GROUPS} trial groups x {TRIALS} trials", report.results.len());
    println!("  report.json:                {:.1} MiB", json_size as f64 / 1048576.0);

    let Some(browser) = Browser::start("load_100k", &[]) else { return };
    let mode = std::env::var("LOAD_100K_MODE").unwrap_or_default();
    for (name, options) in [
        ("split", HtmlOptions::default()),
        ("single", HtmlOptions::default().with_data_budget_bytes(usize::MAX)),
    ] {
        if !mode.is_empty() && mode != name {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let out = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
        let render_started = Instant::now();
        let written = HtmlSink::new(out).with_options(options).write(&report).unwrap();
        let render_time = render_started.elapsed();
        let index_size = std::fs::metadata(&written.index).unwrap().len();
        let size_of = |prefix: &str| {
            let files: Vec<_> = written
                .data_files
                .iter()
                .filter(|p| p.file_name().is_some_and(|n| n.starts_with(prefix)))
                .collect();
            let bytes: u64 = files.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();
            (files.len(), bytes)
        };
        let (n_core, core_size) = size_of(rampart_html::DATA_FILE_PREFIX);
        let (n_detail, detail_size) = size_of(rampart_html::DETAIL_FILE_PREFIX);

        let url = format!("file://{}", written.index);
        let mut ready_ms = Vec::new();
        let mut parsed_ms = Vec::new();
        let mut loaded_ms = Vec::new();
        let mut filter_ms = Vec::new();
        let mut drill_ms = Vec::new();
        for _ in 0..RUNS {
            browser.goto("about:blank");
            browser.goto(&url);
            browser.wait_ready();
            let marks = browser.js(
                "var n = performance.getEntriesByType('navigation')[0]; \
                 var t = k => performance.getEntriesByName(k)[0].startTime; \
                 return [t('rampart-script-start'), t('rampart-data-parsed'), t('rampart-ready'), \
                         n ? n.loadEventEnd : 0, t('rampart-model-built'), t('rampart-filtered')]",
                json!([]),
            );
            let m: Vec<f64> = marks.as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            eprintln!(
                "  {name}: script start {:.0} ms, core parsed {:.0}, model built {:.0}, filtered {:.0}, ready {:.0}, load event end {:.0}",
                m[0], m[1], m[4], m[5], m[2], m[3]
            );
            parsed_ms.push(m[1]);
            ready_ms.push(m[2]);
            loaded_ms.push(m[3]);
            let filter = browser
                .js(
                    "var t = performance.now(); document.querySelector('[data-filter-status=safe]').click(); return performance.now() - t",
                    json!([]),
                )
                .as_f64()
                .unwrap();
            filter_ms.push(filter);
            // Drill down: a collapsed group of the middle of the list -> its first trial ->
            // its first result's conversation (loaded from its detail chunk).
            browser.js(
                "window.__drill = performance.now(); \
                 var rows = document.querySelectorAll('li.rr-group'); var li = rows[Math.floor(rows.length / 2)]; \
                 li.querySelector('.rr-group-toggle[aria-expanded=false]').click(); \
                 var tr = li.querySelector('.rr-trial-toggle'); if (tr.getAttribute('aria-expanded') !== 'true') tr.click(); \
                 var r = li.querySelector('.rr-result-toggle'); if (r.getAttribute('aria-expanded') !== 'true') r.click(); \
                 window.__drillLi = li;",
                json!([]),
            );
            let drill = browser.wait_for(
                "the conversation",
                "var d = window.__drillLi.querySelector('.rr-result-detail'); \
                 return d && d.querySelector('.rr-turn') ? (window.__drillDone || (window.__drillDone = performance.now())) - window.__drill : null",
                std::time::Duration::from_secs(30),
            );
            drill_ms.push(drill.as_f64().unwrap());
        }
        let n_nodes = browser.js("return document.getElementsByTagName('*').length", json!([]));
        let ready = median(ready_ms.clone());
        println!("  --- {name} ---");
        println!("  render + write:             {:.0} ms", render_time.as_secs_f64() * 1000.0);
        println!("  index.html:                 {:.1} MiB", index_size as f64 / 1048576.0);
        if n_core > 0 {
            println!(
                "  report-data-*.js:           {:.1} MiB in {n_core} files",
                core_size as f64 / 1048576.0
            );
            println!(
                "  report-detail-*.js:         {:.1} MiB in {n_detail} files",
                detail_size as f64 / 1048576.0
            );
        }
        println!("  navigation start -> core parsed: median {:.0} ms", median(parsed_ms));
        println!("  navigation start -> ready:  median {ready:.0} ms over {RUNS} loads {ready_ms:.0?}");
        println!("  navigation start -> load event end: median {:.0} ms", median(loaded_ms));
        println!("  SAFE filter toggle:         median {:.0} ms", median(filter_ms));
        println!("  drill-down to a conversation: median {:.0} ms (polled every 20 ms)", median(drill_ms));
        println!("  DOM elements after drill-down: {n_nodes}");
        println!("  target < 2000 ms:           {}", if ready < 2000.0 { "met" } else { "MISSED" });
    }
}
