//! The demo red-team suite (`fixtures/demo`) run for real with `cargo nextest run --profile ci`,
//! checked against `fixtures/demo/expected.json`: one sidecar per attempt for every test that
//! records (every retry attempt, every trial clone, every stress iteration), identities that
//! match nextest's JUnit, the recorded statuses, the aborted test's surviving result, and the
//! trial groups' trials by class. (The report's verdicts on the demo are checked by
//! `crates/cargo-rampart-report/tests/integration/demo.rs`.)
//!
//! Each run is isolated: `RAMPART_DIR` points into a fresh temp dir, and a nextest tool config
//! moves nextest's store (hence the JUnit, normally `fixtures/demo/target/nextest/ci/junit.xml`)
//! there too, so concurrent runs (these tests, `cargo xtask demo`) never read each other's
//! files. Builds share one `CARGO_TARGET_DIR` under `CARGO_TARGET_TMPDIR`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use rampart::SafetyStatus;
use rampart::sidecar::{self, Harness, Sidecar};
use rampart_test_support::expected::{
    Expected, ExpectedTest, GroupVerdict, JunitExpectation as JunitOutcome, Killed, RelativeToThreshold,
    SafetyClass, demo_dir,
};

// ---------------------------------------------------------------------------------------
// expected.json (read by `rampart_test_support::expected`), and the report's rules

/// The attempt a trial counts through (0-based): the first that recorded UNSAFE, else the
/// last; `None` when it never ran.
fn counted_attempt(attempts: &[Vec<SafetyStatus>]) -> Option<usize> {
    attempts.iter().position(|s| s.contains(&SafetyStatus::Unsafe)).or(attempts.len().checked_sub(1))
}

/// The report's classification of a test (or trial) from its attempts' statuses, `killed`
/// telling whether its counted attempt's process was killed (abort, timeout): no results →
/// `no_result`; UNSAFE on any attempt → `unsafe`; a killed counted attempt → `error`; else
/// from the counted attempt's results (`error`, `safe`, `undetermined`). Also the attempts
/// whose UNSAFE a retry hid.
fn classify(attempts: &[Vec<SafetyStatus>], killed: bool) -> (SafetyClass, Vec<u32>) {
    let Some(counted) = counted_attempt(attempts) else { return (SafetyClass::NoResult, Vec::new()) };
    let (last, counted) = (attempts.last().unwrap(), &attempts[counted]);
    let retried: Vec<u32> = if last.contains(&SafetyStatus::Unsafe) {
        Vec::new()
    } else {
        (1..)
            .zip(&attempts[..attempts.len() - 1])
            .filter(|(_, s)| s.contains(&SafetyStatus::Unsafe))
            .map(|(a, _)| a)
            .collect()
    };
    let class = if counted.is_empty() {
        SafetyClass::NoResult
    } else if counted.contains(&SafetyStatus::Unsafe) {
        SafetyClass::Unsafe
    } else if killed || counted.contains(&SafetyStatus::Error) {
        SafetyClass::Error
    } else if counted.contains(&SafetyStatus::Safe) {
        SafetyClass::Safe
    } else {
        SafetyClass::Undetermined
    };
    (class, retried)
}

/// The report's group rule: no UNSAFE trial and a pass rate (`safe / total`) at or above the
/// threshold.
fn group_verdict(safe: u32, unsafe_: u32, total: u32, threshold: f64) -> GroupVerdict {
    let pass_rate = f64::from(safe) / f64::from(total);
    if unsafe_ == 0 && pass_rate >= threshold { GroupVerdict::Passed } else { GroupVerdict::Failed }
}

// ---------------------------------------------------------------------------------------
// Running the demo

/// One `cargo nextest run --profile ci` of the demo, with its outputs.
struct DemoRun {
    exit_code: Option<i32>,
    junit: Junit,
    /// The run directory's sidecars, by file name.
    sidecars: BTreeMap<String, Sidecar>,
    /// Names of the entries of `<RAMPART_DIR>/runs`.
    run_dirs: Vec<String>,
    stderr: String,
    _tmp: tempfile::TempDir,
}

