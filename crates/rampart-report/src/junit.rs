//! Reading nextest JUnit reports (both the `disabled=` and the `skipped=` forms) into
//! per-attempt records.
//!
//! Attempts are positional (nextest writes no attempt numbers): `<failure>` is attempt 1 and
//! each `<rerunFailure>` the next; for a flaky pass, the `<flakyFailure>`s are attempts
//! 1..N-1 and the passing testcase is attempt N.

use camino::Utf8Path;
use quick_junit::{FlakyOrRerun, NonSuccessKind, Report, TestCase, TestCaseStatus, TestRerun};

use crate::problem::{InputProblem, line_around, line_excerpt};
use crate::report::{AttemptOutcome, MAX_OUTPUT_BYTES, SetupScriptRecord};
use crate::sanitize::{clean_line, clean_text, tail};

/// Prefix of setup-script suites.
pub const SETUP_SCRIPT_PREFIX: &str = "@setup-script:";

/// One JUnit file, read.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JunitRun {
    /// The file, as given.
    pub path: String,
    /// The run id (`uuid` on the root).
    pub run_id: Option<String>,
    /// `<testsuites name>`.
    pub report_name: Option<String>,
    /// Run wall time.
    pub time_seconds: Option<f64>,
    /// Every testcase outside setup-script suites, in file order.
    pub tests: Vec<JunitTest>,
    /// Setup scripts.
    pub setup_scripts: Vec<SetupScriptRecord>,
}

/// One testcase.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JunitTest {
    /// Binary id (`classname`, else the suite name without `@stress-i`).
    pub binary_id: String,
    /// Test name.
    pub test_name: String,
    /// Stress iteration, from the suite name.
    pub stress_index: Option<u32>,
    /// `Some(message)` when skipped.
    pub skipped: Option<String>,
    /// Attempts, ascending (empty when skipped).
    pub attempts: Vec<JunitAttempt>,
    /// Failed, then passed.
    pub flaky: bool,
}

/// One attempt of a testcase.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct JunitAttempt {
    /// 1-based attempt.
    pub attempt: u32,
    /// What happened.
    pub outcome: AttemptOutcome,
    /// JUnit `type`.
    pub failure_type: Option<String>,
    /// JUnit `message` (cleaned).
    pub message: Option<String>,
    /// Wall time.
    pub duration_seconds: Option<f64>,
    /// Output tail (cleaned).
    pub output: Option<String>,
}

/// Reads and parses a JUnit file. Problems are returned with whatever could be read.
pub fn load_junit(path: &Utf8Path) -> (Option<JunitRun>, Vec<InputProblem>) {
    match fs_err::read(path) {
        Ok(bytes) => parse_junit(path.as_str(), &bytes),
        Err(source) => (None, vec![InputProblem::JunitIo { path: path.to_string(), source }]),
    }
}

/// Parses JUnit bytes; `path` names the file in problems.
pub fn parse_junit(path: &str, bytes: &[u8]) -> (Option<JunitRun>, Vec<InputProblem>) {
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            // Only the line holding the bad byte is quoted.
            let (start, end) = line_around(bytes, e.valid_up_to());
            let line_no = bytes[..start].iter().filter(|&&b| b == b'\n').count() + 1;
            let (source_code, span) =
                line_excerpt(path, line_no, &bytes[start..end], e.valid_up_to() - start, 1);
            return (
                None,
                vec![InputProblem::JunitNotUtf8 {
                    path: path.to_owned(),
                    valid_up_to: e.valid_up_to(),
                    span: Some(span),
                    source_code: Some(source_code),
                }],
            );
        }
    };
    let report = match Report::deserialize_from_str(text) {
        Ok(report) => report,
        Err(e) => {
            let mut element_path: Vec<String> = e.path().iter().map(ToString::to_string).collect();
            if element_path.is_empty() {
                element_path.push("testsuites".to_owned());
            }
            return (
                None,
                vec![InputProblem::JunitMalformed {
                    path: path.to_owned(),
                    element_path: element_path.join("/"),
                    detail: error_chain(e.kind()),
                }],
            );
        }
    };
    let mut problems = Vec::new();
    let run_id = report.uuid.map(|u| u.to_string());
    let mut run = JunitRun {
        path: path.to_owned(),
        run_id: run_id.clone(),
        report_name: report.name.as_ref().map(|n| n.as_str().to_owned()),
        time_seconds: report.time.map(|t| t.as_secs_f64()),
        tests: Vec::new(),
        setup_scripts: Vec::new(),
    };
    for suite in &report.test_suites {
        let suite_name = suite.name.as_str();
        if let Some(script) = suite_name.strip_prefix(SETUP_SCRIPT_PREFIX) {
            for case in &suite.test_cases {
                let (passed, message) = match &case.status {
                    TestCaseStatus::NonSuccess { message, ty, .. } => {
                        (false, message.as_ref().or(ty.as_ref()).map(|m| clean_line(m.as_str())))
                    }
                    _ => (true, None),
                };
                if !passed {
                    problems.push(InputProblem::SetupScriptFailed {
                        path: path.to_owned(),
                        script: script.to_owned(),
                        message: message.clone(),
                    });
                }
                run.setup_scripts.push(SetupScriptRecord {
                    run_id: run_id.clone(),
                    script: script.to_owned(),
                    passed,
                    message,
                });
            }
            continue;
        }
        let (suite_binary, stress_index) = split_stress(suite_name);
        for case in &suite.test_cases {
            run.tests.push(read_testcase(case, suite_binary, stress_index));
        }
    }
    (Some(run), problems)
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        let inner_text = inner.to_string();
        if !text.contains(&inner_text) {
            text.push_str(": ");
            text.push_str(&inner_text);
        }
        source = inner.source();
    }
    text
}

