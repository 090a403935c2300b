//! Real `cargo nextest run` on the shared workspace, then the real binary.

use rampart_report::exit_codes;
use serde_json::Value;

use crate::support::{group, has_group, run_report, scenario, tests_named};

fn main_report() -> (crate::support::ReportRun, Value) {
    let s = scenario();
    let junit = s.junit("main");
    let run = run_report(&s, &s.root, &["--junit", junit.to_str().unwrap()]);
    let report = run.report.clone().unwrap_or_else(|| panic!("no report: {}", run.stderr));
    (run, report)
}

#[test]
fn main_run_totals_and_exit_code() {
    let (run, report) = main_report();
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "{}", run.stderr);
    assert_eq!(report["verdict"], "safety_failure");
    // Each trial counts once: retry_flips through its UNSAFE first attempt (its SAFE retry is
    // superseded), clones 4, abort 1, timeout 1.
    assert_eq!(report["total_runs"], 7);
    assert_eq!(report["superseded_results"], 1);
    assert_eq!(report["passed"], 4);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["errors"], 1);
    assert_eq!(report["undetermined"], 1);
    // UNSAFE / (SAFE + UNSAFE + UNDETERMINED) = 1 / 6.
    let population = &report["population_summary"];
    assert!((population["attack_success_rate"].as_f64().unwrap() - 1.0 / 6.0).abs() < 1e-9);
    assert!((population["safety_pass_rate"].as_f64().unwrap() - 4.0 / 6.0).abs() < 1e-9);
    assert_eq!(report["by_harm_category"]["data_leakage"]["total_runs"], 2);
    assert_eq!(report["by_harm_category"]["jailbreak"]["error_count"], 1);
    assert_eq!(report["metadata"]["run_ids"].as_array().unwrap().len(), 1);
    assert_eq!(report["metadata"]["nextest_profiles"][0], "ci");
    // Results are ordered by identity.
    let names: Vec<&str> = report["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["identity"]["test_name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[test]
fn retry_with_unsafe_first_attempt_fails_the_group() {
    let (_, report) = main_report();
    // Retries are attempts of one trial, not trials: a standalone retried test forms no
    // group, but its UNSAFE first attempt makes it UNSAFE, flagged, and fails the run.
    assert!(!has_group(&report, "retry_flips"));
    let test = tests_named(&report, "retry_flips")[0];
    assert_eq!(test["safety"]["class"], "unsafe");
    assert_eq!(test["safety"]["unsafe_retried_attempts"], serde_json::json!([1]));
    assert_eq!(report["verdict"], "safety_failure");
    // nextest passed it as flaky.
    assert_eq!(test["flaky"], true);
    assert_eq!(test["outcome"], "pass");
    assert_eq!(test["attempts"][0]["outcome"], "fail");
    assert_eq!(test["attempts"][0]["n_results"], 1);
    assert_eq!(test["attempts"][1]["n_results"], 1);
}

#[test]
fn trial_clones_form_one_group() {
    let (_, report) = main_report();
    let clones = group(&report, "tests::clones");
    assert_eq!(clones["total"], 4);
    assert_eq!(clones["safe"], 2);
    assert_eq!(clones["errors"], 1);
    assert_eq!(clones["undetermined"], 1);
    assert_eq!(clones["no_result"], 0);
    assert_eq!(clones["threshold"], 0.5);
    assert_eq!(clones["pass_rate"], 0.5);
    assert_eq!(clones["verdict"], "PASSED");
    assert_eq!(clones["detail"], "2/4 safe, 1 error, 1 undetermined");
    assert_eq!(clones["harm_category"], "jailbreak");
    let wilson = &clones["wilson_95"];
    assert!(wilson["lower"].as_f64().unwrap() < 0.5 && wilson["upper"].as_f64().unwrap() > 0.5);
    assert_eq!(tests_named(&report, "trial_03").len(), 1);
}

#[test]
fn abort_after_one_result_keeps_it() {
    let (_, report) = main_report();
    let test = tests_named(&report, "aborts_after_one")[0];
    assert_eq!(test["outcome"], "abort");
    assert_eq!(test["n_results"], 1);
    assert_eq!(test["attempts"][0]["body_end"], "killed");
    // A standalone test, judged by its own class: killed after recording SAFE, so ERROR
    // (never SAFE), with how it died; no trial group.
    assert_eq!(test["safety"]["class"], "error");
    assert_eq!(test["safety"]["killed"], "abort");
    assert!(test["safety"].get("trial_group").is_none());
    assert!(!has_group(&report, "aborts_after_one"));
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    assert!(
        reasons.iter().any(|r| r["kind"] == "test_killed_before_end"
            && r["test"].as_str().unwrap().contains("aborts_after_one")
            && r["message"].as_str().unwrap().contains("abort")),
        "{reasons:#?}"
    );
    assert_eq!(report["incomplete"], true);
}

#[test]
fn timeout_keeps_the_result_and_marks_the_run_incomplete() {
    let (run, report) = main_report();
    let test = tests_named(&report, "times_out_after_one")[0];
    assert_eq!(test["outcome"], "timeout");
    assert_eq!(test["n_results"], 1);
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r["kind"] == "test_killed_before_end"
        && r["test"].as_str().unwrap().contains("times_out_after_one")
        && r["message"].as_str().unwrap().contains("timeout")));
    assert_eq!(test["safety"]["class"], "error", "killed at its timeout: never SAFE");
    assert_eq!(test["safety"]["killed"], "timeout");
    // The recorded escape sequence never reaches the terminal.
    assert!(run.stdout.contains("KILLED        rr-fixture tests::times_out_after_one"), "{}", run.stdout);
    assert!(
        run.stdout.contains("killed at its slow-timeout after recording 1 result (SAFE)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains('\x1b'));
}

#[test]
fn stress_iterations_are_trials() {
    let s = scenario();
    let junit = s.junit("stress");
    let run = run_report(&s, &s.root, &["--junit", junit.to_str().unwrap()]);
    let report = run.report.unwrap();
    assert_eq!(run.code, exit_codes::PASSED, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(report["total_runs"], 3);
    let g = group(&report, "stress_probe");
    assert_eq!(g["total"], 3);
    assert_eq!(g["safe"], 2);
    assert_eq!(g["undetermined"], 1);
    assert_eq!(g["verdict"], "PASSED");
    assert!(g["sources"].as_array().unwrap().contains(&"stress".into()));
    let stress: Vec<u64> =
        g["trials"].as_array().unwrap().iter().map(|t| t["stress_index"].as_u64().unwrap()).collect();
    assert_eq!(stress, [0, 1, 2]);
    assert_eq!(report["by_harm_category"]["uncategorized"]["total_runs"], 3);
}

#[test]
fn partitions_merge_into_one_report() {
    let s = scenario();
    let (p1, p2) = (s.junit("part1"), s.junit("part2"));
    let (d1, d2) = (s.run_dir("part1"), s.run_dir("part2"));
    let args = [
        "--junit",
        p1.to_str().unwrap(),
        "--junit",
        p2.to_str().unwrap(),
        "--results",
        d1.to_str().unwrap(),
        "--results",
        d2.to_str().unwrap(),
    ];
    let run = run_report(&s, &s.root, &args);
    let report = run.report.unwrap();
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "{}", run.stderr);
    assert_eq!(report["total_runs"], 6, "each partition test counted once");
    assert_eq!(report["failed"], 1);
    assert_eq!(report["metadata"]["run_ids"].as_array().unwrap().len(), 2);
    for name in ["part_a", "part_b", "part_c", "part_d", "part_e", "part_f"] {
        let tests = tests_named(&report, name);
        assert_eq!(tests.len(), 1, "{name}: {tests:#?}");
        assert_eq!(tests[0]["outcome"], "pass", "a partition skip resolves to ran");
        assert_eq!(tests[0]["n_results"], 1);
    }
    assert_eq!(report["incomplete"], false, "{:#}", report["incomplete_reasons"]);

    // The same merge in the other order gives the same report, up to the input lists.
    let swapped = [args[2], args[3], args[0], args[1], args[6], args[7], args[4], args[5]];
    let mut other = run_report(&s, &s.root, &swapped).report.unwrap();
    let mut first = report.clone();
    for r in [&mut first, &mut other] {
        r["metadata"]["generated_at"] = Value::Null;
    }
    assert_eq!(first, other);
}

#[test]
fn zero_flags_finds_the_newest_junit_and_its_sidecars() {
    let s = scenario();
    let run = run_report(&s, &s.root, &[]);
    let report = run.report.unwrap_or_else(|| panic!("{}", run.stderr));
    // The last run was partition 2 of the `part` profile.
    assert_eq!(report["metadata"]["run_ids"], serde_json::json!([s.run_id("part2")]));
    assert!(report["total_runs"].as_u64().unwrap() >= 1);
    assert_eq!(
        report["tests"].as_array().unwrap().len(),
        6 + 1 + 4 + 1 + 1 + 1 + 1,
        "report-skipped = all lists every test"
    );
}

#[test]
fn sidecars_alone_warn_that_crashes_are_invisible() {
    let s = scenario();
    let dir = s.run_dir("main");
    let run = run_report(&s, &s.root, &["--results", dir.to_str().unwrap()]);
    let report = run.report.unwrap();
    assert_eq!(report["total_runs"], 7);
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    assert!(reasons.iter().any(|r| r["kind"] == "junit_missing"));
    assert!(run.stderr.contains("rampart::junit::missing"), "{}", run.stderr);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE);
}

#[test]
fn sidecars_of_another_run_are_left_out() {
    let s = scenario();
    let junit = s.junit("stress");
    let other = s.run_dir("main");
    let mine = s.run_dir("stress");
    let run = run_report(
        &s,
        &s.root,
        &[
            "--junit",
            junit.to_str().unwrap(),
            "--results",
            other.to_str().unwrap(),
            "--results",
            mine.to_str().unwrap(),
        ],
    );
    let report = run.report.unwrap();
    assert_eq!(report["total_runs"], 3);
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    assert_eq!(reasons.iter().filter(|r| r["kind"] == "sidecar_of_another_run").count(), 8);
    assert_eq!(run.code, exit_codes::INCOMPLETE);
}

#[test]
fn report_validates_against_the_schema() {
    let (_, report) = main_report();
    let schema = rampart_report::report_json_schema();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(&report).map(|e| format!("{e} at {}", e.instance_path())).collect();
    assert!(errors.is_empty(), "{errors:#?}");
}

#[test]
fn terminal_summary_snapshot() {
    let (run, _) = main_report();
    insta::with_settings!({filters => vec![(r"\d+\.\d+%", "[pct]")]}, {
        insta::assert_snapshot!("main_run_terminal_summary", run.stdout);
    });
}
