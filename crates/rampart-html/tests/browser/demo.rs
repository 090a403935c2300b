//! The demo-like report: loads cleanly, looks right (screenshots), light and dark.

use std::time::Duration;

use rampart_html::HtmlOptions;

use crate::support::reports::demo_report;
use rampart_test_support::chromium::Browser;

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
    let line = rampart_report::verdict_line(&rampart_report::ReportView::new(&report));
    assert_eq!(browser.text("#rampart-report .rr-verdict-title"), line);
    browser.screenshot(&crate::artifacts_dir().join("rampart-report.png"));
    browser.js("window.scrollTo(0, 900)", serde_json::json!([]));
    std::thread::sleep(Duration::from_millis(100));
    browser.screenshot(&crate::artifacts_dir().join("rampart-report-drilldown.png"));
}

#[test]
fn demo_report_renders_in_dark_mode() {
    let Some(browser) = Browser::start(
        "demo_report_renders_in_dark_mode",
        &["--force-dark-mode", "--blink-settings=preferredColorScheme=0"],
    ) else {
        return;
    };
    let (_dir, index) = crate::write_report(&demo_report(), HtmlOptions::default());
    browser.open_file(&index);
    browser.wait_ready();
    let dark = browser.js("return matchMedia('(prefers-color-scheme: dark)').matches", serde_json::json!([]));
    assert_eq!(dark, true, "the browser should prefer dark");
    let bg = browser.js("return getComputedStyle(document.body).backgroundColor", serde_json::json!([]));
    assert_eq!(bg, "rgb(15, 18, 22)", "dark palette applied");
    assert!(browser.console_errors().is_empty());
    browser.screenshot(&crate::artifacts_dir().join("rampart-report-dark.png"));
}
