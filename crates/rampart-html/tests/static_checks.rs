//! Checks on the shipped assets and the rendered page that need no browser.

use rampart_html::{DETAIL_ELEMENT_PREFIX, HtmlOptions, data_file_name, detail_file_name, render};

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
    // The one script element the page creates loads a detail file of a split report, by a
    // name built from the chunk number only.
    let allowed = "script.src = detailFileName(n);";
    assert_eq!(JS.matches(allowed).count(), 1, "the detail loader");
    assert!(JS.contains("return 'report-detail-' + s + '.js';"), "detail file names come from a constant");
    let js = JS.replace(allowed, "");
    // The script is inlined in the page: nothing in it may end or open an element.
    for pattern in ["</script", "<script", "<!--"] {
        assert!(!JS.to_lowercase().contains(pattern), "report.js contains `{pattern}`");
    }
    for pattern in banned {
        assert!(!js.contains(pattern), "report.js must not use `{pattern}`");
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
        // The SVG namespace is a name (`createElementNS`), never fetched: the one URL allowed.
        let text = text.replace("'http://www.w3.org/2000/svg'", "'svg-namespace'");
        for pattern in ["http://", "https://", "url(", "@import", "//cdn", "@font-face"] {
            assert!(!text.contains(pattern), "{name} contains `{pattern}`");
        }
    }
}

/// The JSON texts of the page's `<script type="application/json">` elements, by id.
fn json_blocks(html: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = html;
    let open = "<script type=\"application/json\" id=\"";
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let id_end = after.find('"').unwrap();
        let id = after[..id_end].to_owned();
        let body_start = id_end + after[id_end..].find('>').unwrap() + 1;
        let body_end = body_start + after[body_start..].find("</script>").unwrap();
        out.push((id, after[body_start..body_end].to_owned()));
        rest = &after[body_end..];
    }
    out
}

#[test]
fn page_has_strict_csp_and_escaped_data() {
    let mut report = support::reports::demo_report();
    let hostile = "</script><script>alert(1)</script>&\u{2028}\u{2029}";
    report.results[0].result.summary = hostile.to_owned();
    report.results[1].result.turns[0].response.text = format!("detail {hostile}");
    let out = render(&report, &HtmlOptions::default());
    assert!(out.data_files.is_empty());
    let html = &out.index_html;
    let csp_start = html.find("Content-Security-Policy\" content=\"").expect("CSP meta") + 34;
    let csp = &html[csp_start..csp_start + html[csp_start..].find('"').unwrap()];
    assert!(csp.starts_with("default-src 'none'; script-src 'sha256-"), "{csp}");
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval") && !csp.contains('*'), "{csp}");
    // The CSP comes before any script or style.
    assert!(html.find("Content-Security-Policy").unwrap() < html.find("<style").unwrap());
    // Exactly our script elements (the core, the page's script, the detail chunks): the
    // recorded `</script>` cannot close a data block.
    let blocks = json_blocks(html);
    assert!(blocks.len() >= 2, "the core and at least one detail chunk");
    assert_eq!(blocks[0].0, "rampart-data");
    for (n, (id, _)) in blocks[1..].iter().enumerate() {
        assert_eq!(*id, format!("{DETAIL_ELEMENT_PREFIX}{n}"));
    }
    assert_eq!(html.matches("<script").count(), blocks.len() + 1, "script tags");
    assert_eq!(html.matches("</script").count(), blocks.len() + 1, "script end tags");
    // The page's script comes after the core and before the detail chunks.
    let script = html.find("<script>").unwrap();
    assert!(html.find("id=\"rampart-data\"").unwrap() < script);
    assert!(script < html.find("id=\"rampart-detail-0\"").unwrap());
    let mut texts = Vec::new();
    for (id, data) in &blocks {
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}'] {
            assert!(!data.contains(bad), "{bad:?} in embedded data {id}");
        }
        let value: serde_json::Value = serde_json::from_str(data).unwrap();
        texts.push(value.to_string());
    }
    // The hostile strings survive (unescaped by JSON.parse): the summary in the core, the
    // response in a detail chunk.
    assert!(
        serde_json::from_str::<serde_json::Value>(&blocks[0].1).unwrap()["S"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == hostile)
    );
    assert!(texts[1..].iter().any(|t| t.contains("detail </script><script>alert(1)")));
}

#[test]
fn core_is_small_and_details_are_chunked() {
    let tests = support::reports::synthetic_tests(20, 50);
    let report = support::reports::build_report(&tests);
    let out = render(&report, &HtmlOptions::default());
    let blocks = json_blocks(&out.index_html);
    let core = &blocks[0].1;
    let details: usize = blocks[1..].iter().map(|(_, d)| d.len()).sum();
    let full = serde_json::to_string(&report).unwrap().len();
    let n = report.results.len();
    // The core is what the overview needs: well under 100 bytes a result here, measured as
    // what 1,000 more results add (the summary parts cost the same at any size).
    let twice = support::reports::build_report(&support::reports::synthetic_tests(20, 100));
    let twice_core = json_blocks(&render(&twice, &HtmlOptions::default()).index_html)[0].1.len();
    let per_result = (twice_core - core.len()) / (twice.results.len() - n);
    assert!(
        per_result < 100,
        "{per_result} core bytes a result ({} for {n}, {twice_core} for twice)",
        core.len()
    );
    assert!(core.len() < 110 * n, "core {} bytes for {n} results", core.len());
    assert!(core.len() + details < full, "the projection is smaller than the report");
    // No conversation text in the core.
    assert!(!core.contains("quarterly invoice"));
    assert!(blocks[1..].iter().all(|(_, d)| d.len() <= 1024 * 1024 + 64 * 1024));
}

