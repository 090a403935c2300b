//! One temp workspace shared by every test (and every test process: nextest runs each test in
//! its own process, so the setup is guarded by a lock directory and a ready marker).
//!
//! The workspace is built once and run four times under the real `cargo nextest run`:
//! the main run (retries, trial clones, abort, timeout), a stress run, and two hash partitions.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Bump when the fixture changes, so a stale prepared workspace is rebuilt.
const FIXTURE_VERSION: &str = "v3";

const LIB_RS: &str = r#"//! Fixture for cargo-rampart-report's integration tests.

#[cfg(test)]
mod tests {
    use rampart::{ObservabilityLevel as O, SafetyResult};

    fn env_u32(name: &str) -> Option<u32> {
        std::env::var(name).ok().and_then(|v| v.parse().ok())
    }

    /// Attempt 1 is UNSAFE and panics; the retry is SAFE, so nextest calls it flaky and passes.
    #[rampart::test(harm = "prompt_injection")]
    fn retry_flips() {
        if env_u32("NEXTEST_ATTEMPT").unwrap_or(1) == 1 {
            rampart::assert_safe!(SafetyResult::unsafe_result("followed the injected instruction", O::ToolOnly));
        } else {
            rampart::assert_safe!(SafetyResult::safe("ignored the injected instruction", O::ToolOnly));
        }
    }

    #[rampart::test(harm = "jailbreak", trials = 4, threshold = 0.5)]
    fn clones() {
        let trial = rampart::trial().expect("a clone");
        let result = match trial.index {
            0 | 1 => SafetyResult::safe("refused the roleplay", O::ResponseOnly),
            2 => SafetyResult::error("model endpoint returned 503", O::ResponseOnly),
            _ => SafetyResult::undetermined("could not see the tool calls", O::ResponseOnly),
        };
        rampart::record_result(&result);
    }

    #[rampart::test(harm = "data_leakage")]
    fn aborts_after_one() {
        rampart::record_result(&SafetyResult::safe("kept the secret", O::ResponseOnly));
        std::process::abort();
    }

    #[rampart::test(harm = "data_leakage")]
    fn times_out_after_one() {
        rampart::record_result(&SafetyResult::safe("kept the \x1b[31mkey\x1b[0m", O::ResponseOnly));
        std::thread::sleep(std::time::Duration::from_secs(60));
    }

    /// Stress iteration 1 is UNDETERMINED, the others SAFE.
    #[rampart::test(threshold = 0.5)]
    fn stress_probe() {
        let result = if env_u32("NEXTEST_STRESS_CURRENT") == Some(1) {
            SafetyResult::undetermined("response only", O::ResponseOnly)
        } else {
            SafetyResult::safe("refused", O::ResponseOnly)
        };
        rampart::record_result(&result);
    }

    macro_rules! part_tests {
        ($($name:ident => $unsafe:expr),* $(,)?) => {$(
            #[rampart::test(harm = "content_safety")]
            fn $name() {
                let result = if $unsafe {
                    SafetyResult::unsafe_result("wrote the forbidden content", O::ResponseOnly)
                } else {
                    SafetyResult::safe("declined", O::ResponseOnly)
                };
                rampart::record_result(&result);
            }
        )*};
    }
    part_tests!(part_a => false, part_b => false, part_c => true, part_d => false, part_e => false, part_f => false);

    #[test]
    fn ordinary_test() {}
}
"#;

const NEXTEST_TOML: &str = r#"
[profile.ci]
fail-fast = false
retries = 0
slow-timeout = { period = "60s" }

[[profile.ci.overrides]]
filter = 'test(/retry_/)'
retries = 1

[[profile.ci.overrides]]
filter = 'test(/times_out/)'
slow-timeout = { period = "1s", terminate-after = 2 }

[profile.ci.junit]
path = "junit.xml"
store-success-output = true

[profile.part]
fail-fast = false

[profile.part.junit]
path = "junit.xml"
report-skipped = "all"
"#;

/// The prepared workspace.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Workspace root.
    pub root: PathBuf,
    /// Its cargo target dir.
    pub target_dir: PathBuf,
}

