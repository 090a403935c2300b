//! [`JunitBuilder`]: JUnit XML shaped like cargo-nextest 0.9.143's, written with quick-junit
//! (the serializer nextest uses).
//!
//! The shapes follow the vendored real files in `fixtures/nextest-0.9.143/junit/`:
//!
//! - `<testsuites name="nextest-run" uuid=RUN-ID>`, one `<testsuite name=BINARY-ID[@stress-i]>`
//!   per binary (and stress iteration), in order of first appearance;
//! - `<testcase name=TEST-NAME classname=BINARY-ID>` (never with the stress suffix);
//! - attempts are positional: when the last attempt passed, the earlier ones are
//!   `<flakyFailure>`/`<flakyError>` and the testcase has no failure (its time and output are
//!   the last attempt's); otherwise attempt 1 is the `<failure>`/`<error>` and the others
//!   `<rerunFailure>`/`<rerunError>` (time and output are attempt 1's);
//! - `type`/`message` per outcome as nextest writes them: `test failure with exit code N`
//!   with the panic's first line as message; `test abort` with
//!   `process aborted with signal 6 (SIGABRT)`; `test timeout` with no message; leaked handles
//!   under `leak-timeout.result = "fail"` as an `<error>`; a flaky pass under
//!   `flaky-result = "fail"` as `<failure type="flaky failure">` with flaky children;
//! - skipped tests as `<skipped message="Skipped: test ...">` with `time="0.000"` and no
//!   timestamp.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun, TestSuite};

/// The JUnit `timestamp` every builder writes unless told otherwise.
pub const DEFAULT_JUNIT_TIMESTAMP: &str = "2026-06-01T00:00:00.000+00:00";

/// What one attempt of a test did, as nextest classifies it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JunitOutcome {
    /// Exit 0.
    Pass,
    /// A non-zero exit: 101 for a panic.
    ExitCode(i32),
    /// Killed by a signal: (number, name), e.g. (6, `SIGABRT`).
    Signal(i32, &'static str),
    /// Killed after its slow-timeout (`terminate-after`).
    Timeout,
    /// Exit 0 with leaked handles, under `leak-timeout.result = "fail"`.
    LeakedHandles,
    /// The process could not start.
    StartFailure,
}

impl JunitOutcome {
    /// The JUnit `type` nextest writes (`None` for a pass).
    pub fn failure_type(&self) -> Option<String> {
        match self {
            JunitOutcome::Pass => None,
            JunitOutcome::ExitCode(code) => Some(format!("test failure with exit code {code}")),
            JunitOutcome::Signal(..) => Some("test abort".to_owned()),
            JunitOutcome::Timeout => Some("test timeout".to_owned()),
            JunitOutcome::LeakedHandles => {
                Some("test exited with code 0, but leaked handles so was marked failed".to_owned())
            }
            JunitOutcome::StartFailure => Some("execution failure".to_owned()),
        }
    }

    /// `<failure>` or `<error>`, for a failed attempt.
    fn kind(&self) -> NonSuccessKind {
        match self {
            JunitOutcome::LeakedHandles | JunitOutcome::StartFailure => NonSuccessKind::Error,
            _ => NonSuccessKind::Failure,
        }
    }
}

/// One attempt of a testcase.
#[derive(Clone, Debug, PartialEq)]
pub struct JunitAttempt {
    /// What happened.
    pub outcome: JunitOutcome,
    /// The `message` attribute.
    pub message: Option<String>,
    /// The element's text (nextest: the full extracted error).
    pub description: Option<String>,
    /// Wall time in seconds.
    pub time_seconds: f64,
    /// Captured stdout.
    pub stdout: Option<String>,
    /// Captured stderr.
    pub stderr: Option<String>,
}

impl JunitAttempt {
    fn new(outcome: JunitOutcome) -> JunitAttempt {
        JunitAttempt {
            outcome,
            message: None,
            description: None,
            time_seconds: 0.25,
            stdout: None,
            stderr: None,
        }
    }

    /// A pass.
    pub fn pass() -> JunitAttempt {
        JunitAttempt::new(JunitOutcome::Pass)
    }

