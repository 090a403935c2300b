//! Opens a synthetic report of 100,000 results in headless Chromium 5 times and prints the
//! median time from navigation start to the interactive overview (`data-ready`, the
//! `rampart-ready` performance mark), plus the file sizes. Target: under 2 s.
//!
//! `cargo bench -p rampart-html --bench load_100k` (needs `chromium` and `chromium-driver`).

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Instant;

use rampart_html::{HtmlOptions, HtmlSink};
use serde_json::json;
use support::webdriver::Browser;

const N_GROUPS: usize = 1000;
const TRIALS: u32 = 100;
const RUNS: usize = 5;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing: run quickly then.
    let started = Instant::now();
    let tests = support::reports::synthetic_tests(N_GROUPS, TRIALS);
    let report = support::reports::build_report(&tests);
    assert_eq!(report.results.len(), N_GROUPS * TRIALS as usize);
    eprintln!("built a report of {} results in {:.1?}", report.results.len(), started.elapsed());

    let dir = tempfile::tempdir().unwrap();
    let out = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    // LOAD_100K_BUDGET_MIB=1024 measures the single-file (inline) mode.
    let mut options = HtmlOptions::default();
    if let Some(mib) = std::env::var("LOAD_100K_BUDGET_MIB").ok().and_then(|v| v.parse::<usize>().ok()) {
        options = options.with_data_budget_bytes(mib * 1024 * 1024);
    }
    let render_started = Instant::now();
    let written = HtmlSink::new(out).with_options(options).write(&report).unwrap();
    let render_time = render_started.elapsed();
    let index_size = std::fs::metadata(&written.index).unwrap().len();
    let n_data_files = written.data_files.len();
    let data_size: u64 = written.data_files.iter().map(|p| std::fs::metadata(p).unwrap().len()).sum();

    let Some(browser) = Browser::start("load_100k", &[]) else { return };
    let url = format!("file://{}", written.index);
    let mut ready_ms = Vec::new();
    let mut filter_ms = Vec::new();
    for _ in 0..RUNS {
        browser.goto("about:blank");
        browser.goto(&url);
        browser.wait_ready();
        let ms = browser
            .js("return performance.getEntriesByName('rampart-ready')[0].startTime", json!([]))
            .as_f64()
            .unwrap();
        ready_ms.push(ms);
        let marks = browser.js(
            "return ['rampart-script-start', 'rampart-data-parsed', 'rampart-ready'].map(n => Math.round(performance.getEntriesByName(n)[0].startTime))",
            json!([]),
        );
        eprintln!("  marks (script start, data parsed, ready): {marks}");
        let filter = browser
            .js(
                "var t = performance.now(); document.querySelector('[data-filter-status=safe]').click(); return performance.now() - t",
                json!([]),
            )
            .as_f64()
            .unwrap();
        filter_ms.push(filter);
    }
    let n_nodes = browser.js("return document.getElementsByTagName('*').length", json!([]));
    ready_ms.sort_by(f64::total_cmp);
    filter_ms.sort_by(f64::total_cmp);
    let median = ready_ms[RUNS / 2];
    println!("load_100k: {} results, {N_GROUPS} trial groups x {TRIALS} trials", report.results.len());
    println!("  render + write:             {:.0} ms", render_time.as_secs_f64() * 1000.0);
    println!("  index.html:                 {:.1} MiB", index_size as f64 / 1048576.0);
    if n_data_files > 0 {
        println!(
            "  report-data-*.js:           {:.1} MiB in {n_data_files} files",
            data_size as f64 / 1048576.0
        );
    }
    println!("  navigation start -> ready:  median {median:.0} ms over {RUNS} loads {ready_ms:.0?}");
    println!("  SAFE filter toggle:         median {:.0} ms", filter_ms[RUNS / 2]);
    println!("  DOM elements after filter:  {n_nodes}");
    println!("  target < 2000 ms:           {}", if median < 2000.0 { "met" } else { "MISSED" });
}
