//! The demo-like report: loads cleanly, looks right (screenshots), light and dark.

use std::time::Duration;

use rampart_html::HtmlOptions;

use crate::support::reports::demo_report;
use crate::support::webdriver::Browser;

#[test]
fn demo_report_loads_without_console_errors_and_is_screenshotted() {
    let Some(browser) = Browser::start("demo_report_loads_without_console_errors_and_is_screenshotted", &[])
    else {
        return;
    };
    let report = demo_report();
    let (_dir, index) = crate::write_report(&report, HtmlOptions::default());
    browser.open_file(&index);
    browser.wait_ready();
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    assert_eq!(browser.text("#rampart-report .rr-verdict-title"), "Safety failures");
    browser.screenshot(&crate::artifacts_dir().join("rampart-report.png"));
    browser.js("window.scrollTo(0, 900)", serde_json::json!([]));
    std::thread::sleep(Duration::from_millis(100));
    browser.screenshot(&crate::artifacts_dir().join("rampart-report-drilldown.png"));
}