    /// A panic (exit 101): `panic` is the extracted error, e.g.
    /// `thread 'x' (8835) panicked at src/lib.rs:3:5:\nboom`; the message is its first line
    /// without the trailing colon, as nextest writes it.
    pub fn panicked(panic: impl Into<String>) -> JunitAttempt {
        let panic = panic.into();
        let first = panic.lines().next().unwrap_or("").trim_end_matches(':').to_owned();
        JunitAttempt {
            message: Some(first),
            description: Some(panic),
            ..JunitAttempt::new(JunitOutcome::ExitCode(101))
        }
    }

    /// A non-zero exit with nothing extracted (`process::exit(code)`): no message, no text.
    pub fn exit_code(code: i32) -> JunitAttempt {
        JunitAttempt::new(JunitOutcome::ExitCode(code))
    }

    /// Killed by SIGABRT (`std::process::abort`).
    pub fn aborted() -> JunitAttempt {
        JunitAttempt::signal(6, "SIGABRT")
    }

    /// Killed by signal `number` named `name`, e.g. (11, `SIGSEGV`).
    pub fn signal(number: i32, name: &'static str) -> JunitAttempt {
        let text = format!("process aborted with signal {number} ({name})");
        JunitAttempt {
            message: Some(text.clone()),
            description: Some(text),
            ..JunitAttempt::new(JunitOutcome::Signal(number, name))
        }
    }

    /// Killed after its slow-timeout: no message, no text.
    pub fn timed_out() -> JunitAttempt {
        JunitAttempt { time_seconds: 4.004, ..JunitAttempt::new(JunitOutcome::Timeout) }
    }

    /// Exit 0 with leaked handles, failed by `leak-timeout.result = "fail"`: no message.
    pub fn leaked_handles() -> JunitAttempt {
        JunitAttempt::new(JunitOutcome::LeakedHandles)
    }

    /// The process failed to start with `error`.
    pub fn start_failure(error: impl Into<String>) -> JunitAttempt {
        let error = error.into();
        let first = error.lines().next().unwrap_or("").to_owned();
        JunitAttempt {
            message: Some(first),
            description: Some(error),
            ..JunitAttempt::new(JunitOutcome::StartFailure)
        }
    }

    /// Sets the `message` attribute.
    pub fn with_message(mut self, message: impl Into<String>) -> Self {
        self.message = Some(message.into());
        self
    }

    /// Sets the element's text.
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = Some(description.into());
        self
    }

    /// Sets the captured stdout.
    pub fn with_stdout(mut self, stdout: impl Into<String>) -> Self {
        self.stdout = Some(stdout.into());
        self
    }

    /// Sets the captured stderr.
    pub fn with_stderr(mut self, stderr: impl Into<String>) -> Self {
        self.stderr = Some(stderr.into());
        self
    }

    /// Sets the wall time.
    pub fn with_time(mut self, seconds: f64) -> Self {
        self.time_seconds = seconds;
        self
    }

    /// Whether the attempt passed.
    pub fn passed(&self) -> bool {
        self.outcome == JunitOutcome::Pass
    }

    fn rerun(&self, timestamp: &str) -> TestRerun {
        let mut rerun = TestRerun::new(self.outcome.kind());
        rerun.timestamp = Some(timestamp.parse().expect("an RFC 3339 timestamp"));
        rerun.set_time(duration(self.time_seconds));
        if let Some(ty) = self.outcome.failure_type() {
            rerun.set_type(ty);
        }
        if let Some(message) = &self.message {
            rerun.set_message(message.as_str());
        }
        if let Some(description) = &self.description {
            rerun.set_description(description.as_str());
        }
        if let Some(stdout) = &self.stdout {
            rerun.set_system_out(stdout.as_str());
        }
        if let Some(stderr) = &self.stderr {
            rerun.set_system_err(stderr.as_str());
        }
        rerun
    }
}

fn duration(seconds: f64) -> Duration {
    Duration::from_secs_f64(seconds.max(0.0))
}

/// One testcase: a test (in one stress iteration) with its attempts, or skipped.
#[derive(Clone, Debug, PartialEq)]
pub struct JunitCase {
    /// The binary id (`classname`, and the suite name).
    pub binary_id: String,
    /// The test name.
    pub test_name: String,
    /// The stress iteration (the suite is `<binary id>@stress-<i>`).
    pub stress_index: Option<u32>,
    /// The attempts, in order; none means one pass.
    pub attempts: Vec<JunitAttempt>,
    /// `Some(message)`: skipped, not run.
    pub skipped: Option<String>,
    /// `Some(total attempts)`: a flaky pass failed by `flaky-result = "fail"`.
    pub flaky_fail_of: Option<u32>,
}

