//! The identity in sidecar headers, captured from real `cargo nextest run`s (and `cargo test`)
//! on the temporary workspace: retries, stress runs, trial clones, unit vs integration
//! binaries, `CARGO_TARGET_DIR`, `RAMPART_DIR`, archives with `--workspace-remap`.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use rampart::SafetyStatus;
use rampart::sidecar::{EndOutcome, Harness, Sidecar};

use crate::support::{self, AGENT_BINARY_ID, NextestRun, PACKAGE};

/// Checks what every sidecar of a finished nextest run must hold.
#[track_caller]
fn assert_nextest_identity(run: &NextestRun, profile: &str, sidecar: &Sidecar) {
    let identity = &sidecar.header.identity;
    assert_eq!(identity.harness, Harness::Nextest);
    assert_eq!(identity.run_id, run.run_id, "the run id is the JUnit uuid");
    assert_eq!(identity.profile.as_deref(), Some(profile));
    assert_eq!(identity.nextest_version.as_deref(), Some("0.9.143"), "installed nextest's version");
    assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
    let attempt_id = identity.attempt_id.as_deref().expect("NEXTEST_ATTEMPT_ID is recorded");
    assert!(attempt_id.starts_with(&format!("{}:", run.run_id)), "{attempt_id}");
    assert!(attempt_id.contains(&format!("${}", identity.test_name)), "{attempt_id}");
}

#[test]
fn retries_record_one_sidecar_per_attempt() {
    let ws = support::workspace();
    let run = ws.nextest_run("retries", &["-E", "test(=identity::flaky_until_third)"], &[]);
    support::assert_success(&run.output);
    let sidecars = support::sidecars(&ws.run_dir(&run.run_id));
    assert_eq!(sidecars.len(), 3, "three attempts: {sidecars:#?}");
    let mut attempts = Vec::new();
    for (path, sidecar) in &sidecars {
        assert_nextest_identity(&run, "retries", sidecar);
        let identity = &sidecar.header.identity;
        assert_eq!(identity.binary_id.as_deref(), Some(AGENT_BINARY_ID));
        assert_eq!(identity.test_name, "identity::flaky_until_third");
        assert_eq!(identity.total_attempts, 3);
        assert_eq!(identity.stress_index, None);
        assert_eq!(
            support::summaries(sidecar),
            [format!("attempt {}", identity.attempt)],
            "{}",
            path.display()
        );
        // Attempt 1's id has no `#1`; later ones do (nextest's own shape).
        let attempt_id = identity.attempt_id.as_deref().unwrap();
        assert_eq!(
            attempt_id.ends_with(&format!("#{}", identity.attempt)),
            identity.attempt > 1,
            "{attempt_id}"
        );
        // A plain `#[test]`: no spec, so no end line is expected.
        assert!(sidecar.header.spec.is_none());
        assert!(!sidecar.is_missing_end());
        attempts.push(identity.attempt);
    }
    attempts.sort_unstable();
    assert_eq!(attempts, [1, 2, 3]);
}

#[test]
fn stress_runs_record_one_sidecar_per_iteration() {
    let ws = support::workspace();
    let run = ws.nextest_run("stress", &["--stress-count", "3", "-E", "test(=identity::stressed)"], &[]);
    support::assert_success(&run.output);
    let sidecars = support::sidecars(&ws.run_dir(&run.run_id));
    let mut indices = Vec::new();
    for (_, sidecar) in &sidecars {
        assert_nextest_identity(&run, "stress", sidecar);
        let identity = &sidecar.header.identity;
        assert_eq!(identity.test_name, "identity::stressed");
        assert_eq!((identity.attempt, identity.total_attempts), (1, 1));
        assert_eq!(identity.stress_total, Some(3));
        let index = identity.stress_index.expect("a stress index");
        assert_eq!(support::summaries(sidecar), [format!("stress {index}")]);
        assert_eq!(sidecar.results[0].result.harm_category.as_ref().map(|h| h.as_str()), Some("jailbreak"));
        assert_eq!(sidecar.end.as_ref().map(|e| (e.outcome, e.n_results)), Some((EndOutcome::Returned, 1)));
        indices.push(index);
    }
    indices.sort_unstable();
    assert_eq!(indices, [0, 1, 2], "one sidecar per stress iteration");
}

#[test]
fn trial_clones_record_their_trial_and_base_name() {
    let ws = support::workspace();
    let run = ws.nextest_run("trials", &["-E", "test(/^trials::jailbreak::/)"], &[]);
    support::assert_success(&run.output);
    let by_test = support::sidecars_by_test(&ws.run_dir(&run.run_id));
    let names: Vec<&str> = by_test.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        ["trials::jailbreak::trial_00", "trials::jailbreak::trial_01", "trials::jailbreak::trial_02"]
    );
    for (index, sidecar) in by_test.values().enumerate() {
        assert_nextest_identity(&run, "trials", sidecar);
        let spec = sidecar.header.spec.as_ref().expect("#[rampart::test] writes a spec");
        assert_eq!(spec.base_name, "trials::jailbreak");
        assert_eq!(spec.threshold, 0.5);
        assert_eq!(spec.harm.as_ref().map(|h| h.as_str()), Some("prompt_injection"));
        let trial = spec.trial.expect("a trial spec");
        assert_eq!((trial.index, trial.count), (index as u32, 3));
        assert_eq!(support::summaries(sidecar), [format!("trial {index} of 3")]);
        assert_eq!(sidecar.end.as_ref().map(|e| e.outcome), Some(EndOutcome::Returned));
    }
}