/// `alpha@stress-3` → (`alpha`, Some(3)).
pub fn split_stress(suite_name: &str) -> (&str, Option<u32>) {
    if let Some((base, index)) = suite_name.rsplit_once("@stress-")
        && let Ok(index) = index.parse()
    {
        return (base, Some(index));
    }
    (suite_name, None)
}

fn read_testcase(case: &TestCase, suite_binary: &str, stress_index: Option<u32>) -> JunitTest {
    let binary_id = case.classname.as_ref().map_or(suite_binary, |c| c.as_str()).to_owned();
    let mut test = JunitTest {
        binary_id,
        test_name: case.name.as_str().to_owned(),
        stress_index,
        skipped: None,
        attempts: Vec::new(),
        flaky: false,
    };
    let case_output = output_of(case.system_out.as_ref(), case.system_err.as_ref());
    let case_time = case.time.map(|t| t.as_secs_f64());
    match &case.status {
        TestCaseStatus::Success { flaky_runs } => {
            test.flaky = !flaky_runs.is_empty();
            push_reruns(&mut test, flaky_runs);
            push_attempt(&mut test, AttemptOutcome::Pass, None, None, case_time, case_output);
        }
        TestCaseStatus::NonSuccess { kind, message, ty, reruns, .. } => {
            if reruns.kind == FlakyOrRerun::Flaky && !reruns.runs.is_empty() {
                // flaky-result = "fail": the failures came first, the last attempt passed.
                test.flaky = true;
                push_reruns(&mut test, &reruns.runs);
                let message = message.as_ref().map(|m| clean_line(m.as_str()));
                let ty = ty.as_ref().map(|t| t.as_str().to_owned());
                push_attempt(&mut test, AttemptOutcome::Pass, ty, message, case_time, case_output);
            } else {
                let outcome = outcome_of(*kind, ty.as_ref().map(|t| t.as_str()));
                let message = message.as_ref().map(|m| clean_line(m.as_str()));
                let ty = ty.as_ref().map(|t| t.as_str().to_owned());
                push_attempt(&mut test, outcome, ty, message, case_time, case_output);
                push_reruns(&mut test, &reruns.runs);
            }
        }
        TestCaseStatus::Skipped { message, .. } => {
            test.skipped =
                Some(message.as_ref().map_or_else(|| "skipped".to_owned(), |m| clean_line(m.as_str())));
        }
    }
    test
}

fn push_reruns(test: &mut JunitTest, runs: &[TestRerun]) {
    for run in runs {
        let outcome = outcome_of(run.kind, run.ty.as_ref().map(|t| t.as_str()));
        push_attempt(
            test,
            outcome,
            run.ty.as_ref().map(|t| t.as_str().to_owned()),
            run.message.as_ref().map(|m| clean_line(m.as_str())),
            run.time.map(|t| t.as_secs_f64()),
            output_of(run.system_out.as_ref(), run.system_err.as_ref()),
        );
    }
}

fn push_attempt(
    test: &mut JunitTest,
    outcome: AttemptOutcome,
    failure_type: Option<String>,
    message: Option<String>,
    duration_seconds: Option<f64>,
    output: Option<String>,
) {
    let attempt = u32::try_from(test.attempts.len() + 1).unwrap_or(u32::MAX);
    test.attempts.push(JunitAttempt { attempt, outcome, failure_type, message, duration_seconds, output });
}