impl JunitCase {
    /// A testcase with no attempt yet (one pass unless attempts are added).
    pub fn new(binary_id: impl Into<String>, test_name: impl Into<String>) -> JunitCase {
        JunitCase {
            binary_id: binary_id.into(),
            test_name: test_name.into(),
            stress_index: None,
            attempts: Vec::new(),
            skipped: None,
            flaky_fail_of: None,
        }
    }

    /// Passed on the first attempt.
    pub fn passed(binary_id: impl Into<String>, test_name: impl Into<String>) -> JunitCase {
        JunitCase::new(binary_id, test_name).attempt(JunitAttempt::pass())
    }

    /// Skipped with nextest's message for `reason`, e.g. `is in a different partition`
    /// (`Skipped: test is in a different partition`).
    pub fn skipped(binary_id: impl Into<String>, test_name: impl Into<String>, reason: &str) -> JunitCase {
        JunitCase { skipped: Some(format!("Skipped: test {reason}")), ..JunitCase::new(binary_id, test_name) }
    }

    /// In stress iteration `index`.
    pub fn stress(mut self, index: u32) -> Self {
        self.stress_index = Some(index);
        self
    }

    /// Adds the next attempt.
    pub fn attempt(mut self, attempt: JunitAttempt) -> Self {
        self.attempts.push(attempt);
        self
    }

    /// Adds attempts, in order.
    pub fn attempts(mut self, attempts: impl IntoIterator<Item = JunitAttempt>) -> Self {
        self.attempts.extend(attempts);
        self
    }

    /// A flaky pass (failed attempts, then a pass) that `flaky-result = "fail"` fails:
    /// `<failure type="flaky failure" message="test passed on attempt N/M but is configured
    /// to fail when flaky">`, `M` being `total_attempts`.
    pub fn flaky_result_fail(mut self, total_attempts: u32) -> Self {
        self.flaky_fail_of = Some(total_attempts);
        self
    }

    /// The suite this testcase goes in: the binary id, with `@stress-<i>` in a stress run.
    pub fn suite_name(&self) -> String {
        match self.stress_index {
            Some(i) => format!("{}@stress-{i}", self.binary_id),
            None => self.binary_id.clone(),
        }
    }

    /// The quick-junit testcase, timestamped `timestamp`.
    pub fn to_test_case(&self, timestamp: &str) -> TestCase {
        let stamp = || Some(timestamp.parse().expect("an RFC 3339 timestamp"));
        if let Some(message) = &self.skipped {
            let mut status = TestCaseStatus::skipped();
            status.set_message(message.as_str());
            let mut case = TestCase::new(self.test_name.as_str(), status);
            case.set_classname(self.binary_id.as_str()).set_time(Duration::ZERO);
            return case;
        }
        let pass = [JunitAttempt::pass()];
        let attempts: &[JunitAttempt] = if self.attempts.is_empty() { &pass } else { &self.attempts };
        let (last, before) = attempts.split_last().expect("at least one attempt");
        let (status, shown) = if last.passed() {
            let flaky: Vec<TestRerun> = before.iter().map(|a| a.rerun(timestamp)).collect();
            let status = match self.flaky_fail_of {
                Some(total) if !flaky.is_empty() => {
                    let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    status
                        .set_type("flaky failure")
                        .set_message(format!(
                            "test passed on attempt {}/{total} but is configured to fail when flaky",
                            attempts.len()
                        ))
                        .set_rerun_kind(quick_junit::FlakyOrRerun::Flaky)
                        .add_reruns(flaky);
                    status
                }
                _ => {
                    let mut status = TestCaseStatus::success();
                    status.add_reruns(flaky);
                    status
                }
            };
            (status, last)
        } else {
            let first = &attempts[0];
            let mut status = TestCaseStatus::non_success(first.outcome.kind());
            if let Some(ty) = first.outcome.failure_type() {
                status.set_type(ty);
            }
            if let Some(message) = &first.message {
                status.set_message(message.as_str());
            }
            if let Some(description) = &first.description {
                status.set_description(description.as_str());
            }
            status.add_reruns(attempts[1..].iter().map(|a| a.rerun(timestamp)));
            (status, first)
        };
        let mut case = TestCase::new(self.test_name.as_str(), status);
        case.set_classname(self.binary_id.as_str()).set_time(duration(shown.time_seconds));
        case.timestamp = stamp();
        if let Some(stdout) = &shown.stdout {
            case.set_system_out(stdout.as_str());
        }
        if let Some(stderr) = &shown.stderr {
            case.set_system_err(stderr.as_str());
        }
        case
    }
}

