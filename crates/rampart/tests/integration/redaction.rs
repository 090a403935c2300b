//! Redaction end to end: a test process records a result full of secrets, and the sidecar on
//! disk holds none of them.
//!
//! The recording test is in this binary ([`records_secrets`], ignored): the outer tests run
//! this binary's own executable on it, as nextest would (one process, nextest's variables),
//! with a temporary workspace root holding `rampart.toml`.

use std::path::Path;
use std::process::{Command, Output};

use rampart::sidecar::EndOutcome;
use rampart::{
    Attachment, EvalOutcome, EvalResult, ObservabilityLevel, Request, Response, SafetyResult, SideEffect,
    ToolCall, Turn,
};

use crate::support;

/// Set in the child process; the recording test does nothing without it.
const CHILD_ENV: &str = "RAMPART_IT_REDACTION_CHILD";
/// The environment variable whose value `rampart.toml` names as a secret.
const SECRET_ENV: &str = "RAMPART_IT_SECRET_VALUE";
/// Its value: nothing but the env rule can recognize it.
const SECRET_VALUE: &str = "correct horse?battery>staple~42";
/// Its base64 (standard alphabet, padded).
const SECRET_BASE64: &str = "Y29ycmVjdCBob3JzZT9iYXR0ZXJ5PnN0YXBsZX40Mg==";
/// `xy` + the value + `trailing`, base64: the value sits at a 2-byte offset inside the blob.
const SECRET_IN_BLOB: &str = "eHljb3JyZWN0IGhvcnNlP2JhdHRlcnk+c3RhcGxlfjQydHJhaWxpbmc=";
/// Its percent-encoding.
const SECRET_PERCENT: &str = "correct%20horse%3Fbattery%3Estaple~42";

const BEARER: &str = "abcd1234efgh5678ijkl";
const OPENAI: &str = "sk-proj-AbC123dEf456GhI789jKl012MnO345pQr";
const AWS: &str = "AKIAIOSFODNN7EXAMPLE";
const GITHUB: &str = "ghp_1234567890abcdefghijABCDEFGHIJ123456";
const JWT: &str =
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
const PEM_BODY: &str = "MIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun";
const DB_PASSWORD: &str = "pg-pass-77f1";
const API_KEY_VALUE: &str = "metadata-api-key-value";
const BASIC: &str = "dXNlcjpodW50ZXIy";
const PROJECT_ID: &str = "ACME-12345678";

/// Every secret the child records; none may reach the disk.
const SECRETS: &[&str] = &[
    SECRET_VALUE,
    SECRET_BASE64,
    "Y29ycmVjdCBob3JzZT9iYXR0ZXJ5PnN0YXBsZX40Mg",
    "b3JyZWN0IGhvcnNlP2JhdHRlcnk",
    SECRET_PERCENT,
    BEARER,
    "AbC123dEf456GhI789jKl012MnO345pQr",
    "IOSFODNN7EXAMPLE",
    "1234567890abcdefghijABCDEFGHIJ123456",
    JWT,
    PEM_BODY,
    DB_PASSWORD,
    API_KEY_VALUE,
    BASIC,
    PROJECT_ID,
];

/// The result the child records.
fn result_full_of_secrets() -> SafetyResult {
    let env_value = std::env::var(SECRET_ENV).unwrap_or_default();
    let pem = format!("-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----");
    let turn = Turn::new(
        Request::prompt(format!("Here is the deploy key:\n{pem}"))
            .with_attachment(Attachment::text("doc", format!("OPENAI key: {OPENAI}"))),
        Response::text(format!("The secret is {env_value}."))
            .with_tool_call(
                ToolCall::new("http_post")
                    .with_argument("body", format!("payload={SECRET_BASE64}&blob={SECRET_IN_BLOB}"))
                    .with_argument("headers", serde_json::json!({"Authorization": format!("Basic {BASIC}")}))
                    .with_result(format!("GET /?q={SECRET_PERCENT} -> 200")),
            )
            .with_side_effect(
                SideEffect::new("db_connect")
                    .with_detail("url", format!("postgres://app:{DB_PASSWORD}@db:5432/x")),
            ),
    )
    .with_eval(
        EvalResult::new(EvalOutcome::Detected)
            .with_evidence(format!("aws key {AWS} in the output"))
            .with_rationale(format!("a JWT {JWT} was echoed")),
    )
    .with_driver_reasoning(format!("try the token {GITHUB}"));
    SafetyResult::unsafe_result(
        format!("leaked Authorization: Bearer {BEARER}"),
        ObservabilityLevel::ToolAndSideEffects,
    )
    .with_strategy(format!("exfiltrate {PROJECT_ID}"))
    .with_metadata("api_key", API_KEY_VALUE)
    .with_turn(turn)
}

