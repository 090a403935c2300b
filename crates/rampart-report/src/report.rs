//! The report format: [`TestRunReport`], written as `report.json` (its documentation is the
//! format's).

use std::collections::BTreeMap;

use rampart::redact::RedactionCounts;
use rampart::{SafetyResult, SafetyStatus};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema string of the report this crate writes.
pub const SCHEMA_VERSION: &str = "rampart.report.v1";

/// The whole report of one run (or of several partition runs merged), written as `report.json`.
///
/// # Format (`rampart.report.v1`)
///
/// One JSON object per run (or per merged set of partition runs):
///
/// - `schema_version`: `"rampart.report.v1"`.
/// - `verdict`: the overall outcome, the same one the exit code gives (see
///   [`crate::exit_codes`]).
/// - `incomplete`, `incomplete_reasons`: whether results may be missing, and why (each reason
///   has a machine-readable `kind` and a human `message`); `incomplete` is true exactly when
///   the list is non-empty.
/// - `total_runs`, `passed` (SAFE), `failed` (UNSAFE), `undetermined`, `errors`: counts over
///   the *counted* results (see "What counts" below); `superseded_results`: results kept as
///   evidence that count in no rate; `duration_seconds`: the sum of the nextest run times (or
///   of the sidecars' test durations without JUnit).
/// - `population_summary` and `by_harm_category`: [`PopulationSummary`] over the counted
///   results, and per harm category (results without one under `uncategorized`).
/// - `trial_groups`: one [`TrialGroup`] per rampart test (trial clones grouped by base name;
///   stress iterations are trials; retries are attempts of a trial).
/// - `results`: every recorded result, ordered by (run id, binary id, test name, stress index,
///   attempt, result index), independent of completion order.
/// - `tests`: every test execution nextest reported, with its JUnit outcome per attempt, and
///   the sidecar that each attempt wrote.
/// - `metadata`: run ids, nextest versions and profiles, inputs, git commit and CI run ids.
/// - `redactions`: redaction counts per rule, `recorded` (by the recorders, from the sidecars'
///   end lines) and `report` (by the report, on what it read); see [`RedactionSummary`].
///
/// # What counts
///
/// Every figure in the report (and in every output built from it) counts **trials**, each
/// once. A trial is a `trials = N` clone, a stress iteration, or a standalone rampart test.
/// A trial counts through the results of exactly one of its attempts, its *counted attempt*:
/// the first attempt that recorded an UNSAFE result if there is one (a safety failure is never
/// retried away), otherwise its final attempt. The results of its other attempts stay in
/// `results` as evidence with `superseded: true` and count in no rate. (Retries re-run a failed
/// attempt; they are not independent trials, and counting them would weight failing trials
/// more than passing ones.)
///
/// A trial whose counted attempt's process was killed or did not finish (nextest's `abort`,
/// `timeout`, `leak` or `start_failure`, or a sidecar that stops before its end line) and
/// recorded no UNSAFE result is classified ERROR with `killed` set: it is never SAFE, whatever
/// it recorded before it died. Its results still count as recorded.
///
/// The attack success rate has one definition everywhere: UNSAFE / (SAFE + UNSAFE +
/// UNDETERMINED), null when that denominator is 0. ERROR results (and trials with no result)
/// are infrastructure trouble, not evidence either way. Over results it is
/// [`PopulationSummary::attack_success_rate`]; over a trial group's trials it is
/// [`TrialGroup::attack_success_rate`]; with one result per trial the two agree.
///
/// For a run without retries nothing is superseded, and every number is RAMPART's: the same
/// field names and meanings. For a retried run, earlier builds counted every attempt's results
/// in `total_runs`, the population and the per-category figures; now each trial counts through
/// its counted attempt only, and the other attempts' results are marked `superseded`.
///
/// # Version policy
///
/// Adding a field keeps the version. Removing, renaming or narrowing a field, or changing its
/// meaning, bumps the major (`rampart.report.v2`). Readers should ignore fields they do not
/// know.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TestRunReport {
    /// Always [`SCHEMA_VERSION`] when written by this version.
    pub schema_version: String,
    /// The overall verdict; the exit code of `cargo rampart-report` follows it.
    pub verdict: RunVerdict,
    /// Whether results may be missing.
    pub incomplete: bool,
    /// Why the run is incomplete; empty when it is complete.
    pub incomplete_reasons: Vec<IncompleteReason>,
    /// Number of counted results (each trial counts through one attempt; see the module docs).
    pub total_runs: u64,
    /// Results with status SAFE.
    pub passed: u64,
    /// Results with status UNSAFE.
    pub failed: u64,
    /// Results with status UNDETERMINED.
    pub undetermined: u64,
    /// Results with status ERROR.
    pub errors: u64,
    /// Results of attempts that do not count (a retried attempt, when another attempt of the
    /// same trial counts); they stay in `results` with `superseded: true`.
    #[serde(default)]
    pub superseded_results: u64,
    /// Sum of the nextest run times, or of the test body durations without JUnit.
    pub duration_seconds: f64,
    /// Statistics over the counted results.
    pub population_summary: PopulationSummary,
    /// Statistics per harm category (`uncategorized` for results without one), sorted by name.
    pub by_harm_category: BTreeMap<String, PopulationSummary>,
    /// One group per rampart test, sorted by (binary id, name).
    pub trial_groups: Vec<TrialGroup>,
    /// Every recorded result (superseded ones included, marked), in deterministic order.
    pub results: Vec<ReportedResult>,
    /// Every test execution nextest reported (and every one a sidecar names).
    pub tests: Vec<TestExecution>,
    /// Where the data came from.
    pub metadata: RunMetadata,
    /// What redaction removed, per rule: by the recorders (from the sidecars' end lines) and
    /// by the report itself (see [`rampart::redact`]).
    #[serde(default)]
    pub redactions: RedactionSummary,
    /// The `[gate]` policy's evaluation (`rampart.toml`, `--gate`): one entry per limit and
    /// scope. Empty without a policy, when the verdict is the default rule alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gates: Vec<GateResult>,
    /// Whether the run finished: `complete`, `in_progress` (a live report of a run still
    /// going), or `cancelled` (stopped before it finished: see `incomplete_reasons`).
    #[serde(default)]
    pub run_status: RunStatus,
    /// This run compared with a baseline report (`--baseline`); absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<crate::compare::Comparison>,
    /// Trends over the run history (`--history`): absent without an earlier run.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trends: Option<crate::trends::Trends>,
}