/// A nextest JUnit report: `uuid` = the run id, one suite per binary id (and stress
/// iteration).
///
/// ```
/// use rampart_test_support::{JunitAttempt, JunitBuilder, JunitCase};
///
/// let xml = JunitBuilder::new("0b1f6a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b")
///     .case(JunitCase::passed("demo::agent", "refuses"))
///     .case(
///         JunitCase::new("demo::agent", "flaky")
///             .attempt(JunitAttempt::panicked("thread 'flaky' panicked at src/lib.rs:3:5:\nboom"))
///             .attempt(JunitAttempt::pass()),
///     )
///     .to_xml();
/// assert!(xml.contains(r#"uuid="0b1f6a2e-3c4d-4e5f-8a9b-0c1d2e3f4a5b""#));
/// assert!(xml.contains("<flakyFailure"));
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct JunitBuilder {
    run_id: Option<String>,
    report_name: String,
    timestamp: String,
    cases: Vec<JunitCase>,
}

impl JunitBuilder {
    /// A report of run `run_id`, which must be a UUID (nextest's run ids are).
    pub fn new(run_id: impl Into<String>) -> JunitBuilder {
        JunitBuilder {
            run_id: Some(run_id.into()),
            report_name: "nextest-run".to_owned(),
            timestamp: DEFAULT_JUNIT_TIMESTAMP.to_owned(),
            cases: Vec::new(),
        }
    }

    /// A report without a `uuid` (not something nextest writes).
    pub fn without_run_id() -> JunitBuilder {
        JunitBuilder { run_id: None, ..JunitBuilder::new("") }
    }

    /// Sets `<testsuites name>` (nextest: `junit.report-name`, default `nextest-run`).
    pub fn report_name(mut self, name: impl Into<String>) -> Self {
        self.report_name = name.into();
        self
    }

    /// Sets the run's and every testcase's timestamp (RFC 3339 with an offset).
    pub fn timestamp(mut self, timestamp: impl Into<String>) -> Self {
        self.timestamp = timestamp.into();
        self
    }

    /// Adds a testcase.
    pub fn case(mut self, case: JunitCase) -> Self {
        self.cases.push(case);
        self
    }

    /// Adds testcases.
    pub fn cases(mut self, cases: impl IntoIterator<Item = JunitCase>) -> Self {
        self.cases.extend(cases);
        self
    }

    /// Adds a testcase in place.
    pub fn push(&mut self, case: JunitCase) -> &mut Self {
        self.cases.push(case);
        self
    }

    /// The testcases so far.
    pub fn testcases(&self) -> &[JunitCase] {
        &self.cases
    }

    /// The quick-junit report.
    pub fn report(&self) -> Report {
        let mut report = Report::new(self.report_name.as_str());
        if let Some(run_id) = &self.run_id {
            report.uuid =
                Some(run_id.parse().unwrap_or_else(|e| panic!("run id {run_id:?} is not a UUID: {e}")));
        }
        report.timestamp = Some(self.timestamp.parse().expect("an RFC 3339 timestamp"));
        let mut suites: Vec<TestSuite> = Vec::new();
        let mut total = 0.0;
        for case in &self.cases {
            let name = case.suite_name();
            let index = match suites.iter().position(|s| s.name.as_str() == name) {
                Some(i) => i,
                None => {
                    suites.push(TestSuite::new(name.as_str()));
                    suites.len() - 1
                }
            };
            total += case.attempts.iter().map(|a| a.time_seconds).sum::<f64>();
            suites[index].add_test_case(case.to_test_case(&self.timestamp));
        }
        report.set_time(duration(total));
        report.add_test_suites(suites);
        report
    }

    /// The XML.
    pub fn to_xml(&self) -> String {
        self.report().to_string().expect("quick-junit serializes the report")
    }

    /// Writes the XML to `path` (creating its directory) and returns the path.
    pub fn write(&self, path: impl AsRef<std::path::Path>) -> std::path::PathBuf {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("create {}: {e}", dir.display()));
        }
        std::fs::write(path, self.to_xml()).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
        path.to_path_buf()
    }
}

