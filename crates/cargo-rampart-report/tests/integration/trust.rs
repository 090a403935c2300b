//! The trust boundary of `cargo-rampart-report`: hostile sidecars, unsafe output directories,
//! inputs never modified, and a kill during report generation.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use rampart::sidecar::{EndLine, EndOutcome, TestSpec};
use rampart::{
    EvalOutcome, EvalResult, HarmCategory, ObservabilityLevel, SafetyResult, SideEffect, Timestamp, ToolCall,
    Turn,
};
use rampart_test_support::SidecarBuilder;
use serde_json::Value;

use crate::support::scrubbed;

pub const RUN_ID: &str = "0b1f6a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b";

/// A temp dir under the target dir.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap()
}

/// The sidecar of test `test_name` of binary `trust::agent` in run [`RUN_ID`] (a plain test:
/// no spec unless one is added).
pub fn sidecar(test_name: &str) -> SidecarBuilder {
    SidecarBuilder::nextest(RUN_ID, "trust::agent", test_name)
}

/// The bytes of a sidecar of a plain test that recorded `results` and ended.
fn ended(test_name: &str, results: &[SafetyResult]) -> Vec<u8> {
    sidecar(test_name).results(results.iter().cloned()).end(EndOutcome::Returned).bytes()
}

/// Runs the report binary in `cwd` with `args`; returns the output.
pub fn report(cwd: &Path, args: &[&str]) -> Output {
    scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", env!("CARGO_TARGET_TMPDIR"))
        .args(args)
        .args(["--color", "never"])
        .output()
        .unwrap()
}

fn text(output: &Output) -> (i32, String, String) {
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every file under `dir` with its bytes.
pub fn snapshot_tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let meta = entry.path().symlink_metadata().unwrap();
            if meta.is_dir() {
                pending.push(entry.path());
            } else {
                files.insert(entry.path(), std::fs::read(entry.path()).unwrap_or_default());
            }
        }
    }
    files
}

fn write_results(dir: &Path, files: &[(&str, Vec<u8>)]) {
    std::fs::create_dir_all(dir).unwrap();
    for (name, bytes) in files {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}

fn json_report(out: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

#[test]
fn out_dir_refuses_root_home_and_foreign_directories() {
    let scratch = tempdir();
    let results = scratch.path().join("results");
    write_results(
        &results,
        &[("a.jsonl", ended("t", &[SafetyResult::safe("ok", ObservabilityLevel::ToolOnly)]))],
    );
    let results = results.to_str().unwrap();
    let home = scratch.path().join("home");
    std::fs::create_dir(&home).unwrap();
    let foreign = scratch.path().join("foreign");
    std::fs::create_dir(&foreign).unwrap();
    std::fs::write(foreign.join("thesis.tex"), "precious").unwrap();
    for (out, why) in [
        ("/", "it is the root directory"),
        (home.to_str().unwrap(), "it is your home directory"),
        (&format!("{}/../home", results), "it is your home directory"),
        (foreign.to_str().unwrap(), "not a rampart report directory"),
    ] {
        let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
            .current_dir(scratch.path())
            .env("HOME", &home)
            .args(["--results", results, "--out", out, "--color", "never"])
            .output()
            .unwrap();
        let (code, _, stderr) = text(&output);
        let stderr = stderr.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
        assert_eq!(code, rampart_report::exit_codes::UNUSABLE_INPUT, "{out}: {stderr}");
        assert!(stderr.contains("rampart::cli::unsafe_out_dir"), "{out}: {stderr}");
        assert!(stderr.contains(why), "{out}: {stderr}");
        assert!(stderr.contains("pass an empty or new directory with --out"), "{stderr}");
    }
    assert_eq!(std::fs::read_dir(&foreign).unwrap().count(), 1, "nothing written into the foreign dir");
    assert_eq!(std::fs::read_dir(&home).unwrap().count(), 0);

    // A new directory gets the marker; running again into it is fine.
    let out = scratch.path().join("out");
    for _ in 0..2 {
        let (code, _, stderr) =
            text(&report(scratch.path(), &["--results", results, "--out", out.to_str().unwrap()]));
        assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    }
    let marker = std::fs::read_to_string(out.join(".rampart-report")).unwrap();
    assert_eq!(marker.lines().next(), Some(cargo_rampart_report::REPORT_DIR_MARKER_LINE));
    // An empty existing directory is fine too; terminal-only output checks nothing.
    let empty = scratch.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let (code, ..) = text(&report(scratch.path(), &["--results", results, "--out", empty.to_str().unwrap()]));
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE);
    let (code, ..) =
        text(&report(scratch.path(), &["--results", results, "--out", "/", "--format", "terminal"]));
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE);
}