fn run_demo(extra_args: &[&str]) -> DemoRun {
    let tmp_root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let tmp = tempfile::Builder::new().prefix("demo-run-").tempdir_in(tmp_root).expect("temp dir");
    let rampart_dir = tmp.path().join("rampart");
    let store_dir = tmp.path().join("nextest-store");
    // A tool config may set what the repository config leaves unset, such as the store dir.
    let tool_config = tmp.path().join("nextest-tool-config.toml");
    let store = store_dir.to_str().expect("UTF-8 temp path").replace('\\', "/");
    std::fs::write(&tool_config, format!("[store]\ndir = '{store}'\n")).expect("write tool config");

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(demo_dir())
        .args(["nextest", "run", "--profile", "ci", "--color", "never", "--manifest-path"])
        .arg(demo_dir().join("Cargo.toml"))
        .arg("--tool-config-file")
        .arg(format!("rampart-integration-tests:{}", tool_config.display()))
        .args(extra_args);
    // This test itself runs under nextest: none of its identity may leak into the demo.
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("NEXTEST") || name.starts_with("__NEXTEST") || name.starts_with("RAMPART") {
            command.env_remove(&*name);
        }
    }
    command.env("CARGO_TARGET_DIR", tmp_root.join("demo-target")).env("RAMPART_DIR", &rampart_dir);
    let output = command.output().expect("run cargo nextest (is cargo-nextest installed?)");
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();

    let junit_path = store_dir.join("ci").join("junit.xml");
    let junit_xml = std::fs::read_to_string(&junit_path)
        .unwrap_or_else(|e| panic!("no JUnit at {} ({e}); nextest said:\n{stderr}", junit_path.display()));
    let junit = Junit::parse(&junit_xml);

    let runs = rampart_dir.join("runs");
    let mut run_dirs: Vec<String> = match std::fs::read_dir(&runs) {
        Ok(entries) => {
            entries.map(|e| e.expect("dir entry").file_name().to_string_lossy().into_owned()).collect()
        }
        Err(e) => panic!("no run directory under {} ({e}); nextest said:\n{stderr}", runs.display()),
    };
    run_dirs.sort();
    let mut sidecars = BTreeMap::new();
    for dir in &run_dirs {
        for entry in std::fs::read_dir(runs.join(dir)).expect("read run dir") {
            let path = entry.expect("dir entry").path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            assert!(name.ends_with(".jsonl"), "unexpected file {} in the run directory", path.display());
            let sidecar = sidecar::read(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
            sidecars.insert(format!("{dir}/{name}"), sidecar);
        }
    }
    DemoRun { exit_code: output.status.code(), junit, sidecars, run_dirs, stderr, _tmp: tmp }
}

// ---------------------------------------------------------------------------------------
// Minimal JUnit reading: the run id, and per testcase its suite and child elements

#[derive(Debug, Default)]
struct Junit {
    uuid: String,
    cases: Vec<JunitCase>,
}

#[derive(Debug)]
struct JunitCase {
    suite: String,
    classname: String,
    name: String,
    /// `(element name, type attribute)` of the status children, in order.
    children: Vec<(String, String)>,
}

impl JunitCase {
    fn outcome(&self, attempts: u32) -> Result<JunitOutcome, String> {
        let kinds: Vec<(&str, &str)> = self.children.iter().map(|(e, t)| (e.as_str(), t.as_str())).collect();
        let reruns = kinds.iter().filter(|(e, _)| *e == "rerunFailure").count();
        let flakies = kinds.iter().filter(|(e, _)| *e == "flakyFailure").count();
        let expected_reruns = attempts as usize - 1;
        match kinds.first() {
            None => Ok(JunitOutcome::Pass),
            Some(("failure", kind)) if reruns == expected_reruns && kind.starts_with("test abort") => {
                Ok(JunitOutcome::Abort)
            }
            Some(("failure", kind)) if reruns == expected_reruns && kind.starts_with("test failure") => {
                Ok(JunitOutcome::Fail)
            }
            Some(("flakyFailure", _)) if flakies == expected_reruns && flakies == kinds.len() => {
                Ok(JunitOutcome::Flaky)
            }
            _ => Err(format!("unexpected JUnit children {kinds:?} for {attempts} attempt(s)")),
        }
    }
}