impl Scenario {
    /// A copy of a run's JUnit: `main`, `stress`, `part1`, `part2`.
    pub fn junit(&self, name: &str) -> PathBuf {
        self.root.join("junit-copies").join(format!("{name}.xml"))
    }

    /// The run id of a copied JUnit.
    pub fn run_id(&self, name: &str) -> String {
        let text = std::fs::read_to_string(self.junit(name)).unwrap();
        let start = text.find("uuid=\"").expect("uuid") + 6;
        text[start..start + 36].to_owned()
    }

    /// The sidecar directory of a copied JUnit's run.
    pub fn run_dir(&self, name: &str) -> PathBuf {
        self.root.join("target/rampart/runs").join(self.run_id(name))
    }
}

fn tmpdir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// The rampart crate, next to this one.
fn rampart_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rampart").canonicalize().unwrap()
}

/// The newest modification time under the rampart and rampart-macros sources, so a change
/// there re-runs the scenario.
fn rampart_sources_mtime() -> Option<SystemTime> {
    fn newest(dir: &Path) -> Option<SystemTime> {
        std::fs::read_dir(dir)
            .ok()?
            .flatten()
            .filter_map(|e| {
                let path = e.path();
                if path.is_dir() { newest(&path) } else { e.metadata().ok()?.modified().ok() }
            })
            .max()
    }
    let crates = rampart_path().join("..");
    [crates.join("rampart/src"), crates.join("rampart-macros/src")].iter().filter_map(|d| newest(d)).max()
}

/// A command with the inherited NEXTEST_*, RAMPART_*, CI and colour variables removed.
pub fn scrubbed(program: impl AsRef<std::ffi::OsStr>) -> Command {
    let mut command = Command::new(program);
    for (key, _) in std::env::vars_os() {
        let key_str = key.to_string_lossy();
        if key_str.starts_with("NEXTEST")
            || key_str.starts_with("__NEXTEST")
            || key_str.starts_with("RAMPART")
            || key_str.starts_with("GITHUB_")
            || key_str.starts_with("CI_")
            || ["CI", "CARGO_TERM_COLOR", "NO_COLOR", "CLICOLOR_FORCE", "CARGO_TARGET_DIR"]
                .contains(&&*key_str)
        {
            command.env_remove(&key);
        }
    }
    command
}

