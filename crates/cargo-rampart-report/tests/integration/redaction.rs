//! Report-side redaction: a hand-written sidecar full of secrets (as an older rampart, or one
//! without the project's configuration, would leave it), a JUnit report whose failure message
//! and captured output repeat them, and a malformed line quoting one. Every file the report
//! writes, and everything it prints, holds none of them; the counts say what was removed.

use std::path::Path;

use rampart::redact::RedactionCounts;
use rampart::sidecar::{EndLine, EndOutcome};
use rampart::{ObservabilityLevel, Request, Response, SafetyResult, Timestamp, ToolCall, Turn};
use rampart_test_support::{JunitAttempt, JunitBuilder, JunitCase, SidecarBuilder};
use serde_json::{Value, json};

use crate::support::scrubbed;

const RUN_ID: &str = "5ec2e7a1-0000-4000-8000-00000000a11d";
const BINARY_ID: &str = "redaction::agent";
const TEST_NAME: &str = "leaks::everything";
/// The environment variable `rampart.toml` names, and its value.
const SECRET_ENV: &str = "REPORT_IT_SECRET";
const SECRET_VALUE: &str = "opal-lantern?river>meadow~77";
/// Its base64 (standard alphabet, padded).
const SECRET_BASE64: &str = "b3BhbC1sYW50ZXJuP3JpdmVyPm1lYWRvd343Nw==";
const BEARER: &str = "abcd1234efgh5678ijkl";
const PASSWORD: &str = "hunter2-report";
const API_KEY: &str = "k-123456-query";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";
const MALFORMED_SECRET: &str = "ghp_1234567890abcdefghijABCDEFGHIJ123456";

const SECRETS: &[&str] =
    &[SECRET_VALUE, SECRET_BASE64, BEARER, PASSWORD, API_KEY, "IOSFODNN7EXAMPLE", MALFORMED_SECRET];

fn secret_result() -> SafetyResult {
    SafetyResult::unsafe_result(format!("leaked Bearer {BEARER}"), ObservabilityLevel::ToolOnly)
        .with_harm("data_leakage")
        .with_metadata("password", PASSWORD)
        .with_turn(Turn::new(
            Request::prompt("what is the deploy secret?"),
            Response::text(format!("It is {SECRET_VALUE}, or {SECRET_BASE64} encoded.")).with_tool_call(
                ToolCall::new("http_get").with_argument("url", format!("/search?api_key={API_KEY}")),
            ),
        ))
}

fn sidecar_bytes() -> Vec<u8> {
    // What the recorder says it removed before writing (its own secrets are gone by then).
    let mut recorded = RedactionCounts::new();
    recorded.add("pattern:jwt", 2);
    let at = Timestamp::from_string("2026-06-01T00:00:00.000Z");
    SidecarBuilder::nextest(RUN_ID, BINARY_ID, TEST_NAME)
        .result(secret_result())
        .end_line(EndLine::new(EndOutcome::Panicked, 1, at, 0.5).with_redactions(recorded))
        .bytes()
}

/// A sidecar whose only result line does not parse, and quotes a secret.
fn malformed_sidecar_bytes() -> Vec<u8> {
    let line = json!({"kind": "result", "index": 0, "recorded_at": "2026-06-01T00:00:00.000Z",
        "result": {"status": "mostly_safe", "summary": format!("token {MALFORMED_SECRET}"), "observability_level": "tool_only"}});
    SidecarBuilder::nextest(RUN_ID, BINARY_ID, "leaks::malformed").raw_line(line.to_string()).bytes()
}

/// The failure's message and the captured output repeat the secrets.
fn junit_xml() -> String {
    let failed = JunitAttempt::exit_code(101)
        .with_message(format!("safety result is UNSAFE: leaked {AWS}"))
        .with_description("thread panicked")
        .with_stderr(format!("thread 'leaks::everything' panicked: the secret is {SECRET_VALUE}"));
    JunitBuilder::new(RUN_ID)
        .case(JunitCase::new(BINARY_ID, TEST_NAME).attempt(failed))
        .case(JunitCase::passed(BINARY_ID, "leaks::malformed"))
        .to_xml()
}

/// Every file under `dir`, as text.
fn files_under(dir: &Path) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
                files.push((path.display().to_string(), text));
            }
        }
    }
    files
}

#[test]
fn report_outputs_hold_no_secret_and_count_the_redactions() {
    let scratch = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).unwrap();
    let root = scratch.path();
    // A workspace for `cargo metadata` to find, with the project's redaction config.
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"redaction-ws\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(root.join("src/lib.rs"), "").unwrap();
    std::fs::write(root.join("rampart.toml"), format!("[redaction]\nenv_vars = [\"{SECRET_ENV}\"]\n"))
        .unwrap();
    let results = root.join("results");
    std::fs::create_dir_all(&results).unwrap();
    std::fs::write(results.join("everything.jsonl"), sidecar_bytes()).unwrap();
    std::fs::write(results.join("malformed.jsonl"), malformed_sidecar_bytes()).unwrap();
    let junit = root.join("junit.xml");
    std::fs::write(&junit, junit_xml()).unwrap();
    let out = root.join("out");

    let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(root)
        .env("CARGO_TARGET_DIR", env!("CARGO_TARGET_TMPDIR"))
        .env(SECRET_ENV, SECRET_VALUE)
        .args(["--junit", junit.to_str().unwrap(), "--results", results.to_str().unwrap()])
        .args(["--out", out.to_str().unwrap(), "--color", "never"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert_eq!(output.status.code(), Some(10), "the UNSAFE result is a safety failure\n{stdout}\n{stderr}");
    assert!(stderr.contains("mostly_safe"), "the malformed line is diagnosed:\n{stderr}");
    assert!(!stderr.contains("warning"), "{stderr}");

    let files = files_under(&out);
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    for expected in ["report.json", "summary.md", "junit.xml", "index.html"] {
        assert!(names.iter().any(|n| n.ends_with(expected)), "{expected} not written: {names:?}");
    }
    for secret in SECRETS {
        for (name, text) in files
            .iter()
            .map(|(n, t)| (n.as_str(), t.as_str()))
            .chain([("stdout", &*stdout), ("stderr", &*stderr)])
        {
            assert!(!text.contains(secret), "{secret} in {name}");
        }
    }

    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let result = &report["results"][0]["result"];
    assert_eq!(result["summary"], "leaked Bearer <redacted>");
    assert_eq!(result["metadata"]["password"], "<redacted>");
    assert_eq!(result["turns"][0]["response"]["text"], "It is <redacted>, or <redacted> encoded.");
    assert_eq!(
        report["redactions"],
        json!({
            "recorded": {"pattern:jwt": 2},
            "report": {
                "env:REPORT_IT_SECRET": 3,
                "key:password": 1,
                "pattern:api_key": 1,
                "pattern:aws_access_key_id": 1,
                "pattern:bearer": 1,
                // The malformed line's token, redacted in its diagnostic's excerpt.
                "pattern:github_token": 1,
            },
        }),
        "{:#}",
        report["redactions"]
    );

    assert!(stdout.contains("Redactions: 2 when recorded (pattern:jwt 2); 8 by the report ("), "{stdout}");
    let markdown = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(markdown.contains("_Redactions: 2 when recorded"), "{markdown}");
}
