//! The demo red-team suite (`fixtures/demo`) run for real with `cargo nextest run --profile ci`,
//! then the real `cargo-rampart-report` on its JUnit and sidecars, checked against the report
//! facts of `fixtures/demo/expected.json`: every trial group's counts and verdict, every
//! recording test's class, the run verdict and exit code, the population totals, and the
//! terminal summary's group and retried-UNSAFE lines; and the demo's HTML report opened in
//! headless Chromium: it becomes interactive with no console error, and a screenshot is kept
//! in `target/ci-artifacts/demo-report.png`.
//!
//! This is where the project asserts the demo's verdicts: the demo fails on purpose (nextest
//! exits 100, the report 10), and only these assertions decide whether that is right.
//!
//! Like `crates/rampart/tests/integration/demo.rs`, the run is isolated: `RAMPART_DIR` and the
//! nextest store (via a tool config) point into a fresh temp dir, and the build shares the
//! `demo-target` directory under `CARGO_TARGET_TMPDIR` with those tests, so the demo is
//! built once per target dir.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rampart_report::exit_codes;
use serde_json::Value;

use crate::support::scrubbed;

fn demo_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/demo")
}

fn expected() -> Value {
    let path = demo_dir().join("expected.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// One `cargo nextest run --profile ci` of the demo.
struct DemoRun {
    exit_code: Option<i32>,
    junit: PathBuf,
    /// `<RAMPART_DIR>/runs/<run id>`.
    run_dir: PathBuf,
    stderr: String,
    tmp: tempfile::TempDir,
}

fn run_demo() -> DemoRun {
    let tmp_root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let tmp = tempfile::Builder::new().prefix("demo-report-").tempdir_in(tmp_root).expect("temp dir");
    let rampart_dir = tmp.path().join("rampart");
    let store_dir = tmp.path().join("nextest-store");
    // A tool config may set what the repository config leaves unset, such as the store dir.
    let tool_config = tmp.path().join("nextest-tool-config.toml");
    let store = store_dir.to_str().expect("UTF-8 temp path").replace('\\', "/");
    std::fs::write(&tool_config, format!("[store]\ndir = '{store}'\n")).expect("write tool config");

    // This test itself runs under nextest: none of its identity (or CI's) may leak in.
    let output = scrubbed(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
        .current_dir(demo_dir())
        .args(["nextest", "run", "--profile", "ci", "--color", "never", "--manifest-path"])
        .arg(demo_dir().join("Cargo.toml"))
        .arg("--tool-config-file")
        .arg(format!("rampart-integration-tests:{}", tool_config.display()))
        .env("CARGO_TARGET_DIR", tmp_root.join("demo-target"))
        .env("RAMPART_DIR", &rampart_dir)
        .output()
        .expect("run cargo nextest (is cargo-nextest installed?)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();

    let junit = store_dir.join("ci").join("junit.xml");
    let xml = std::fs::read_to_string(&junit)
        .unwrap_or_else(|e| panic!("no JUnit at {} ({e}); nextest said:\n{stderr}", junit.display()));
    let start = xml.find("uuid=\"").expect("testsuites@uuid") + "uuid=\"".len();
    let run_id = &xml[start..start + xml[start..].find('"').expect("closing quote")];
    let run_dir = rampart_dir.join("runs").join(run_id);
    assert!(run_dir.is_dir(), "no run directory {}; nextest said:\n{stderr}", run_dir.display());
    DemoRun { exit_code: output.status.code(), junit, run_dir, stderr, tmp }
}

/// What `cargo-rampart-report` did.
struct Report {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    json: Value,
    /// `index.html`.
    html: PathBuf,
}

fn run_report(demo: &DemoRun) -> Report {
    let out = demo.tmp.path().join("report");
    let output: std::process::Output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(demo.tmp.path())
        .args(["rampart-report", "--color", "never", "--junit"])
        .arg(&demo.junit)
        .arg("--results")
        .arg(&demo.run_dir)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run cargo-rampart-report");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let path = out.join("report.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("no report at {} ({e}); stdout:\n{stdout}\nstderr:\n{stderr}", path.display())
    });
    let json = serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
    Report { code: output.status.code(), stdout, stderr, json, html: out.join("index.html") }
}

/// Debian's Chromium (`RAMPART_CHROMIUM` overrides), or `None` outside CI when it is missing.
fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("RAMPART_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{} not found: CI must run the browser checks (apt-get install chromium chromium-driver)",
        path.display()
    );
    eprintln!("SKIPPED the demo's browser check: {} not found (apt-get install chromium)", path.display());
    None
}

/// Runs headless Chromium on the page with `extra` arguments; returns (stdout, stderr).
fn headless(chromium: &Path, page: &Path, profile: &Path, extra: &[&str]) -> (String, String) {
    let output = std::process::Command::new(chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
            "--virtual-time-budget=5000",
            "--window-size=1400,1000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("run chromium");
    assert!(output.status.success(), "chromium failed: {}", String::from_utf8_lossy(&output.stderr));
    (
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn check_html(_expected: &Value, report: &Report) {
    let Some(chromium) = chromium() else { return };
    let profile = tempfile::tempdir().unwrap();
    let (dom, log) = headless(&chromium, &report.html, profile.path(), &["--dump-dom"]);
    assert!(dom.contains(r#"data-ready="1""#), "the page never became interactive:\n{log}");
    // Console messages (errors, CSP violations, uncaught exceptions) are logged as CONSOLE lines.
    let console: Vec<&str> =
        log.lines().filter(|l| l.contains(":CONSOLE") || l.contains("Refused to")).collect();
    assert!(console.is_empty(), "console output while loading the demo report:\n{}", console.join("\n"));
    let failed_groups =
        report.json["trial_groups"].as_array().unwrap().iter().filter(|g| g["passed"] == false).count();
    let unsafe_standalone = report.json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["safety"]["class"] == "unsafe" && t["safety"].get("trial_group").is_none())
        .count();
    assert_eq!(
        dom.matches(r#"data-verdict="failed""#).count(),
        failed_groups + unsafe_standalone,
        "one failed row per failed group and per UNSAFE standalone test"
    );
    assert!(dom.contains(r#"data-status="unsafe""#));
    // The demo agent leaks a fake `sk-…` key: the recorder redacted it and the page says so,
    // by rule name only.
    let recorded = report.json["redactions"]["recorded"].as_object().expect("redaction counts");
    assert!(!recorded.is_empty(), "the demo's fake key is redacted when recorded");
    assert!(dom.contains(r#"data-count="redacted""#), "the page shows the redaction count");
    assert!(dom.contains("pattern:sk_api_key"), "by rule name");
    assert!(!dom.contains("sk-demo-ARIA-7f3a9c1e"), "and never the key itself");

    let artifacts = Path::new(env!("CARGO_TARGET_TMPDIR")).parent().unwrap().join("ci-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("demo-report.png");
    let profile = tempfile::tempdir().unwrap();
    headless(&chromium, &report.html, profile.path(), &[&format!("--screenshot={}", shot.display())]);
    let png = std::fs::read(&shot).unwrap_or_else(|e| panic!("no screenshot at {}: {e}", shot.display()));
    assert!(png.starts_with(b"\x89PNG") && png.len() > 10_000, "a real screenshot");
    eprintln!("screenshot of the demo report: {}", shot.display());
}

fn str_of<'a>(value: &'a Value, key: &str) -> &'a str {
    value[key].as_str().unwrap_or_else(|| panic!("no string `{key}` in {value}"))
}

/// The report's test execution of (binary id, test name), outside any stress run.
fn report_test<'a>(report: &'a Value, binary_id: &str, name: &str) -> Option<&'a Value> {
    let tests = report["tests"].as_array().expect("report.tests");
    let mut found = tests.iter().filter(|t| {
        t["binary_id"] == binary_id
            && t["test_name"] == name
            && t.get("stress_index").is_none_or(Value::is_null)
    });
    let first = found.next();
    assert!(found.next().is_none(), "{binary_id} {name} is in report.tests twice");
    first
}

fn check_totals(expected: &Value, report: &Report) {
    let facts = &expected["report"];
    let json = &report.json;
    assert_eq!(facts["exit_code"], exit_codes::SAFETY_FAILURE, "expected.json: the demo's report exits 10");
    assert_eq!(report.code, facts["exit_code"].as_i64().map(|c| c as i32), "exit code");
    assert_eq!(json["verdict"], facts["verdict"], "run verdict");
    assert_eq!(json["incomplete"], facts["incomplete"], "incomplete: {:#}", json["incomplete_reasons"]);
    for key in ["total_runs", "passed", "failed", "undetermined", "errors"] {
        assert_eq!(json[key], facts[key], "report.{key}");
    }
    let population = &json["population_summary"];
    for (key, fact) in [
        ("total_runs", "total_runs"),
        ("safe_count", "passed"),
        ("unsafe_count", "failed"),
        ("undetermined_count", "undetermined"),
        ("error_count", "errors"),
    ] {
        assert_eq!(population[key], facts[fact], "population_summary.{key}");
    }
    assert_eq!(json["metadata"]["nextest_profiles"], serde_json::json!([expected["profile"]]));
}

fn check_groups(expected: &Value, report: &Report) {
    let groups = report.json["trial_groups"].as_array().expect("report.trial_groups");
    let expected_groups = expected["trial_groups"].as_array().expect("expected trial_groups");
    let names = |gs: &[Value], key: &str| {
        let mut names: Vec<String> =
            gs.iter().map(|g| format!("{} {}", str_of(g, "binary_id"), str_of(g, key))).collect();
        names.sort();
        names
    };
    assert_eq!(names(groups, "name"), names(expected_groups, "base_name"), "the report's trial groups");
    for want in expected_groups {
        let (binary_id, name) = (str_of(want, "binary_id"), str_of(want, "base_name"));
        let label = format!("trial group {binary_id} {name}");
        let group = groups
            .iter()
            .find(|g| g["binary_id"] == binary_id && g["name"] == name)
            .unwrap_or_else(|| panic!("{label}: not in the report"));
        let facts = [
            "total",
            "safe",
            "unsafe",
            "errors",
            "undetermined",
            "no_result",
            "threshold",
            "pass_rate",
            "verdict",
            "unsafe_on_retried_attempt",
        ];
        for key in facts {
            assert_eq!(group[key], want[key], "{label}: {key}\n{group:#}");
        }
        assert_eq!(group["passed"], want["verdict"] == "PASSED", "{label}: passed");
        assert_eq!(group["harm_category"], want["harm"], "{label}: harm category");
        assert_eq!(group["sources"][0], "trial_clones", "{label}: sources");
        // Which trials are which.
        let trials = group["trials"].as_array().expect("group.trials");
        assert_eq!(trials.len() as u64, want["total"].as_u64().unwrap(), "{label}: trials");
        for (class, key) in
            [("unsafe", "unsafe_trials"), ("error", "error_trials"), ("undetermined", "undetermined_trials")]
        {
            let indices: Vec<&Value> =
                trials.iter().filter(|t| t["class"] == class).map(|t| &t["trial_index"]).collect();
            let want: Vec<&Value> = want[key].as_array().unwrap().iter().collect();
            assert_eq!(indices, want, "{label}: {class} trials");
        }
    }
}

fn check_tests(expected: &Value, report: &Report) {
    for test in expected["tests"].as_array().expect("expected tests") {
        let (binary_id, name) = (str_of(test, "binary_id"), str_of(test, "name"));
        let label = format!("{binary_id} {name}");
        let found = report_test(&report.json, binary_id, name);
        if test["junit"] == "ignored" {
            // Not run: absent, or listed as skipped without any safety outcome.
            if let Some(found) = found {
                assert_eq!(found["outcome"], "skip", "{label}: ignored");
                assert!(found.get("safety").is_none_or(Value::is_null), "{label}: ignored, yet has a class");
            }
            continue;
        }
        let found = found.unwrap_or_else(|| panic!("{label}: not in report.tests"));
        assert_eq!(found["flaky"], test["junit"] == "flaky", "{label}: flaky");
        let attempts = found["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len() as u64, test["attempts"].as_u64().unwrap(), "{label}: attempts");
        let safety = &found["safety"];
        if test["class"].is_null() {
            assert!(safety.is_null(), "{label}: records nothing, yet has a class: {safety}");
            continue;
        }
        assert_eq!(safety["class"], test["class"], "{label}: class\n{found:#}");
        let retried = safety.get("unsafe_retried_attempts").cloned().unwrap_or_else(|| serde_json::json!([]));
        assert_eq!(retried, test["unsafe_retried_attempts"], "{label}: unsafe_retried_attempts");
        // A clone is a trial of its group; a standalone test is judged by its own class.
        match test.get("trial") {
            Some(trial) => assert_eq!(safety["trial_group"], trial["base_name"], "{label}: trial group"),
            None => assert!(safety.get("trial_group").is_none_or(Value::is_null), "{label}: standalone"),
        }
    }
}

fn check_terminal(expected: &Value, report: &Report) {
    let out = &report.stdout;
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'), "escapes reached the terminal:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    for group in expected["trial_groups"].as_array().unwrap() {
        let name = str_of(group, "base_name");
        let (label, verdict) = match str_of(group, "verdict") {
            "PASSED" => ("PASS", "PASSED"),
            _ => ("FAIL", "FAILED"),
        };
        let start = format!("  {label}  {name} [");
        let end = format!("] -- {verdict}");
        assert!(
            lines.iter().any(|l| l.starts_with(&start) && l.contains(&end)),
            "no line `{start}...{end}` in the summary:\n{out}"
        );
    }
    let retried: Vec<&Value> = expected["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t.get("trial").is_none() && !t["unsafe_retried_attempts"].as_array().unwrap().is_empty())
        .collect();
    assert!(!retried.is_empty(), "expected.json: the demo has a standalone test whose UNSAFE a retry hid");
    assert!(lines.contains(&"UNSAFE on a retried attempt"), "no retried-UNSAFE section:\n{out}");
    for test in retried {
        let attempts: Vec<String> =
            test["unsafe_retried_attempts"].as_array().unwrap().iter().map(ToString::to_string).collect();
        let line = format!(
            "  FAIL  {} -- UNSAFE on attempt {}, not on attempt {}",
            str_of(test, "name"),
            attempts.join(", "),
            test["attempts"]
        );
        assert!(lines.iter().any(|l| l.starts_with(&line)), "no line `{line}...` in the summary:\n{out}");
    }
    let facts = &expected["report"];
    let population = format!("Population: {} runs - {} unsafe (", facts["total_runs"], facts["failed"]);
    assert!(lines.iter().any(|l| l.starts_with(&population)), "no line `{population}...`:\n{out}");
}

/// One group of assertions on the report.
type Check = fn(&Value, &Report);

#[test]
fn demo_report_verdicts_match_expected_json() {
    let expected = expected();
    let started = Instant::now();
    let demo = run_demo();
    assert_eq!(
        demo.exit_code,
        expected["nextest_exit_code"].as_i64().map(|c| c as i32),
        "the demo's tests fail on purpose; nextest said:\n{}",
        demo.stderr
    );
    let report = run_report(&demo);
    eprintln!("demo run and report took {:.1?}", started.elapsed());
    let context = format!("report stdout:\n{}\nreport stderr:\n{}", report.stdout, report.stderr);
    let checks: [(&str, Check); 5] = [
        ("totals", check_totals),
        ("groups", check_groups),
        ("tests", check_tests),
        ("terminal", check_terminal),
        ("html", check_html),
    ];
    for (what, check) in checks {
        if let Err(panic) =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&expected, &report)))
        {
            eprintln!("{what} check failed; {context}");
            std::panic::resume_unwind(panic);
        }
    }
}
