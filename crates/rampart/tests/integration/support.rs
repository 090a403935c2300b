//! Shared helpers: one temporary cargo workspace that uses rampart, real `cargo nextest run`
//! and `cargo test` invocations on it with a scrubbed environment, and sidecar readers.
//!
//! Every test of this binary uses the same workspace ([`workspace`]) and the same
//! `CARGO_TARGET_DIR` ([`shared_target_dir`]), so rampart and its dependencies compile once.
//! The workspace lives at a path derived from a hash of its files, is created atomically
//! (written to a temporary directory, then renamed), and is shared by concurrent test
//! processes: each scenario runs its own nextest profile (its own JUnit file) and selects its
//! tests with a filterset, and every nextest run writes to its own run directory.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use rampart::sidecar::{self, Sidecar};

/// Package name of the temporary workspace. Its binary ids are `rampart-it` (unit tests in
/// `src/lib.rs`) and `rampart-it::agent` (`tests/agent.rs`).
pub const PACKAGE: &str = "rampart-it";
/// Binary id of the workspace's integration test binary.
pub const AGENT_BINARY_ID: &str = "rampart-it::agent";

/// The nextest profiles of the workspace: one per scenario, so concurrent scenarios never
/// share a JUnit file. Each has JUnit at `target/nextest/<profile>/junit.xml`.
const PROFILES: &[&str] = &[
    "retries", "stress", "trials", "kinds", "rdir-abs", "rdir-rel", "archive", "parallel", "hostile",
    "macros", "leak",
];

const CARGO_TOML: &str = r#"[package]
name = "rampart-it"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
rampart = { path = "@RAMPART_PATH@" }

[dev-dependencies]
tokio = { version = "1", features = ["macros", "rt", "rt-multi-thread"] }

# Not part of any enclosing workspace.
[workspace]
"#;

const LIB_RS: &str = r#"//! A stand-in for an AI agent crate with safety unit tests.

pub fn refuse(prompt: &str) -> String {
    format!("I can't help with {prompt:?}.")
}

#[cfg(test)]
mod unit {
    use rampart::{ObservabilityLevel, SafetyResult};

    #[rampart::test(harm = "data_leakage")]
    fn unit_records() {
        rampart::record_result(&SafetyResult::safe(super::refuse("secrets"), ObservabilityLevel::ResponseOnly));
    }

    #[test]
    fn plain_unit_records() {
        rampart::record_result(&SafetyResult::safe("plain unit", ObservabilityLevel::ResponseOnly));
    }
}
"#;

pub const AGENT_RS: &str = r#"//! Safety tests driven by rampart's own integration tests. Each module is one scenario.
#![allow(mixed_script_confusables, confusable_idents, uncommon_codepoints, non_snake_case)]

use rampart::{ObservabilityLevel, SafetyResult};

fn safe(summary: impl Into<String>) -> SafetyResult {
    SafetyResult::safe(summary, ObservabilityLevel::ResponseOnly)
}

fn env_u32(name: &str) -> Option<u32> {
    std::env::var(name).ok()?.parse().ok()
}

mod identity {
    use super::*;

    /// Fails on attempts 1 and 2, passes on 3.
    #[test]
    fn flaky_until_third() {
        let attempt = env_u32("NEXTEST_ATTEMPT").expect("run under nextest");
        rampart::record_result(&safe(format!("attempt {attempt}")));
        assert!(attempt >= 3, "failing on purpose on attempt {attempt}");
    }

    #[rampart::test(harm = "jailbreak")]
    fn stressed() {
        let index = std::env::var("NEXTEST_STRESS_CURRENT").unwrap_or_default();
        rampart::record_result(&safe(format!("stress {index}")));
    }

    #[rampart::test(harm = "data_leakage")]
    fn integration_records() {
        rampart::record_result(&safe("integration"));
    }

    #[test]
    fn plain_records() {
        rampart::record_result(&safe("plain"));
    }
}

mod trials {
    use super::*;

    #[rampart::test(trials = 3, threshold = 0.5, harm = "prompt_injection")]
    fn jailbreak() {
        let trial = rampart::trial().expect("inside a trial clone");
        rampart::record_result(&safe(format!("trial {} of {}", trial.index, trial.count)));
    }
}

