//! Diagnostics for bad input: snapshots of what the user sees.

use std::path::Path;

use crate::support::scrubbed;

fn report_dir() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/report"))
}

fn run_in_repo(args: &[&str]) -> (i32, String, String) {
    let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(report_dir())
        .env("CARGO_TARGET_DIR", env!("CARGO_TARGET_TMPDIR"))
        .args(args)
        .args(["--format", "terminal", "--color", "never"])
        .output()
        .unwrap();
    (
        output.status.code().unwrap(),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[test]
fn corrupt_sidecars() {
    let (code, stdout, stderr) = run_in_repo(&["--results", "corrupt"]);
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    insta::assert_snapshot!("corrupt_sidecars_stderr", stderr);
    insta::assert_snapshot!("corrupt_sidecars_stdout", stdout);
}

#[test]
fn truncated_junit() {
    let (code, stdout, stderr) = run_in_repo(&["--junit", "truncated.xml"]);
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    insta::assert_snapshot!("truncated_junit_stderr", stderr);
    insta::assert_snapshot!("truncated_junit_stdout", stdout);
}

#[test]
fn empty_results_dir() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let (code, _, stderr) = run_in_repo(&["--results", dir.path().to_str().unwrap()]);
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    assert!(stderr.contains("rampart::results::empty_dir"), "{stderr}");
}

#[test]
fn missing_input_is_a_usage_error() {
    let (code, _, stderr) = run_in_repo(&["--junit", "does-not-exist.xml"]);
    assert_eq!(code, rampart_report::exit_codes::UNUSABLE_INPUT);
    insta::assert_snapshot!("missing_input_stderr", stderr);
}

#[test]
fn runs_directly_and_as_cargo_subcommand() {
    for args in [&["--help"][..], &["rampart-report", "--help"][..]] {
        let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report")).args(args).output().unwrap();
        assert_eq!(output.status.code(), Some(0));
        let stdout = String::from_utf8(output.stdout).unwrap();
        assert!(stdout.contains("--junit") && stdout.contains("Exit codes"), "{stdout}");
    }
    let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report")).arg("--bogus").output().unwrap();
    assert_eq!(output.status.code(), Some(rampart_report::exit_codes::UNUSABLE_INPUT));
}