#[test]
fn over_budget_data_goes_to_data_files_named_in_the_page() {
    let report = support::reports::demo_report();
    let out = render(&report, &HtmlOptions::default().with_data_budget_bytes(1024));
    let core: Vec<_> = out.data_files.iter().filter(|f| f.file_name.starts_with("report-data-")).collect();
    let details: Vec<_> =
        out.data_files.iter().filter(|f| f.file_name.starts_with("report-detail-")).collect();
    assert_eq!(core.len(), 1, "a small report's core fits one file");
    assert_eq!(core[0].file_name, data_file_name(0));
    assert!(!details.is_empty());
    assert_eq!(details[0].file_name, detail_file_name(0));
    assert_eq!(core.len() + details.len(), out.data_files.len());
    assert!(
        core[0].contents.starts_with("(window.RAMPART_DATA_PARTS = window.RAMPART_DATA_PARTS || []).push('")
    );
    assert!(details[0].contents.starts_with("(window.RAMPART_DETAIL = window.RAMPART_DETAIL || {})[0] = '"));
    for f in &out.data_files {
        for bad in ['<', '>', '&', '\u{2028}', '\u{2029}', '\n'] {
            assert!(!f.contents.trim_end().contains(bad), "{bad:?} in {}", f.file_name);
        }
    }
    assert!(!out.index_html.contains("id=\"rampart-data\""));
    assert!(!out.index_html.contains("id=\"rampart-detail-"));
    // Only the core is named in the page; detail files are loaded on drill-down.
    assert!(out.index_html.contains("<script src=\"report-data-000.js\"></script>"));
    assert!(!out.index_html.contains("<script src=\"report-detail-"));
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
    assert_eq!(names, ["index.html"], "no temp file or stale data or detail file left");
}

#[test]
fn long_recorded_text_is_bounded_in_the_page_only() {
    use rampart_report::HTML_MAX_TEXT_BYTES;
    let mut report = support::reports::demo_report();
    let huge = "A".repeat(HTML_MAX_TEXT_BYTES * 4);
    report.results[0].result.summary = huge.clone();
    report.results[1].result.turns[0].response.text = huge.clone();
    let out = render(&report, &HtmlOptions::default());
    let html = &out.index_html;
    assert!(!html.contains(&huge), "the full 256 KiB text must not reach the page");
    let tail = format!(" … [{} more bytes]", HTML_MAX_TEXT_BYTES * 3);
    assert_eq!(html.matches(&tail).count(), 2, "both fields are cut, and say by how much");
    // The report itself keeps the full text.
    assert_eq!(report.results[0].result.summary.len(), HTML_MAX_TEXT_BYTES * 4);
}

#[test]
fn page_data_has_the_view_layers_words_and_short_paths() {
    let mut report = support::reports::demo_report();
    // As `cargo rampart-report` writes them: absolute paths under the workspace.
    let run_dir = format!("/home/u/ws/target/rampart/runs/{}", support::reports::RUN_ID);
    report.metadata.junit_files = vec!["/home/u/ws/target/nextest/ci/junit.xml".to_owned()];
    report.metadata.results_dirs = vec![run_dir.clone()];
    assert!(!report.incomplete_reasons.is_empty());
    for reason in &mut report.incomplete_reasons {
        let file = format!("{run_dir}/sidecar-{}.jsonl", reason.kind.as_str());
        reason.message = format!("{} in {file}", reason.message);
        reason.file = Some(file);
    }
    let view = rampart_report::ReportView::new(&report);
    let line = rampart_report::verdict_line(&view);
    let out = render(&report, &HtmlOptions::default());
    let blocks = json_blocks(&out.index_html);
    let core: serde_json::Value = serde_json::from_str(&blocks[0].1).unwrap();
    let head = &core["head"];
    assert_eq!(head["verdict_line"], line.as_str());
    assert_eq!(head["reasons"]["workspace"], "/home/u/ws/");
    let list = head["reasons"]["list"].as_array().unwrap();
    assert_eq!(list.len(), report.incomplete_reasons.len());
    for (short, reason) in list.iter().zip(&report.incomplete_reasons) {
        let [words, test, message, file] = short.as_array().unwrap().as_slice() else { panic!("{short}") };
        assert!(!words.as_str().unwrap().contains('_'), "words, not a code: {words}");
        assert_eq!(
            file.as_str().unwrap(),
            format!("sidecar-{}.jsonl", reason.kind.as_str()),
            "relative to the run dir"
        );
        assert!(!message.as_str().unwrap().contains("/home/u/ws"), "{message}");
        if let Some(label) = &reason.test {
            assert!(!test.as_str().unwrap().contains('$'), "{label} in words: {test}");
        }
    }
    // Every failing group carries its reason, as the terminal prints it.
    let groups = core["groups"].as_array().unwrap();
    for group in report.trial_groups.iter().filter(|g| g.verdict == rampart_report::GroupVerdict::Failed) {
        let page = groups.iter().find(|g| g["n"] == group.name.as_str()).unwrap();
        assert_eq!(page["why"], rampart_report::group_reason(&view, group).as_str());
    }
}