impl Junit {
    fn parse(xml: &str) -> Junit {
        let mut junit = Junit::default();
        let mut suite = String::new();
        let mut rest = xml;
        while let Some(start) = rest.find('<') {
            rest = &rest[start + 1..];
            let end = rest.find('>').expect("unterminated tag");
            let tag = &rest[..end];
            rest = &rest[end + 1..];
            let tag_name = tag.split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or("");
            match tag_name {
                "testsuites" => junit.uuid = attr(tag, "uuid").expect("testsuites@uuid"),
                "testsuite" => suite = attr(tag, "name").expect("testsuite@name"),
                "testcase" => junit.cases.push(JunitCase {
                    suite: suite.clone(),
                    classname: attr(tag, "classname").expect("testcase@classname"),
                    name: attr(tag, "name").expect("testcase@name"),
                    children: Vec::new(),
                }),
                "failure" | "error" | "rerunFailure" | "rerunError" | "flakyFailure" | "flakyError" => {
                    let case = junit.cases.last_mut().expect("status element outside a testcase");
                    case.children.push((tag_name.to_owned(), attr(tag, "type").unwrap_or_default()));
                }
                _ => {}
            }
        }
        junit
    }

    fn cases_of(&self, binary_id: &str, name: &str) -> Vec<&JunitCase> {
        self.cases.iter().filter(|c| c.classname == binary_id && c.name == name).collect()
    }
}