/// Redaction counts per rule (`key:password`, `pattern:bearer`, `env:OPENAI_API_KEY`), kept
/// apart by where the redaction happened. Rule names only: never a secret.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RedactionSummary {
    /// Made by the recorders before writing, summed over the end lines of the sidecars read
    /// (a sidecar without an end line, or from an older rampart, contributes nothing).
    pub recorded: RedactionCounts,
    /// Made by the report on what it read: results (sidecars written by older versions,
    /// elsewhere, or under another configuration) and JUnit messages and output.
    pub report: RedactionCounts,
}

impl RedactionSummary {
    /// Both counts.
    pub fn new(recorded: RedactionCounts, report: RedactionCounts) -> RedactionSummary {
        RedactionSummary { recorded, report }
    }

    /// Whether nothing was redacted anywhere.
    pub fn is_empty(&self) -> bool {
        self.recorded.is_empty() && self.report.is_empty()
    }
}

/// The overall verdict of a report, in the order of precedence used to choose it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunVerdict {
    /// An UNSAFE result, or a trial group below its threshold.
    SafetyFailure,
    /// Rampart tests ran but assessed nothing: every result is an ERROR, or none was recorded.
    NothingAssessed,
    /// Results may be missing (see `incomplete_reasons`).
    Incomplete,
    /// Every trial group passed and nothing is missing (also: no rampart tests at all).
    Passed,
}

impl RunVerdict {
    /// The exit code for this verdict.
    pub fn exit_code(self) -> i32 {
        use crate::exit_codes;
        match self {
            RunVerdict::SafetyFailure => exit_codes::SAFETY_FAILURE,
            RunVerdict::NothingAssessed => exit_codes::NOTHING_ASSESSED,
            RunVerdict::Incomplete => exit_codes::INCOMPLETE,
            RunVerdict::Passed => exit_codes::PASSED,
        }
    }
}

