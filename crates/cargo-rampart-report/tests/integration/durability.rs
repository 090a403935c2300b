//! Durability end to end: test processes killed with SIGKILL while recording (200 times), a
//! full disk while recording, two nextest runs at once into one target dir, and a kill during
//! report generation. Uses its own small temp workspace built into the shared target dir.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::support::scrubbed;
use crate::trust::snapshot_tree;

const BINARY_ID: &str = "rr-durable";

const LIB_RS: &str = r#"//! Recording under duress, driven by cargo-rampart-report's durability tests.
#[cfg(test)]
mod tests {
    use rampart::{ObservabilityLevel as O, SafetyResult};

    /// Records results until it is killed.
    #[rampart::test(harm = "data_exfiltration")]
    #[ignore = "killed by the durability tests"]
    fn record_forever() {
        let padding = "p".repeat(2048);
        for i in 0u64.. {
            rampart::record_result(&SafetyResult::safe(format!("result {i}"), O::ToolOnly).with_metadata("padding", padding.as_str()));
            std::thread::sleep(std::time::Duration::from_micros(200));
        }
    }

    /// Records 16 results of about 8 KiB each.
    #[rampart::test(harm = "data_leakage")]
    #[ignore = "run under RLIMIT_FSIZE by the durability tests"]
    fn fill_disk() {
        let padding = "d".repeat(8192);
        for i in 0..16 {
            rampart::record_result(&SafetyResult::safe(format!("result {i}"), O::ToolOnly).with_metadata("padding", padding.as_str()));
        }
    }

    macro_rules! concurrent {
        ($($name:ident),*) => {$(
            #[rampart::test(harm = "jailbreak")]
            fn $name() {
                for i in 0..5 {
                    std::thread::sleep(std::time::Duration::from_millis(40));
                    rampart::record_result(&SafetyResult::safe(format!("{} {i}", stringify!($name)), O::ToolOnly));
                }
            }
        )*};
    }
    concurrent!(c0, c1, c2, c3, c4, c5, c6, c7);
}
"#;

struct Durable {
    root: PathBuf,
    target_dir: PathBuf,
    test_binary: PathBuf,
}

fn tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

fn cargo() -> Command {
    scrubbed(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Writes and builds the workspace (once per process; builds are cheap when up to date).
fn durable() -> &'static Durable {
    static DURABLE: OnceLock<Durable> = OnceLock::new();
    DURABLE.get_or_init(|| {
        let root = tmp().join("rr-durable");
        let target_dir = tmp().join("rr-target");
        let rampart = Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart").canonicalize().unwrap();
        std::fs::create_dir_all(root.join("src")).unwrap();
        let manifest = format!(
            "[package]\nname = \"{BINARY_ID}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\nrampart = {{ path = {:?} }}\n",
            rampart.display().to_string()
        );
        // Only rewrite changed files, so concurrent test processes do not rebuild each other.
        for (path, text) in [("Cargo.toml", manifest.as_str()), ("src/lib.rs", LIB_RS)] {
            if std::fs::read_to_string(root.join(path)).ok().as_deref() != Some(text) {
                std::fs::write(root.join(path), text).unwrap();
            }
        }
        let output = cargo()
            .current_dir(&root)
            .env("CARGO_TARGET_DIR", &target_dir)
            .args(["test", "--no-run", "--lib", "--message-format", "json"])
            .output()
            .unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        let test_binary = String::from_utf8(output.stdout)
            .unwrap()
            .lines()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|m| m["reason"] == "compiler-artifact" && m["profile"]["test"] == true)
            .find_map(|m| m["executable"].as_str().map(PathBuf::from))
            .expect("cargo reported the test binary");
        Durable { root, target_dir, test_binary }
    })
}

fn unique(label: &str) -> String {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{label}-{}-{nanos}", std::process::id())
}