/// Classifies a JUnit failure from its element kind and `type`.
pub fn outcome_of(kind: NonSuccessKind, ty: Option<&str>) -> AttemptOutcome {
    let ty = ty.unwrap_or("");
    if ty.contains("timeout") {
        AttemptOutcome::Timeout
    } else if ty.contains("abort") {
        AttemptOutcome::Abort
    } else if ty.contains("leaked handles so was marked failed") {
        AttemptOutcome::Leak
    } else if ty.contains("execution failure") {
        AttemptOutcome::StartFailure
    } else {
        match kind {
            NonSuccessKind::Failure | NonSuccessKind::Error => AttemptOutcome::Fail,
        }
    }
}

fn output_of(
    stdout: Option<&quick_junit::XmlString>,
    stderr: Option<&quick_junit::XmlString>,
) -> Option<String> {
    let mut text = String::new();
    for part in [stdout, stderr].into_iter().flatten() {
        if !part.as_str().is_empty() {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(part.as_str());
        }
    }
    // Four times the output bound: the report redacts this, then cuts it to the bound, so a
    // secret the bound would split is whole when redaction sees it.
    (!text.is_empty()).then(|| clean_text(&tail(&text, 4 * MAX_OUTPUT_BYTES)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RETRIES: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nextest-run" tests="3" failures="1" errors="0" uuid="0f8ca0d3-4e1b-4b42-9d37-2d2a8f9a8c11" timestamp="2026-11-22T03:12:19.229+00:00" time="1.5">
  <testsuite name="@setup-script:seed" tests="1" disabled="0" errors="0" failures="1">
    <testcase name="seed" classname="@setup-script:seed" time="0.1"><failure type="script failure with exit code 7"/></testcase>
  </testsuite>
  <testsuite name="demo@stress-1" tests="3" disabled="0" errors="0" failures="1">
    <testcase name="always" classname="demo" time="0.1">
      <failure type="test abort" message="process aborted with signal 6 (SIGABRT)">boom</failure>
      <rerunFailure type="test timeout" time="2.0"/>
      <rerunFailure type="test failure with exit code 101" message="panicked"/>
    </testcase>
    <testcase name="flaky" classname="demo" time="0.1">
      <flakyFailure type="test failure with exit code 101" message="first"/>
    </testcase>
    <testcase name="skipped" classname="demo" time="0.000"><skipped message="Skipped: test is in a different partition"/></testcase>
  </testsuite>
</testsuites>"#;

    #[test]
    fn attempts_are_positional() {
        let (run, problems) = parse_junit("x.xml", RETRIES.as_bytes());
        let run = run.unwrap();
        assert_eq!(problems.len(), 1, "setup script failure: {problems:?}");
        assert_eq!(run.run_id.as_deref(), Some("0f8ca0d3-4e1b-4b42-9d37-2d2a8f9a8c11"));
        assert_eq!(run.setup_scripts.len(), 1);
        assert_eq!(run.tests.len(), 3);
        let always = &run.tests[0];
        assert_eq!((always.binary_id.as_str(), always.stress_index), ("demo", Some(1)));
        let outcomes: Vec<_> = always.attempts.iter().map(|a| (a.attempt, a.outcome)).collect();
        assert_eq!(
            outcomes,
            [(1, AttemptOutcome::Abort), (2, AttemptOutcome::Timeout), (3, AttemptOutcome::Fail)]
        );
        let flaky = &run.tests[1];
        assert!(flaky.flaky);
        let outcomes: Vec<_> = flaky.attempts.iter().map(|a| (a.attempt, a.outcome)).collect();
        assert_eq!(outcomes, [(1, AttemptOutcome::Fail), (2, AttemptOutcome::Pass)]);
        assert!(run.tests[2].skipped.as_deref().unwrap().contains("different partition"));
        assert!(run.tests[2].attempts.is_empty());
    }

    #[test]
    fn truncated_file_names_the_element() {
        let cut = &RETRIES[..RETRIES.find("<testcase name=\"flaky\"").unwrap() + 30];
        let (run, problems) = parse_junit("cut.xml", cut.as_bytes());
        assert!(run.is_none());
        let InputProblem::JunitMalformed { element_path, .. } = &problems[0] else { panic!("{problems:?}") };
        assert!(element_path.starts_with("testsuites"), "{element_path}");
    }

    #[test]
    fn stress_suffix() {
        assert_eq!(split_stress("a::b@stress-12"), ("a::b", Some(12)));
        assert_eq!(split_stress("a::b"), ("a::b", None));
        assert_eq!(split_stress("a@stress-x"), ("a@stress-x", None));
    }
}