#[test]
fn report_run_never_modifies_inputs() {
    let scratch = tempdir();
    let inputs = scratch.path().join("inputs");
    let results = inputs.join("run");
    let torn =
        sidecar("torn").result(SafetyResult::safe("a", ObservabilityLevel::ToolOnly)).torn_tail().bytes();
    write_results(
        &results,
        &[
            ("ok.jsonl", ended("ok", &[SafetyResult::safe("a", ObservabilityLevel::ToolOnly)])),
            ("torn.jsonl", torn),
            // Not sidecars at all: no header.
            ("empty.jsonl", Vec::new()),
            ("bad.jsonl", b"not json\n".to_vec()),
        ],
    );
    let junit = inputs.join("junit.xml");
    std::fs::copy(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/report/truncated.xml"), &junit)
        .unwrap();
    let before = snapshot_tree(&inputs);
    let out = scratch.path().join("out");
    let (code, _, stderr) = text(&report(
        scratch.path(),
        &[
            "--results",
            results.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    assert_eq!(snapshot_tree(&inputs), before, "inputs are byte-identical and none was added or removed");
}

#[test]
fn sidecar_locations_come_from_identity_never_from_content() {
    let scratch = tempdir();
    let canary_dir = scratch.path().join("elsewhere");
    std::fs::create_dir(&canary_dir).unwrap();
    let results = scratch.path().join("a/b/results");
    let hostile =
        SidecarBuilder::nextest("../../../elsewhere", "../../../../etc", "../../../elsewhere/escape")
            .result(SafetyResult::safe("hostile", ObservabilityLevel::ToolOnly))
            .end(EndOutcome::Returned);
    write_results(&results, &[("x.jsonl", hostile.bytes())]);
    let before = snapshot_tree(scratch.path());
    let out = scratch.path().join("out");
    let (_, _, stderr) = text(&report(
        scratch.path(),
        &["--results", results.to_str().unwrap(), "--out", out.to_str().unwrap()],
    ));
    let after = snapshot_tree(scratch.path());
    let new_files: Vec<&PathBuf> = after.keys().filter(|p| !before.contains_key(*p)).collect();
    assert!(new_files.iter().all(|p| p.starts_with(&out)), "{new_files:#?}\n{stderr}");
    assert!(std::fs::read_dir(&canary_dir).unwrap().next().is_none());
    let report = json_report(&out);
    assert_eq!(report["results"][0]["identity"]["test_name"], "../../../elsewhere/escape");
    assert_eq!(report["results"][0]["sidecar"], results.join("x.jsonl").to_str().unwrap());
}

#[test]
fn oversized_result_cap_is_configurable() {
    let scratch = tempdir();
    let results = scratch.path().join("results");
    let big = SafetyResult::unsafe_result("x".repeat(20_000), ObservabilityLevel::ToolOnly)
        .with_harm(HarmCategory::DATA_LEAKAGE);
    let small = SafetyResult::safe("small", ObservabilityLevel::ToolOnly);
    write_results(&results, &[("a.jsonl", ended("t", &[small.clone(), big, small]))]);
    let out = scratch.path().join("out");
    let (code, _, stderr) = text(&report(
        scratch.path(),
        &[
            "--results",
            results.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--max-result-bytes",
            "4096",
        ],
    ));
    // The oversized result keeps its UNSAFE status: a cap can cut evidence, never a finding.
    assert_eq!(code, rampart_report::exit_codes::SAFETY_FAILURE, "{stderr}");
    assert!(stderr.contains("rampart::sidecar::result_oversized"), "{stderr}");
    let report = json_report(&out);
    let results = report["results"].as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[1]["status"], "unsafe");
    assert_eq!(results[1]["harm_category"], "data_leakage");
    let summary = results[1]["result"]["summary"].as_str().unwrap();
    assert!(summary.ends_with("[evidence lost: result of 19.7 KiB exceeded the 4 KiB cap]"), "{summary}");
    assert_eq!(results[1]["result"]["metadata"]["rampart_truncated"], true);
    assert!(report["incomplete_reasons"].as_array().unwrap().iter().any(|r| r["kind"] == "result_oversized"));
}

#[test]
fn newer_major_sidecar_is_refused_clearly() {
    let scratch = tempdir();
    let results = scratch.path().join("results");
    let good = sidecar("good")
        .result(SafetyResult::safe("kept", ObservabilityLevel::ToolOnly))
        .end(EndOutcome::Returned);
    let future = good.clone().schema("rampart.sidecar.v2");
    write_results(&results, &[("good.jsonl", good.bytes()), ("future.jsonl", future.bytes())]);
    let out = scratch.path().join("out");
    let (code, _, stderr) = text(&report(
        scratch.path(),
        &["--results", results.to_str().unwrap(), "--out", out.to_str().unwrap()],
    ));
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    let flat = stderr.replace('│', " ").split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(flat.contains("future.jsonl"), "{stderr}");
    assert!(flat.contains("unsupported schema `rampart.sidecar.v2`"), "{stderr}");
    assert!(flat.contains("upgrade cargo-rampart-report"), "{stderr}");
    let report = json_report(&out);
    assert_eq!(report["results"].as_array().unwrap().len(), 1, "the v1 sidecar is kept");
    assert!(
        report["incomplete_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "sidecar_unknown_schema")
    );
}

/// Every recorded string field carries escape sequences and control characters.
fn hostile_result(tag: &str) -> SafetyResult {
    let evil = |field: &str| {
        format!(
            "{tag}-{field}\x1b[31mRED\x1b[0m\x1b]8;;http://x\x07link\x1b]8;;\x07\x07\x08\u{9b}2J\u{202e}bidi\r\x00end"
        )
    };
    let turn = Turn::exchange(evil("prompt"), evil("response"))
        .with_eval(
            EvalResult::new(EvalOutcome::Detected)
                .with_rationale(evil("rationale"))
                .with_evidence(evil("evidence")),
        )
        .with_driver_reasoning(evil("driver"));
    let mut turn = turn;
    turn.response = turn
        .response
        .with_tool_call(
            ToolCall::new(evil("tool")).with_result(evil("tool-result")).with_argument("a", evil("arg")),
        )
        .with_side_effect(SideEffect::new(evil("effect")));
    SafetyResult::unsafe_result(evil("summary"), ObservabilityLevel::ToolAndSideEffects)
        .with_harm(evil("harm"))
        .with_strategy(evil("strategy"))
        .with_metadata("m", evil("metadata"))
        .with_turn(turn)
}

fn assert_clean(what: &str, text: &str) {
    for (i, c) in text.char_indices() {
        let bad = (c.is_control() && c != '\n' && c != '\t')
            || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
        assert!(
            !bad,
            "{what}: control character {c:?} at {i}: {:?}",
            &text[i.saturating_sub(40)..(i + 10).min(text.len())]
        );
    }
}

#[test]
fn escape_sequences_in_every_field_are_stripped_from_terminal_and_markdown() {
    let scratch = tempdir();
    let results = scratch.path().join("results");
    let evil_name = "tests::\x1b[2Jname\x07";
    let spec = TestSpec::new("tests::\x1b]0;title\x07base", 0.9).with_harm("\x1b[1mharm");
    // No end line: a "killed" reason naming the test.
    let killed = SidecarBuilder::nextest(RUN_ID, "bin\x1b[31m", "killed\x1b[5m")
        .with_spec(spec.clone())
        .result(hostile_result("killed"))
        .bytes();
    let bytes = SidecarBuilder::nextest(RUN_ID, "bin\x1b[31m::x", evil_name)
        .with_spec(spec)
        .results([hostile_result("a"), hostile_result("b")])
        // A panic message, too.
        .end_line(
            EndLine::new(EndOutcome::Panicked, 2, Timestamp::from_string("2026-06-01T00:00:01.000Z"), 0.1)
                .with_panic_message("boom\x1b[31m\x07"),
        )
        .raw_line(b"{\"kind\":\"result\",\"bad\x1b[31m\":\"\x1b]0;x\x07\"}".to_vec())
        .bytes();
    write_results(&results, &[("a.jsonl", bytes), ("killed.jsonl", killed)]);
    let out = scratch.path().join("out");
    let (_, stdout, stderr) = text(&report(
        scratch.path(),
        &[
            "--results",
            results.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--format",
            "terminal,markdown",
        ],
    ));
    assert!(stdout.contains("a-summary") && stdout.contains("RED"), "{stdout}");
    assert_clean("terminal summary", &stdout);
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("a-summary") && markdown.contains("RED"), "{markdown}");
    assert_clean("summary.md", &markdown);
    // Diagnostics on stderr are rendered by miette from sanitized messages or file spans.
    let _ = stderr;
    std::thread::sleep(Duration::from_millis(1));
}

#[test]
fn sidecar_absent_from_junit_is_kept_and_reported() {
    let scratch = tempdir();
    let junit =
        concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/nextest-0.9.143/junit/cli-retries-1.xml");
    let text = std::fs::read_to_string(junit).unwrap();
    let start = text.find("uuid=\"").unwrap() + 6;
    let run_id = &text[start..start + 36];
    let results = scratch.path().join("results");
    let absent = SidecarBuilder::nextest(run_id, "nxfx", "not::in_the_junit")
        .result(SafetyResult::safe("kept", ObservabilityLevel::ToolOnly))
        .end(EndOutcome::Returned);
    write_results(&results, &[("x.jsonl", absent.bytes())]);
    let out = scratch.path().join("out");
    let (code, _, stderr) = text_of(&report(
        scratch.path(),
        &["--junit", junit, "--results", results.to_str().unwrap(), "--out", out.to_str().unwrap()],
    ));
    assert_ne!(code, rampart_report::exit_codes::PASSED, "{stderr}");
    assert!(stderr.contains("rampart::join::not_in_junit"), "{stderr}");
    let report = json_report(&out);
    assert!(report["results"].as_array().unwrap().iter().any(|r| r["result"]["summary"] == "kept"));
    assert!(
        report["incomplete_reasons"].as_array().unwrap().iter().any(|r| r["kind"] == "sidecar_without_junit")
    );
}

fn text_of(output: &Output) -> (i32, String, String) {
    text(output)
}

/// Every row of docs/trust-boundary.md names at least one test, and every test it names exists
/// (a `fn <name>` in the sources of a crate's tests or `src`).
#[test]
fn trust_boundary_table_names_existing_tests() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(repo.join("docs/trust-boundary.md")).unwrap();
    let mut sources = String::new();
    let mut pending = vec![repo.join("crates")];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("target") {
                    pending.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                sources.push_str(&std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let rows: Vec<&str> =
        doc.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| Bad input")).collect();
    assert!(rows.len() >= 21, "one row per case: {}", rows.len());
    for row in rows {
        let tests_cell = row.trim_end_matches('|').rsplit('|').next().unwrap();
        let names: Vec<&str> = tests_cell.split('`').skip(1).step_by(2).collect();
        assert!(!names.is_empty(), "row names no test: {row}");
        for name in names {
            let function = name.rsplit("::").next().unwrap();
            assert!(
                sources.contains(&format!("fn {function}(")),
                "{name} (in `{row}`) is not a test function"
            );
        }
    }
}