#[test]
fn unit_and_integration_tests_record_under_the_workspace_whatever_the_target_dir() {
    let ws = support::workspace();
    let filter =
        "test(=unit::unit_records) | test(=unit::plain_unit_records) | test(=identity::integration_records)";
    // `support::cargo` sets CARGO_TARGET_DIR to a directory outside the workspace.
    let run = ws.nextest_run("kinds", &["-E", filter], &[]);
    support::assert_success(&run.output);
    let run_dir = ws.run_dir(&run.run_id);
    let by_test = support::sidecars_by_test(&run_dir);
    let binary_ids: Vec<(&str, Option<&str>)> =
        by_test.iter().map(|(name, s)| (name.as_str(), s.header.identity.binary_id.as_deref())).collect();
    assert_eq!(
        binary_ids,
        [
            ("identity::integration_records", Some(AGENT_BINARY_ID)),
            ("unit::plain_unit_records", Some(PACKAGE)),
            ("unit::unit_records", Some(PACKAGE)),
        ]
    );
    for sidecar in by_test.values() {
        assert_nextest_identity(&run, "kinds", sidecar);
        assert_eq!(sidecar.results.len(), 1);
        assert_eq!(sidecar.results[0].result.status, SafetyStatus::Safe);
    }
    assert_eq!(
        by_test["unit::unit_records"].header.spec.as_ref().map(|s| s.base_name.as_str()),
        Some("unit::unit_records")
    );
    // Next to nextest's own `target/nextest`, not in CARGO_TARGET_DIR.
    assert!(run.junit_path.starts_with(&ws.root));
    assert!(!support::shared_target_dir().join("rampart/runs").join(&run.run_id).exists());
}

#[test]
fn rampart_dir_overrides_the_location() {
    let ws = support::workspace();
    let custom = support::tempdir();
    let filter = ["-E", "test(=identity::integration_records)"];
    let run = ws.nextest_run("rdir-abs", &filter, &[("RAMPART_DIR", custom.path().as_os_str())]);
    support::assert_success(&run.output);
    let by_test = support::sidecars_by_test(&custom.path().join("runs").join(&run.run_id));
    assert_eq!(by_test.keys().collect::<Vec<_>>(), ["identity::integration_records"]);
    assert!(!ws.run_dir(&run.run_id).exists(), "nothing in the default location");

    // A relative RAMPART_DIR is taken from the workspace root.
    let relative = "custom-rampart-dir";
    let run = ws.nextest_run("rdir-rel", &filter, &[("RAMPART_DIR", OsStr::new(relative))]);
    support::assert_success(&run.output);
    let by_test = support::sidecars_by_test(&ws.root.join(relative).join("runs").join(&run.run_id));
    assert_eq!(by_test.keys().collect::<Vec<_>>(), ["identity::integration_records"]);
    assert!(!ws.run_dir(&run.run_id).exists());
}

/// Copies the workspace's sources (not its `target`), as a checkout on another machine.
fn copy_checkout(from: &Path, to: &Path) {
    support::write_workspace_files(to);
    std::fs::copy(from.join("Cargo.lock"), to.join("Cargo.lock")).unwrap();
}

#[test]
fn archive_run_elsewhere_records_under_the_remapped_workspace() {
    let ws = support::workspace();
    let scratch = support::tempdir();
    let archive = scratch.path().join("tests.tar.zst");
    let mut command = ws.cargo();
    command.args(["nextest", "archive", "--archive-file"]).arg(&archive);
    support::assert_success(&support::run(&mut command));

    let checkout = scratch.path().join("checkout");
    copy_checkout(&ws.root, &checkout);
    let mut command = support::cargo(scratch.path());
    command
        .args(["nextest", "run", "--profile", "archive", "--archive-file"])
        .arg(&archive)
        .arg("--workspace-remap")
        .arg(&checkout)
        .args(["-E", "test(=unit::unit_records) | test(=identity::integration_records)"]);
    let output = support::run(&mut command);
    support::assert_success(&output);

    let junit_path = checkout.join("target/nextest/archive/junit.xml");
    let junit = std::fs::read_to_string(&junit_path).unwrap_or_else(|e| {
        panic!("no JUnit at {}: {e}\n{}", junit_path.display(), support::describe(&output))
    });
    let run_id = support::junit_uuid(&junit);
    let run_dir = checkout.join("target/rampart/runs").join(&run_id);
    let by_test = support::sidecars_by_test(&run_dir);
    let binary_ids: Vec<(&str, Option<&str>)> =
        by_test.iter().map(|(name, s)| (name.as_str(), s.header.identity.binary_id.as_deref())).collect();
    assert_eq!(
        binary_ids,
        [("identity::integration_records", Some(AGENT_BINARY_ID)), ("unit::unit_records", Some(PACKAGE))]
    );
    for sidecar in by_test.values() {
        assert_eq!(sidecar.header.identity.run_id, run_id);
        assert_eq!(sidecar.header.identity.profile.as_deref(), Some("archive"));
        assert_eq!(sidecar.results.len(), 1);
        assert!(sidecar.end.is_some());
    }
    assert!(!ws.run_dir(&run_id).exists(), "nothing under the build machine's workspace");
}

