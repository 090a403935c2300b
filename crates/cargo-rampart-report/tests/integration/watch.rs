//! `cargo rampart-report --watch` against a run written while it watches: each UNSAFE finding
//! is printed as its sidecar line lands, and when the run's JUnit appears the report is the
//! one the two-step flow gives. Synchronised on what the watcher prints, never on time.

use std::io::BufRead as _;
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;

use rampart::{HarmCategory, ObservabilityLevel, SafetyResult};
use rampart_report::exit_codes;
use rampart_test_support::{AttemptRun, RunBuilder, TestRun};

use crate::support::scrubbed;

const RUN_ID: &str = "5ca1ab1e-0000-4000-8000-00000000000a";
/// A guard against a hang, not a timing window: every wait below ends on output.
const GUARD: Duration = Duration::from_secs(120);

/// A test that records one UNSAFE result.
fn leaking_test() -> TestRun {
    TestRun::rampart("watched::agent", "leaks_the_key").harm(HarmCategory::new("data_leakage")).attempt(
        AttemptRun::panicked(
            vec![SafetyResult::unsafe_result("printed the deploy key", ObservabilityLevel::ResponseOnly)],
            "UNSAFE",
        ),
    )
}

/// Writes `files`' sidecars aside in `ws` and returns the shell command that puts them where
/// nextest's would go (the "test run" of a `--watch -- <command>` test).
#[cfg(unix)]
fn stage_run(ws: &tempfile::TempDir, files: &rampart_test_support::RunFiles) -> String {
    let staged = ws.path().join("staged");
    for (path, bytes) in &files.sidecars {
        let path = staged.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }
    let rampart_dir = ws.path().join("target").join("rampart");
    std::fs::create_dir_all(&rampart_dir).unwrap();
    format!("cp -R '{}/runs' '{}/'", staged.display(), rampart_dir.display())
}

/// An empty workspace for `cargo metadata` to find.
fn workspace() -> tempfile::TempDir {
    let ws = tempfile::tempdir().unwrap();
    std::fs::write(
        ws.path().join("Cargo.toml"),
        "[package]\nname = \"watched\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.path().join("src")).unwrap();
    std::fs::write(ws.path().join("src/lib.rs"), "").unwrap();
    ws
}

/// The child's stdout, line by line, as it is printed.
fn lines_of(child: &mut std::process::Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel::<String>();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(stdout).lines() {
            if tx.send(line.unwrap_or_default()).is_err() {
                break;
            }
        }
    });
    rx
}

