//! A report of 100,000 results opens to an interactive overview, filters, drills down into a
//! conversation and searches the conversations, in both data layouts. No timing assertion:
//! the time is the benchmark's (`cargo bench -p rampart-html --bench load_100k`).

use std::time::Duration;

use rampart_html::HtmlOptions;
use serde_json::json;

use crate::support::reports::{build_report, synthetic_tests};
use rampart_test_support::chromium::Browser;

#[test]
fn report_of_100k_results_is_interactive_in_both_layouts() {
    let Some(browser) = Browser::start("report_of_100k_results_is_interactive_in_both_layouts", &[]) else {
        return;
    };
    let report = build_report(&synthetic_tests(1000, 100));
    let total = report.results.len() as u64;
    assert_eq!(total, 100_000);
    for split in [true, false] {
        // The default budget splits a report this size; a huge budget keeps it in one file.
        let options = if split {
            HtmlOptions::default()
        } else {
            HtmlOptions::default().with_data_budget_bytes(usize::MAX)
        };
        let (dir, index) = crate::write_report(&report, options);
        let n_detail_files = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("report-detail-"))
            .count() as u64;
        assert_eq!(n_detail_files > 0, split, "detail files only when split");
        browser.goto("about:blank");
        browser.open_file(&index);
        browser.wait_ready();
        let count = |what: &str| -> u64 {
            browser
                .js(&format!("return +document.getElementById('rr-count').dataset.{what}"), json!([]))
                .as_u64()
                .unwrap()
        };
        assert_eq!(count("shownResults"), total);
        assert_eq!(count("totalGroups"), 1000);
        // Counts in the verdict sentence read with thousands separators.
        let line = browser.text("#rr-verdict-line");
        assert!(line.contains(" of 1,000 trial groups failed"), "{line}");
        assert!(!line.contains("1000"), "{line}");
        // No DOM node per result up front: a page of groups, a few opened failures.
        let n_nodes =
            browser.js("return document.getElementsByTagName('*').length", json!([])).as_u64().unwrap();
        assert!(n_nodes < 20_000, "{n_nodes} elements");
        assert!(browser.count("li.rr-result") < 200);
        if split {
            // Only the detail files of the auto-opened failures were read.
            let loaded = browser.count("script[src^='report-detail-']");
            assert!(loaded < n_detail_files, "{loaded} of {n_detail_files} detail files read up front");
        }

        // A filter click changes the visible count.
        browser.click("button[data-filter-status=safe]");
        browser.wait_for(
            "the SAFE filter",
            &format!(
                "return document.getElementById('rr-count').dataset.shownResults === '{}'",
                total - report.passed
            ),
            Duration::from_secs(10),
        );
        browser.click("button[data-action=reset-filters]");
        browser.wait_for(
            "all results",
            &format!("return document.getElementById('rr-count').dataset.shownResults === '{total}'"),
            Duration::from_secs(10),
        );

        // Drill down into a collapsed group: its first trial, its first result's conversation.
        let row = browser
            .js(
                "var rows = Array.from(document.querySelectorAll('li.rr-group')).filter(li => li.querySelector('.rr-group-toggle').getAttribute('aria-expanded') === 'false'); \
                 return rows[Math.floor(rows.length / 2)].dataset.test",
                json!([]),
            )
            .as_str()
            .unwrap()
            .to_owned();
        let row = format!("li.rr-group[data-test='{row}']");
        browser.click(&format!("{row} .rr-group-toggle"));
        browser.click(&format!("{row} .rr-trial-toggle[aria-expanded=false]"));
        browser.click(&format!("{row} .rr-result-toggle[aria-expanded=false]"));
        browser.wait_for(
            "the conversation",
            &format!("return document.querySelector(\"{row} .rr-result-detail .rr-turn\") !== null"),
            Duration::from_secs(20),
        );
        let detail = browser.text(&format!("{row} .rr-result-detail"));
        assert!(detail.contains("Please summarise document"), "{detail}");
        assert!(detail.contains("read_document"), "{detail}");
        assert!(detail.contains("judge@1"), "{detail}");

        // Search reaches the conversations (read from every detail chunk, in slices).
        browser.send_keys("input[data-filter=q]", "summarise document 54321 and");
        browser.wait_for(
            "the search over every conversation",
            "var c = document.getElementById('rr-count'); return location.hash.includes('q=') && c.dataset.searching === 'false' && c.dataset.shownResults === '1'",
            Duration::from_secs(60),
        );
        assert_eq!(browser.count("[data-detail-error]"), 0);
        let errors = browser.console_errors();
        assert!(errors.is_empty(), "console errors: {errors:#?}");
    }
}