/// Run directories under `runs` that hold a sidecar of one of `names`.
fn run_dirs_with(runs: &Path, names: &BTreeSet<&str>) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(runs) else { return Vec::new() };
    let mut dirs: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|dir| {
            support::sidecar_paths(dir).iter().any(|p| {
                rampart::sidecar::read(p).is_ok_and(|s| names.contains(s.header.identity.test_name.as_str()))
            })
        })
        .collect();
    dirs.sort();
    dirs
}

#[test]
fn cargo_test_records_one_run_dir_per_process() {
    let ws = support::workspace();
    let runs = support::shared_target_dir().join("rampart/runs");
    let lib_names = BTreeSet::from(["unit::unit_records", "unit::plain_unit_records"]);
    let agent_names = BTreeSet::from([
        "identity::integration_records",
        "identity::plain_records",
        "trials::jailbreak::trial_00",
        "trials::jailbreak::trial_01",
        "trials::jailbreak::trial_02",
    ]);
    let all: BTreeSet<&str> = lib_names.union(&agent_names).copied().collect();
    let before = run_dirs_with(&runs, &all);

    let mut command = ws.cargo();
    // One test thread: libtest still names the thread after the test (the parallel case is
    // in `durability`).
    command
        .args(["test", "--lib", "--test", "agent", "--", "--test-threads", "1", "unit::"])
        .args(&agent_names);
    support::assert_success(&support::run(&mut command));

    // Plain `cargo test` records under the cargo target dir (the test binary's), one
    // directory per test process.
    let new: Vec<PathBuf> = run_dirs_with(&runs, &all).into_iter().filter(|d| !before.contains(d)).collect();
    assert_eq!(new.len(), 2, "one run dir per test binary: {new:#?}");
    let mut seen = BTreeSet::new();
    let mut pids = BTreeSet::new();
    for dir in &new {
        let dir_name = dir.file_name().unwrap().to_str().unwrap();
        assert!(dir_name.starts_with("cargo-test-"), "{dir_name}");
        let by_test = support::sidecars_by_test(dir);
        let names: BTreeSet<&str> = by_test.keys().map(String::as_str).collect();
        assert!(names == lib_names || names == agent_names, "{names:?}");
        let dir_pids: BTreeSet<u32> = by_test.values().map(|s| s.header.writer.pid).collect();
        assert_eq!(dir_pids.len(), 1, "one process per run dir");
        pids.extend(dir_pids);
        for (name, sidecar) in &by_test {
            let identity = &sidecar.header.identity;
            assert_eq!(identity.harness, Harness::CargoTest);
            assert_eq!(identity.run_id, dir_name);
            assert_eq!(
                (identity.binary_id.as_deref(), identity.attempt, identity.total_attempts),
                (None, 1, 1)
            );
            assert_eq!(identity.profile, None);
            assert_eq!(sidecar.results.len(), 1, "{name}");
            assert!(sidecar.problems.is_empty(), "{name}: {:?}", sidecar.problems);
            if let Some(index) = name.strip_prefix("trials::jailbreak::trial_0") {
                let trial = sidecar.header.spec.as_ref().and_then(|s| s.trial).expect("a trial spec");
                assert_eq!(trial.index.to_string(), index);
                assert_eq!(support::summaries(sidecar), [format!("trial {index} of 3")]);
            }
            seen.insert(name.clone());
        }
    }
    assert_eq!(pids.len(), 2);
    assert_eq!(seen.iter().map(String::as_str).collect::<BTreeSet<_>>(), all);
}

#[test]
fn outside_a_test_recording_is_a_no_op() {
    let ws = support::workspace();
    let rampart_dir = support::tempdir();
    let mut command = ws.cargo();
    command.args(["run", "--example", "outside"]).env("RAMPART_DIR", rampart_dir.path());
    let output = support::run(&mut command);
    support::assert_success(&output);
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("outside: done"),
        "{}",
        support::describe(&output)
    );
    assert!(!String::from_utf8_lossy(&output.stderr).contains("rampart:"), "{}", support::describe(&output));
    let written: Vec<_> = std::fs::read_dir(rampart_dir.path()).unwrap().collect();
    assert!(written.is_empty(), "recorded outside a test: {written:?}");
}