mod macros {
    use super::*;

    #[rampart::test(trials = 2)]
    #[should_panic(expected = "unsafe on purpose")]
    fn panics_in_every_trial() {
        rampart::record_result(&safe("before the panic"));
        panic!("unsafe on purpose");
    }

    #[rampart::test(trials = 2)]
    #[ignore = "ignored on purpose"]
    fn ignored_trials() {
        panic!("an ignored trial ran");
    }

    #[rampart::test(harm = "jailbreak")]
    #[tokio::test]
    async fn tokio_below() {
        tokio::task::yield_now().await;
        rampart::record_result(&safe("tokio below"));
    }

    #[tokio::test]
    #[rampart::test(harm = "jailbreak")]
    async fn tokio_above() {
        tokio::task::yield_now().await;
        rampart::record_result(&safe("tokio above"));
    }

    #[rampart::test(trials = 2, harm = "jailbreak")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tokio_trials() {
        let index = rampart::trial().expect("inside a trial clone").index;
        // Recorded from a runtime worker thread, not the test thread.
        tokio::spawn(async move { rampart::record_result(&safe(format!("tokio trial {index}"))) })
            .await
            .unwrap();
    }
}

mod durability {
    use super::*;

    /// Records large results until it is killed.
    #[rampart::test(harm = "data_exfiltration")]
    #[ignore = "run by rampart's durability tests, which kill it with SIGKILL"]
    fn record_forever() {
        let padding: String = (0..24 * 1024).map(|i| char::from(b'a' + (i % 26) as u8)).collect();
        for i in 0u64.. {
            rampart::record_result(&safe(format!("result {i}")).with_metadata("padding", padding.as_str()));
        }
    }

    #[test]
    fn records_three() {
        for i in 0..3 {
            rampart::record_result(&safe(format!("result {i}")));
        }
    }
}

mod parallel {
    use super::*;

    fn record_many(name: &str) {
        for i in 0..40 {
            rampart::record_result(&safe(format!("{name} {i}")));
            std::thread::yield_now();
        }
    }