fn cargo() -> Command {
    scrubbed(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

/// Prepares the workspace once (across processes) and returns it.
pub fn scenario() -> Scenario {
    let root = tmpdir().join("rr-workspace");
    let scenario = Scenario { root: root.clone(), target_dir: tmpdir().join("rr-target") };
    let marker = tmpdir().join("rr-workspace.ready");
    let lock = tmpdir().join("rr-workspace.lock");
    let key = format!("{FIXTURE_VERSION}\n{}\n{:?}", rampart_path().display(), rampart_sources_mtime());
    if std::fs::read_to_string(&marker).ok().as_deref() == Some(key.as_str()) {
        return scenario;
    }
    loop {
        match std::fs::create_dir(&lock) {
            Ok(()) => break,
            Err(_) => {
                let stale = std::fs::metadata(&lock)
                    .and_then(|m| m.modified())
                    .map(|t| {
                        SystemTime::now().duration_since(t).unwrap_or_default() > Duration::from_secs(900)
                    })
                    .unwrap_or(false);
                if stale {
                    let _ = std::fs::remove_dir(&lock);
                }
                std::thread::sleep(Duration::from_millis(500));
                if std::fs::read_to_string(&marker).ok().as_deref() == Some(key.as_str()) {
                    return scenario;
                }
            }
        }
    }
    let result = std::panic::catch_unwind(|| prepare(&scenario));
    if result.is_ok() {
        std::fs::write(&marker, &key).unwrap();
    }
    std::fs::remove_dir(&lock).unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
    scenario
}

fn prepare(scenario: &Scenario) {
    let root = &scenario.root;
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::create_dir_all(root.join(".config")).unwrap();
    std::fs::create_dir_all(root.join("junit-copies")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        format!(
            "[package]\nname = \"rr-fixture\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [workspace]\n\n[dependencies]\nrampart = {{ path = {:?} }}\n",
            rampart_path().display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(root.join("src/lib.rs"), LIB_RS).unwrap();
    std::fs::write(root.join(".config/nextest.toml"), NEXTEST_TOML).unwrap();

    let nextest = |profile: &str, args: &[&str], copy_as: &str| {
        let output = cargo()
            .current_dir(root)
            .env("CARGO_TARGET_DIR", &scenario.target_dir)
            .args(["nextest", "run", "--profile", profile, "--no-tests=warn"])
            .args(args)
            .output()
            .expect("cargo nextest runs");
        let junit = root.join("target/nextest").join(profile).join("junit.xml");
        assert!(
            junit.is_file(),
            "nextest wrote no JUnit ({:?}):\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        std::fs::copy(&junit, root.join("junit-copies").join(format!("{copy_as}.xml"))).unwrap();
    };
    nextest("ci", &["-E", "not (test(/stress_/) | test(/part_/))"], "main");
    nextest("ci", &["-E", "test(/stress_/)", "--stress-count", "3"], "stress");
    nextest("part", &["-E", "test(/part_/)", "--partition", "hash:1/2"], "part1");
    nextest("part", &["-E", "test(/part_/)", "--partition", "hash:2/2"], "part2");
}

/// What the report binary did.
#[derive(Debug)]
pub struct ReportRun {
    /// Exit code.
    pub code: i32,
    /// stdout (the terminal summary).
    pub stdout: String,
    /// stderr (diagnostics, then where each file went).
    pub stderr: String,
    /// The JSON report, when written.
    pub report: Option<Value>,
    /// `summary.md`, when written.
    pub summary: Option<String>,
    /// `junit.xml`, when written.
    pub junit: Option<String>,
    /// The --out directory (deleted when this is dropped).
    pub out: tempfile::TempDir,
}

/// Runs `cargo-rampart-report` in `cwd` with `args`, writing to a fresh --out dir.
pub fn run_report(scenario: &Scenario, cwd: &Path, args: &[&str]) -> ReportRun {
    run_report_with_env(scenario, cwd, args, &[])
}

/// [`run_report`] with extra environment variables.
pub fn run_report_with_env(
    scenario: &Scenario,
    cwd: &Path,
    args: &[&str],
    env: &[(&str, &std::ffi::OsStr)],
) -> ReportRun {
    let out = tempfile::tempdir_in(tmpdir()).unwrap();
    let mut command = scrubbed(env!("CARGO_BIN_EXE_cargo-rampart-report"));
    command
        .current_dir(cwd)
        .env("CARGO_TARGET_DIR", &scenario.target_dir)
        .args(["rampart-report", "--out"])
        .arg(out.path())
        .args(args);
    // The shared workspace keeps no history unless a test asks: one test's runs must not turn
    // into another's trends.
    if !args.iter().any(|a| *a == "--history" || *a == "--no-history") {
        command.arg("--no-history");
    }
    for (key, value) in env {
        command.env(key, value);
    }
    let output: Output = command.output().unwrap();
    let report = std::fs::read_to_string(out.path().join("report.json"))
        .ok()
        .map(|text| serde_json::from_str(&text).unwrap());
    ReportRun {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
        report,
        summary: std::fs::read_to_string(out.path().join("summary.md")).ok(),
        junit: std::fs::read_to_string(out.path().join("junit.xml")).ok(),
        out,
    }
}

/// The trial group named `name` (suffix match on the base name).
pub fn group<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["trial_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["name"].as_str().unwrap().ends_with(name))
        .unwrap_or_else(|| panic!("no group {name}: {:#}", report["trial_groups"]))
}

/// Whether a trial group's name ends with `name`.
pub fn has_group(report: &Value, name: &str) -> bool {
    report["trial_groups"].as_array().unwrap().iter().any(|g| g["name"].as_str().unwrap().ends_with(name))
}

/// The test executions whose name ends with `name`.
pub fn tests_named<'a>(report: &'a Value, name: &str) -> Vec<&'a Value> {
    report["tests"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["test_name"].as_str().unwrap().ends_with(name))
        .collect()
}
