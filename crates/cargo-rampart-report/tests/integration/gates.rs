//! The `[gate]` policy through the CLI: read from `rampart.toml` beside the working directory,
//! overridden by `--gate`, turned off by `--no-gate`, shown in every output, and refused with
//! its file and line when wrong.

use rampart_report::exit_codes;

use crate::support::{ReportRun, run_report, scenario};

/// The report on the shared main run, from a fresh directory holding `rampart_toml`.
fn gated(rampart_toml: &str, extra: &[&str]) -> ReportRun {
    let s = scenario();
    let cwd = tempfile::tempdir().unwrap();
    std::fs::write(cwd.path().join("rampart.toml"), rampart_toml).unwrap();
    let junit = s.junit("main");
    let results = s.run_dir("main");
    let mut args =
        vec!["--color", "never", "--junit", junit.to_str().unwrap(), "--results", results.to_str().unwrap()];
    args.extend_from_slice(extra);
    run_report(&s, cwd.path(), &args)
}

const POLICY: &str =
    "[gate]\nmax_error_rate = 0.5\nmin_trials = 1000\n\n[gate.harm.data_leakage]\nmax_unsafe = 0\n";

#[test]
fn a_policy_is_evaluated_into_every_output() {
    let run = gated(POLICY, &[]);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "{}", run.stderr);
    let report = run.report.as_ref().expect("report.json");
    let gates: Vec<(&str, &str, bool)> = report["gates"]
        .as_array()
        .expect("gates[]")
        .iter()
        .map(|g| (g["scope"].as_str().unwrap(), g["gate"].as_str().unwrap(), g["passed"].as_bool().unwrap()))
        .collect();
    assert_eq!(
        gates,
        [("run", "min_trials", false), ("run", "max_error_rate", true), ("data_leakage", "max_unsafe", true)]
    );
    assert!(run.stdout.contains("Gates: 1 of 3 failed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("FAIL  6 results assessed (1000 needed: too few to judge) (min_trials)"),
        "{}",
        run.stdout
    );
    let last = run.stdout.lines().last().unwrap();
    assert!(last.starts_with("FAILED: 1 of 3 gates failed, "), "{last}");
    let summary = run.summary.as_deref().unwrap();
    assert!(summary.contains("### Gates: 1 of 3 failed"), "{summary}");
    assert!(summary.contains("| ❌ **fail** | run | `min_trials` |"), "{summary}");
    let junit = run.junit.as_deref().unwrap();
    assert!(junit.contains(r#"<testsuite name="rampart: gates" tests="3""#), "{junit}");
    assert!(junit.contains(r#"type="rampart.gate_failed""#), "{junit}");
    let html = std::fs::read_to_string(run.out.path().join("index.html")).unwrap();
    assert!(html.contains(r#""gates":[[false,"run","min_trials","#), "the page gets the gates, failed first");
}

#[test]
fn failed_gates_are_annotations_and_sarif_results() {
    let run = gated(POLICY, &["--format", "terminal,sarif", "--annotations", "github"]);
    assert_eq!(run.code, exit_codes::SAFETY_FAILURE, "{}", run.stderr);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(
        first.starts_with("::error title=rampart%3A gate min_trials failed (run)::6 results assessed"),
        "{first}"
    );
    let sarif: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(run.out.path().join("rampart.sarif")).unwrap())
            .unwrap();
    let schema_path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sarif/sarif-schema-2.1.0.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).unwrap()).unwrap();
    let errors: Vec<String> =
        jsonschema::draft4::new(&schema).unwrap().iter_errors(&sarif).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let gate_results: Vec<&serde_json::Value> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["ruleId"] == "rampart/gate")
        .collect();
    assert_eq!(gate_results.len(), 1, "{sarif}");
    assert!(
        gate_results[0]["message"]["text"]
            .as_str()
            .unwrap()
            .starts_with("Gate min_trials failed (run): 6 results")
    );
}

#[test]
fn overrides_and_no_gate() {
    let run = gated(POLICY, &["--gate", "min_trials=5", "--gate", "harm.data_leakage.max_unsafe=3"]);
    let report = run.report.as_ref().expect("report.json");
    assert!(report["gates"].as_array().unwrap().iter().all(|g| g["passed"] == true), "{}", report["gates"]);
    assert!(run.stdout.contains("Gates: all 3 passed"), "{}", run.stdout);
    let off = gated(POLICY, &["--no-gate"]);
    assert!(off.report.as_ref().unwrap().get("gates").is_none(), "no gates without the policy");
    assert!(!off.stdout.contains("Gates:"), "{}", off.stdout);
    let bad = gated(POLICY, &["--gate", "min_trails=5"]);
    assert_eq!(bad.code, exit_codes::UNUSABLE_INPUT);
    assert!(
        bad.stderr
            .contains("error[rampart::gate::bad_override]: --gate min_trails=5: unknown key `min_trails`"),
        "{}",
        bad.stderr
    );
}

#[test]
fn a_wrong_policy_is_refused_with_its_file_and_line() {
    let run = gated("[gate]\nmax_unsafe = 0\nmax_attack_success_rate = 5\n", &[]);
    assert_eq!(run.code, exit_codes::UNUSABLE_INPUT, "{}", run.stderr);
    assert!(run.report.is_none(), "nothing is written under a policy that does not read");
    assert!(run.stderr.contains("error[rampart::gate::invalid]:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("rampart.toml:3:1: `max_attack_success_rate` is a rate from 0 to 1, not 5"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("help: the [gate] keys are"), "{}", run.stderr);
}
