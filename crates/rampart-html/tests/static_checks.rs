//! Checks on the shipped assets and the rendered page that need no browser.

use rampart_html::{HtmlOptions, data_file_name, render};

const JS: &str = include_str!("../assets/report.js");
const CSS: &str = include_str!("../assets/report.css");
const HTML: &str = include_str!("../assets/report.html");

#[path = "support/mod.rs"]
mod support;

#[test]
fn report_js_uses_no_markup_or_code_sinks_and_no_network() {
    let banned = [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
        "new Function",
        "Function(",
        "createContextualFragment",
        "DOMParser",
        "srcdoc",
        "fetch(",
        "XMLHttpRequest",
        "WebSocket",
        "EventSource",
        "sendBeacon",
        "import(",
        ".href",
        ".src",
        "setAttribute('href'",
        "setAttribute('src'",
        "setAttribute('style'",
        "setAttribute('on",
        "location.href",
        "location.assign",
        "window.open",
    ];
    for pattern in banned {
        assert!(!JS.contains(pattern), "report.js must not use `{pattern}`");
    }
    // setTimeout only with a function, never a string.
    for (i, _) in JS.match_indices("setTimeout(") {
        assert!(
            JS[i + 11..].trim_start().starts_with("function"),
            "setTimeout with a non-function at byte {i}"
        );
    }
}

#[test]
fn assets_load_nothing_from_the_network() {
    for (name, text) in [("report.css", CSS), ("report.html", HTML), ("report.js", JS)] {
        for pattern in ["http://", "https://", "url(", "@import", "//cdn", "@font-face"] {
            assert!(!text.contains(pattern), "{name} contains `{pattern}`");
        }
    }
}

#[test]
fn page_has_strict_csp_and_escaped_data() {
    let mut report = support::reports::demo_report();
    report.results[0].result.summary = "</script><script>alert(1)</script>&\u{2028}\u{2029}".to_owned();
    let out = render(&report, &HtmlOptions::default());
    assert!(out.data_files.is_empty());
    let html = &out.index_html;
    let csp_start = html.find("Content-Security-Policy\" content=\"").expect("CSP meta") + 34;
    let csp = &html[csp_start..csp_start + html[csp_start..].find('"').unwrap()];
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains('*'), "{csp}");
    // The CSP comes before any script or style.
    assert!(html.find("Content-Security-Policy").unwrap() < html.find("<style").unwrap());
    // Exactly our two script elements: the recorded `</script>` cannot close the data block.
    assert_eq!(html.matches("<script").count(), 2, "script tags");
    assert_eq!(html.matches("</script").count(), 2, "script end tags");
    let data_start = html.find("id=\"rampart-data\">").unwrap() + 18;
    let data = &html[data_start..data_start + html[data_start..].find("</script>").unwrap()];
    for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
        assert!(!data.contains(bad), "{bad:?} in embedded data");
    }
    let back: rampart_report::TestRunReport = serde_json::from_str(data).unwrap();
    assert_eq!(back, report);
}

#[test]
fn over_budget_data_goes_to_a_data_file_named_in_the_page() {
    let report = support::reports::demo_report();
    let out = render(&report, &HtmlOptions::default().with_data_budget_bytes(1024));
    assert!(out.data_files.len() == 1, "a small report fits one chunk");
    let data = &out.data_files[0];
    assert_eq!(data.file_name, data_file_name(0));
    assert!(
        data.contents.starts_with("(window.RAMPART_DATA_PARTS = window.RAMPART_DATA_PARTS || []).push('")
    );
    assert!(!out.index_html.contains("id=\"rampart-data\""));
    assert!(out.index_html.contains("<script src=\"report-data-000.js\"></script>"));
    assert!(out.index_html.contains("keep them together"));
    let csp_line = out.index_html.lines().find(|l| l.contains("Content-Security-Policy")).unwrap();
    assert!(
        csp_line.contains("script-src 'sha256-") && csp_line.contains("' 'self'; style-src 'sha256-"),
        "{csp_line}"
    );
}

#[test]
fn sink_writes_atomically_and_removes_a_stale_data_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    let report = support::reports::demo_report();
    let split = rampart_html::HtmlSink::new(out.clone())
        .with_options(HtmlOptions::default().with_data_budget_bytes(1))
        .write(&report)
        .unwrap();
    assert!(split.data_files[0].is_file());
    let whole = rampart_html::HtmlSink::new(out.clone()).write(&report).unwrap();
    assert!(whole.data_files.is_empty());
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["index.html"], "no temp file or stale data file left");
}