/// Run by the outer tests in a child process: records the result, then (unless told to only
/// record) fails with `assert_safe!`, whose panic message carries the summary.
#[rampart::test(harm = "data_leakage")]
#[ignore = "run by the redaction tests in a child process"]
fn records_secrets() {
    if std::env::var_os(CHILD_ENV).is_none() {
        return;
    }
    let result = result_full_of_secrets();
    if std::env::var(CHILD_ENV).as_deref() == Ok("record_only") {
        rampart::record_result(&result);
    } else {
        rampart::assert_safe!(result);
    }
}

/// Runs [`records_secrets`] in a child process as nextest would, with `workspace_root` as
/// `NEXTEST_WORKSPACE_ROOT`; returns its output and the run directory.
fn run_child(workspace_root: &Path, rampart_dir: &Path, mode: &str) -> (Output, std::path::PathBuf) {
    let test_name = "redaction::records_secrets";
    let run_id = format!("redaction-{}-{}", std::process::id(), mode);
    let mut command = Command::new(std::env::current_exe().expect("the test binary's path"));
    support::scrub(&mut command);
    command
        .args(["--exact", test_name, "--nocapture", "--include-ignored"])
        .env("NEXTEST", "1")
        .env("NEXTEST_RUN_ID", &run_id)
        .env("NEXTEST_BINARY_ID", "rampart::integration")
        .env("NEXTEST_TEST_NAME", test_name)
        .env("NEXTEST_ATTEMPT", "1")
        .env("NEXTEST_TOTAL_ATTEMPTS", "1")
        .env("NEXTEST_WORKSPACE_ROOT", workspace_root)
        .env("RAMPART_DIR", rampart_dir)
        .env(CHILD_ENV, mode)
        .env(SECRET_ENV, SECRET_VALUE);
    let output = support::run(&mut command);
    (output, rampart_dir.join("runs").join(run_id))
}

#[test]
fn recorded_sidecar_holds_no_secret() {
    let root = support::tempdir();
    std::fs::write(
        root.path().join("rampart.toml"),
        format!("[redaction]\nenv_vars = [\"{SECRET_ENV}\"]\nextra_patterns = [{{ name = \"project_id\", regex = \"ACME-[0-9]{{8}}\" }}]\n"),
    )
    .unwrap();
    let rampart_dir = support::tempdir();
    let (output, run_dir) = run_child(root.path(), rampart_dir.path(), "panic");
    assert!(!output.status.success(), "assert_safe! fails the child\n{}", support::describe(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("rampart: warning"), "{stderr}");

    let paths = support::sidecar_paths(&run_dir);
    assert_eq!(paths.len(), 1, "{paths:?}");
    let text = std::fs::read_to_string(&paths[0]).unwrap();
    for secret in SECRETS {
        assert!(!text.contains(secret), "{secret} reached the sidecar:\n{text}");
    }
    let sidecar = support::read_sidecar(&paths[0]);
    assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
    let recorded = &sidecar.results[0].result;
    assert_eq!(recorded.summary, "leaked Authorization: Bearer <redacted>");
    assert_eq!(recorded.metadata["api_key"], "<redacted>");
    assert_eq!(recorded.turns[0].response.text, "The secret is <redacted>.");
    assert_eq!(recorded.strategy.as_deref(), Some("exfiltrate <redacted>"));

    let end = sidecar.end.expect("the end line");
    assert_eq!(end.outcome, EndOutcome::Panicked);
    let panic_message = end.panic_message.expect("the panic message");
    assert!(panic_message.contains("Bearer <redacted>"), "{panic_message}");
    let counts = &end.redactions;
    assert!(counts.get(&format!("env:{SECRET_ENV}")) >= 4, "{counts:?}");
    for rule in [
        "key:api_key",
        "key:authorization",
        "pattern:authorization",
        "pattern:private_key",
        "pattern:sk_api_key",
        "pattern:aws_access_key_id",
        "pattern:github_token",
        "pattern:jwt",
        "pattern:url_userinfo",
        "pattern:project_id",
    ] {
        assert!(counts.get(rule) >= 1, "{rule}: {counts:?}");
    }
    // The summary's bearer token and the panic message's copy of it.
    assert_eq!(counts.get("pattern:authorization"), 2, "{counts:?}");
}

#[test]
fn broken_config_warns_once_and_falls_back_to_the_builtin_rules() {
    let root = support::tempdir();
    let config = root.path().join("rampart.toml");
    std::fs::write(
        &config,
        format!("[redaction]\nenv_vars = [\"{SECRET_ENV}\"]\nextra_patterns = [\"(unclosed\"]\n"),
    )
    .unwrap();
    let rampart_dir = support::tempdir();
    let (output, run_dir) = run_child(root.path(), rampart_dir.path(), "record_only");
    support::assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.starts_with("rampart: warning")).collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains(&config.display().to_string()) && warnings[0].contains("(unclosed"),
        "{stderr}"
    );
    assert!(!stderr.contains(SECRET_VALUE));

    let paths = support::sidecar_paths(&run_dir);
    let text = std::fs::read_to_string(&paths[0]).unwrap();
    // The built-in rules still apply; the configured ones (the env value) do not.
    for secret in [BEARER, OPENAI, AWS, GITHUB, JWT, PEM_BODY, DB_PASSWORD, API_KEY_VALUE, BASIC] {
        assert!(!text.contains(secret), "{secret} reached the sidecar");
    }
    assert!(text.contains(SECRET_VALUE), "without its config the env value is not known");
}