    macro_rules! recording_tests {
        (rampart: $($r:ident)*; plain: $($p:ident)*) => {
            $( #[rampart::test] fn $r() { record_many(concat!("parallel::", stringify!($r))) } )*
            $( #[test] fn $p() { record_many(concat!("parallel::", stringify!($p))) } )*
        };
    }

    recording_tests!(rampart: r00 r01 r02 r03 r04 r05 r06 r07; plain: p00 p01 p02 p03 p04 p05 p06 p07);
}

/// A plain `#[test]` recording while one `#[rampart::test]` runs on another thread (plain
/// `cargo test` only: the two wait for each other).
mod beside {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    static STAGE: AtomicU32 = AtomicU32::new(0);

    fn wait_for(stage: u32) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while STAGE.load(Ordering::SeqCst) < stage {
            assert!(std::time::Instant::now() < deadline, "the other `beside` test did not run");
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[rampart::test]
    fn holds_a_scope() {
        STAGE.store(1, Ordering::SeqCst);
        wait_for(2);
    }

    #[test]
    fn plain_records_meanwhile() {
        wait_for(1);
        rampart::record_result(&safe("beside::plain_records_meanwhile"));
        STAGE.store(2, Ordering::SeqCst);
    }
}

/// Secrets leaked through `assert_safe!`'s panic message. They are put together at run time
/// so no source line holds one (a compiler diagnostic quoting the line would print it).
mod leak {
    use super::*;

    #[rampart::test(harm = "data_leakage")]
    fn key_in_summary() {
        let key = ["sk-live-", "abcdefghijkl", "mnopqrstuvwx"].concat();
        rampart::assert_safe!(SafetyResult::unsafe_result(
            format!("the agent printed {key}"),
            ObservabilityLevel::ResponseOnly
        ));
    }

    #[rampart::test(harm = "data_leakage")]
    fn key_in_message() {
        let aws = ["AKIA", "QYLPMN5HHHFP", "WXYZ"].concat();
        let bearer = ["Bearer ", "s3cr3t", "t0k3n", "xyz"].concat();
        rampart::assert_safe!(
            SafetyResult::unsafe_result("the agent echoed a credential", ObservabilityLevel::ResponseOnly),
            "response was {aws} with {bearer}"
        );
    }
}

mod hostile {
    use super::*;

    fn record_own_name(name: &str) {
        rampart::record_result(&safe(name));
    }

    // `tést` and `tëst` both sanitize to `t_st`; `名前` and `テスト` to underscores.
    #[test]
    fn tést() {
        record_own_name("hostile::tést");
    }

    #[test]
    fn tëst() {
        record_own_name("hostile::tëst");
    }

    #[test]
    fn 名前() {
        record_own_name("hostile::名前");
    }

    #[test]
    fn テスト() {
        record_own_name("hostile::テスト");
    }

    // Differ only after the first 96 bytes, where slugs are cut.
    #[test]
    fn a_very_long_test_name_that_goes_on_and_on_well_past_the_length_at_which_rampart_cuts_file_name_slugs_ending_one() {
        record_own_name("hostile::a_very_long_test_name_that_goes_on_and_on_well_past_the_length_at_which_rampart_cuts_file_name_slugs_ending_one");
    }

    #[test]
    fn a_very_long_test_name_that_goes_on_and_on_well_past_the_length_at_which_rampart_cuts_file_name_slugs_ending_two() {
        record_own_name("hostile::a_very_long_test_name_that_goes_on_and_on_well_past_the_length_at_which_rampart_cuts_file_name_slugs_ending_two");
    }
}
"#;

const EXAMPLE_RS: &str = r#"//! Calls rampart outside any test.
use rampart::{ObservabilityLevel, SafetyResult};

fn main() {
    rampart::record_result(&SafetyResult::unsafe_result("outside a test", ObservabilityLevel::ResponseOnly));
    rampart::assert_safe!(SafetyResult::safe("still outside", ObservabilityLevel::ResponseOnly));
    assert_eq!(rampart::current_sidecar_path(), None);
    assert!(rampart::trial().is_none());
    println!("outside: done");
}
"#;

fn nextest_toml() -> String {
    let mut toml = String::from("# One profile per scenario of rampart's integration tests.\n");
    for profile in PROFILES {
        toml.push_str(&format!("\n[profile.{profile}]\nfail-fast = false\n"));
        if *profile == "retries" {
            toml.push_str("retries = 2\n");
        }
        toml.push_str(&format!("\n[profile.{profile}.junit]\npath = \"junit.xml\"\n"));
    }
    toml
}

/// The path of `crates/rampart`.
pub fn rampart_crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A directory for this test binary's scratch files, inside cargo's target dir.
pub fn tmp_base() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("rampart-it");
    std::fs::create_dir_all(&dir).expect("create the scratch directory");
    dir
}

/// A fresh temporary directory under [`tmp_base`], removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new().prefix("t-").tempdir_in(tmp_base()).expect("create a temp dir")
}

/// The `CARGO_TARGET_DIR` every temporary workspace builds into.
pub fn shared_target_dir() -> PathBuf {
    tmp_base().join("target")
}

/// A cargo command with a scrubbed environment: nothing inherited from an outer nextest,
/// rampart or CI, and the shared target dir.
pub fn cargo(cwd: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    scrub(&mut command);
    command.current_dir(cwd).env("CARGO_TARGET_DIR", shared_target_dir());
    command
}

/// Removes the inherited environment that would change what a nested run does.
pub fn scrub(command: &mut Command) {
    for (key, _) in std::env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let inherited = key.starts_with("NEXTEST")
            || key.starts_with("__NEXTEST")
            || key.starts_with("RAMPART_")
            || ["CARGO_TARGET_DIR", "CI", "RUST_TEST_THREADS", "CARGO_BUILD_TARGET_DIR"].contains(&key);
        if inherited {
            command.env_remove(key);
        }
    }
    command.env("CARGO_TERM_COLOR", "never").env("NO_COLOR", "1");
}

/// Runs a command to completion, capturing its output.
pub fn run(command: &mut Command) -> Output {
    command.output().unwrap_or_else(|e| panic!("failed to run {command:?}: {e}"))
}

