//! The gates panel: each failed gate links to the results behind it.

use std::time::Duration;

use rampart::SafetyStatus;
use rampart_html::HtmlOptions;
use rampart_report::{GatePolicy, evaluate_gates, is_observability_gap};
use serde_json::json;

use crate::support::reports::demo_report;
use rampart_test_support::chromium::Browser;

fn shown_results(browser: &Browser) -> u64 {
    browser
        .js("return +document.getElementById('rr-count').dataset.shownResults", json!([]))
        .as_u64()
        .unwrap()
}

fn wait_shown_results(browser: &Browser, n: u64) {
    browser.wait_for(
        &format!("{n} matching results"),
        &format!("return document.getElementById('rr-count').dataset.shownResults === '{n}'"),
        Duration::from_secs(10),
    );
}

/// Clicks the "show the results" link of the gate whose key is `gate`.
fn show_gate(browser: &Browser, gate: &str) {
    browser.js(
        "const li = Array.from(document.querySelectorAll('#rr-gates li.rr-gate-fail'))
           .find(li => li.querySelector('.rr-gate-key').textContent === arguments[0]);
         li.querySelector('[data-action=show-gate]').click();",
        json!([gate]),
    );
}

#[test]
fn a_failed_gate_links_to_the_results_behind_it() {
    let Some(browser) = Browser::start("a_failed_gate_links_to_the_results_behind_it", &[]) else { return };
    let mut report = demo_report();
    // The category with the most SAFE results judged on the response alone, declared to need
    // tool calls: its observability gaps are the results behind that gate.
    let gap_category = {
        let mut counts = std::collections::BTreeMap::<String, usize>::new();
        for r in &report.results {
            if let Some(h) = &r.harm_category
                && is_observability_gap(r, &[h.as_str()])
            {
                *counts.entry(h.clone()).or_default() += 1;
            }
        }
        counts.into_iter().max_by_key(|(_, n)| *n).expect("the demo has response-only SAFE results").0
    };
    let toml = format!(
        "[gate]\nmax_unsafe = 0\nmin_trials = 1000\n\n[gate.harm.{gap_category}]\nfail_on_observability_gap = true\n"
    );
    let policy = GatePolicy::parse("rampart.toml", &toml).unwrap().unwrap();
    report.gates = evaluate_gates(&policy, &report);
    assert!(report.gates.iter().all(|g| !g.passed), "{:#?}", report.gates);
    let (_dir, index) = crate::write_report(&report, HtmlOptions::default());
    browser.goto(&format!("file://{}", index.display()));
    browser.wait_ready();
    let total = report.results.len() as u64;
    assert_eq!(shown_results(&browser), total);
    assert_eq!(browser.count("#rr-gates [data-action=show-gate]"), 3, "one link per failed gate");

    // max_unsafe: the UNSAFE results, the filter named in the bar and the URL.
    show_gate(&browser, "max_unsafe");
    let n_unsafe = report.results.iter().filter(|r| r.status == SafetyStatus::Unsafe).count() as u64;
    wait_shown_results(&browser, n_unsafe);
    assert!(browser.hash().contains("gate="), "{}", browser.hash());
    assert!(browser.text(".rr-gate-chip").contains("max_unsafe (run)"), "{}", browser.text(".rr-gate-chip"));
    let statuses = browser.js(
        "return Array.from(document.querySelectorAll('li.rr-group')).map(li => li.dataset.verdict)",
        json!([]),
    );
    assert!(
        statuses.as_array().unwrap().iter().all(|v| v != "passed"),
        "only groups with UNSAFE: {statuses}"
    );

    // The observability gaps: exactly the SAFE results judged on the response alone.
    show_gate(&browser, "fail_on_observability_gap");
    let n_gaps =
        report.results.iter().filter(|r| is_observability_gap(r, &[gap_category.as_str()])).count() as u64;
    assert!(n_gaps > 0);
    wait_shown_results(&browser, n_gaps);

    // min_trials: every assessed result; "clear" brings back every result.
    show_gate(&browser, "min_trials");
    let n_assessed = report.results.iter().filter(|r| r.status != SafetyStatus::Error).count() as u64;
    wait_shown_results(&browser, n_assessed);
    browser.click("[data-action=clear-gate]");
    wait_shown_results(&browser, total);
    assert!(!browser.hash().contains("gate="), "{}", browser.hash());
    assert!(browser.console_errors().is_empty(), "{:?}", browser.console_errors());
}

#[test]
fn a_live_report_says_it_is_in_progress_and_a_cancelled_one_says_so() {
    let Some(browser) =
        Browser::start("a_live_report_says_it_is_in_progress_and_a_cancelled_one_says_so", &[])
    else {
        return;
    };
    for (status, expected) in [
        (rampart_report::RunStatus::InProgress, "In progress: the run is still going."),
        (rampart_report::RunStatus::Cancelled, "Cancelled: the run was stopped before it finished."),
    ] {
        let mut report = demo_report();
        report.run_status = status;
        let (_dir, index) = crate::write_report(&report, HtmlOptions::default());
        let html = std::fs::read_to_string(&index).unwrap();
        assert_eq!(html.contains("http-equiv=\"refresh\""), status == rampart_report::RunStatus::InProgress);
        browser.goto(&format!("file://{}", index.display()));
        browser.wait_ready();
        let banner = browser.js(
            "return Array.from(document.querySelectorAll('.rr-notice')).map(n => n.textContent).join('\\n')",
            json!([]),
        );
        assert!(banner.as_str().unwrap().contains(expected), "{banner}");
        assert!(browser.console_errors().is_empty(), "{:?}", browser.console_errors());
    }
}
