//! The files a real run writes: `summary.md`, `junit.xml`, the job summary, and where the
//! output says they went.

use std::collections::HashSet;

use quick_junit::{NonSuccessKind, TestCaseStatus};
use rampart_report::exit_codes;

use crate::support::{ReportRun, run_report, run_report_with_env, scenario};

fn main_run(args: &[&str]) -> ReportRun {
    let s = scenario();
    let junit = s.junit("main");
    let mut all = vec!["--junit", junit.to_str().unwrap()];
    all.extend_from_slice(args);
    run_report(&s, &s.root, &all)
}

#[test]
fn main_run_writes_every_output_and_says_where_last() {
    let run = main_run(&[]);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "{}", run.stderr);
    let out = run.out.path().to_str().unwrap();
    let last: Vec<&str> = run.stderr.lines().rev().take(4).collect();
    assert_eq!(
        last,
        [
            format!("rampart-report: wrote {out}/index.html (the HTML report: open it in a browser)"),
            format!("rampart-report: wrote {out}/junit.xml"),
            format!("rampart-report: wrote {out}/summary.md"),
            format!("rampart-report: wrote {out}/report.json"),
        ],
        "{}",
        run.stderr
    );
    assert!(run.report.is_some());
}

#[test]
fn summary_md_has_the_verdict_table_and_findings() {
    let run = main_run(&[]);
    let summary = run.summary.unwrap_or_else(|| panic!("no summary.md: {}", run.stderr));
    assert!(summary.starts_with("## RAMPART safety report: ❌ Safety failures\n"), "{summary}");
    assert!(summary.contains("> **Incomplete run:** results may be missing."), "{summary}");
    assert!(summary.contains("| data\\_leakage | 2 | 0 | 0 | 0 | 0.0% | 0.0–65.8% | 100.0% |"), "{summary}");
    assert!(summary.contains("| **All** | 7 | 1 | 1 | 1 |"), "{summary}");
    assert!(summary.contains("No failing trial group (1 passed)."), "{summary}");
    let finding = summary.lines().find(|l| l.contains("retry\\_flips")).expect("the retried-away finding");
    assert!(
        finding.contains("UNSAFE on attempt 1, retried away") && finding.contains("followed the injected")
    );
    assert!(summary.len() < rampart_report::GITHUB_STEP_SUMMARY_LIMIT);
}

#[test]
fn junit_xml_parses_with_one_case_per_group_and_standalone_test() {
    let run = main_run(&[]);
    let xml = run.junit.unwrap_or_else(|| panic!("no junit.xml: {}", run.stderr));
    let junit = quick_junit::Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"));
    // The clones group, plus retry_flips, aborts_after_one and times_out_after_one.
    assert_eq!(junit.tests, 4, "{xml}");
    assert_eq!(junit.failures, 1, "retry_flips: UNSAFE, retried away");
    assert_eq!(junit.errors, 2, "aborts_after_one and times_out_after_one: killed, never passing");
    assert!(junit.time.is_some());
    let cases: Vec<_> = junit.test_suites.iter().flat_map(|s| &s.test_cases).collect();
    let names: HashSet<&str> = cases.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), cases.len(), "names are unique");
    for case in &cases {
        assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("rr-fixture"), "{:?}", case.name);
        assert!(case.time.is_some());
    }
    let clones = cases.iter().find(|c| c.name.as_str() == "tests::clones").expect("the clones group");
    assert_eq!(clones.status, TestCaseStatus::success());
    let property =
        |name: &str| clones.properties.iter().find(|p| p.name.as_str() == name).map(|p| p.value.as_str());
    assert_eq!(property("pass_rate"), Some("0.5000"));
    assert_eq!(property("threshold"), Some("0.5"));
    assert_eq!(property("harm_category"), Some("jailbreak"));
    let retried = cases.iter().find(|c| c.name.as_str() == "tests::retry_flips").expect("retry_flips");
    match &retried.status {
        TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, .. } => {
            assert!(message.as_ref().unwrap().as_str().contains("retried away"), "{message:?}");
        }
        other => panic!("{other:?}"),
    }
    // Killed after recording SAFE: an error with nextest's outcome and what was recorded, never
    // a pass.
    for (name, how) in
        [("tests::aborts_after_one", "aborted"), ("tests::times_out_after_one", "slow-timeout")]
    {
        let case = cases.iter().find(|c| c.name.as_str() == name).expect(name);
        match &case.status {
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, message, ty, .. } => {
                assert_eq!(ty.as_ref().map(|t| t.as_str()), Some("rampart.killed"));
                let message = message.as_ref().unwrap().as_str();
                assert!(
                    message.contains(how) && message.contains("after recording 1 result (SAFE)"),
                    "{message}"
                );
            }
            other => panic!("{name}: {other:?}"),
        }
        let property =
            case.properties.iter().find(|p| p.name.as_str() == "verdict").map(|p| p.value.as_str());
        assert_eq!(property, Some("ERROR"), "{name}");
    }
}

#[test]
fn summary_is_appended_to_the_github_step_summary() {
    let s = scenario();
    let junit = s.junit("main");
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let step = dir.path().join("step_summary.md");
    std::fs::write(&step, "earlier output\n").unwrap();
    let run = run_report_with_env(
        &s,
        &s.root,
        &["--junit", junit.to_str().unwrap()],
        &[("GITHUB_STEP_SUMMARY", step.as_os_str())],
    );
    let summary = run.summary.unwrap();
    assert_eq!(std::fs::read_to_string(&step).unwrap(), format!("earlier output\n\n{summary}"));
    assert!(run.stderr.contains("appended the summary to"), "{}", run.stderr);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE);
}

#[test]
fn format_selects_outputs_in_the_order_given() {
    let run = main_run(&["--format", "terminal,html,junit"]);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "exit code unchanged: {}", run.stderr);
    assert!(run.report.is_none() && run.summary.is_none());
    assert!(run.junit.is_some());
    assert!(run.stdout.ends_with("— exit 10\n"), "the verdict is the last line:\n{}", run.stdout);
    let last: Vec<&str> = run.stderr.lines().rev().take(2).collect();
    assert!(
        last[1].starts_with("rampart-report: wrote ") && last[1].contains("index.html"),
        "{}",
        run.stderr
    );
    assert!(run.out.path().join("index.html").is_file());
    assert!(last[0].starts_with("rampart-report: wrote ") && last[0].ends_with("junit.xml"));

    let bogus = main_run(&["--format", "pdf"]);
    assert_eq!(bogus.code, exit_codes::UNUSABLE_INPUT);
    assert!(bogus.stderr.contains("terminal, json, markdown, junit, html"), "{}", bogus.stderr);
}