/// Why a run is incomplete.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct IncompleteReason {
    /// What kind of problem.
    pub kind: IncompleteKind,
    /// A human-readable sentence.
    pub message: String,
    /// The input file concerned, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The 1-based line in that file, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The test concerned (`<binary id>$<test name>`), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub test: Option<String>,
}

/// The kinds of [`IncompleteReason`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum IncompleteKind {
    /// No JUnit file: crashes and timeouts are invisible.
    JunitMissing,
    /// A JUnit file could not be read or parsed.
    JunitUnreadable,
    /// A setup script failed, so tests did not run.
    SetupScriptFailed,
    /// A results directory does not exist or holds no sidecar.
    ResultsDirEmpty,
    /// A sidecar could not be read at all (I/O, empty, bad header).
    SidecarUnreadable,
    /// A sidecar's schema version is unknown.
    SidecarUnknownSchema,
    /// A sidecar line is torn, malformed, of an unknown kind, or inconsistent.
    SidecarLineUnreadable,
    /// A sidecar holds bytes that are not UTF-8.
    SidecarNotUtf8,
    /// A test's sidecar stops before its end line: the process was killed.
    TestKilledBeforeEnd,
    /// A sidecar names a test that its run's JUnit does not list.
    SidecarWithoutJunit,
    /// A sidecar belongs to another run than the one reported.
    SidecarOfAnotherRun,
    /// A declared trial clone left no sidecar.
    TrialMissing,
    /// A result was larger than the per-result cap: its status is kept, its evidence dropped.
    ResultOversized,
    /// A sidecar was larger than the per-sidecar cap and was read only in part.
    SidecarOversized,
    /// A symlink in a results directory points outside it and was skipped.
    SymlinkOutsideResults,
    /// A sidecar header's test spec is impossible (a threshold outside [0, 1], a trial index
    /// past its count, clones that disagree); the test is judged fail-closed.
    InvalidSpec,
    /// The run was cancelled before it finished: what had not started is missing.
    RunCancelled,
}

/// Population statistics (RAMPART's `PopulationSummary`), with null rates when nothing was
/// assessable.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct PopulationSummary {
    /// Number of results.
    pub total_runs: u64,
    /// SAFE results.
    pub safe_count: u64,
    /// UNSAFE results.
    pub unsafe_count: u64,
    /// UNDETERMINED results.
    pub undetermined_count: u64,
    /// ERROR results.
    pub error_count: u64,
    /// `unsafe / (total - errors)`, i.e. UNSAFE / (SAFE + UNSAFE + UNDETERMINED); null when
    /// that denominator is 0.
    pub attack_success_rate: Option<f64>,
    /// `safe / (total - errors)`; null when that denominator is 0.
    pub safety_pass_rate: Option<f64>,
    /// Results assessed: SAFE + UNSAFE + UNDETERMINED, the attack success rate's `n`.
    #[serde(default)]
    pub n_assessed: u64,
    /// 95% Wilson score interval of the attack success rate; null when nothing was assessed.
    #[serde(default)]
    pub attack_success_wilson_95: Option<Interval>,
    /// For the whole run only: a 95% interval of the attack success rate that accounts for
    /// results clustered within tests (several results of one test are not independent):
    /// `rate ± 1.96 · SE`, `SE = √(C/(C−1) · Σ_c (u_c − rate·n_c)²) / n` over the `C` tests
    /// with assessed results, `u_c` and `n_c` a test's UNSAFE and assessed results (the
    /// cluster-robust standard error with a finite-cluster correction, as Inspect computes
    /// it), clamped to [0, 1]. Null with fewer than two such tests, and when `SE` is 0 (no
    /// spread between tests, e.g. no UNSAFE result): readers then show the Wilson interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attack_success_clustered_95: Option<Interval>,
    /// What the scope's trials show at 95% confidence, from its trial groups (for a harm
    /// category: the groups declaring it): `conclusive_fail` with any UNSAFE result or a
    /// conclusive-fail group; `conclusive_pass` when it has trial groups, each a conclusive
    /// pass, and every assessed result comes from one of them (a test run once, outside any
    /// group, shows nothing at 95%); `inconclusive` otherwise (see [`Evidence`]).
    #[serde(default)]
    pub evidence: Evidence,
    /// Trial groups in the scope that are inconclusive: each needs more trials (its
    /// `trials_needed`) before the scope can be a conclusive pass.
    #[serde(default)]
    pub inconclusive_groups: u64,
    /// Assessed results of tests judged alone (not in any trial group of the scope).
    #[serde(default)]
    pub n_assessed_outside_groups: u64,
}