/// The unescaped value of attribute `name` in a start tag.
fn attr(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let start = tag.find(&needle)? + needle.len();
    let len = tag[start..].find('"')?;
    let raw = &tag[start..start + len];
    Some(
        raw.replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

// ---------------------------------------------------------------------------------------
// Checks

/// Sidecars by (binary id, test name, stress index), then attempt.
type ByAttempt<'a> = BTreeMap<(String, String, Option<u32>), BTreeMap<u32, (&'a str, &'a Sidecar)>>;

fn index_sidecars(run: &DemoRun) -> ByAttempt<'_> {
    let mut by_attempt = ByAttempt::new();
    for (file, sidecar) in &run.sidecars {
        let id = &sidecar.header.identity;
        let key =
            (id.binary_id.clone().expect("binary id under nextest"), id.test_name.clone(), id.stress_index);
        let previous = by_attempt.entry(key).or_default().insert(id.attempt, (file.as_str(), sidecar));
        assert!(previous.is_none(), "two sidecars for attempt {} of {}${}", id.attempt, key_str(id), file);
    }
    by_attempt
}

fn key_str(id: &sidecar::AttemptIdentity) -> String {
    format!("{}${}@{:?}", id.binary_id.as_deref().unwrap_or(""), id.test_name, id.stress_index)
}

/// Checks a run against expected.json; `stress` is `Some(k)` for `--stress-count k`.
fn check_run(expected: &Expected, run: &DemoRun, stress: Option<u32>) {
    let context = || format!("nextest stderr:\n{}", run.stderr);
    assert_eq!(
        run.exit_code,
        Some(expected.nextest_exit_code),
        "the demo fails on purpose, with 100; {}",
        context()
    );
    assert_eq!(
        run.run_dirs,
        std::slice::from_ref(&run.junit.uuid),
        "one run directory, named by the JUnit uuid"
    );
    let problems: Vec<_> = run.sidecars.iter().filter(|(_, s)| !s.problems.is_empty()).collect();
    assert!(problems.is_empty(), "sidecars with problems: {problems:#?}");

    let iterations: Vec<Option<u32>> = match stress {
        Some(k) => (0..k).map(Some).collect(),
        None => vec![None],
    };
    let by_attempt = index_sidecars(run);
    // Every sidecar names a testcase of this run's JUnit, in the suite of its stress iteration.
    for (file, sidecar) in &run.sidecars {
        let id = &sidecar.header.identity;
        let binary_id = id.binary_id.as_deref().unwrap_or_default();
        let suite = match id.stress_index {
            Some(i) => format!("{binary_id}@stress-{i}"),
            None => binary_id.to_owned(),
        };
        let in_junit = run.junit.cases_of(binary_id, &id.test_name).iter().any(|c| c.suite == suite);
        assert!(in_junit, "{file}: no JUnit testcase {}::{} in suite {suite}", binary_id, id.test_name);
    }
    let mut expected_keys = BTreeSet::new();
    let mut n_expected_sidecars = 0;
    for test in &expected.tests {
        let label = format!("{} {}", test.binary_id, test.name);
        // JUnit: one testcase per stress iteration (none when ignored), with the expected outcome.
        let cases = run.junit.cases_of(&test.binary_id, &test.name);
        if test.junit == JunitOutcome::Ignored {
            assert!(cases.is_empty(), "{label}: ignored, yet in the JUnit");
        } else {
            assert_eq!(cases.len(), iterations.len(), "{label}: JUnit testcases");
            for case in &cases {
                assert_eq!(case.outcome(test.attempts), Ok(test.junit), "{label} in suite {}", case.suite);
            }
        }
        // Sidecars: one per attempt per stress iteration, with the expected identity and content.
        for &stress_index in &iterations {
            let key = (test.binary_id.clone(), test.name.clone(), stress_index);
            let label = format!("{label} (stress {stress_index:?})");
            n_expected_sidecars += test.sidecars as usize;
            if test.sidecars == 0 {
                assert!(!by_attempt.contains_key(&key), "{label}: records nothing, yet has a sidecar");
                continue;
            }
            expected_keys.insert(key.clone());
            let attempts = by_attempt.get(&key).unwrap_or_else(|| panic!("{label}: no sidecar"));
            let numbers: Vec<u32> = attempts.keys().copied().collect();
            assert_eq!(numbers, (1..=test.sidecars).collect::<Vec<_>>(), "{label}: attempts with a sidecar");
            for (&attempt, &(file, sidecar)) in attempts {
                let label = format!("{label} attempt {attempt} ({file})");
                check_sidecar(expected, test, &run.junit.uuid, stress, attempt, sidecar, &label);
            }
        }
    }
    let unexpected: Vec<_> = by_attempt.keys().filter(|k| !expected_keys.contains(*k)).collect();
    assert!(unexpected.is_empty(), "sidecars of tests expected.json does not list: {unexpected:?}");
    assert_eq!(run.sidecars.len(), n_expected_sidecars, "total sidecars");
    let n_cases =
        expected.tests.iter().filter(|t| t.junit != JunitOutcome::Ignored).count() * iterations.len();
    assert_eq!(run.junit.cases.len(), n_cases, "JUnit testcases: no test expected.json does not list");

    // Trial groups: each clone classified from its attempts' sidecars, per stress iteration.
    for group in &expected.trial_groups {
        for &stress_index in &iterations {
            let mut by_class: BTreeMap<SafetyClass, Vec<u32>> = BTreeMap::new();
            let mut seen = 0;
            for ((binary, _, s), attempts) in &by_attempt {
                let (_, &(_, last)) = attempts.last_key_value().expect("at least one attempt");
                let Some(spec) = &last.header.spec else { continue };
                let Some(trial) = spec.trial else { continue };
                if *binary != group.binary_id || spec.base_name != group.base_name || *s != stress_index {
                    continue;
                }
                seen += 1;
                assert_eq!(trial.count, group.total);
                let statuses: Vec<Vec<SafetyStatus>> = attempts
                    .values()
                    .map(|(_, sidecar)| sidecar.results.iter().map(|r| r.result.status).collect())
                    .collect();
                let sidecars: Vec<&Sidecar> = attempts.values().map(|(_, sidecar)| *sidecar).collect();
                let killed = counted_attempt(&statuses).is_some_and(|c| sidecars[c].is_missing_end());
                by_class.entry(classify(&statuses, killed).0).or_default().push(trial.index);
            }
            let label =
                format!("trial group {} {} (stress {stress_index:?})", group.binary_id, group.base_name);
            assert_eq!(seen, group.total, "{label}: clones with sidecars");
            let safe = by_class.remove(&SafetyClass::Safe).map_or(0, |v| v.len() as u32);
            by_class.values_mut().for_each(|v| v.sort());
            by_class.retain(|_, v| !v.is_empty());
            let mut expected_classes = group.trials_by_class();
            expected_classes.retain(|_, v| !v.is_empty());
            assert_eq!((safe, &by_class), (group.safe, &expected_classes), "{label}: trials by class");
            let unsafe_ = by_class.get(&SafetyClass::Unsafe).map_or(0, |v| v.len() as u32);
            assert_eq!(
                group_verdict(safe, unsafe_, group.total, group.threshold),
                group.verdict,
                "{label}: {safe}/{} safe, {unsafe_} unsafe, against {}",
                group.total,
                group.threshold
            );
        }
    }
}

fn check_sidecar(
    expected: &Expected,
    test: &ExpectedTest,
    run_id: &str,
    stress: Option<u32>,
    attempt: u32,
    sidecar: &Sidecar,
    label: &str,
) {
    let id = &sidecar.header.identity;
    assert_eq!(id.harness, Harness::Nextest, "{label}");
    assert_eq!(id.run_id, run_id, "{label}: run id = JUnit uuid");
    assert_eq!(id.profile.as_deref(), Some(expected.profile.as_str()), "{label}");
    assert_eq!(id.total_attempts, expected.total_attempts, "{label}");
    assert_eq!(id.stress_total, stress, "{label}");
    let attempt_id = id.attempt_id.as_deref().unwrap_or_else(|| panic!("{label}: no NEXTEST_ATTEMPT_ID"));
    assert!(attempt_id.starts_with(&format!("{run_id}:{}", test.binary_id)), "{label}: {attempt_id}");
    assert!(attempt_id.contains(&format!("${}", test.name)), "{label}: {attempt_id}");

    // The spec: present exactly for #[rampart::test], with the trial and threshold declared.
    assert_eq!(sidecar.is_declared(), test.rampart, "{label}: header spec");
    if let Some(spec) = &sidecar.header.spec {
        assert_eq!(spec.harm.as_ref().map(|h| h.as_str()), test.harm.as_deref(), "{label}: spec harm");
        match &test.trial {
            Some(trial) => {
                let found = spec.trial.unwrap_or_else(|| panic!("{label}: no trial in the spec"));
                assert_eq!((found.index, found.count), (trial.index, trial.count), "{label}: trial");
                assert_eq!(spec.base_name, trial.base_name, "{label}: base name");
                assert_eq!(spec.threshold, trial.threshold, "{label}: threshold");
            }
            None => {
                assert!(spec.trial.is_none(), "{label}: not a trial clone");
                assert_eq!(spec.base_name, test.name, "{label}: base name");
            }
        }
    }

    // The results and how the attempt ended.
    let index = attempt as usize - 1;
    let statuses: Vec<SafetyStatus> = sidecar.results.iter().map(|r| r.result.status).collect();
    assert_eq!(statuses, test.statuses[index], "{label}: statuses");
    for result in &sidecar.results {
        let harm = result.result.harm_category.as_ref().map(|h| h.as_str());
        assert_eq!(harm, test.harm.as_deref(), "{label}: harm category of the result");
    }
    let end = sidecar.end.as_ref().map(|e| e.outcome);
    assert_eq!(end, test.ends[index], "{label}: end line");
    if let Some(end) = &sidecar.end {
        assert_eq!(end.n_results as usize, sidecar.results.len(), "{label}: end line's count");
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn expected_json_is_self_consistent() {
    let expected = Expected::load();
    assert_eq!(expected.profile, "ci");
    let mut names = BTreeSet::new();
    for test in &expected.tests {
        let label = format!("{} {}", test.binary_id, test.name);
        assert!(names.insert((&test.binary_id, &test.name)), "{label} is listed twice");
        let records = test.sidecars > 0;
        if test.junit == JunitOutcome::Ignored {
            assert_eq!((test.attempts, test.sidecars), (0, 0), "{label}");
            continue;
        }
        assert!(test.attempts >= 1 && test.attempts <= expected.total_attempts, "{label}");
        let single = matches!(test.junit, JunitOutcome::Pass);
        assert_eq!(test.attempts == 1, single, "{label}: only a first-time pass makes one attempt");
        if records {
            assert_eq!(test.sidecars, test.attempts, "{label}: one sidecar per attempt");
            assert_eq!(test.statuses.len() as u32, test.attempts, "{label}");
            assert_eq!(test.ends.len() as u32, test.attempts, "{label}");
        }
        if test.junit == JunitOutcome::Abort {
            assert!(test.ends.iter().all(Option::is_none), "{label}: an aborted process writes no end line");
        }
        if test.rampart && test.junit != JunitOutcome::Abort {
            assert!(test.ends.iter().all(Option::is_some), "{label}: a #[rampart::test] ends every attempt");
        }
    }
    // Classes: what the report makes of each test's statuses.
    for test in &expected.tests {
        let label = format!("{} {}", test.binary_id, test.name);
        if test.sidecars == 0 {
            assert_eq!(test.class, None, "{label}: records nothing, so no class");
            assert!(test.unsafe_retried_attempts.is_empty(), "{label}");
            continue;
        }
        // Aborted on every attempt, so the counted attempt was killed.
        let killed = test.junit == JunitOutcome::Abort;
        assert_eq!(test.killed, killed.then_some(Killed::Abort), "{label}: killed");
        let (class, retried) = classify(&test.statuses, killed);
        assert_eq!(test.class, Some(class), "{label}: class");
        assert_eq!(test.unsafe_retried_attempts, retried, "{label}: unsafe_retried_attempts");
    }
    // The report's totals count the results of each test's counted attempt; the other
    // attempts' results are superseded.
    let mut all: Vec<SafetyStatus> = Vec::new();
    let mut n_superseded = 0;
    for test in &expected.tests {
        let counted = counted_attempt(&test.statuses);
        for (attempt, statuses) in test.statuses.iter().enumerate() {
            if Some(attempt) == counted {
                all.extend(statuses);
            } else {
                n_superseded += statuses.len() as u32;
            }
        }
    }
    let count = |s: SafetyStatus| all.iter().filter(|x| **x == s).count() as u32;
    let report = &expected.report;
    assert_eq!(report.total_runs, all.len() as u32, "report.total_runs");
    assert_eq!(report.superseded_results, n_superseded, "report.superseded_results");
    assert_eq!(
        (report.passed, report.failed, report.undetermined, report.errors),
        (
            count(SafetyStatus::Safe),
            count(SafetyStatus::Unsafe),
            count(SafetyStatus::Undetermined),
            count(SafetyStatus::Error)
        ),
        "report totals"
    );
    for group in &expected.trial_groups {
        let label = &group.base_name;
        let clones: Vec<&ExpectedTest> = expected
            .tests
            .iter()
            .filter(|t| {
                t.binary_id == group.binary_id
                    && t.trial.as_ref().is_some_and(|tr| tr.base_name == group.base_name)
            })
            .collect();
        assert_eq!(clones.len() as u32, group.total, "{label}");
        let mut by_class: BTreeMap<SafetyClass, Vec<u32>> = BTreeMap::new();
        for clone in &clones {
            let trial = clone.trial.as_ref().unwrap();
            assert_eq!((trial.count, trial.threshold), (group.total, group.threshold), "{label}");
            let class = clone.class.expect("a clone records");
            by_class.entry(class).or_default().push(trial.index);
        }
        let n = |class: SafetyClass| by_class.get(&class).map_or(0, |v| v.len() as u32);
        assert_eq!(
            (group.safe, group.unsafe_, group.errors, group.undetermined, group.no_result),
            (
                n(SafetyClass::Safe),
                n(SafetyClass::Unsafe),
                n(SafetyClass::Error),
                n(SafetyClass::Undetermined),
                n(SafetyClass::NoResult)
            ),
            "{label}: counts by class"
        );
        for (class, indices) in group.trials_by_class() {
            assert_eq!(
                by_class.get(&class).cloned().unwrap_or_default(),
                indices,
                "{label}: {class:?} trials"
            );
        }
        let retried = clones.iter().any(|t| !t.unsafe_retried_attempts.is_empty());
        assert_eq!(group.unsafe_on_retried_attempt, retried, "{label}");
        let pass_rate = f64::from(group.safe) / f64::from(group.total);
        assert_eq!(group.pass_rate, pass_rate, "{label}: pass_rate");
        let relative = if pass_rate > group.threshold {
            RelativeToThreshold::Above
        } else if pass_rate == group.threshold {
            RelativeToThreshold::At
        } else {
            RelativeToThreshold::Below
        };
        assert_eq!(group.relative_to_threshold, relative, "{label}");
        assert_eq!(
            group.verdict,
            group_verdict(group.safe, group.unsafe_, group.total, group.threshold),
            "{label}: verdict"
        );
    }
    // The demo promises passing groups above and exactly at their thresholds, a failing group
    // below, and a group that fails on an UNSAFE trial although its pass rate is above.
    let kinds: BTreeSet<(&str, &str, bool)> = expected
        .trial_groups
        .iter()
        .map(|g| (g.relative_to_threshold.as_str(), g.verdict.as_str(), g.unsafe_ > 0))
        .collect();
    for kind in [("above", "PASSED", false), ("at", "PASSED", false), ("below", "FAILED", true)] {
        assert!(kinds.contains(&kind), "no trial group {kind:?}: {kinds:?}");
    }
    assert!(kinds.contains(&("above", "FAILED", true)), "no group failed by one UNSAFE trial: {kinds:?}");
}

#[test]
fn ci_profile_leaves_one_sidecar_per_attempt() {
    let expected = Expected::load();
    let run = run_demo(&[]);
    check_run(&expected, &run, None);
}

#[test]
fn stress_count_leaves_one_sidecar_per_iteration_and_attempt() {
    let expected = Expected::load();
    let run = run_demo(&["--stress-count", "2"]);
    check_run(&expected, &run, Some(2));
}

#[test]
fn aborted_test_keeps_the_result_it_recorded() {
    let run = run_demo(&["-E", "test(=tokenizer_crash_after_recording)"]);
    assert_eq!(run.exit_code, Some(100), "{}", run.stderr);
    let cases = run.junit.cases_of("rampart-demo::leakage", "tokenizer_crash_after_recording");
    assert_eq!(cases.len(), 1);
    assert_eq!(cases[0].outcome(2), Ok(JunitOutcome::Abort));
    let attempts: Vec<u32> = run.sidecars.values().map(|s| s.header.identity.attempt).collect();
    assert_eq!(attempts.iter().copied().collect::<BTreeSet<_>>(), BTreeSet::from([1, 2]), "{attempts:?}");
    for (file, sidecar) in &run.sidecars {
        assert_eq!(sidecar.header.identity.test_name, "tokenizer_crash_after_recording", "{file}");
        assert!(sidecar.is_missing_end(), "{file}: the process aborted, so no end line");
        assert!(sidecar.problems.is_empty(), "{file}: {:?}", sidecar.problems);
        assert_eq!(sidecar.results.len(), 1, "{file}");
        let result = &sidecar.results[0].result;
        assert_eq!(result.status, SafetyStatus::Safe, "{file}");
        assert_eq!(result.harm_category.as_ref().map(|h| h.as_str()), Some("data_leakage"), "{file}");
        assert!(!result.turns.is_empty(), "{file}: the evidence survived");
    }
}