/// Describes an output for assertion messages.
pub fn describe(output: &Output) -> String {
    format!(
        "status: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Asserts that a command succeeded.
#[track_caller]
pub fn assert_success(output: &Output) {
    assert!(output.status.success(), "command failed\n{}", describe(output));
}

/// The temporary workspace shared by every test.
#[derive(Debug)]
pub struct Workspace {
    /// Its root directory.
    pub root: PathBuf,
}

/// The files of the temporary workspace, relative path → contents.
pub fn workspace_files() -> BTreeMap<&'static str, String> {
    let rampart = rampart_crate_dir();
    let rampart = rampart.to_str().expect("rampart's path is UTF-8");
    BTreeMap::from([
        ("Cargo.toml", CARGO_TOML.replace("@RAMPART_PATH@", &rampart.replace('\\', "/"))),
        ("src/lib.rs", LIB_RS.to_owned()),
        ("tests/agent.rs", AGENT_RS.to_owned()),
        ("examples/outside.rs", EXAMPLE_RS.to_owned()),
        (".config/nextest.toml", nextest_toml()),
    ])
}

/// Writes the workspace's source files (not its lockfile) into `dir`.
pub fn write_workspace_files(dir: &Path) {
    for (path, contents) in workspace_files() {
        let path = dir.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
    }
}

/// The shared temporary workspace, created on first use (once per content, across processes).
pub fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(create_workspace)
}

fn create_workspace() -> Workspace {
    let files = workspace_files();
    let mut fingerprint = String::new();
    for (path, contents) in &files {
        fingerprint.push_str(path);
        fingerprint.push('\0');
        fingerprint.push_str(contents);
        fingerprint.push('\0');
    }
    let root = tmp_base().join(format!("ws-{:016x}", rampart::location::fnv1a64(fingerprint.as_bytes())));
    if root.join(".ready").is_file() {
        return Workspace { root };
    }
    // Build it aside, then rename: concurrent test processes see all of it or none of it.
    let staging = tmp_base().join(format!(
        "ws-staging-{}-{}",
        std::process::id(),
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
    ));
    write_workspace_files(&staging);
    // Start from the repository's lockfile so the versions are the ones already built and
    // downloaded, then let cargo trim it, so no later command rewrites it concurrently.
    let lockfile = rampart_crate_dir().join("../../Cargo.lock");
    std::fs::copy(&lockfile, staging.join("Cargo.lock")).expect("copy the repository's Cargo.lock");
    let mut metadata = cargo(&staging);
    metadata.args(["metadata", "--format-version", "1", "--offline"]);
    if !run(&mut metadata).status.success() {
        let mut online = cargo(&staging);
        assert_success(&run(online.args(["metadata", "--format-version", "1"])));
    }
    std::fs::write(staging.join(".ready"), "").unwrap();
    if std::fs::rename(&staging, &root).is_err() {
        assert!(root.join(".ready").is_file(), "could not create the workspace at {}", root.display());
        let _ = std::fs::remove_dir_all(&staging);
    }
    Workspace { root }
}

/// One finished `cargo nextest run`.
#[derive(Debug)]
pub struct NextestRun {
    /// Its output.
    pub output: Output,
    /// The JUnit report's `uuid`, which is nextest's run id.
    pub run_id: String,
    /// Where the JUnit report was written.
    pub junit_path: PathBuf,
}

impl Workspace {
    /// A scrubbed cargo command in the workspace.
    pub fn cargo(&self) -> Command {
        cargo(&self.root)
    }

    /// `cargo nextest run --profile <profile> <args>` with `envs`; the run must write JUnit.
    pub fn nextest_run(&self, profile: &str, args: &[&str], envs: &[(&str, &OsStr)]) -> NextestRun {
        assert!(PROFILES.contains(&profile), "unknown profile {profile}");
        let junit_path = self.root.join("target/nextest").join(profile).join("junit.xml");
        // A run that fails to start leaves an old report in place; never read that one.
        let _ = std::fs::remove_file(&junit_path);
        let mut command = self.cargo();
        command.args(["nextest", "run", "--profile", profile]).args(args);
        command.envs(envs.iter().map(|(k, v)| (k, v)));
        let output = run(&mut command);
        let junit = std::fs::read_to_string(&junit_path)
            .unwrap_or_else(|e| panic!("no JUnit at {}: {e}\n{}", junit_path.display(), describe(&output)));
        NextestRun { run_id: junit_uuid(&junit), output, junit_path }
    }

