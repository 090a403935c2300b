//! A whole nextest run in memory: tests and their attempts, turned into the sidecars the
//! recorder would write (through [`SidecarBuilder`]) and the JUnit nextest would write
//! (through [`JunitBuilder`]).

use std::path::Path;

use camino::{Utf8Path, Utf8PathBuf};
use rampart::sidecar::EndOutcome;
use rampart::{HarmCategory, SafetyResult};

use crate::junit::{JunitAttempt, JunitBuilder, JunitCase};
use crate::sidecar::SidecarBuilder;

/// One attempt of a test: what it recorded, how its body ended, and what JUnit says.
#[derive(Clone, Debug, PartialEq)]
pub struct AttemptRun {
    /// The results recorded, in order.
    pub results: Vec<SafetyResult>,
    /// The sidecar's end line (`None`: the process was killed before it). Only
    /// `#[rampart::test]` tests write one; a plain test's sidecar never has it.
    pub end: Option<EndOutcome>,
    /// The panic message of a panicked body, for the end line.
    pub panic_message: Option<String>,
    /// The JUnit attempt.
    pub junit: JunitAttempt,
}

impl AttemptRun {
    /// The body returned and the process passed.
    pub fn passed(results: Vec<SafetyResult>) -> AttemptRun {
        AttemptRun {
            results,
            end: Some(EndOutcome::Returned),
            panic_message: None,
            junit: JunitAttempt::pass(),
        }
    }

    /// The body panicked with `message` (e.g. `assert_safe!` on an UNSAFE result): exit 101.
    pub fn panicked(results: Vec<SafetyResult>, message: impl Into<String>) -> AttemptRun {
        let message = message.into();
        AttemptRun {
            results,
            end: Some(EndOutcome::Panicked),
            junit: JunitAttempt::panicked(message.clone()),
            panic_message: Some(message),
        }
    }

    /// The process was killed by SIGABRT after recording `results`: no end line.
    pub fn aborted(results: Vec<SafetyResult>) -> AttemptRun {
        AttemptRun { results, end: None, panic_message: None, junit: JunitAttempt::aborted() }
    }

    /// The process was killed after its slow-timeout, having recorded `results`: no end line.
    pub fn timed_out(results: Vec<SafetyResult>) -> AttemptRun {
        AttemptRun { results, end: None, panic_message: None, junit: JunitAttempt::timed_out() }
    }

    /// Sets the captured stdout (JUnit).
    pub fn with_output(mut self, stdout: impl Into<String>) -> Self {
        self.junit.stdout = Some(stdout.into());
        self
    }

    /// Sets the end line's outcome (`None`: no end line).
    pub fn with_end(mut self, end: Option<EndOutcome>) -> Self {
        self.end = end;
        self
    }

    /// Replaces the JUnit attempt.
    pub fn with_junit(mut self, junit: JunitAttempt) -> Self {
        self.junit = junit;
        self
    }
}

/// One test of a run in one stress iteration: a `#[rampart::test]` (declared, with a spec)
/// or a plain `#[test]` that records.
#[derive(Clone, Debug, PartialEq)]
pub struct TestRun {
    /// The binary id, e.g. `rampart-demo::injection`.
    pub binary_id: String,
    /// The function path without a trial suffix: the base name of a trial group.
    pub base_name: String,
    /// Declared with `#[rampart::test]`.
    pub declared: bool,
    /// The declared harm category.
    pub harm: Option<HarmCategory>,
    /// The declared threshold.
    pub threshold: f64,
    /// (index, count) of a trial clone.
    pub trial: Option<(u32, u32)>,
    /// (index, total) of a stress iteration.
    pub stress: Option<(u32, Option<u32>)>,
    /// The attempts, in order.
    pub attempts: Vec<AttemptRun>,
    /// Attempts allowed (retries + 1); by default the number of attempts.
    pub total_attempts: Option<u32>,
    /// `Some(reason)`: not run, listed in JUnit as skipped (no sidecar).
    pub skipped: Option<String>,
}

