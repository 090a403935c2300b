//! Trends and the baseline comparison on the page: inline SVG charts (no library, no network),
//! a pass-rate sparkline and an "unstable" flag in the rows, the comparison at the top.

use rampart_html::HtmlOptions;
use rampart_report::history::{RunOrigin, RunSummary};
use serde_json::json;

use crate::support::reports::demo_report;
use rampart_test_support::chromium::Browser;

#[test]
fn trends_draw_as_svg_charts_and_sparklines() {
    let Some(browser) = Browser::start("trends_draw_as_svg_charts_and_sparklines", &[]) else { return };
    let mut report = demo_report();
    let current = RunSummary::of(&report, &RunOrigin::default());
    // Five earlier runs: every group alternately passing and failing (so each flips), and the
    // categories' rates moving with them.
    let history: Vec<RunSummary> = (0..5)
        .map(|i| {
            let mut run = current.clone();
            for g in &mut run.groups {
                let pass = i % 2 == 0;
                g.verdict = if pass {
                    rampart_report::GroupVerdict::Passed
                } else {
                    rampart_report::GroupVerdict::Failed
                };
                g.safe = if pass { g.total } else { g.total / 2 };
            }
            run
        })
        .collect();
    report.trends = rampart_report::trends::trends(&history, &current, 30);
    report.baseline = Some(rampart_report::compare::compare(&history[1], &current));
    let trends = report.trends.as_ref().unwrap();
    let n_charts = trends.categories.len() as u64 + 1;
    let n_points: u64 =
        trends.categories.iter().flat_map(|c| &c.points).chain(&trends.all).filter(|p| p.is_some()).count()
            as u64;
    let (_dir, index) = crate::write_report(&report, HtmlOptions::default());
    browser.set_window_size(1280, 2400);
    browser.open_file(&index);
    browser.wait_ready();
    let counts = browser.js(
        "const svgNs = 'http://www.w3.org/2000/svg'; \
         const charts = Array.from(document.querySelectorAll('#rr-trends figure svg')); \
         return [charts.length, charts.every(s => s.namespaceURI === svgNs && s.getBoundingClientRect().height > 40), \
                 document.querySelectorAll('#rr-trends circle').length, \
                 document.querySelectorAll('li.rr-group svg.rr-spark').length, \
                 document.querySelectorAll('[data-flag=unstable]').length, \
                 document.querySelectorAll('#rr-baseline').length]",
        json!([]),
    );
    assert_eq!(counts[0], n_charts, "one chart per category and one for all: {counts}");
    assert_eq!(counts[1], true, "the charts are SVG and drawn: {counts}");
    assert_eq!(counts[2], n_points, "a dot per run with a rate: {counts}");
    let unstable = trends.unstable().count() as u64;
    assert!(unstable > 0);
    assert_eq!(counts[4], unstable, "{counts}");
    assert!(counts[3].as_u64().unwrap() > 0, "sparklines in the rows: {counts}");
    assert_eq!(counts[5], 1, "the comparison at the top: {counts}");
    assert!(browser.console_errors().is_empty(), "{:?}", browser.console_errors());
    let shot = crate::artifacts_dir().join("trends.png");
    browser.screenshot(&shot);
    eprintln!("screenshot of the trends: {}", shot.display());
}