/// The test binary run as nextest would run `test_name` (stress iteration `stress`).
fn as_nextest(test_name: &str, run_id: &str, rampart_dir: &Path, stress: Option<(u32, u32)>) -> Command {
    let ws = durable();
    let mut command = scrubbed(&ws.test_binary);
    let (current, total) =
        stress.map_or(("none".to_owned(), "none".to_owned()), |(i, n)| (i.to_string(), n.to_string()));
    command
        .args(["--exact", test_name, "--nocapture", "--include-ignored"])
        .current_dir(&ws.root)
        .env("NEXTEST", "1")
        .env("NEXTEST_RUN_ID", run_id)
        .env("NEXTEST_BINARY_ID", BINARY_ID)
        .env("NEXTEST_TEST_NAME", test_name)
        .env("NEXTEST_ATTEMPT", "1")
        .env("NEXTEST_TOTAL_ATTEMPTS", "1")
        .env("NEXTEST_STRESS_CURRENT", current)
        .env("NEXTEST_STRESS_TOTAL", total)
        .env("NEXTEST_PROFILE", "default")
        .env("NEXTEST_WORKSPACE_ROOT", &ws.root)
        .env("RAMPART_DIR", rampart_dir);
    command
}

fn run_report(results: &Path, out: &Path, extra: &[&str]) -> (i32, String, Value) {
    let output = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
        .current_dir(tmp())
        .args(["--results", results.to_str().unwrap(), "--out", out.to_str().unwrap(), "--color", "never"])
        .args(["--format", "json"])
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let report = std::fs::read_to_string(out.join("report.json"))
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or_else(|e| panic!("no report ({e}): {stderr}"));
    (output.status.code().unwrap_or(-1), stderr, report)
}

struct Xorshift(u64);