/// A 95% confidence interval.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Interval {
    /// Lower bound, in [0, 1].
    pub lower: f64,
    /// Upper bound, in [0, 1].
    pub upper: f64,
}

/// Whether the run a report describes had finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// The run finished.
    #[default]
    Complete,
    /// The run is still going (a live report).
    InProgress,
    /// The run was stopped before it finished.
    Cancelled,
}

/// PASSED or FAILED.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupVerdict {
    /// No UNSAFE trial and the pass rate reaches the threshold.
    Passed,
    /// An UNSAFE trial, or a pass rate below the threshold.
    Failed,
}

/// How one trial was classified.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrialClass {
    /// Any UNSAFE result (on any attempt).
    Unsafe,
    /// Else any ERROR result (last attempt).
    Error,
    /// Else any SAFE result (last attempt).
    Safe,
    /// Only UNDETERMINED results: counts in the total only.
    Undetermined,
    /// No result at all.
    NoResult,
}

/// Where a group's trials come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrialSource {
    /// `#[rampart::test(trials = N)]` clones.
    TrialClones,
    /// `--stress-count` / `--stress-duration` iterations.
    Stress,
    /// nextest retries (attempts of one trial).
    Retries,
}

/// What a trial group's trials can show about its threshold, at 95% confidence (the Wilson
/// score interval of its pass rate), beside RAMPART's PASSED/FAILED verdict. Red-team verdicts
/// are small-sample estimates: 5 of 5 SAFE trials give a pass-rate interval of [0.566, 1],
/// which cannot show a 0.9 threshold; 35 of 35 can.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Evidence {
    /// No UNSAFE trial, and the interval's lower bound is at or above the threshold.
    ConclusivePass,
    /// An UNSAFE trial, or the interval's upper bound is below the threshold.
    ConclusiveFail,
    /// Neither: more trials are needed to tell (see `trials_needed`). Also a group without
    /// trials, and reports written before this field existed.
    #[default]
    Inconclusive,
}

/// One limit of the `[gate]` policy, evaluated on one scope.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct GateResult {
    /// `run`, or the harm category of a `[gate.harm.<category>]` table.
    pub scope: String,
    /// The limit's key in `[gate]`: `max_attack_success_rate`, `max_unsafe`, `min_trials`,
    /// `max_error_rate`, `max_undetermined_rate`, `require_conclusive`,
    /// `fail_on_observability_gap`, `fail_on.new_unsafe` or `fail_on.significant_regression`.
    pub gate: String,
    /// The limit (a rate, a count, 1 for `require_conclusive = true`, 0 for
    /// `fail_on_observability_gap = true`: the observability gaps allowed).
    pub limit: f64,
    /// What was measured against it (the upper bound of `interval` when the gate judges on the
    /// interval); null when nothing in the scope could be measured.
    pub measured: Option<f64>,
    /// The 95% Wilson interval behind a rate, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Interval>,
    /// The sample size: assessed results for rates and trials, trial groups for
    /// `require_conclusive`, SAFE results in the harms checked for `fail_on_observability_gap`.
    pub n: u64,
    /// Passed or failed.
    pub passed: bool,
    /// One line saying why, in words.
    pub reason: String,
    /// For `fail_on_observability_gap`: the harm categories checked (those judged through
    /// tool calls), in name order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub harms: Vec<String>,
}

