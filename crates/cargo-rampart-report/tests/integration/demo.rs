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
use rampart_test_support::chromium::{self, Browser};
use rampart_test_support::expected::{
    Expected, GroupVerdict, JunitExpectation, Killed, SafetyClass, demo_dir,
};
use serde_json::Value;

use crate::support::scrubbed;

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
    /// stdout of the same report under `GITHUB_ACTIONS=true` (terminal and SARIF).
    github_stdout: String,
    /// That run's `rampart.sarif`.
    sarif: Value,
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
    let github = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(demo.tmp.path())
        .env("GITHUB_ACTIONS", "true")
        .args(["rampart-report", "--color", "never", "--format", "terminal,sarif", "--junit"])
        .arg(&demo.junit)
        .arg("--results")
        .arg(&demo.run_dir)
        .arg("--out")
        .arg(demo.tmp.path().join("sarif"))
        .output()
        .expect("run cargo-rampart-report");
    let github_stdout = String::from_utf8_lossy(&github.stdout).into_owned();
    let sarif_path = demo.tmp.path().join("sarif").join("rampart.sarif");
    let sarif = std::fs::read_to_string(&sarif_path).unwrap_or_else(|e| {
        panic!("no {} ({e}): {}", sarif_path.display(), String::from_utf8_lossy(&github.stderr))
    });
    let sarif = serde_json::from_str(&sarif).expect("rampart.sarif is JSON");
    Report {
        code: output.status.code(),
        stdout,
        stderr,
        json,
        html: out.join("index.html"),
        github_stdout,
        sarif,
    }
}