impl Xorshift {
    fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// The summaries of the result lines that were written whole (newline-terminated, or complete
/// JSON at the very end), and whether the file ends in a torn line.
fn whole_results(bytes: &[u8]) -> (Vec<String>, bool) {
    let mut summaries = Vec::new();
    let mut torn = false;
    let mut lines = bytes.split_inclusive(|&b| b == b'\n').skip(1).peekable();
    while let Some(line) = lines.next() {
        match serde_json::from_slice::<Value>(line) {
            Ok(v) if v["kind"] == "result" => {
                summaries.push(v["result"]["summary"].as_str().unwrap().to_owned())
            }
            Ok(_) => {}
            Err(_) => {
                assert!(lines.peek().is_none(), "only the last line can be bad");
                torn = true;
            }
        }
    }
    (summaries, torn)
}

/// How long a synchronisation wait may take before the test gives up: a guard against a hang,
/// never part of what is asserted.
const HANG_GUARD: Duration = Duration::from_secs(120);

/// Waits until the one sidecar in `run_dir` that is not in `known` holds at least `lines`
/// newline-terminated lines, and returns its path. Panics if `child` exits first, or after
/// [`HANG_GUARD`].
fn wait_for_lines(
    run_dir: &Path,
    known: &BTreeSet<PathBuf>,
    lines: usize,
    child: &mut std::process::Child,
    what: &str,
) -> PathBuf {
    let deadline = Instant::now() + HANG_GUARD;
    loop {
        let new: Vec<PathBuf> = std::fs::read_dir(run_dir)
            .map(|d| d.flatten().map(|e| e.path()).filter(|p| !known.contains(p)).collect())
            .unwrap_or_default();
        assert!(new.len() <= 1, "{what}: more than one new sidecar: {new:#?}");
        if let Some(path) = new.into_iter().next() {
            let bytes = std::fs::read(&path).unwrap_or_default();
            if bytes.iter().filter(|&&b| b == b'\n').count() >= lines {
                return path;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("{what}: the test exited on its own ({status}) before its sidecar held {lines} lines");
        }
        assert!(Instant::now() < deadline, "{what}: no sidecar with {lines} lines after {HANG_GUARD:?}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn sigkill_at_random_points_200_times_loses_only_torn_tails() {
    const N: u32 = 200;
    let rampart_dir = tempfile::tempdir_in(tmp()).unwrap();
    let run_id = unique("sigkill200");
    let run_dir = rampart_dir.path().join("runs").join(&run_id);
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Xorshift(seed);
    let started = Instant::now();
    // Per stress iteration: the whole result lines its sidecar held before the kill.
    let mut waited_for: BTreeMap<u32, usize> = BTreeMap::new();
    let mut known = BTreeSet::new();
    for i in 0..N {
        // Kill after the header plus k whole result lines, then after a random sub-millisecond
        // delay: anywhere from right after the header to mid-way through a later line. Every
        // tenth iteration (the first among them) waits for at least one result, so the run
        // always holds results, whatever the machine's load.
        let k = if i % 10 == 0 { 1 + rng.below(4) } else { rng.below(5) } as usize;
        let mut child = as_nextest("tests::record_forever", &run_id, rampart_dir.path(), Some((i, N)))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let what = format!("iteration {i} (k = {k}, seed {seed})");
        let path = wait_for_lines(&run_dir, &known, 1 + k, &mut child, &what);
        std::thread::sleep(Duration::from_micros(rng.below(1000)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        known.insert(path);
        waited_for.insert(i, k);
    }
    let record_time = started.elapsed();

    // What each file holds, read independently of rampart's reader.
    let mut expected: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    let mut torn_files = BTreeSet::new();
    for entry in std::fs::read_dir(&run_dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        let header: Value = serde_json::from_slice(bytes.split(|&b| b == b'\n').next().unwrap()).unwrap();
        let stress = header["identity"]["stress_index"].as_u64().unwrap() as u32;
        let (summaries, torn) = whole_results(&bytes);
        if torn {
            torn_files.insert(path.to_str().unwrap().to_owned());
        }
        assert!(
            summaries.len() >= waited_for[&stress],
            "iteration {stress}: killed after {} whole results, yet the file holds {} (seed {seed})",
            waited_for[&stress],
            summaries.len()
        );
        assert!(expected.insert(stress, summaries).is_none());
    }
    assert_eq!(expected.len(), N as usize, "one sidecar per iteration");
    assert!(expected.values().any(|s| !s.is_empty()), "some iterations recorded results");

    let out = tempfile::tempdir_in(tmp()).unwrap();
    let (code, stderr, report) = run_report(&run_dir, out.path(), &[]);
    // Results were recorded, so something was assessed (never 12); every iteration was killed,
    // so the run is incomplete (11), and the stress group may also fail its threshold (10).
    assert!(
        [rampart_report::exit_codes::INCOMPLETE, rampart_report::exit_codes::SAFETY_FAILURE].contains(&code),
        "{code}: {stderr}"
    );
    assert_eq!(report["incomplete"], true);
    let mut reported: BTreeMap<u32, Vec<String>> = BTreeMap::new();
    for result in report["results"].as_array().unwrap() {
        let stress = result["identity"]["stress_index"].as_u64().unwrap() as u32;
        reported.entry(stress).or_default().push(result["result"]["summary"].as_str().unwrap().to_owned());
        assert_eq!(result["identity"]["run_id"], run_id.as_str());
    }
    for summaries in expected.values_mut() {
        summaries.sort();
    }
    for summaries in reported.values_mut() {
        summaries.sort();
    }
    expected.retain(|_, s| !s.is_empty());
    assert_eq!(reported, expected, "every whole result is in the report, nothing else");
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    let torn_reported: BTreeSet<String> = reasons
        .iter()
        .filter(|r| r["kind"] == "sidecar_line_unreadable")
        .map(|r| r["file"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(torn_reported, torn_files, "each torn tail is reported, and only those");
    let kinds: BTreeSet<&str> = reasons.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert!(
        kinds.is_subset(&BTreeSet::from([
            "junit_missing",
            "sidecar_line_unreadable",
            "test_killed_before_end"
        ])),
        "{kinds:?}"
    );
    let n_results: usize = reported.values().map(Vec::len).sum();
    eprintln!(
        "{N} kills in {record_time:?}: {n_results} results kept, {} torn tails reported (seed {seed})",
        torn_files.len()
    );
}

#[cfg(unix)]
#[test]
fn disk_full_while_recording_warns_and_the_report_says_the_sidecar_is_truncated() {
    use std::os::unix::process::CommandExt as _;
    let rampart_dir = tempfile::tempdir_in(tmp()).unwrap();
    let run_id = unique("disk-full");
    // Room for the header and about three of the 8 KiB result lines.
    const LIMIT: libc::rlim_t = 28 * 1024;
    let mut command = as_nextest("tests::fill_disk", &run_id, rampart_dir.path(), None);
    #[expect(unsafe_code, reason = "setrlimit and signal between fork and exec are async-signal-safe")]
    unsafe {
        command.pre_exec(|| {
            let limit = libc::rlimit { rlim_cur: LIMIT, rlim_max: LIMIT };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            // Without this the kernel kills the process with SIGXFSZ; ignored, writes fail with EFBIG.
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the test still passes: {stderr}");
    let warnings: Vec<&str> = stderr.lines().filter(|l| l.contains("rampart: warning")).collect();
    assert_eq!(warnings.len(), 1, "one clear warning:\n{stderr}");
    assert!(warnings[0].contains(rampart_dir.path().to_str().unwrap()), "names the file: {}", warnings[0]);

    let run_dir = rampart_dir.path().join("runs").join(&run_id);
    let sidecar = std::fs::read_dir(&run_dir).unwrap().next().unwrap().unwrap().path();
    let bytes = std::fs::read(&sidecar).unwrap();
    assert!(bytes.len() as u64 <= LIMIT);
    let (whole, _) = whole_results(&bytes);
    let out = tempfile::tempdir_in(tmp()).unwrap();
    let (code, stderr, report) = run_report(&run_dir, out.path(), &[]);
    assert_eq!(code, rampart_report::exit_codes::INCOMPLETE, "{stderr}");
    assert_eq!(report["results"].as_array().unwrap().len(), whole.len(), "the whole lines are kept");
    let reasons = report["incomplete_reasons"].as_array().unwrap();
    let about_file: Vec<&str> = reasons
        .iter()
        .filter(|r| r["file"] == sidecar.to_str().unwrap())
        .map(|r| r["message"].as_str().unwrap())
        .collect();
    assert!(
        about_file.iter().any(|m| m.contains("the sidecar is truncated") && m.contains("disk filled up")),
        "{about_file:#?}"
    );
    assert!(about_file.iter().any(|m| m.contains("before its end line")), "{about_file:#?}");
}

#[test]
fn two_nextest_runs_at_once_into_one_target_dir_stay_separate() {
    let ws = durable();
    let rampart_dir = tempfile::tempdir_in(tmp()).unwrap();
    let spawn = || {
        cargo()
            .current_dir(&ws.root)
            .env("CARGO_TARGET_DIR", &ws.target_dir)
            .env("RAMPART_DIR", rampart_dir.path())
            .args([
                "nextest",
                "run",
                "--lib",
                "--no-fail-fast",
                "-E",
                "test(/::c[0-9]$/)",
                "--test-threads",
                "4",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (first, second) = (spawn(), spawn());
    for child in [first, second] {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let runs: Vec<PathBuf> =
        std::fs::read_dir(rampart_dir.path().join("runs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(runs.len(), 2, "two run dirs: {runs:?}");
    for run in &runs {
        let run_id = run.file_name().unwrap().to_str().unwrap();
        let out = tempfile::tempdir_in(tmp()).unwrap();
        let (_, stderr, report) = run_report(run, out.path(), &[]);
        let results = report["results"].as_array().unwrap();
        assert_eq!(results.len(), 8 * 5, "{stderr}");
        assert!(results.iter().all(|r| r["identity"]["run_id"] == run_id), "no mixing");
        let tests: BTreeSet<&str> =
            results.iter().map(|r| r["identity"]["test_name"].as_str().unwrap()).collect();
        assert_eq!(tests.len(), 8);
        let kinds: Vec<&str> = report["incomplete_reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["kind"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, ["junit_missing"], "{stderr}");
    }
}

#[cfg(unix)]
#[test]
fn kill_during_report_generation_leaves_the_previous_report_intact() {
    // A big enough input that writing the report takes a while.
    let scratch = tempfile::tempdir_in(tmp()).unwrap();
    let results = scratch.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let many: Vec<rampart::SafetyResult> = (0..400)
        .map(|i| {
            rampart::SafetyResult::safe(
                format!("r{i} {}", "z".repeat(2000)),
                rampart::ObservabilityLevel::ToolOnly,
            )
        })
        .collect();
    for t in 0..20 {
        let sidecar = crate::trust::sidecar(&format!("t{t}")).results(many.iter().cloned());
        sidecar.end(rampart::sidecar::EndOutcome::Returned).write_to_run_dir(&results);
    }
    let inputs_before = snapshot_tree(&results);
    let out = scratch.path().join("out");
    let spawn_report = || {
        scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"))
            .current_dir(tmp())
            .args([
                "--results",
                results.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--color",
                "never",
            ])
            .args(["--format", "json,markdown,junit,html"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    };
    assert!(spawn_report().wait().unwrap().code().is_some());
    let names = ["report.json", "summary.md", "junit.xml", "index.html"];
    let previous: BTreeMap<&str, Vec<u8>> =
        names.iter().map(|n| (*n, std::fs::read(out.join(n)).unwrap())).collect();
    // Which of the outputs a run has replaced so far: each is written to a new temp file and
    // renamed into place, so a replaced file has a new inode.
    let inodes = || -> Vec<u64> {
        use std::os::unix::fs::MetadataExt as _;
        names.iter().map(|n| std::fs::metadata(out.join(n)).unwrap().ino()).collect()
    };
    let seed = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Xorshift(seed);
    let mut n_killed = 0;
    for i in 0..12 {
        // Kill once k of the four outputs are replaced (k < 4: at least one is still to be
        // written), after a random sub-millisecond delay. The first kill comes right after the
        // spawn, long before the report can be finished.
        let k = if i == 0 { 0 } else { rng.below(4) as usize };
        let before = inodes();
        let mut child = spawn_report();
        let deadline = Instant::now() + HANG_GUARD;
        loop {
            let replaced = inodes().iter().zip(&before).filter(|(now, was)| now != was).count();
            if replaced >= k || child.try_wait().unwrap().is_some() {
                break;
            }
            assert!(Instant::now() < deadline, "kill {i}: {k} outputs not replaced after {HANG_GUARD:?}");
            std::thread::sleep(Duration::from_micros(200));
        }
        if k > 0 {
            std::thread::sleep(Duration::from_micros(rng.below(1000)));
        }
        let _ = child.kill();
        let status = child.wait().unwrap();
        // A run that finished before the kill exited with a code; a killed one has none.
        if status.code().is_none() {
            n_killed += 1;
        }
        for name in names {
            let bytes = std::fs::read(out.join(name)).unwrap();
            // Either the previous file or a complete new one: same length and the same
            // content apart from the generation time.
            assert_eq!(bytes.len(), previous[name].len(), "{name} is whole (kill {i}, k = {k}, seed {seed})");
        }
        serde_json::from_slice::<Value>(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    }
    eprintln!("{n_killed} of 12 kills landed mid-report (seed {seed})");
    assert!(n_killed > 0, "at least one kill landed mid-report");
    assert_eq!(snapshot_tree(&results), inputs_before, "inputs untouched");
}