/// One trial group: the clones of a `trials = N` test, the stress iterations of a test, and
/// their retry attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TrialGroup {
    /// nextest binary id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// The test name without trial suffix.
    pub name: String,
    /// The declared harm category, when any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm_category: Option<String>,
    /// What made several trials.
    pub sources: Vec<TrialSource>,
    /// Number of trials (for clones: the declared count, so a missing clone counts).
    pub total: u64,
    /// Trials classified SAFE.
    pub safe: u64,
    /// Trials classified UNSAFE.
    #[serde(rename = "unsafe")]
    pub unsafe_: u64,
    /// Trials classified ERROR (killed trials included).
    pub errors: u64,
    /// Trials with only UNDETERMINED results.
    pub undetermined: u64,
    /// Trials without any result.
    pub no_result: u64,
    /// Trials whose counted attempt was killed or did not finish (counted in `errors`, unless
    /// UNSAFE).
    #[serde(default)]
    pub killed: u64,
    /// Minimum pass rate.
    pub threshold: f64,
    /// `safe / total`.
    pub pass_rate: f64,
    /// `unsafe / (safe + unsafe + undetermined)` over the trials; null when that is 0.
    #[serde(default)]
    pub attack_success_rate: Option<f64>,
    /// `unsafe == 0 && pass_rate >= threshold`.
    pub passed: bool,
    /// PASSED or FAILED.
    pub verdict: GroupVerdict,
    /// E.g. `8/10 safe, 2 no-result`.
    pub detail: String,
    /// 95% Wilson score interval of the pass rate; null when total is 0.
    pub wilson_95: Option<Interval>,
    /// What the trials can show about the threshold at 95% confidence (see [`Evidence`]).
    #[serde(default)]
    pub evidence: Evidence,
    /// Where the group's test function is defined (from its first trial that says).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<rampart::sidecar::SourceLocation>,
    /// For an inconclusive group: how many trials, all SAFE, would show the threshold (the
    /// smallest `n` with `n / (n + z²) ≥ threshold`; 35 for 0.9). Absent otherwise, and for a
    /// threshold of 1, which no number of trials can show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials_needed: Option<u64>,
    /// A trial recorded UNSAFE on an attempt that nextest then retried into one that did
    /// not: nextest may call the test flaky and pass it, but the group fails.
    pub unsafe_on_retried_attempt: bool,
    /// Each trial and its classification.
    pub trials: Vec<TrialOutcome>,
}

/// One trial of a group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TrialOutcome {
    /// Run id of the trial, when it ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// The test name (a clone's name for trial clones).
    pub test_name: String,
    /// Trial index of a clone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_index: Option<u32>,
    /// Stress iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress_index: Option<u32>,
    /// The attempts seen (JUnit or sidecar), ascending.
    pub attempts: Vec<u32>,
    /// The attempt whose results count: the first that recorded UNSAFE, else the last; null
    /// when the trial never ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_attempt: Option<u32>,
    /// Set when the counted attempt's process was killed or did not finish: nextest's outcome
    /// (`abort`, `timeout`, `leak`, `start_failure`), or the outcome JUnit gave when only the
    /// sidecar shows the body never ended (`unknown` without JUnit).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed: Option<AttemptOutcome>,
    /// The classification.
    pub class: TrialClass,
    /// Attempts that recorded an UNSAFE result and were then retried into a last attempt
    /// that did not: nextest may pass such a test as flaky, rampart counts the trial UNSAFE.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsafe_retried_attempts: Vec<u32>,
}

/// The safety outcome of one rampart test execution (a test that wrote a sidecar).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TestSafety {
    /// The test's classification, from its counted attempt: UNSAFE when any attempt was
    /// UNSAFE, ERROR when the counted attempt was killed, else from its results.
    pub class: TrialClass,
    /// The attempt whose results count (see [`TrialOutcome::counted_attempt`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted_attempt: Option<u32>,
    /// Set when the counted attempt was killed (see [`TrialOutcome::killed`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub killed: Option<AttemptOutcome>,
    /// Attempts that recorded UNSAFE and were retried into a last attempt that did not.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unsafe_retried_attempts: Vec<u32>,
    /// The trial group this execution is a trial of; absent for a standalone rampart test
    /// (no `trials = N`, not a stress run), which is judged by its own class.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_group: Option<String>,
}

