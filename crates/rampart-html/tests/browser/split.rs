//! Over the size budget: index.html plus report-data.js, loaded from file:// under the CSP.

use rampart_html::HtmlOptions;

use crate::support::reports::demo_report;
use crate::support::webdriver::Browser;

#[test]
fn split_data_file_loads_from_file_url_under_the_csp() {
    let Some(browser) = Browser::start("split_data_file_loads_from_file_url_under_the_csp", &[]) else {
        return;
    };
    let report = demo_report();
    let (dir, index) = crate::write_report(&report, HtmlOptions::default().with_data_budget_bytes(4096));
    assert!(dir.path().join(rampart_html::data_file_name(0)).is_file());
    browser.open_file(&index);
    browser.wait_ready();
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert!(browser.text("#rr-data-notice").contains("report-data-"));
    assert_eq!(
        browser.js("return document.getElementById('rr-count').dataset.shownResults", serde_json::json!([])),
        report.results.len().to_string()
    );
    // Without the data file the page says what is wrong instead of staying blank.
    std::fs::remove_file(dir.path().join(rampart_html::data_file_name(0))).unwrap();
    browser.goto("about:blank");
    browser.open_file(&index);
    browser.wait_for(
        "the error state",
        "return document.documentElement.dataset.ready === 'error'",
        std::time::Duration::from_secs(10),
    );
    assert!(browser.text("#rr-main").contains("keep them in the same directory"));
}