impl TestRun {
    /// A `#[rampart::test]` named `name` (threshold 1.0, no harm category).
    pub fn rampart(binary_id: impl Into<String>, name: impl Into<String>) -> TestRun {
        TestRun {
            binary_id: binary_id.into(),
            base_name: name.into(),
            declared: true,
            harm: None,
            threshold: 1.0,
            trial: None,
            stress: None,
            attempts: Vec::new(),
            total_attempts: None,
            skipped: None,
        }
    }

    /// A plain `#[test]` named `name` that calls `record_result` (no spec, no end line).
    pub fn plain(binary_id: impl Into<String>, name: impl Into<String>) -> TestRun {
        TestRun { declared: false, ..TestRun::rampart(binary_id, name) }
    }

    /// Sets the harm category (declared).
    pub fn harm(mut self, harm: impl Into<HarmCategory>) -> Self {
        self.harm = Some(harm.into());
        self
    }

    /// Sets the threshold.
    pub fn threshold(mut self, threshold: f64) -> Self {
        self.threshold = threshold;
        self
    }

    /// Makes it trial clone `index` of `count`: its test name becomes
    /// `<base name>::trial_NN`.
    pub fn trial(mut self, index: u32, count: u32) -> Self {
        self.trial = Some((index, count));
        self
    }

    /// Puts it in stress iteration `index` (of `total`, when known).
    pub fn stress(mut self, index: u32, total: Option<u32>) -> Self {
        self.stress = Some((index, total));
        self
    }

    /// Adds the next attempt.
    pub fn attempt(mut self, attempt: AttemptRun) -> Self {
        self.attempts.push(attempt);
        self
    }

    /// Adds attempts, in order.
    pub fn attempts(mut self, attempts: impl IntoIterator<Item = AttemptRun>) -> Self {
        self.attempts.extend(attempts);
        self
    }

    /// Sets the attempts allowed.
    pub fn total_attempts(mut self, total: u32) -> Self {
        self.total_attempts = Some(total);
        self
    }

    /// Not run: listed in JUnit as skipped because it `reason` (e.g. `is in a different
    /// partition`).
    pub fn skipped(mut self, reason: impl Into<String>) -> Self {
        self.skipped = Some(reason.into());
        self
    }

    /// The test name: the base name, plus `::trial_NN` for a trial clone.
    pub fn test_name(&self) -> String {
        match self.trial {
            Some((index, count)) => format!("{}::{}", self.base_name, rampart::trial_fn_name(index, count)),
            None => self.base_name.clone(),
        }
    }

    /// The sidecar of each attempt that leaves one (a plain test that records nothing leaves
    /// none), for run `run_id`.
    pub fn sidecars(&self, run_id: &str) -> Vec<SidecarBuilder> {
        if self.skipped.is_some() {
            return Vec::new();
        }
        let total = self.total_attempts.unwrap_or(self.attempts.len() as u32).max(1);
        let mut sidecars = Vec::new();
        for (n, attempt) in (1..).zip(&self.attempts) {
            if !self.declared && attempt.results.is_empty() {
                continue;
            }
            let mut sidecar = SidecarBuilder::nextest(run_id, self.binary_id.as_str(), self.test_name())
                .attempt(n, total)
                .results(attempt.results.iter().cloned());
            if let Some((index, total)) = self.stress {
                sidecar = sidecar.stress(index, total);
            }
            if self.declared {
                sidecar = sidecar.base_name(self.base_name.as_str()).threshold(self.threshold);
                if let Some(harm) = &self.harm {
                    sidecar = sidecar.harm(harm.clone());
                }
                if let Some((index, count)) = self.trial {
                    sidecar = sidecar.trial(index, count);
                }
                sidecar = match (attempt.end, &attempt.panic_message) {
                    (Some(EndOutcome::Panicked), Some(message)) => sidecar.panicked(message.as_str()),
                    (Some(outcome), _) => sidecar.end(outcome),
                    (None, _) => sidecar,
                };
            }
            sidecars.push(sidecar);
        }
        sidecars
    }