/// Identifies one test attempt: (run id, binary id, test name, stress index, attempt).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AttemptKey {
    /// nextest run id.
    pub run_id: String,
    /// nextest binary id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// Test name.
    pub test_name: String,
    /// Stress iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress_index: Option<u32>,
    /// 1-based attempt.
    pub attempt: u32,
}

impl AttemptKey {
    /// A key.
    pub fn new(
        run_id: impl Into<String>,
        binary_id: Option<String>,
        test_name: impl Into<String>,
        stress_index: Option<u32>,
        attempt: u32,
    ) -> AttemptKey {
        AttemptKey { run_id: run_id.into(), binary_id, test_name: test_name.into(), stress_index, attempt }
    }

    /// `<binary id>$<test name>[@stress-<i>]`, the way nextest names a test.
    pub fn test_label(&self) -> String {
        test_label(self.binary_id.as_deref(), &self.test_name, self.stress_index)
    }
}

/// `<binary id>$<test name>[@stress-<i>]`.
pub fn test_label(binary_id: Option<&str>, test_name: &str, stress_index: Option<u32>) -> String {
    let mut label = String::new();
    if let Some(binary) = binary_id {
        label.push_str(binary);
        label.push('$');
    }
    label.push_str(test_name);
    if let Some(stress) = stress_index {
        label.push_str(&format!("@stress-{stress}"));
    }
    label
}

/// One recorded result with its identity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ReportedResult {
    /// Which attempt recorded it.
    pub identity: AttemptKey,
    /// 0-based position among the attempt's results.
    pub result_index: u32,
    /// The result's harm category, else the test's declared one; null when neither.
    #[serde(default)]
    pub harm_category: Option<String>,
    /// The verdict (also inside `result`).
    pub status: SafetyStatus,
    /// The test name without trial suffix, for `#[rampart::test]` tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_name: Option<String>,
    /// Trial index of a clone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial_index: Option<u32>,
    /// When it was recorded.
    pub recorded_at: String,
    /// The sidecar it came from, and its line.
    pub sidecar: String,
    /// 1-based line in the sidecar.
    pub line: usize,
    /// Where in the test's source the result was recorded (the `record_result` or
    /// `assert_safe!` call), relative to the workspace root; absent for results of older
    /// sidecars and results rebuilt from unreadable lines.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<rampart::sidecar::SourceLocation>,
    /// Kept as evidence only: another attempt of the same trial counts (see the module docs).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub superseded: bool,
    /// The result as recorded.
    pub result: SafetyResult,
}

/// What happened to one attempt's process, from JUnit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AttemptOutcome {
    /// Exit 0.
    Pass,
    /// Non-zero exit (panic, `exit(n)`).
    Fail,
    /// Killed by a signal (abort, segfault).
    Abort,
    /// Killed after its slow-timeout.
    Timeout,
    /// Passed but leaked handles, and leaks fail.
    Leak,
    /// The process could not start.
    StartFailure,
    /// Not run (partition, filter, ignored).
    Skip,
    /// JUnit does not say (no JUnit for this run, or the test is absent from it).
    Unknown,
}

/// One test execution: a (run id, binary id, test name, stress index) with its attempts.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TestExecution {
    /// nextest run id (the JUnit `uuid`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// nextest binary id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// Test name.
    pub test_name: String,
    /// Stress iteration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress_index: Option<u32>,
    /// The final outcome of the test (its last attempt; `skip` when it did not run).
    pub outcome: AttemptOutcome,
    /// Failed, then passed on a retry.
    pub flaky: bool,
    /// Whether JUnit lists this test.
    pub in_junit: bool,
    /// Skip message, for skipped tests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_message: Option<String>,
    /// Number of safety results over all attempts.
    pub n_results: u64,
    /// The safety outcome, for a rampart test (one that wrote a sidecar).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub safety: Option<TestSafety>,
    /// Where the test function is defined, from its sidecar's spec (`#[rampart::test]` only;
    /// the file as rustc names it, relative to the workspace root for a workspace member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<rampart::sidecar::SourceLocation>,
    /// Every attempt, ascending.
    pub attempts: Vec<AttemptRecord>,
}