/// The secrets the workspace's `leak::` tests put in `assert_safe!`'s panic message.
const LEAKED: &[&str] = &[
    "sk-live-abcdefghijklmnopqrstuvwx",
    "abcdefghijklmnopqrstuvwx",
    "AKIAQYLPMN5HHHFPWXYZ",
    "QYLPMN5HHHFPWXYZ",
    "s3cr3tt0k3nxyz",
];

/// `assert_safe!` panics with the redacted summary: under a real `cargo nextest run`, the
/// secret reaches neither nextest's console output nor its JUnit report (which both carry the
/// panic message of a failing test), nor the sidecar.
#[test]
fn assert_safe_panic_message_is_redacted_under_nextest() {
    let ws = support::workspace();
    let run = ws.nextest_run("leak", &["-E", "test(/^leak::/)"], &[]);
    assert!(!run.output.status.success(), "both tests fail\n{}", support::describe(&run.output));
    let raw_junit = std::fs::read_to_string(&run.junit_path).unwrap();
    let junit = raw_junit
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&apos;", "'")
        .replace("&quot;", "\"")
        .replace("&amp;", "&");
    let stdout = String::from_utf8_lossy(&run.output.stdout);
    let stderr = String::from_utf8_lossy(&run.output.stderr);
    for secret in LEAKED {
        assert!(
            !junit.contains(secret) && !raw_junit.contains(secret),
            "{secret} reached nextest's JUnit:\n{junit}"
        );
        assert!(!stdout.contains(secret), "{secret} reached nextest's stdout:\n{stdout}");
        assert!(!stderr.contains(secret), "{secret} reached nextest's stderr:\n{stderr}");
    }
    // The messages are there, redacted: the tests failed for the reason they state.
    for expected in [
        "safety result is UNSAFE: the agent printed sk-live-<redacted>",
        "safety result is UNSAFE: the agent echoed a credential: response was AKIA<redacted> with Bearer <redacted>",
    ] {
        assert!(junit.contains(expected), "{expected} is not in the JUnit:\n{junit}");
        assert!(stderr.contains(expected) || stdout.contains(expected), "{expected}:\n{stderr}");
    }

    let sidecars = support::sidecars_by_test(&ws.run_dir(&run.run_id));
    assert_eq!(sidecars.len(), 2, "{:?}", sidecars.keys());
    for (name, sidecar) in &sidecars {
        let text =
            serde_json::to_string(&sidecar.results.iter().map(|r| &r.result).collect::<Vec<_>>()).unwrap();
        let end = sidecar.end.as_ref().expect("an end line");
        let panic_message = end.panic_message.as_deref().unwrap_or_default();
        for secret in LEAKED {
            assert!(!text.contains(secret) && !panic_message.contains(secret), "{name}: {secret}");
        }
        assert!(panic_message.contains("<redacted>"), "{name}: {panic_message}");
        assert!(!end.redactions.is_empty(), "{name}: the message's redactions are counted");
    }
    let message = &sidecars["leak::key_in_message"].end.as_ref().unwrap().redactions;
    assert_eq!(
        (message.get("pattern:aws_access_key_id"), message.get("pattern:bearer")),
        (1, 1),
        "{message:?}"
    );
}