    /// Where sidecars of nextest run `run_id` go by default.
    pub fn run_dir(&self, run_id: &str) -> PathBuf {
        self.root.join("target/rampart/runs").join(run_id)
    }
}

/// The `uuid` attribute of a JUnit report's root element.
pub fn junit_uuid(junit: &str) -> String {
    let root = junit.find("<testsuites").expect("a <testsuites> element");
    let rest = &junit[root..];
    let start = rest.find(" uuid=\"").expect("a uuid attribute") + " uuid=\"".len();
    let end = rest[start..].find('"').unwrap();
    rest[start..start + end].to_owned()
}

/// Every sidecar file in `dir` (not recursive), sorted by path.
pub fn sidecar_paths(dir: &Path) -> Vec<PathBuf> {
    let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|ext| ext == sidecar::FILE_EXTENSION))
        .collect();
    paths.sort();
    paths
}

/// Reads a sidecar, failing the test with the path when it cannot be read.
pub fn read_sidecar(path: &Path) -> Sidecar {
    sidecar::read(path).unwrap_or_else(|e| panic!("cannot read sidecar {}: {e}", path.display()))
}

/// Reads every sidecar of `dir`, keyed by the header's test name (which must be unique).
pub fn sidecars_by_test(dir: &Path) -> BTreeMap<String, Sidecar> {
    let mut by_test = BTreeMap::new();
    for path in sidecar_paths(dir) {
        let sidecar = read_sidecar(&path);
        let name = sidecar.header.identity.test_name.clone();
        assert!(
            by_test.insert(name.clone(), sidecar).is_none(),
            "two sidecars for {name} in {}",
            dir.display()
        );
    }
    by_test
}

/// Every sidecar of `dir`, with its path, sorted by path.
pub fn sidecars(dir: &Path) -> Vec<(PathBuf, Sidecar)> {
    sidecar_paths(dir).into_iter().map(|p| (p.clone(), read_sidecar(&p))).collect()
}

/// The summaries of a sidecar's results, in order.
pub fn summaries(sidecar: &Sidecar) -> Vec<String> {
    sidecar.results.iter().map(|r| r.result.summary.clone()).collect()
}

/// Whether a file name uses only characters that are safe on every platform.
pub fn is_portable_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
        && name.len() <= 140
}

/// Builds the workspace's integration test binary and returns its path.
pub fn agent_test_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            let mut command = workspace().cargo();
            command.args(["test", "--no-run", "--test", "agent", "--message-format", "json"]);
            let output = run(&mut command);
            assert_success(&output);
            let stdout = String::from_utf8(output.stdout).unwrap();
            stdout
                .lines()
                .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
                .filter(|message| {
                    message["reason"] == "compiler-artifact" && message["target"]["name"] == "agent"
                })
                .find_map(|message| message["executable"].as_str().map(PathBuf::from))
                .expect("cargo reported the agent test binary")
        })
        .clone()
}

/// A command running one test of the agent binary directly, as nextest would: with the
/// nextest variables for `test_name` and sidecars under `rampart_dir`.
pub fn agent_test_as_nextest(test_name: &str, run_id: &str, rampart_dir: &Path) -> Command {
    let mut command = Command::new(agent_test_binary());
    scrub(&mut command);
    command
        .args(["--exact", test_name, "--nocapture", "--include-ignored"])
        .current_dir(&workspace().root)
        .env("NEXTEST", "1")
        .env("NEXTEST_RUN_ID", run_id)
        .env("NEXTEST_BINARY_ID", AGENT_BINARY_ID)
        .env("NEXTEST_TEST_NAME", test_name)
        .env("NEXTEST_ATTEMPT", "1")
        .env("NEXTEST_TOTAL_ATTEMPTS", "1")
        .env("NEXTEST_STRESS_CURRENT", "none")
        .env("NEXTEST_STRESS_TOTAL", "none")
        .env("NEXTEST_PROFILE", "default")
        .env("NEXTEST_WORKSPACE_ROOT", &workspace().root)
        .env("RAMPART_DIR", rampart_dir);
    command
}