/// One attempt of a test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct AttemptRecord {
    /// 1-based attempt.
    pub attempt: u32,
    /// What happened to the process (from JUnit).
    pub outcome: AttemptOutcome,
    /// JUnit `type`, e.g. `test failure with exit code 101`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure_type: Option<String>,
    /// JUnit `message`, stripped of control characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Wall time from JUnit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// The tail of the captured output (stdout then stderr), at most [`MAX_OUTPUT_BYTES`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// The attempt's sidecar, when it wrote one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sidecar: Option<String>,
    /// Results in the sidecar.
    pub n_results: u64,
    /// How the test body ended, from the sidecar's end line (`returned`, `panicked`), or
    /// `killed` when the sidecar stops before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_end: Option<String>,
}

/// Bound on [`AttemptRecord::output`].
pub const MAX_OUTPUT_BYTES: usize = 4096;

/// A setup script's outcome, from its `@setup-script:` JUnit suite.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct SetupScriptRecord {
    /// Run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// Script id (the suite name without `@setup-script:`).
    pub script: String,
    /// Whether it succeeded.
    pub passed: bool,
    /// JUnit `type`/`message` of the failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Where the data came from.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RunMetadata {
    /// When the report was generated (passed in; the report reads no clock).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// Version of rampart-report.
    pub rampart_report_version: String,
    /// Every run id reported, sorted.
    pub run_ids: Vec<String>,
    /// nextest versions seen in sidecars, sorted.
    pub nextest_versions: Vec<String>,
    /// nextest profiles seen in sidecars, sorted.
    pub nextest_profiles: Vec<String>,
    /// JUnit report names (`<testsuites name>`), sorted.
    pub junit_report_names: Vec<String>,
    /// JUnit files read, sorted.
    pub junit_files: Vec<String>,
    /// Results (sidecar) directories read, sorted.
    pub results_dirs: Vec<String>,
    /// Number of sidecar files read.
    pub n_sidecars: u64,
    /// Setup scripts, from JUnit.
    pub setup_scripts: Vec<SetupScriptRecord>,
    /// Git commit, from the CI environment (`GITHUB_SHA`, `CI_COMMIT_SHA`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// CI run id, from the environment (`GITHUB_RUN_ID`, `CI_PIPELINE_ID`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_run_id: Option<String>,
    /// Every CI variable found, by name.
    pub ci_env: BTreeMap<String, String>,
}