/// The page in headless Chromium (skipped outside CI when Chromium is missing, see
/// `rampart_test_support::chromium::find`): interactive, nothing on the console, the rows and
/// redaction card the report says, and a screenshot.
fn check_html(_expected: &Expected, report: &Report) {
    let Some(browser) = Browser::start("demo_report_verdicts_match_expected_json (the HTML check)", &[])
    else {
        return;
    };
    browser.open_file(&report.html);
    browser.wait_ready(); // `data-ready="1"`, or a failure quoting the page's error
    // Console messages (errors, CSP violations, uncaught exceptions, and any other level).
    let console = browser.console();
    assert!(console.is_empty(), "console output while loading the demo report:\n{console:#?}");
    let dom = browser.dom();
    assert!(dom.contains(r#"data-ready="1""#), "the page never became interactive");
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
    // Failing groups open to their failing trials (conversations open on click).
    assert!(dom.contains(r#"data-trial-class="unsafe""#));
    // The demo agent leaks a fake `sk-…` key: the recorder redacted it and the page says so,
    // by rule name only.
    let recorded = report.json["redactions"]["recorded"].as_object().expect("redaction counts");
    assert!(!recorded.is_empty(), "the demo's fake key is redacted when recorded");
    assert!(dom.contains(r#"data-count="redacted""#), "the page shows the redaction count");
    assert!(dom.contains("pattern:sk_api_key"), "by rule name");
    assert!(!dom.contains("sk-demo-ARIA-7f3a9c1e"), "and never the key itself");

    let shot = chromium::artifacts_dir_for(env!("CARGO_TARGET_TMPDIR")).join("demo-report.png");
    browser.screenshot(&shot);
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

fn check_totals(expected: &Expected, report: &Report) {
    let facts = &expected.report;
    let json = &report.json;
    assert_eq!(facts.exit_code, exit_codes::SAFETY_FAILURE, "expected.json: the demo's report exits 10");
    assert_eq!(report.code, Some(facts.exit_code), "exit code");
    assert_eq!(json["verdict"], facts.verdict.as_str(), "run verdict");
    assert_eq!(json["incomplete"], facts.incomplete, "incomplete: {:#}", json["incomplete_reasons"]);
    let totals = [
        ("total_runs", facts.total_runs),
        ("passed", facts.passed),
        ("failed", facts.failed),
        ("undetermined", facts.undetermined),
        ("errors", facts.errors),
        ("superseded_results", facts.superseded_results),
    ];
    for (key, fact) in totals {
        assert_eq!(json[key], fact, "report.{key}");
    }
    let population = &json["population_summary"];
    for (key, fact) in [
        ("total_runs", facts.total_runs),
        ("safe_count", facts.passed),
        ("unsafe_count", facts.failed),
        ("undetermined_count", facts.undetermined),
        ("error_count", facts.errors),
    ] {
        assert_eq!(population[key], fact, "population_summary.{key}");
    }
    assert_eq!(json["metadata"]["nextest_profiles"], serde_json::json!([expected.profile]));
}

fn check_groups(expected: &Expected, report: &Report) {
    let groups = report.json["trial_groups"].as_array().expect("report.trial_groups");
    let mut names: Vec<String> =
        groups.iter().map(|g| format!("{} {}", str_of(g, "binary_id"), str_of(g, "name"))).collect();
    names.sort();
    let mut expected_names: Vec<String> =
        expected.trial_groups.iter().map(|g| format!("{} {}", g.binary_id, g.base_name)).collect();
    expected_names.sort();
    assert_eq!(names, expected_names, "the report's trial groups");
    for want in &expected.trial_groups {
        let label = format!("trial group {} {}", want.binary_id, want.base_name);
        let group = groups
            .iter()
            .find(|g| g["binary_id"] == want.binary_id.as_str() && g["name"] == want.base_name.as_str())
            .unwrap_or_else(|| panic!("{label}: not in the report"));
        let counts = [
            ("total", want.total),
            ("safe", want.safe),
            ("unsafe", want.unsafe_),
            ("errors", want.errors),
            ("undetermined", want.undetermined),
            ("no_result", want.no_result),
        ];
        for (key, fact) in counts {
            assert_eq!(group[key], fact, "{label}: {key}\n{group:#}");
        }
        assert_eq!(group["threshold"], want.threshold, "{label}: threshold\n{group:#}");
        assert_eq!(group["pass_rate"], want.pass_rate, "{label}: pass_rate\n{group:#}");
        assert_eq!(group["verdict"], want.verdict.as_str(), "{label}: verdict\n{group:#}");
        assert_eq!(
            group["unsafe_on_retried_attempt"], want.unsafe_on_retried_attempt,
            "{label}: unsafe_on_retried_attempt\n{group:#}"
        );
        assert_eq!(group["passed"], want.verdict == GroupVerdict::Passed, "{label}: passed");
        assert_eq!(group["harm_category"], want.harm.as_str(), "{label}: harm category");
        assert_eq!(group["sources"][0], "trial_clones", "{label}: sources");
        // Which trials are which.
        let trials = group["trials"].as_array().expect("group.trials");
        assert_eq!(trials.len() as u64, u64::from(want.total), "{label}: trials");
        for (class, indices) in want.trials_by_class() {
            let found: Vec<u64> = trials
                .iter()
                .filter(|t| t["class"] == class.as_str())
                .map(|t| t["trial_index"].as_u64().expect("trial_index"))
                .collect();
            let want: Vec<u64> = indices.into_iter().map(u64::from).collect();
            assert_eq!(found, want, "{label}: {} trials", class.as_str());
        }
    }
}

fn check_tests(expected: &Expected, report: &Report) {
    for test in &expected.tests {
        let label = format!("{} {}", test.binary_id, test.name);
        let found = report_test(&report.json, &test.binary_id, &test.name);
        if test.junit == JunitExpectation::Ignored {
            // Not run: absent, or listed as skipped without any safety outcome.
            if let Some(found) = found {
                assert_eq!(found["outcome"], "skip", "{label}: ignored");
                assert!(found.get("safety").is_none_or(Value::is_null), "{label}: ignored, yet has a class");
            }
            continue;
        }
        let found = found.unwrap_or_else(|| panic!("{label}: not in report.tests"));
        assert_eq!(found["flaky"], test.junit == JunitExpectation::Flaky, "{label}: flaky");
        let attempts = found["attempts"].as_array().expect("attempts");
        assert_eq!(attempts.len() as u64, u64::from(test.attempts), "{label}: attempts");
        let safety = &found["safety"];
        let Some(class) = test.class else {
            assert!(safety.is_null(), "{label}: records nothing, yet has a class: {safety}");
            continue;
        };
        assert_eq!(safety["class"], class.as_str(), "{label}: class\n{found:#}");
        let killed = safety.get("killed").and_then(Value::as_str);
        assert_eq!(killed, test.killed.map(Killed::as_str), "{label}: killed\n{found:#}");
        let retried = safety.get("unsafe_retried_attempts").cloned().unwrap_or_else(|| serde_json::json!([]));
        assert_eq!(
            retried,
            serde_json::json!(test.unsafe_retried_attempts),
            "{label}: unsafe_retried_attempts"
        );
        // A clone is a trial of its group; a standalone test is judged by its own class.
        match &test.trial {
            Some(trial) => {
                assert_eq!(safety["trial_group"], trial.base_name.as_str(), "{label}: trial group")
            }
            None => assert!(safety.get("trial_group").is_none_or(Value::is_null), "{label}: standalone"),
        }
    }
}

fn check_terminal(expected: &Expected, report: &Report) {
    let out = &report.stdout;
    assert!(!out.contains('\u{1b}') && !out.contains('\u{202e}'), "escapes reached the terminal:\n{out}");
    let lines: Vec<&str> = out.lines().collect();
    // Failing groups each on a line, with a line saying why; passing ones as a count.
    let mut n_passed = 0;
    for group in &expected.trial_groups {
        match group.verdict {
            GroupVerdict::Passed => n_passed += 1,
            GroupVerdict::Failed => {
                let start = format!("  FAIL  {} {}  ", group.binary_id, group.base_name);
                let at = lines.iter().position(|l| l.starts_with(&start));
                let at = at.unwrap_or_else(|| panic!("no line `{start}...` in the summary:\n{out}"));
                assert!(lines[at + 1].trim_start().starts_with("why: "), "no reason under `{start}`:\n{out}");
                if group.unsafe_ > 0 {
                    assert!(
                        lines[at + 1].contains("UNSAFE trial"),
                        "the reason names the UNSAFE trial:\n{out}"
                    );
                }
            }
        }
    }
    assert!(
        lines.contains(&format!("  {n_passed} trial groups passed").as_str()),
        "passing groups counted:\n{out}"
    );
    // Standalone tests that are not SAFE each on a line; UNSAFE ones that a retry hid say so;
    // killed ones say how they died.
    for test in expected.tests.iter().filter(|t| t.trial.is_none()) {
        let label = match (test.class, test.killed.is_some()) {
            (Some(SafetyClass::Unsafe), _) => "UNSAFE",
            (Some(_), true) => "KILLED",
            (Some(SafetyClass::Error), false) => "ERROR",
            (Some(SafetyClass::Undetermined), false) => "UNDETERMINED",
            _ => continue,
        };
        let start = format!("  {label:<12}  {} {}", test.binary_id, test.name);
        let line = lines.iter().find(|l| l.starts_with(&start));
        let line = line.unwrap_or_else(|| panic!("no line `{start}...` in the summary:\n{out}"));
        if !test.unsafe_retried_attempts.is_empty() {
            assert!(line.contains("retried away"), "{line}");
        }
    }
    // Bounded: SAFE results are counted, not listed.
    assert!(lines.len() < 60, "{} lines:\n{out}", lines.len());
    // The last line is the verdict, in words, with the exit code.
    let facts = &expected.report;
    let last = lines.last().copied().unwrap_or_default();
    assert!(
        last.starts_with("FAILED: ")
            && last.ends_with(&format!("{} UNSAFE results — exit {}", facts.failed, facts.exit_code)),
        "the last line states the verdict:\n{out}"
    );
}

/// Every trial group and rampart test says where it is defined, and that line of the demo's
/// sources defines it: `fn <name>` at the recorded line and column.
fn check_locations(expected: &Expected, report: &Report) {
    let mut checked = 0;
    let groups =
        report.json["trial_groups"].as_array().unwrap().iter().map(|g| (str_of(g, "name"), &g["location"]));
    let mut located: Vec<(&str, &Value)> = groups.collect();
    for test in report.json["tests"].as_array().unwrap().iter().filter(|t| t["safety"].is_object()) {
        let name = str_of(test, "test_name");
        let declared = expected.test(str_of(test, "binary_id"), name).is_some_and(|t| t.rampart);
        if !declared {
            // A plain `#[test]` that records has no spec, so no location.
            assert!(test["location"].is_null(), "{name}: {}", test["location"]);
            continue;
        }
        // A trial clone is defined where its group's function is.
        let name = match name.rsplit_once("::") {
            Some((base, last)) if last.starts_with("trial_") => base,
            _ => name,
        };
        located.push((name, &test["location"]));
    }
    for (name, location) in located {
        let file = location["file"].as_str().unwrap_or_else(|| panic!("{name} has no location: {location}"));
        let line = location["line"].as_u64().expect("a line") as usize;
        let column = location["column"].as_u64().expect("a column") as usize;
        let source = std::fs::read_to_string(demo_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = source.lines().nth(line - 1).unwrap_or_else(|| panic!("{file} has no line {line}"));
        let function = name.rsplit("::").next().unwrap();
        assert!(
            text.get(column - 1..).is_some_and(|rest| rest.starts_with(function)),
            "{file}:{line}:{column} should name `{function}`: {text:?}"
        );
        assert!(text.contains(&format!("fn {function}")), "{file}:{line}: {text:?}");
        checked += 1;
    }
    assert!(checked >= 16, "every group and rampart test was checked ({checked})");
    // junit.xml carries them as GitLab reads them: `file` and `line` on the testcase.
    let junit = std::fs::read_to_string(report.html.with_file_name("junit.xml")).expect("junit.xml");
    for group in report.json["trial_groups"].as_array().unwrap() {
        let attrs =
            format!(r#"file="{}" line="{}""#, str_of(&group["location"], "file"), group["location"]["line"]);
        let case = junit
            .lines()
            .find(|l| l.contains("<testcase") && l.contains(&format!("name=\"{}", str_of(group, "name"))))
            .unwrap_or_else(|| panic!("no testcase for {}", group["name"]));
        assert!(case.contains(&attrs), "{attrs} in {case}");
    }
}

/// Under `GITHUB_ACTIONS=true` every failed trial group and UNSAFE standalone test is an error
/// annotation at its source line, at most 10, before the summary; elsewhere there are none.
fn check_annotations(_expected: &Expected, report: &Report) {
    assert!(!report.stdout.contains("::error"), "no annotations outside GitHub Actions:\n{}", report.stdout);
    let annotations: Vec<&str> = report.github_stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    let failed: Vec<&Value> =
        report.json["trial_groups"].as_array().unwrap().iter().filter(|g| g["verdict"] == "FAILED").collect();
    let unsafe_tests = report.json["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["safety"]["class"] == "unsafe" && t["safety"]["trial_group"].is_null())
        .count();
    assert_eq!(annotations.len(), (failed.len() + unsafe_tests).min(10), "{}", report.github_stdout);
    for group in failed {
        let place =
            format!("file={},line={},", str_of(&group["location"], "file"), group["location"]["line"]);
        let name = str_of(group, "name").replace(':', "%3A");
        assert!(
            annotations.iter().any(|a| a.contains(&place) && a.contains(&name)),
            "{place} {name}:\n{}",
            report.github_stdout
        );
    }
    let last = report.github_stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("FAILED: "), "the verdict stays last: {last}");
}

/// `rampart.sarif` validates against the official SARIF 2.1.0 schema; it holds a result per
/// failed trial group and per counted UNSAFE result, and each located result points at the
/// line of the demo's sources that defines its test function.
fn check_sarif(_expected: &Expected, report: &Report) {
    let schema_path = demo_dir().join("../sarif/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_str(&std::fs::read_to_string(&schema_path).unwrap()).unwrap();
    let validator = jsonschema::draft4::new(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(&report.sarif).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let results = report.sarif["runs"][0]["results"].as_array().expect("results");
    let failed_groups =
        report.json["trial_groups"].as_array().unwrap().iter().filter(|g| g["verdict"] == "FAILED").count();
    let unsafe_results = report.json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "unsafe" && r["superseded"] != true)
        .count();
    assert_eq!(results.len(), failed_groups + unsafe_results);
    let mut located = 0;
    for result in results {
        let Some(place) = result["locations"][0]["physicalLocation"].as_object() else { continue };
        let file = place["artifactLocation"]["uri"].as_str().unwrap();
        let line = place["region"]["startLine"].as_u64().unwrap() as usize;
        let source = std::fs::read_to_string(demo_dir().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let text = source.lines().nth(line - 1).unwrap_or_default();
        let message = result["message"]["text"].as_str().unwrap();
        if message.starts_with("UNSAFE: ") {
            // A finding points at the line that recorded it.
            assert!(
                text.contains("record_result(") || text.contains("assert_safe!("),
                "{file}:{line} records no result: {text:?}"
            );
        } else {
            assert!(text.contains("fn "), "{file}:{line} defines no function: {text:?}");
        }
        located += 1;
    }
    assert_eq!(located, results.len(), "every group and finding is located");
}

/// One group of assertions on the report.
/// The README's worked `[gate]` policy, evaluated on the demo's report, prints the README's
/// block of gate lines.
fn check_readme_gates(_expected: &Expected, report: &Report) {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = &readme[readme.find("\n## Gates").expect("a Gates section")..];
    let block = |fence: &str| {
        let start = section.find(fence).unwrap_or_else(|| panic!("no {fence} block")) + fence.len();
        let end = start + section[start..].find("\n```").unwrap();
        section[start..end].trim_start_matches('\n').to_owned()
    };
    let policy = rampart_report::GatePolicy::parse("README.md", &block("```toml")).unwrap().unwrap();
    let mut parsed: rampart_report::TestRunReport = serde_json::from_value(report.json.clone()).unwrap();
    parsed.gates = rampart_report::evaluate_gates(&policy, &parsed);
    let text = rampart_report::terminal_summary(&parsed, rampart_report::TerminalOptions::new(false));
    let gates: String = text
        .split_inclusive('\n')
        .skip_while(|l| !l.starts_with("Gates:"))
        .take_while(|l| l.trim() != "")
        .collect();
    assert_eq!(gates.trim_end(), block("```text").trim_end(), "the README's gate lines");
}

type Check = fn(&Expected, &Report);

#[test]
fn demo_report_verdicts_match_expected_json() {
    let expected = Expected::load();
    let started = Instant::now();
    let demo = run_demo();
    assert_eq!(
        demo.exit_code,
        Some(expected.nextest_exit_code),
        "the demo's tests fail on purpose; nextest said:\n{}",
        demo.stderr
    );
    let report = run_report(&demo);
    eprintln!("demo run and report took {:.1?}", started.elapsed());
    let context = format!("report stdout:\n{}\nreport stderr:\n{}", report.stdout, report.stderr);
    let checks: [(&str, Check); 9] = [
        ("totals", check_totals),
        ("groups", check_groups),
        ("tests", check_tests),
        ("terminal", check_terminal),
        ("html", check_html),
        ("locations", check_locations),
        ("annotations", check_annotations),
        ("sarif", check_sarif),
        ("readme gates", check_readme_gates),
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