    /// The JUnit testcase.
    pub fn junit_case(&self) -> JunitCase {
        let mut case = match &self.skipped {
            Some(reason) => JunitCase::skipped(self.binary_id.as_str(), self.test_name(), reason),
            None => JunitCase::new(self.binary_id.as_str(), self.test_name())
                .attempts(self.attempts.iter().map(|a| a.junit.clone())),
        };
        if let Some((index, _)) = self.stress {
            case = case.stress(index);
        }
        case
    }
}

/// A run: its id and its tests.
#[derive(Clone, Debug, PartialEq)]
pub struct RunBuilder {
    run_id: String,
    tests: Vec<TestRun>,
}

impl RunBuilder {
    /// A run with nextest run id `run_id` (a UUID).
    pub fn new(run_id: impl Into<String>) -> RunBuilder {
        RunBuilder { run_id: run_id.into(), tests: Vec::new() }
    }

    /// Adds a test.
    pub fn test(mut self, test: TestRun) -> Self {
        self.tests.push(test);
        self
    }

    /// Adds tests.
    pub fn tests(mut self, tests: impl IntoIterator<Item = TestRun>) -> Self {
        self.tests.extend(tests);
        self
    }

    /// The run id.
    pub fn run_id(&self) -> &str {
        &self.run_id
    }

    /// The tests so far.
    pub fn test_runs(&self) -> &[TestRun] {
        &self.tests
    }

    /// Every sidecar of the run.
    pub fn sidecars(&self) -> Vec<SidecarBuilder> {
        self.tests.iter().flat_map(|t| t.sidecars(&self.run_id)).collect()
    }

    /// The run's JUnit.
    pub fn junit(&self) -> JunitBuilder {
        JunitBuilder::new(self.run_id.as_str()).cases(self.tests.iter().map(TestRun::junit_case))
    }

    /// The run's files, in memory.
    pub fn build(&self) -> RunFiles {
        let sidecars = self
            .sidecars()
            .iter()
            .map(|s| {
                let path = Utf8PathBuf::try_from(s.relative_path()).expect("sidecar paths are UTF-8");
                (path, s.bytes())
            })
            .collect();
        RunFiles { run_id: self.run_id.clone(), sidecars, junit_xml: self.junit().to_xml() }
    }
}

/// A run's files in memory: the sidecars (paths relative to a rampart directory,
/// `runs/<run id>/<file name>`) and the JUnit XML.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RunFiles {
    /// The run id (the JUnit `uuid`).
    pub run_id: String,
    /// (path relative to the rampart directory, bytes) of every sidecar.
    pub sidecars: Vec<(Utf8PathBuf, Vec<u8>)>,
    /// nextest's JUnit report of the run.
    pub junit_xml: String,
}

impl RunFiles {
    /// The run directory relative to the rampart directory: `runs/<run id>`.
    pub fn run_dir(&self) -> Utf8PathBuf {
        let dir = rampart::location::run_dir(Path::new(""), &self.run_id);
        Utf8PathBuf::try_from(dir).expect("run dirs are UTF-8")
    }

