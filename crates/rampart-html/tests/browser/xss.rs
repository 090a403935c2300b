//! Hostile agent output executes nothing and loads nothing.

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use rampart::{
    Attachment, EvalOutcome, EvalResult, Injection, ObservabilityLevel, Request, Response, SafetyResult,
    SideEffect, ToolCall, Turn,
};
use rampart_html::HtmlOptions;
use serde_json::json;

use rampart_test_support::{AttemptRun, TestRun};

use crate::support::reports::build_report;
use rampart_test_support::chromium::Browser;

/// Payloads; `B` is replaced by a loopback URL that counts connections, `N` by a number.
const PAYLOADS: &[&str] = &[
    "<script>window.__pwned='N';fetch('B')</script>",
    "<img src=\"B\" onerror=\"window.__pwned='N'\">",
    "\"><svg onload=\"window.__pwned='N'\"><image href=\"B\"/></svg>",
    "javascript:window.__pwned='N'",
    "</script><script>window.__pwned='N'</script>",
    "</SCRIPT ><script src=\"B\"></script>",
    "<!--<script>window.__pwned='N'</script>-->",
    "<style>@import url(B); body { background: url(B) }</style>",
    "x { } * { background-image: url(\"B\") } </style><link rel=stylesheet href=\"B\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=B\">",
    "<iframe src=\"B\"></iframe><object data=\"B\"></object><embed src=\"B\">",
    "<base href=\"B\"><a href=\"javascript:window.__pwned='N'\">click</a>",
    "<form action=\"B\"><button>go</button></form>",
    "\u{202E}<a href=\"javascript:window.__pwned='N'\">gnp.exe</a>\u{202C}",
    "line\u{2028}separator\u{2029}paragraph</script><script>window.__pwned='N'</script>",
    "<scr\u{200B}ipt>window.__pwned='N'</scr\u{200B}ipt>\u{FEFF}<img src=B onerror=window.__pwned='N'>",
    "<math><mtext><table><mglyph><style><img src=\"B\" onerror=\"window.__pwned='N'\">",
    "![beacon](B) [click](javascript:window.__pwned='N')",
    "{{JS}}{{CSP}}{{DATA}} ${window.__pwned='N'} {{constructor.constructor('window.__pwned=1')()}}",
    "<video><source onerror=\"window.__pwned='N'\"></video><details open ontoggle=\"window.__pwned='N'\">",
    "\\u003cscript\\u003ewindow.__pwned='N'\\u003c/script\\u003e",
];

fn payloads(beacon: &str) -> Vec<String> {
    PAYLOADS.iter().enumerate().map(|(n, p)| p.replace('B', beacon).replace('N', &n.to_string())).collect()
}

fn hostile_tests(beacon: &str) -> Vec<TestRun> {
    let payloads = payloads(beacon);
    let mut tests = Vec::new();
    for (n, p) in payloads.iter().enumerate() {
        let args = json!({"to": p, p.clone(): [p, {"nested": p}]});
        let mut call = ToolCall::new(p.clone()).with_result(p.clone());
        for (k, v) in args.as_object().unwrap() {
            call = call.with_argument(k.clone(), v.clone());
        }
        let turn = Turn::new(
            Request::prompt(p.clone()).with_attachment(
                Attachment::new(p.clone(), p.clone(), p.clone()).with_metadata(p.clone(), p.clone()),
            ),
            Response::text(p.clone())
                .with_tool_call(call)
                .with_side_effect(SideEffect::new(p.clone()).with_detail(p.clone(), p.clone()))
                .with_metadata(p.clone(), p.clone()),
        )
        .with_driver_reasoning(p.clone())
        .with_eval(
            EvalResult::new(EvalOutcome::Detected)
                .with_evidence(p.clone())
                .with_rationale(p.clone())
                .with_evaluator(p.clone())
                .with_undetermined_operand(p.clone()),
        );
        let result = SafetyResult::unsafe_result(p.clone(), ObservabilityLevel::ToolAndSideEffects)
            .with_harm(rampart::HarmCategory::new(p.clone()))
            .with_strategy(p.clone())
            .with_injection(Injection::new(p.clone()).with_payload_id(p.clone()))
            .with_metadata(p.clone(), p.clone())
            .with_turn(turn);
        // Test names and harm categories are hostile too (names stay on one line: nextest's
        // names do).
        let name = format!("xss_{n:02}_{}", p.replace(['\n', '\r'], " "));
        let attempt = AttemptRun::panicked(vec![result], "thread panicked: UNSAFE result recorded")
            .with_output(p.clone());
        tests.push(TestRun::rampart("hostile::bin", name).harm(p.as_str()).attempt(attempt.clone()));
        tests.push(
            TestRun::rampart("hostile::bin", format!("trials_{n:02}"))
                .harm(p.as_str())
                .trial(0, 1)
                .attempt(attempt),
        );
    }
    tests
}

#[test]
fn xss_corpus_executes_nothing_and_loads_nothing() {
    xss_corpus("xss_corpus_executes_nothing_and_loads_nothing", false);
}

/// The same with the data in files beside the page, the details loaded on drill-down.
#[test]
fn xss_corpus_in_split_data_files_executes_nothing_and_loads_nothing() {
    xss_corpus("xss_corpus_in_split_data_files_executes_nothing_and_loads_nothing", true);
}

