//! Durability of recording: SIGKILL mid-recording, many tests recording at once, hostile
//! test names, exclusive creation, and I/O failures.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rampart::sidecar::{EndOutcome, Harness, LineProblemKind};

use crate::support::{self, AGENT_BINARY_ID};

/// A small xorshift generator: the delays only need to vary, not to be good random numbers.
struct Xorshift(u64);

impl Xorshift {
    fn seeded() -> Xorshift {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64;
        Xorshift(nanos | 1)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

fn unique_run_id(label: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

/// Waits until `dir` holds a file with at least `lines` newline-terminated lines and returns
/// its path. The deadline only guards against a hang; no assertion depends on timing.
fn wait_for_lines(dir: &Path, lines: usize, child: &mut std::process::Child) -> PathBuf {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(entries) = std::fs::read_dir(dir) {
            let found = entries
                .map(|e| e.unwrap().path())
                .find(|p| std::fs::read(p).is_ok_and(|b| b.iter().filter(|&&c| c == b'\n').count() >= lines));
            if let Some(path) = found {
                return path;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("the recording test exited ({status}) before writing {lines} lines in {}", dir.display());
        }
        assert!(Instant::now() < deadline, "no sidecar with {lines} lines appeared in {}", dir.display());
        std::thread::sleep(Duration::from_millis(1));
    }
}

#[test]
fn sigkill_mid_recording_leaves_a_readable_prefix() {
    let mut rng = Xorshift::seeded();
    let mut n_torn = 0;
    for round in 0..20 {
        let rampart_dir = support::tempdir();
        let run_id = unique_run_id("sigkill");
        let test_name = "durability::record_forever";
        let mut child = support::agent_test_as_nextest(test_name, &run_id, rampart_dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Kill once the header and k whole results are on disk (k >= 1 every fifth round), after
        // a random sub-millisecond delay: between lines or mid-way through the next 24 KiB one.
        let k = if round % 5 == 0 { 1 + rng.below(4) } else { rng.below(5) } as usize;
        let path = wait_for_lines(&rampart_dir.path().join("runs").join(&run_id), 1 + k, &mut child);
        std::thread::sleep(Duration::from_micros(rng.below(1000)));
        child.kill().unwrap(); // SIGKILL on Unix
        let status = child.wait().unwrap();
        assert!(!status.success(), "round {round}: the test cannot finish on its own");

        let bytes = std::fs::read(&path).unwrap();
        let sidecar = rampart::sidecar::parse(&bytes)
            .unwrap_or_else(|e| panic!("round {round}: {}: header lost: {e}", path.display()));
        // The header is intact.
        assert_eq!(sidecar.header.identity.run_id, run_id);
        assert_eq!(sidecar.header.identity.test_name, test_name);
        assert_eq!(
            sidecar.header.spec.as_ref().and_then(|s| s.harm.as_ref()).unwrap().as_str(),
            "data_exfiltration"
        );
        assert!(sidecar.is_missing_end(), "round {round}: a killed test has no end line");
        assert!(sidecar.results.len() >= k, "round {round}: killed after {k} whole results");
        // Every complete line parsed, in order.
        for (index, recorded) in sidecar.results.iter().enumerate() {
            assert_eq!(recorded.index as usize, index);
            assert_eq!(recorded.result.summary, format!("result {index}"));
        }
        let n_complete_lines = bytes.iter().filter(|&&b| b == b'\n').count();
        let torn = !bytes.ends_with(b"\n");
        match sidecar.problems.as_slice() {
            [] => {
                // Killed between lines, or after the last byte of a line but before its
                // newline: then the unterminated line is complete JSON and counts.
                assert_eq!(1 + sidecar.results.len(), n_complete_lines + usize::from(torn), "round {round}");
            }
            [problem] => {
                n_torn += 1;
                assert_eq!(problem.kind, LineProblemKind::TornTail, "round {round}");
                assert!(torn, "round {round}: only an unterminated last line is torn");
                assert_eq!(problem.line, n_complete_lines + 1, "round {round}: only the last line");
                assert_eq!(1 + sidecar.results.len(), n_complete_lines, "round {round}");
            }
            problems => panic!("round {round}: more than one problem: {problems:?}"),
        }
    }
    eprintln!("{n_torn} of 20 kills tore the last line");
}

/// Checks the 16 `parallel::*` sidecars: 40 results each, in order, attributed to their test.
fn assert_parallel_sidecars(dir: &Path, harness: Harness) {
    let by_test = support::sidecars_by_test(dir);
    let expected: BTreeSet<String> =
        (0..8).flat_map(|i| [format!("parallel::r{i:02}"), format!("parallel::p{i:02}")]).collect();
    assert_eq!(by_test.keys().cloned().collect::<BTreeSet<_>>(), expected, "in {}", dir.display());
    for (name, sidecar) in &by_test {
        assert_eq!(sidecar.header.identity.harness, harness);
        assert!(sidecar.problems.is_empty(), "{name}: {:?}", sidecar.problems);
        let want: Vec<String> = (0..40).map(|i| format!("{name} {i}")).collect();
        assert_eq!(support::summaries(sidecar), want, "{name}");
        if name.starts_with("parallel::r") {
            assert_eq!(
                sidecar.end.as_ref().map(|e| (e.outcome, e.n_results)),
                Some((EndOutcome::Returned, 40))
            );
        } else {
            assert!(sidecar.header.spec.is_none() && sidecar.end.is_none(), "{name}");
        }
    }
}

#[test]
fn parallel_nextest_processes_record_without_interleaving() {
    let ws = support::workspace();
    let run = ws.nextest_run("parallel", &["-E", "test(/^parallel::/)", "--test-threads", "16"], &[]);
    support::assert_success(&run.output);
    assert_parallel_sidecars(&ws.run_dir(&run.run_id), Harness::Nextest);
}

#[test]
fn parallel_cargo_test_threads_record_without_interleaving() {
    let (run_dir, _rampart_dir) = cargo_test_without_warnings("parallel::", "16");
    assert_parallel_sidecars(&run_dir, Harness::CargoTest);
}

/// Runs the agent binary's tests matching `filter` under plain `cargo test` with `threads`
/// test threads, asserts it passed without a rampart warning, and returns its one run
/// directory (and the rampart dir that holds it, deleted on drop).
fn cargo_test_without_warnings(filter: &str, threads: &str) -> (PathBuf, tempfile::TempDir) {
    let ws = support::workspace();
    let rampart_dir = support::tempdir();
    let mut command = ws.cargo();
    command.args(["test", "--test", "agent", "--", filter, "--test-threads", threads]);
    command.env("RAMPART_DIR", rampart_dir.path());
    let output = support::run(&mut command);
    support::assert_success(&output);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("rampart: warning"),
        "{}",
        support::describe(&output)
    );
    let runs: Vec<PathBuf> =
        std::fs::read_dir(rampart_dir.path().join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 1, "one process, one run dir: {runs:?}");
    (runs.into_iter().next().unwrap(), rampart_dir)
}

#[test]
fn plain_test_beside_a_rampart_test_keeps_its_results_under_cargo_test() {
    // Regression: under `cargo test` the recorder used to give a plain `#[test]`'s results to
    // the only `#[rampart::test]` running at the time.
    let (run_dir, _rampart_dir) = cargo_test_without_warnings("beside::", "2");
    let by_test = support::sidecars_by_test(&run_dir);
    assert_eq!(
        support::summaries(&by_test["beside::plain_records_meanwhile"]),
        ["beside::plain_records_meanwhile"]
    );
    let holder = &by_test["beside::holds_a_scope"];
    assert!(holder.results.is_empty(), "{:?}", support::summaries(holder));
    assert_eq!(holder.end.as_ref().map(|e| e.n_results), Some(0));
}

#[test]
fn hostile_test_names_get_distinct_safe_files() {
    // Real tests whose names sanitize alike or are cut alike.
    let ws = support::workspace();
    let run = ws.nextest_run("hostile", &["-E", "test(/^hostile::/)"], &[]);
    support::assert_success(&run.output);
    let run_dir = ws.run_dir(&run.run_id);
    let sidecars = support::sidecars(&run_dir);
    assert_eq!(sidecars.len(), 6, "{sidecars:#?}");
    let mut names = BTreeSet::new();
    for (path, sidecar) in &sidecars {
        let file_name = path.file_name().unwrap().to_str().unwrap();
        assert!(support::is_portable_file_name(file_name), "{file_name}");
        let test_name = &sidecar.header.identity.test_name;
        assert_eq!(
            support::summaries(sidecar),
            std::slice::from_ref(test_name),
            "attributed to its own test"
        );
        assert!(names.insert(test_name.clone()));
    }
    assert!(
        names.contains("hostile::tést") && names.contains("hostile::tëst") && names.contains("hostile::名前")
    );

    // Names no Rust test can have, as another harness (or a future nextest) might report them.
    let rampart_dir = support::tempdir();
    let run_id = unique_run_id("hostile");
    let long = "x".repeat(5000);
    let hostile_names = [
        "../../escape",
        "a/b",
        "a\\b",
        "a:b",
        "a*b?c\"d<e>f|g",
        ".hidden",
        "CON",
        "nul.txt",
        "名前::テスト",
        "line\nbreak\0nul",
        "",
        long.as_str(),
    ];
    for name in hostile_names {
        let mut command =
            support::agent_test_as_nextest("durability::records_three", &run_id, rampart_dir.path());
        command.env("NEXTEST_TEST_NAME", name.replace('\0', "␀"));
        command.env("NEXTEST_BINARY_ID", format!("../{AGENT_BINARY_ID}/.."));
        let output = support::run(&mut command);
        support::assert_success(&output);
    }
    // Everything is a direct child of the run dir: nothing escaped, no subdirectory.
    let run_dir = rampart_dir.path().join("runs").join(&run_id);
    let mut all_files = Vec::new();
    let mut pending = vec![rampart_dir.path().to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() { pending.push(path) } else { all_files.push(path) }
        }
    }
    assert_eq!(all_files.len(), hostile_names.len(), "{all_files:#?}");
    let mut recorded_names = BTreeSet::new();
    for path in &all_files {
        assert_eq!(path.parent(), Some(run_dir.as_path()), "{}", path.display());
        assert!(
            support::is_portable_file_name(path.file_name().unwrap().to_str().unwrap()),
            "{}",
            path.display()
        );
        let sidecar = support::read_sidecar(path);
        assert_eq!(sidecar.results.len(), 3);
        recorded_names.insert(sidecar.header.identity.test_name);
    }
    let expected: BTreeSet<String> = hostile_names.iter().map(|n| n.replace('\0', "␀")).collect();
    // An empty NEXTEST_TEST_NAME counts as unset: the recorder falls back to libtest's name.
    let expected: BTreeSet<String> = expected
        .into_iter()
        .map(|n| if n.is_empty() { "durability::records_three".to_owned() } else { n })
        .collect();
    assert_eq!(recorded_names, expected);
}

#[test]
fn an_attempt_never_overwrites_another_attempts_file() {
    let rampart_dir = support::tempdir();
    let run_id = unique_run_id("exclusive");
    let run_dir = rampart_dir.path().join("runs").join(&run_id);
    let run_once = || {
        let output = support::run(&mut support::agent_test_as_nextest(
            "durability::records_three",
            &run_id,
            rampart_dir.path(),
        ));
        support::assert_success(&output);
    };
    run_once();
    let first = support::sidecar_paths(&run_dir);
    assert_eq!(first.len(), 1);
    let first_bytes = std::fs::read(&first[0]).unwrap();

    // The same identity again (a misconfigured CI re-running with the same run id).
    run_once();
    let both = support::sidecar_paths(&run_dir);
    assert_eq!(both.len(), 2, "{both:#?}");
    assert_eq!(std::fs::read(&first[0]).unwrap(), first_bytes, "the first file is untouched");
    for path in &both {
        let sidecar = support::read_sidecar(path);
        assert_eq!(support::summaries(&sidecar), ["result 0", "result 1", "result 2"], "{}", path.display());
        assert!(sidecar.problems.is_empty());
    }
    let pids: BTreeSet<u32> = both.iter().map(|p| support::read_sidecar(p).header.writer.pid).collect();
    assert_eq!(pids.len(), 2, "written by two processes");
}

/// Runs `durability::records_three` with `RAMPART_DIR` = `rampart_dir`; asserts it passes and
/// warned exactly once, naming a path under `rampart_dir`.
fn assert_warns_once_and_passes(rampart_dir: &Path) {
    let output = support::run(&mut support::agent_test_as_nextest(
        "durability::records_three",
        &unique_run_id("io-failure"),
        rampart_dir,
    ));
    support::assert_success(&output);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("rampart: warning")).collect();
    assert_eq!(warnings.len(), 1, "one warning for three results\n{}", support::describe(&output));
    assert!(warnings[0].contains(&rampart_dir.display().to_string()), "names the path: {}", warnings[0]);
}

#[test]
fn io_failure_warns_once_naming_the_path_and_the_test_passes() {
    let scratch = support::tempdir();
    // A directory that cannot be created: its parent is a regular file.
    let blocker = scratch.path().join("regular-file");
    std::fs::write(&blocker, "not a directory").unwrap();
    assert_warns_once_and_passes(&blocker.join("rampart"));

    // A read-only directory, unless we run as root (root writes anyway).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let read_only = scratch.path().join("read-only");
        std::fs::create_dir(&read_only).unwrap();
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o555)).unwrap();
        if std::fs::write(read_only.join("probe"), "").is_err() {
            assert_warns_once_and_passes(&read_only);
        } else {
            eprintln!("running as root: the read-only directory case cannot fail, skipped");
        }
        std::fs::set_permissions(&read_only, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
}