#[cfg(test)]
mod tests {
    use quick_junit::FlakyOrRerun;

    use super::*;

    const RUN: &str = "2c6e4f24-af77-4c0e-9836-7a49e8c5d528";

    fn parse(builder: &JunitBuilder) -> Report {
        Report::deserialize_from_str(&builder.to_xml()).expect("quick-junit reads it back")
    }

    #[test]
    fn suites_per_binary_and_stress_iteration() {
        let builder = JunitBuilder::new(RUN)
            .case(JunitCase::passed("alpha", "a"))
            .case(JunitCase::passed("beta", "b"))
            .case(JunitCase::passed("alpha", "c"))
            .case(JunitCase::passed("alpha", "a").stress(1))
            .case(JunitCase::skipped("alpha", "d", "is in a different partition"));
        let report = parse(&builder);
        assert_eq!(report.uuid.map(|u| u.to_string()).as_deref(), Some(RUN));
        let suites: Vec<(&str, usize)> =
            report.test_suites.iter().map(|s| (s.name.as_str(), s.test_cases.len())).collect();
        assert_eq!(suites, [("alpha", 3), ("beta", 1), ("alpha@stress-1", 1)]);
        let case = &report.test_suites[2].test_cases[0];
        assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("alpha"), "no stress suffix");
        assert_eq!((report.tests, report.skipped, report.failures), (5, 1, 0));
        let skipped = &report.test_suites[0].test_cases[2];
        let TestCaseStatus::Skipped { message, .. } = &skipped.status else { panic!("{skipped:?}") };
        assert_eq!(message.as_ref().unwrap().as_str(), "Skipped: test is in a different partition");
        assert!(skipped.timestamp.is_none());
    }

    #[test]
    fn attempts_are_positional() {
        let retried = JunitCase::new("alpha", "retried")
            .attempt(JunitAttempt::aborted().with_stdout("attempt 1"))
            .attempt(JunitAttempt::timed_out())
            .attempt(JunitAttempt::leaked_handles());
        let flaky = JunitCase::new("alpha", "flaky")
            .attempt(JunitAttempt::panicked("thread 'flaky' panicked at src/lib.rs:1:1:\nno"))
            .attempt(JunitAttempt::pass().with_stdout("attempt 2"));
        let report = parse(&JunitBuilder::new(RUN).case(retried).case(flaky.clone()));
        let cases = &report.test_suites[0].test_cases;
        let TestCaseStatus::NonSuccess { kind, ty, message, reruns, .. } = &cases[0].status else { panic!() };
        assert_eq!(*kind, NonSuccessKind::Failure);
        assert_eq!(ty.as_ref().unwrap().as_str(), "test abort");
        assert_eq!(message.as_ref().unwrap().as_str(), "process aborted with signal 6 (SIGABRT)");
        assert_eq!(reruns.kind, FlakyOrRerun::Rerun);
        let reruns: Vec<_> = reruns.runs.iter().map(|r| (r.kind, r.ty.as_ref().unwrap().as_str())).collect();
        assert_eq!(
            reruns,
            [
                (NonSuccessKind::Failure, "test timeout"),
                (NonSuccessKind::Error, "test exited with code 0, but leaked handles so was marked failed")
            ]
        );
        assert_eq!(cases[0].system_out.as_ref().unwrap().as_str(), "attempt 1", "attempt 1's output");
        let TestCaseStatus::Success { flaky_runs } = &cases[1].status else { panic!() };
        assert_eq!(
            flaky_runs[0].message.as_ref().unwrap().as_str(),
            "thread 'flaky' panicked at src/lib.rs:1:1"
        );
        assert_eq!(
            cases[1].system_out.as_ref().unwrap().as_str(),
            "attempt 2",
            "the passing attempt's output"
        );

        let failed_flaky = parse(&JunitBuilder::new(RUN).case(flaky.flaky_result_fail(3)));
        let TestCaseStatus::NonSuccess { ty, message, reruns, .. } =
            &failed_flaky.test_suites[0].test_cases[0].status
        else {
            panic!()
        };
        assert_eq!(ty.as_ref().unwrap().as_str(), "flaky failure");
        assert_eq!(
            message.as_ref().unwrap().as_str(),
            "test passed on attempt 2/3 but is configured to fail when flaky"
        );
        assert_eq!((reruns.kind, reruns.runs.len()), (FlakyOrRerun::Flaky, 1));
    }
}