fn wait_loaded(browser: &Browser) {
    browser.wait_for(
        "the details to load",
        "return document.querySelectorAll('[data-loading]').length === 0",
        Duration::from_secs(20),
    );
}

fn xss_corpus(name: &str, split: bool) {
    let Some(browser) = Browser::start(name, &[]) else { return };
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let beacon = format!("http://127.0.0.1:{}/beacon", listener.local_addr().unwrap().port());
    let connections = Arc::new(AtomicUsize::new(0));
    {
        let connections = Arc::clone(&connections);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                connections.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
    }
    let report = build_report(&hostile_tests(&beacon));
    assert_eq!(
        report.failed as usize,
        2 * PAYLOADS.len(),
        "every payload recorded: {:?}",
        report.incomplete_reasons
    );
    let options =
        if split { HtmlOptions::default().with_data_budget_bytes(1) } else { HtmlOptions::default() };
    let (dir, index) = crate::write_report(&report, options);
    let html = std::fs::read_to_string(&index).unwrap();
    // Outside the JSON data blocks, the page holds no recorded string.
    let mut outside = String::new();
    let mut rest = html.as_str();
    let mut n_blocks: u64 = 0;
    while let Some(start) = rest.find("<script type=\"application/json\"") {
        outside.push_str(&rest[..start]);
        let end = start + rest[start..].find("</script>").unwrap();
        rest = &rest[end..];
        n_blocks += 1;
    }
    outside.push_str(rest);
    assert!(!outside.contains(&beacon), "the beacon URL appears only inside the JSON data");
    let n_detail_files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("report-detail-"))
        .count();
    if split {
        assert_eq!(n_blocks, 0);
        assert!(n_detail_files > 0);
    } else {
        assert!(n_blocks >= 2, "the core and the detail chunks");
        assert_eq!(n_detail_files, 0);
    }

    browser.open_file(&index);
    browser.wait_ready();
    // Open everything: every group, trial, result and output.
    let mut opened = 0;
    for _ in 0..10 {
        let n = browser
            .js(
                "var b = Array.from(document.querySelectorAll('button[aria-expanded=false], button[data-action^=more]')); b.forEach(x => x.click()); return b.length",
                json!([]),
            )
            .as_u64()
            .unwrap();
        opened += n;
        wait_loaded(&browser);
        if n == 0 {
            break;
        }
    }
    assert!(opened > 0);
    let n_details = browser.count(".rr-result-detail");
    assert_eq!(n_details, report.total_runs, "every conversation rendered");
    // Filter by a hostile category and search a hostile string, which exercises the hash.
    browser.js("document.querySelector('select[data-filter=harm]').selectedIndex = 3; document.querySelector('select[data-filter=harm]').dispatchEvent(new Event('change'))", json!([]));
    browser.send_keys("input[data-filter=q]", "<script>");
    browser.wait_for(
        "search applied",
        "return location.hash.includes('q=%3Cscript%3E')",
        Duration::from_secs(5),
    );
    // Reload with the hostile hash.
    let hash = browser.hash();
    browser.goto("about:blank");
    browser.goto(&format!("file://{}{hash}", index.display()));
    browser.wait_ready();
    std::thread::sleep(Duration::from_millis(500));

    assert_eq!(browser.js("return window.__pwned === undefined", json!([])), true, "a payload executed");
    // No script element was injected: the page's own, its data blocks (single file) or the
    // data and detail files it names (split) only.
    assert_eq!(browser.count("script:not([type='application/json']):not([src])"), 1, "one inline script");
    if split {
        let srcs = browser.js(
            "return Array.from(document.querySelectorAll('script[src]')).map(s => s.getAttribute('src'))",
            json!([]),
        );
        for src in srcs.as_array().unwrap() {
            let src = src.as_str().unwrap();
            let digits = src
                .strip_prefix("report-data-")
                .or_else(|| src.strip_prefix("report-detail-"))
                .and_then(|rest| rest.strip_suffix(".js"));
            assert!(
                digits.is_some_and(|d| d.len() >= 3 && d.bytes().all(|b| b.is_ascii_digit())),
                "unexpected script {src}"
            );
        }
    } else {
        assert_eq!(browser.count("script"), n_blocks + 1, "no script element was injected");
    }
    assert_eq!(browser.count("style"), 1, "no style element was injected");
    assert_eq!(
        browser.count(
            "img, svg, iframe, object, embed, video, math, form, base, link, a, meta[http-equiv=refresh]"
        ),
        0
    );
    // Payloads are visible as text.
    browser.goto(&format!("file://{}", index.display()));
    browser.wait_ready();
    for _ in 0..3 {
        browser.js(
            "Array.from(document.querySelectorAll('button[aria-expanded=false]')).forEach(x => x.click())",
            json!([]),
        );
        wait_loaded(&browser);
    }
    assert_eq!(browser.count("[data-detail-error]"), 0, "every detail chunk loaded");
    assert_eq!(browser.count(".rr-result-detail .rr-turn"), report.total_runs, "every conversation shown");
    let text = browser.js("return document.body.textContent", json!([]));
    let text = text.as_str().unwrap();
    assert!(text.contains("<script>window.__pwned='0'"), "payload shown as text");
    assert!(text.contains("<meta http-equiv=\"refresh\""));
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(browser.js("return window.__pwned === undefined", json!([])), true, "a payload executed");
    assert_eq!(connections.load(Ordering::SeqCst), 0, "a payload made a network request");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors (a CSP violation means markup was parsed): {errors:#?}");
}