    /// Writes the run under `dir`: the JUnit at `<dir>/junit.xml`, the sidecars under
    /// `<dir>/rampart/runs/<run id>/`. `dir` is created if needed.
    pub fn write_into(&self, dir: impl AsRef<Path>) -> WrittenRun {
        let dir = Utf8Path::from_path(dir.as_ref()).expect("a UTF-8 directory").to_owned();
        let rampart_dir = dir.join("rampart");
        for (path, bytes) in &self.sidecars {
            let path = rampart_dir.join(path);
            std::fs::create_dir_all(path.parent().expect("a run dir"))
                .unwrap_or_else(|e| panic!("create {path}: {e}"));
            std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("write {path}: {e}"));
        }
        let run_dir = rampart_dir.join(self.run_dir());
        std::fs::create_dir_all(&run_dir).unwrap_or_else(|e| panic!("create {run_dir}: {e}"));
        let junit = dir.join("junit.xml");
        std::fs::write(&junit, &self.junit_xml).unwrap_or_else(|e| panic!("write {junit}: {e}"));
        WrittenRun { junit, rampart_dir, run_dir, _temp: None }
    }

    /// Writes the run into a new temp dir under `parent` (e.g. `CARGO_TARGET_TMPDIR`),
    /// removed when the returned value is dropped.
    pub fn write_to_tempdir_in(&self, parent: impl AsRef<Path>) -> WrittenRun {
        let temp =
            tempfile::Builder::new().prefix("rampart-run-").tempdir_in(parent).expect("create a temp dir");
        let mut written = self.write_into(temp.path());
        written._temp = Some(temp);
        written
    }

    /// Writes the run into a new system temp dir, removed when the returned value is dropped.
    pub fn write_to_tempdir(&self) -> WrittenRun {
        self.write_to_tempdir_in(std::env::temp_dir())
    }
}

/// Where [`RunFiles::write_into`] put a run.
#[derive(Debug)]
pub struct WrittenRun {
    /// The JUnit file.
    pub junit: Utf8PathBuf,
    /// The rampart directory (holds `runs/`).
    pub rampart_dir: Utf8PathBuf,
    /// The run directory: what `cargo rampart-report --results` takes.
    pub run_dir: Utf8PathBuf,
    _temp: Option<tempfile::TempDir>,
}

#[cfg(test)]
mod tests {
    use rampart::ObservabilityLevel as O;

    use super::*;

    #[test]
    fn one_sidecar_per_recording_attempt_and_one_testcase_per_test() {
        let run = RunBuilder::new("6e4eda4a-64b9-4d36-8541-7b53a9ca7ccf")
            .test(
                TestRun::rampart("bin", "group")
                    .harm("jailbreak")
                    .threshold(0.5)
                    .trial(3, 10)
                    .attempt(AttemptRun::panicked(
                        vec![SafetyResult::unsafe_result("u", O::ToolOnly)],
                        "UNSAFE",
                    ))
                    .attempt(AttemptRun::passed(vec![SafetyResult::safe("s", O::ToolOnly)])),
            )
            .test(TestRun::plain("bin", "plain_silent").attempt(AttemptRun::passed(vec![])))
            .test(
                TestRun::rampart("bin", "killed")
                    .attempt(AttemptRun::aborted(vec![SafetyResult::safe("s", O::ToolOnly)])),
            )
            .test(TestRun::rampart("bin", "skipped").skipped("is in a different partition"));
        let files = run.build();
        assert_eq!(files.sidecars.len(), 3, "two attempts, nothing for the silent plain test, one killed");
        for (path, bytes) in &files.sidecars {
            assert!(path.starts_with(files.run_dir()), "{path}");
            let sidecar = rampart::sidecar::parse(bytes).unwrap();
            assert!(sidecar.problems.is_empty(), "{path}: {:?}", sidecar.problems);
            let id = &sidecar.header.identity;
            match id.test_name.as_str() {
                "group::trial_03" => {
                    let spec = sidecar.header.spec.as_ref().unwrap();
                    assert_eq!((spec.base_name.as_str(), spec.threshold), ("group", 0.5));
                    assert_eq!(id.total_attempts, 2);
                    assert!(sidecar.end.is_some());
                }
                "killed" => assert!(sidecar.is_missing_end()),
                other => panic!("unexpected sidecar for {other}"),
            }
        }
        let junit = quick_junit::Report::deserialize_from_str(&files.junit_xml).unwrap();
        assert_eq!((junit.tests, junit.failures, junit.skipped), (4, 1, 1));

        let written = files.write_to_tempdir();
        assert!(written.junit.is_file());
        assert_eq!(std::fs::read_dir(&written.run_dir).unwrap().count(), 3);
    }
}