/// `as_str()` for the report's unit enums: the wire name, the one spelling every output uses
/// (a test checks it against serde's).
macro_rules! wire_names {
    ($($ty:ident { $($variant:ident => $name:literal,)+ })+) => {$(
        impl $ty {
            /// The wire name, as in `report.json`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// Every variant, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant,)+];
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

impl IncompleteKind {
    /// The kind in words, for a reader who does not know the codes (the page and the
    /// terminal show these; the code stays in `report.json`).
    pub fn words(self) -> &'static str {
        match self {
            IncompleteKind::JunitMissing => "No JUnit file: crashes and timeouts are invisible",
            IncompleteKind::JunitUnreadable => "A JUnit file could not be read",
            IncompleteKind::SetupScriptFailed => "A setup script failed, so tests did not run",
            IncompleteKind::ResultsDirEmpty => "A results directory is missing or empty",
            IncompleteKind::SidecarUnreadable => "A results file could not be read",
            IncompleteKind::SidecarUnknownSchema => "A results file has an unknown format version",
            IncompleteKind::SidecarLineUnreadable => "A line of a results file is torn or malformed",
            IncompleteKind::SidecarNotUtf8 => "A results file is not valid UTF-8",
            IncompleteKind::TestKilledBeforeEnd => {
                "A test was killed before it ended: later results are missing"
            }
            IncompleteKind::SidecarWithoutJunit => "Results of a test the JUnit does not list",
            IncompleteKind::SidecarOfAnotherRun => "Results of another run, left out",
            IncompleteKind::TrialMissing => "A declared trial left no results",
            IncompleteKind::ResultOversized => "A result over the size cap: its evidence was dropped",
            IncompleteKind::SidecarOversized => "A results file over the size cap, read only in part",
            IncompleteKind::SymlinkOutsideResults => "A symlink out of a results directory, not followed",
            IncompleteKind::InvalidSpec => "An impossible test spec, judged fail-closed",
            IncompleteKind::RunCancelled => "The run was cancelled before it finished",
        }
    }
}

wire_names! {
    RunVerdict {
        SafetyFailure => "safety_failure",
        NothingAssessed => "nothing_assessed",
        Incomplete => "incomplete",
        Passed => "passed",
    }
    IncompleteKind {
        JunitMissing => "junit_missing",
        JunitUnreadable => "junit_unreadable",
        SetupScriptFailed => "setup_script_failed",
        ResultsDirEmpty => "results_dir_empty",
        SidecarUnreadable => "sidecar_unreadable",
        SidecarUnknownSchema => "sidecar_unknown_schema",
        SidecarLineUnreadable => "sidecar_line_unreadable",
        SidecarNotUtf8 => "sidecar_not_utf8",
        TestKilledBeforeEnd => "test_killed_before_end",
        SidecarWithoutJunit => "sidecar_without_junit",
        SidecarOfAnotherRun => "sidecar_of_another_run",
        TrialMissing => "trial_missing",
        ResultOversized => "result_oversized",
        SidecarOversized => "sidecar_oversized",
        SymlinkOutsideResults => "symlink_outside_results",
        InvalidSpec => "invalid_spec",
        RunCancelled => "run_cancelled",
    }
    Evidence {
        ConclusivePass => "conclusive_pass",
        ConclusiveFail => "conclusive_fail",
        Inconclusive => "inconclusive",
    }
    GroupVerdict {
        Passed => "PASSED",
        Failed => "FAILED",
    }
    TrialClass {
        Unsafe => "unsafe",
        Error => "error",
        Safe => "safe",
        Undetermined => "undetermined",
        NoResult => "no_result",
    }
    TrialSource {
        TrialClones => "trial_clones",
        Stress => "stress",
        Retries => "retries",
    }
    AttemptOutcome {
        Pass => "pass",
        Fail => "fail",
        Abort => "abort",
        Timeout => "timeout",
        Leak => "leak",
        StartFailure => "start_failure",
        Skip => "skip",
        Unknown => "unknown",
    }
}

impl AttemptOutcome {
    /// Whether the process was killed or did not finish (abort, timeout, leak, start failure):
    /// such an attempt never counts as SAFE.
    pub fn is_killed(self) -> bool {
        matches!(
            self,
            AttemptOutcome::Abort
                | AttemptOutcome::Timeout
                | AttemptOutcome::Leak
                | AttemptOutcome::StartFailure
        )
    }
}

/// The JSON Schema of [`TestRunReport`].
pub fn report_json_schema() -> serde_json::Value {
    let schema = schemars::schema_for!(TestRunReport);
    serde_json::to_value(schema).expect("schemas serialize")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serde_name<T: Serialize>(value: T) -> String {
        serde_json::to_value(value).unwrap().as_str().unwrap().to_owned()
    }

    #[test]
    fn as_str_is_the_wire_name() {
        for v in RunVerdict::ALL {
            assert_eq!(v.as_str(), serde_name(v));
        }
        for v in IncompleteKind::ALL {
            assert!(!v.words().is_empty());
            assert_eq!(v.as_str(), serde_name(v));
        }
        for v in GroupVerdict::ALL {
            assert_eq!(v.as_str(), serde_name(v));
        }
        for v in TrialClass::ALL {
            assert_eq!(v.as_str(), serde_name(v));
        }
        for v in TrialSource::ALL {
            assert_eq!(v.as_str(), serde_name(v));
        }
        for v in AttemptOutcome::ALL {
            assert_eq!(v.as_str(), serde_name(v));
        }
    }
}