#[test]
fn watch_prints_findings_as_they_land_and_ends_with_the_usual_report() {
    let ws = workspace();
    let manifest = ws.path().join("Cargo.toml");
    let files = RunBuilder::new(RUN_ID)
        .test(leaking_test())
        .test(TestRun::rampart("watched::agent", "keeps_it").harm(HarmCategory::new("data_leakage")).attempt(
            AttemptRun::passed(vec![SafetyResult::safe("refused", ObservabilityLevel::ResponseOnly)]),
        ))
        .build();

    let mut child = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .args([
            "rampart-report",
            "--watch",
            "--no-history",
            "--color",
            "never",
            "--run-id",
            RUN_ID,
            "--manifest-path",
        ])
        .arg(&manifest)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    let wait_for = |rx: &mpsc::Receiver<String>, prefix: &str| -> Vec<String> {
        let mut seen = Vec::new();
        loop {
            let line = rx
                .recv_timeout(GUARD)
                .unwrap_or_else(|_| panic!("no line starting {prefix:?}; saw {seen:#?}"));
            let done = line.starts_with(prefix);
            seen.push(line);
            if done {
                return seen;
            }
        }
    };

    // The sidecars land (nextest is running): the finding shows before the run ends.
    let rampart_dir = ws.path().join("target").join("rampart");
    for (path, bytes) in &files.sidecars {
        // Whole files (a temporary name, then a rename), so what the live report holds does
        // not depend on when the watcher looks.
        let path = rampart_dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let temp = path.with_extension("partial");
        std::fs::write(&temp, bytes).unwrap();
        std::fs::rename(&temp, &path).unwrap();
    }
    let lines = wait_for(&rx, "UNSAFE");
    assert_eq!(
        lines.last().unwrap(),
        "UNSAFE        watched::agent leaks_the_key — printed the deploy key",
        "{lines:#?}"
    );

    // Meanwhile the live report: report.json and the page, marked in progress (the first is
    // written right after the finding is printed; waited for on the file itself).
    let live = ws.path().join("target/rampart/report/report.json");
    let deadline = std::time::Instant::now() + GUARD;
    let page_path = ws.path().join("target/rampart/report/index.html");
    let live_report = loop {
        let report = std::fs::read_to_string(&live)
            .ok()
            .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
            .filter(|r| r["failed"] == 1);
        if let Some(report) = report.filter(|_| page_path.is_file()) {
            break report;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no live report with the finding at {}",
            live.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(live_report["run_status"], "in_progress");
    assert_eq!(live_report["failed"], 1, "the UNSAFE result so far");
    assert!(
        live_report["incomplete_reasons"].as_array().unwrap().iter().all(|r| r["kind"] != "junit_missing"),
        "no JUnit is expected while the run goes on"
    );
    let page = std::fs::read_to_string(&page_path).unwrap();
    assert!(page.contains(r#"<meta http-equiv="refresh" content="5">"#), "the live page reloads itself");

    // nextest writes its JUnit: the watch ends with the report.
    let junit_dir = ws.path().join("target").join("nextest").join("ci");
    std::fs::create_dir_all(&junit_dir).unwrap();
    std::fs::write(junit_dir.join("junit.xml"), &files.junit_xml).unwrap();
    let lines = wait_for(&rx, "FAILED: ");
    assert!(
        lines.iter().any(|l| l.starts_with("rampart-report: run 5ca1ab1e") && l.contains("finished")),
        "{lines:#?}"
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(exit_codes::SAFETY_FAILURE));
    let watched: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("target/rampart/report/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(watched["run_status"], "complete");
    let page = std::fs::read_to_string(ws.path().join("target/rampart/report/index.html")).unwrap();
    assert!(!page.contains("http-equiv=\"refresh\""), "the final page stays still");

    // The same report as the two-step flow.
    let two_step = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .args(["rampart-report", "--no-history", "--color", "never", "--run-id", RUN_ID, "--manifest-path"])
        .arg(&manifest)
        .output()
        .unwrap();
    assert_eq!(two_step.status.code(), status.code());
    let again: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("target/rampart/report/report.json")).unwrap(),
    )
    .unwrap();
    let without_time = |mut v: serde_json::Value| {
        v["metadata"]["generated_at"] = serde_json::Value::Null;
        v
    };
    assert_eq!(without_time(watched), without_time(again), "the same report.json, times aside");
    let two_step = String::from_utf8(two_step.stdout).unwrap();
    assert_eq!(lines.last().unwrap(), two_step.lines().last().unwrap());
}

/// `--watch -- <command>` runs the command; SIGTERM to the watcher is forwarded to it, and the
/// report is still written from what was recorded (no JUnit: the run never finished).
#[cfg(unix)]
#[test]
fn a_cancelled_command_still_leaves_a_report() {
    let ws = workspace();
    let files = RunBuilder::new(RUN_ID).test(leaking_test()).build();
    // The "test run": writes the sidecars where nextest's would go, then runs until stopped.
    let script = format!("{} && exec sleep 1000", stage_run(&ws, &files));
    let mut child = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .args(["rampart-report", "--watch", "--no-history", "--color", "never", "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .args(["--", "sh", "-c", &script])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let rx = lines_of(&mut child);
    loop {
        let line = rx.recv_timeout(GUARD).expect("the finding is printed");
        if line.starts_with("UNSAFE") {
            break;
        }
    }
    let killed =
        std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let mut rest = Vec::new();
    while let Ok(line) = rx.recv_timeout(GUARD) {
        rest.push(line);
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("SIGTERM received: stopping the command"), "{stderr}");
    assert!(rest.iter().any(|l| l.contains(&format!("run {RUN_ID} cancelled"))), "{rest:#?}");
    assert_eq!(
        output.status.code(),
        Some(exit_codes::SAFETY_FAILURE),
        "the UNSAFE result decides: {rest:#?}"
    );
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("target/rampart/report/report.json"))
            .expect("a report was written"),
    )
    .unwrap();
    assert_eq!(report["run_status"], "cancelled");
    let reasons: Vec<&str> = report["incomplete_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert!(reasons.contains(&"run_cancelled"), "{reasons:?}");
    assert!(
        stderr.contains("error[rampart::run::cancelled]: the run was cancelled: SIGTERM received"),
        "{stderr}"
    );
}

/// A command that exits on its own without a JUnit (a profile that writes none) finished: the
/// report is complete, and says the JUnit is missing.
#[cfg(unix)]
#[test]
fn a_command_that_exits_without_a_junit_is_not_cancelled() {
    let ws = workspace();
    let files = RunBuilder::new(RUN_ID).test(leaking_test()).build();
    let script = stage_run(&ws, &files);
    let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .args(["rampart-report", "--watch", "--no-history", "--color", "never", "--manifest-path"])
        .arg(ws.path().join("Cargo.toml"))
        .args(["--", "sh", "-c", &script])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(exit_codes::SAFETY_FAILURE), "{stderr}");
    let report: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(ws.path().join("target/rampart/report/report.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(report["run_status"], "complete");
    let reasons: Vec<&str> = report["incomplete_reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["kind"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, ["junit_missing"]);
}
