//! A typed model of `fixtures/demo/expected.json`: the facts the demo suite's run and report
//! must show (its `legend` says what each field means). Unknown fields are refused, so a new
//! fact cannot be added to the file without a type (and a test) for it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rampart::SafetyStatus;
use rampart::sidecar::EndOutcome;
use serde::Deserialize;

/// The `schema` this model reads.
pub const EXPECTED_SCHEMA: &str = "rampart.demo.expected.v1";

/// The demo's directory, `fixtures/demo`.
pub fn demo_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/demo"))
}

/// `fixtures/demo/expected.json`.
pub fn expected_path() -> PathBuf {
    demo_dir().join("expected.json")
}

/// `fixtures/demo/expected.json`.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expected {
    /// What the file is, for a reader.
    #[serde(rename = "$comment")]
    pub comment: String,
    /// [`EXPECTED_SCHEMA`].
    pub schema: String,
    /// The nextest profile the demo runs under (`ci`).
    pub profile: String,
    /// Attempts the profile allows (retries + 1).
    pub total_attempts: u32,
    /// nextest's exit code on the demo.
    pub nextest_exit_code: i32,
    /// What each field means.
    pub legend: BTreeMap<String, String>,
    /// Facts of the report on the run.
    pub report: ExpectedReport,
    /// Every test of the demo.
    pub tests: Vec<ExpectedTest>,
    /// Every trial group.
    pub trial_groups: Vec<ExpectedGroup>,
}

impl Expected {
    /// Reads and parses [`expected_path`], panicking with the path on failure.
    pub fn load() -> Expected {
        let path = expected_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
        let expected: Expected =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()));
        assert_eq!(expected.schema, EXPECTED_SCHEMA, "{}", path.display());
        expected
    }

    /// The test `name` of binary `binary_id`.
    pub fn test(&self, binary_id: &str, name: &str) -> Option<&ExpectedTest> {
        self.tests.iter().find(|t| t.binary_id == binary_id && t.name == name)
    }
}

/// Facts of `cargo rampart-report` on the demo's run.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedReport {
    /// The run verdict (`report.json`'s `verdict`, e.g. `safety_failure`).
    pub verdict: String,
    /// The report's exit code.
    pub exit_code: i32,
    /// Whether results may be missing.
    pub incomplete: bool,
    /// Results of every attempt.
    pub total_runs: u32,
    /// SAFE results.
    pub passed: u32,
    /// UNSAFE results.
    pub failed: u32,
    /// UNDETERMINED results.
    pub undetermined: u32,
    /// ERROR results.
    pub errors: u32,
    /// Results of attempts that do not count (a trial counts through one attempt: the first
    /// that recorded UNSAFE, else the last).
    pub superseded_results: u32,
}

/// How nextest's JUnit shows a test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JunitExpectation {
    /// Passed on the first attempt.
    Pass,
    /// Failed on every attempt.
    Fail,
    /// Failed, then passed.
    Flaky,
    /// Killed by a signal on every attempt.
    Abort,
    /// `#[ignore]`: not run, absent from the JUnit.
    Ignored,
}

/// The report's safety class of a test (`tests[].safety.class`) or a trial.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SafetyClass {
    /// An UNSAFE result on any attempt.
    Unsafe,
    /// The last attempt recorded an ERROR.
    Error,
    /// The last attempt recorded SAFE (and no UNSAFE).
    Safe,
    /// The last attempt recorded only UNDETERMINED.
    Undetermined,
    /// The last attempt recorded nothing.
    NoResult,
}

impl SafetyClass {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyClass::Unsafe => "unsafe",
            SafetyClass::Error => "error",
            SafetyClass::Safe => "safe",
            SafetyClass::Undetermined => "undetermined",
            SafetyClass::NoResult => "no_result",
        }
    }
}

/// How a test's counted attempt's process was killed or did not finish (nextest's outcome).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Killed {
    /// Killed by a signal.
    Abort,
    /// Killed after its slow-timeout.
    Timeout,
    /// Leaked handles, and leaks fail.
    Leak,
    /// Could not start.
    StartFailure,
    /// No JUnit said, and the sidecar has no end line.
    Unknown,
}

impl Killed {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Killed::Abort => "abort",
            Killed::Timeout => "timeout",
            Killed::Leak => "leak",
            Killed::StartFailure => "start_failure",
            Killed::Unknown => "unknown",
        }
    }
}

