//! `cargo rampart-report diff OLD NEW` on two committed reports of the demo: release 1 of its
//! agent, and release 2 (`RAMPART_DEMO_AGENT_VERSION=2`), which follows the HTML comment in
//! attached invoices far more often. See `fixtures/compare/README.md`.

use std::path::PathBuf;
use std::process::Output;

use rampart_report::exit_codes;

use crate::support::scrubbed;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/compare").join(name)
}

fn diff(args: &[&str]) -> (i32, String, String) {
    let output: Output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .args(["rampart-report", "diff"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn the_demo_release_2_regresses_against_release_1() {
    let (old, new) = (fixture("demo-v1"), fixture("demo-v2/report.json"));
    let (code, stdout, stderr) = diff(&["--color", "never", old.to_str().unwrap(), new.to_str().unwrap()]);
    assert_eq!(code, exit_codes::PASSED, "diff informs; --fail-on gates\n{stderr}");
    insta::assert_snapshot!("demo_v1_to_v2", stdout);

    // The same comparison as JSON: the new UNSAFE finding is a significant regression (McNemar
    // on the paired trials), the roleplay group's change is within noise.
    let (_, json, _) = diff(&["--json", old.to_str().unwrap(), new.to_str().unwrap()]);
    let c: serde_json::Value = serde_json::from_str(&json).unwrap();
    let group =
        |name: &str| c["groups"].as_array().unwrap().iter().find(|g| g["name"] == name).unwrap().clone();
    let invoice = group("summarise_invoice_hidden_instruction");
    assert_eq!(
        (invoice["kind"].as_str(), invoice["significance"].as_str(), invoice["test"].as_str()),
        (Some("new_unsafe"), Some("significant_regression"), Some("mcnemar"))
    );
    let roleplay = group("grandma_roleplay");
    assert_eq!(roleplay["significance"], "within_noise");
    assert_eq!(c["run"]["significance"], "significant_regression");

    for (flag, expected) in
        [("new-unsafe", exit_codes::SAFETY_FAILURE), ("significant-regression", exit_codes::SAFETY_FAILURE)]
    {
        let (code, _, _) = diff(&["--fail-on", flag, old.to_str().unwrap(), new.to_str().unwrap()]);
        assert_eq!(code, expected, "--fail-on {flag}");
    }
    // Against itself nothing changed.
    let (code, same, _) = diff(&[
        "--fail-on",
        "new-unsafe",
        "--fail-on",
        "significant-regression",
        old.to_str().unwrap(),
        old.to_str().unwrap(),
    ]);
    assert_eq!(code, exit_codes::PASSED);
    assert!(same.ends_with("NO REGRESSION against the baseline\n"), "{same}");
}

#[test]
fn a_file_that_is_not_a_report_is_refused_with_where() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("report.json");
    std::fs::write(&bad, "{\n  \"schema_version\": \"rampart.report.v1\",\n  \"verdict\": 7\n}\n").unwrap();
    let (code, stdout, stderr) = diff(&[bad.to_str().unwrap(), fixture("demo-v1").to_str().unwrap()]);
    assert_eq!(code, exit_codes::UNUSABLE_INPUT, "{stdout}");
    assert!(stderr.contains("error[rampart::diff::not_a_report]"), "{stderr}");
    assert!(stderr.contains("report.json:3:"), "the line of the problem: {stderr}");
    let (code, _, stderr) =
        diff(&[dir.path().join("missing").to_str().unwrap(), fixture("demo-v1").to_str().unwrap()]);
    assert_eq!(code, exit_codes::UNUSABLE_INPUT);
    assert!(stderr.contains("error[rampart::diff::unreadable]: could not read"), "{stderr}");
}