/// One test of the demo.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTest {
    /// nextest's binary id.
    pub binary_id: String,
    /// The test name.
    pub name: String,
    /// Declared with `#[rampart::test]`.
    pub rampart: bool,
    /// Harm category of its results.
    pub harm: Option<String>,
    /// Present for a trial clone.
    #[serde(default)]
    pub trial: Option<ExpectedTrial>,
    /// How JUnit shows it.
    pub junit: JunitExpectation,
    /// Attempts per stress iteration.
    pub attempts: u32,
    /// Sidecar files per stress iteration.
    pub sidecars: u32,
    /// Per attempt, the statuses recorded.
    pub statuses: Vec<Vec<SafetyStatus>>,
    /// Per attempt, the end line's outcome (`None`: no end line).
    pub ends: Vec<Option<EndOutcome>>,
    /// The report's class (`None`: records nothing).
    pub class: Option<SafetyClass>,
    /// How the counted attempt's process was killed, when it was (`tests[].safety.killed`).
    #[serde(default)]
    pub killed: Option<Killed>,
    /// Attempts whose UNSAFE a retry hid.
    pub unsafe_retried_attempts: Vec<u32>,
}

/// A trial clone's place in its group.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedTrial {
    /// The group's base name.
    pub base_name: String,
    /// 0-based trial index.
    pub index: u32,
    /// Trials in the group.
    pub count: u32,
    /// The group's threshold.
    pub threshold: f64,
}

/// A trial group's verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum GroupVerdict {
    /// No UNSAFE trial and the pass rate at or above the threshold.
    #[serde(rename = "PASSED")]
    Passed,
    /// Otherwise.
    #[serde(rename = "FAILED")]
    Failed,
}

impl GroupVerdict {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            GroupVerdict::Passed => "PASSED",
            GroupVerdict::Failed => "FAILED",
        }
    }
}

/// Where a group's pass rate is relative to its threshold.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelativeToThreshold {
    /// Above.
    Above,
    /// Exactly at.
    At,
    /// Below.
    Below,
}

impl RelativeToThreshold {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            RelativeToThreshold::Above => "above",
            RelativeToThreshold::At => "at",
            RelativeToThreshold::Below => "below",
        }
    }
}

/// One trial group of the demo.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpectedGroup {
    /// nextest's binary id.
    pub binary_id: String,
    /// The group's base name.
    pub base_name: String,
    /// Its harm category.
    pub harm: String,
    /// Its threshold.
    pub threshold: f64,
    /// Trials.
    pub total: u32,
    /// SAFE trials.
    pub safe: u32,
    /// UNSAFE trials.
    #[serde(rename = "unsafe")]
    pub unsafe_: u32,
    /// ERROR trials.
    pub errors: u32,
    /// UNDETERMINED trials.
    pub undetermined: u32,
    /// Trials with no result.
    pub no_result: u32,
    /// Indices of the UNSAFE trials.
    pub unsafe_trials: Vec<u32>,
    /// Indices of the ERROR trials.
    pub error_trials: Vec<u32>,
    /// Indices of the UNDETERMINED trials.
    pub undetermined_trials: Vec<u32>,
    /// safe / total.
    pub pass_rate: f64,
    /// The pass rate against the threshold.
    pub relative_to_threshold: RelativeToThreshold,
    /// The verdict.
    pub verdict: GroupVerdict,
    /// Whether a trial's UNSAFE was on an attempt a retry hid.
    pub unsafe_on_retried_attempt: bool,
}

impl ExpectedGroup {
    /// Trial indices by class, SAFE excluded.
    pub fn trials_by_class(&self) -> BTreeMap<SafetyClass, Vec<u32>> {
        BTreeMap::from([
            (SafetyClass::Unsafe, self.unsafe_trials.clone()),
            (SafetyClass::Error, self.error_trials.clone()),
            (SafetyClass::Undetermined, self.undetermined_trials.clone()),
        ])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reads_into_the_model() {
        let expected = Expected::load();
        assert_eq!(expected.profile, "ci");
        assert!(!expected.tests.is_empty() && !expected.trial_groups.is_empty());
        // The legend explains the per-test facts.
        for key in ["rampart", "harm", "junit", "attempts", "sidecars", "statuses", "ends", "class", "killed"]
        {
            assert!(expected.legend.contains_key(key), "legend has no {key}");
        }
    }
}
