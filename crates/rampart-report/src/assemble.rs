//! Building the [`TestRunReport`] from its inputs, in named phases.
//!
//! The unit of execution is (run id, binary id, test name, stress index, attempt). JUnit says
//! what happened to each attempt's process; sidecars hold its safety results. [`assemble`]:
//!
//! 1. [`select_sidecars`]: one per file, only the runs reported, sorted by attempt;
//! 2. [`index_junit`]: one execution per test that ran (a partition's skips drop out);
//! 3. [`redact_results`] (on every core), then [`attach_sidecars`]: each sidecar's results
//!    redacted again with the workspace's rules, its attempt and results joined to its
//!    execution;
//! 4. [`judge`]: trials, counted attempts and trial groups ([`crate::aggregate`]);
//! 5. [`crate::aggregate::summarize`] and [`crate::aggregate::run_verdict`]: the numbers;
//! 6. [`order_problems`] and [`build_metadata`].
//!
//! The result is independent of the order of the inputs: everything is keyed and sorted.

use std::collections::{BTreeMap, BTreeSet};

use rampart::redact::{RedactionCounts, Redactor};
use rampart::sidecar::SourceLocation;

use crate::aggregate::{self, AttemptFacts, ExecutionFacts};
use crate::junit::{JunitRun, JunitTest};
use crate::problem::InputProblem;
use crate::report::{
    AttemptKey, AttemptOutcome, AttemptRecord, IncompleteReason, RedactionSummary, ReportedResult,
    RunMetadata, SCHEMA_VERSION, TestExecution, TestRunReport, TrialGroup,
};
use crate::sidecars::LoadedSidecar;
use crate::view::ExecutionKey;

/// The rule name under which the report counts redactions a sidecar's end line claims under a
/// name that is not one of rampart's rule shapes.
pub const UNRECOGNIZED_RULE: &str = "unrecognized";

/// CI variables copied into the metadata when present.
pub const CI_ENV_VARS: &[&str] = &[
    "GITHUB_SHA",
    "GITHUB_RUN_ID",
    "GITHUB_RUN_ATTEMPT",
    "GITHUB_REPOSITORY",
    "GITHUB_REF",
    "CI_COMMIT_SHA",
    "CI_PIPELINE_ID",
    "CI_JOB_ID",
    "BUILDKITE_COMMIT",
    "BUILDKITE_BUILD_ID",
    "CIRCLE_SHA1",
    "CIRCLE_WORKFLOW_ID",
    "GIT_COMMIT",
    "BUILD_ID",
];
const COMMIT_VARS: &[&str] =
    &["GITHUB_SHA", "CI_COMMIT_SHA", "BUILDKITE_COMMIT", "CIRCLE_SHA1", "GIT_COMMIT"];
const RUN_ID_VARS: &[&str] =
    &["GITHUB_RUN_ID", "CI_PIPELINE_ID", "BUILDKITE_BUILD_ID", "CIRCLE_WORKFLOW_ID", "BUILD_ID"];

/// What the report is built from. Everything is data: no file is read here.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct ReportInputs {
    /// JUnit files that were read.
    pub junit: Vec<JunitRun>,
    /// Sidecars that were read.
    pub sidecars: Vec<LoadedSidecar>,
    /// Problems met while reading.
    pub problems: Vec<InputProblem>,
    /// Run ids to report (`--run-id`); with JUnit, the JUnit run ids are added.
    pub run_ids: Vec<String>,
    /// JUnit files given or found (read or not), for the metadata.
    pub junit_files: Vec<String>,
    /// Results directories given or found, for the metadata.
    pub results_dirs: Vec<String>,
}

/// Inputs from outside the data: the clock and the environment, passed in so the report is
/// reproducible.
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ReportContext {
    /// When the report is generated (RFC 3339); used for the metadata and the run file name.
    pub generated_at: Option<String>,
    /// Environment variables (only [`CI_ENV_VARS`] are used).
    pub env: BTreeMap<String, String>,
    /// The redaction rules applied again to everything read (built-in rules by default; the
    /// CLI uses the workspace's `rampart.toml`).
    pub redactor: Redactor,
    /// The `[gate]` policy, when there is one: evaluated into `gates`, a failed gate fails the
    /// run. `None`: the default rule alone.
    pub gates: Option<crate::gate::GatePolicy>,
    /// The baseline report: the report carries its comparison with it (`baseline`), which the
    /// `fail_on` gates read.
    pub baseline: Option<crate::history::RunSummary>,
    /// The runs before this one (oldest first, partitions merged): the report carries its
    /// trends over them (`trends`).
    pub history: Vec<crate::history::RunSummary>,
    /// Whether the run had finished (see [`crate::report::RunStatus`]).
    pub run_status: crate::report::RunStatus,
    /// Where the run came from: when set, [`Assembled::summary`] holds the run's history entry.
    pub origin: Option<crate::history::RunOrigin>,
}

impl ReportContext {
    /// A context with the given time and environment.
    pub fn new(generated_at: Option<String>, env: BTreeMap<String, String>) -> ReportContext {
        ReportContext {
            generated_at,
            env,
            redactor: Redactor::builtin(),
            gates: None,
            baseline: None,
            history: Vec::new(),
            run_status: crate::report::RunStatus::Complete,
            origin: None,
        }
    }

    /// Sets the gate policy (see [`crate::gate`]).
    pub fn with_gates(mut self, gates: Option<crate::gate::GatePolicy>) -> ReportContext {
        self.gates = gates;
        self
    }

    /// Sets the baseline the report is compared with (see [`crate::compare`]).
    pub fn with_baseline(mut self, baseline: Option<crate::history::RunSummary>) -> ReportContext {
        self.baseline = baseline;
        self
    }

    /// Asks for the run's history entry ([`Assembled::summary`]), with where it came from.
    pub fn with_origin(mut self, origin: Option<crate::history::RunOrigin>) -> ReportContext {
        self.origin = origin;
        self
    }

    /// Sets whether the run had finished.
    pub fn with_run_status(mut self, status: crate::report::RunStatus) -> ReportContext {
        self.run_status = status;
        self
    }

    /// Sets the runs before this one (see [`crate::trends`]).
    pub fn with_history(mut self, history: Vec<crate::history::RunSummary>) -> ReportContext {
        self.history = history;
        self
    }

    /// Sets the redaction rules (see [`rampart::redact`]).
    pub fn with_redactor(mut self, redactor: Redactor) -> ReportContext {
        self.redactor = redactor;
        self
    }

    /// The current time and this process's CI variables.
    pub fn from_process() -> ReportContext {
        let env = CI_ENV_VARS
            .iter()
            .filter_map(|name| {
                std::env::var(name).ok().filter(|v| !v.is_empty()).map(|v| ((*name).to_owned(), v))
            })
            .collect();
        ReportContext::new(Some(rampart::Timestamp::now().to_string()), env)
    }
}

/// The report and the problems behind its incomplete reasons (for rendering diagnostics).
#[derive(Debug)]
#[non_exhaustive]
pub struct Assembled {
    /// The report.
    pub report: TestRunReport,
    /// Every input problem, sorted like the report's incomplete reasons, plus advice.
    pub problems: Vec<InputProblem>,
    /// The run's history entry, when the context gave an origin.
    pub summary: Option<crate::history::RunSummary>,
}

/// One test execution while the report is built.
struct Execution<'a> {
    test: TestExecution,
    /// The `#[rampart::test]` spec of its first sidecar, and that sidecar's path.
    spec: Option<(&'a rampart::sidecar::TestSpec, &'a str)>,
    /// Whether JUnit lists it.
    in_junit: bool,
    /// Its results, redacted.
    results: Vec<ReportedResult>,
}

/// Joins, aggregates and builds the report.
pub fn assemble(inputs: ReportInputs, context: &ReportContext) -> Assembled {
    let ReportInputs { junit, sidecars, mut problems, run_ids, junit_files, results_dirs } = inputs;
    // A live report is written before nextest writes its JUnit: no JUnit is expected yet.
    if junit.is_empty()
        && junit_files.is_empty()
        && context.run_status != crate::report::RunStatus::InProgress
    {
        problems.push(InputProblem::JunitMissing);
    }
    let junit_run_ids: BTreeSet<String> = junit.iter().filter_map(|r| r.run_id.clone()).collect();
    let allowed: BTreeSet<String> = run_ids.iter().cloned().chain(junit_run_ids.iter().cloned()).collect();

    let mut kept = select_sidecars(sidecars, &allowed, &mut problems);
    let redacted = redact_results(&mut kept, &context.redactor);
    let mut executions = index_junit(&junit);
    let n_junit_tests = executions.len();
    let mut redactions =
        attach_sidecars(&mut kept, &mut executions, &junit_run_ids, &context.redactor, &mut problems);
    redactions.report.merge(&redacted);
    let trial_groups = judge(&mut executions, &mut problems);

    let mut results: Vec<ReportedResult> = Vec::new();
    let mut tests: Vec<TestExecution> = Vec::with_capacity(executions.len());
    for execution in executions.into_values() {
        results.extend(execution.results);
        tests.push(execution.test);
    }
    results.sort_by(|a, b| {
        (&a.identity, a.result_index, &a.sidecar, a.line).cmp(&(
            &b.identity,
            b.result_index,
            &b.sidecar,
            b.line,
        ))
    });
    let summary = aggregate::summarize(&results);

    if kept.is_empty() && n_junit_tests > 0 {
        problems.push(InputProblem::NoRampartTests { n_tests: n_junit_tests });
    }
    // Diagnostics are outputs too: redacted and made inert before anything shows them.
    let mut report_redactions = redactions.report;
    for problem in &mut problems {
        problem.harden(&context.redactor, &mut report_redactions);
    }
    let (incomplete_reasons, problems) = order_problems(problems);
    let incomplete = !incomplete_reasons.is_empty();
    let verdict = aggregate::run_verdict(&summary.population, &trial_groups, !kept.is_empty(), incomplete);

    let junit_seconds: Vec<f64> = junit.iter().filter_map(|r| r.time_seconds).collect();
    let duration_seconds = if junit_seconds.is_empty() {
        kept.iter().filter_map(|(_, s)| s.sidecar.end.as_ref().map(|e| e.duration_seconds)).sum()
    } else {
        junit_seconds.iter().sum()
    };
    let metadata = build_metadata(&junit, &kept, &tests, junit_files, results_dirs, context);
    redact_texts(&context.redactor, &mut tests, &mut report_redactions);
    let mut trial_groups = trial_groups;
    locate_groups(&mut trial_groups, &tests);

    let (mut population, mut by_harm_category) = (summary.population, summary.by_harm_category);
    aggregate::scope_evidence(&mut population, &mut by_harm_category, &trial_groups, &results);
    let mut report = TestRunReport {
        schema_version: SCHEMA_VERSION.to_owned(),
        verdict,
        incomplete,
        incomplete_reasons,
        total_runs: population.total_runs,
        passed: population.safe_count,
        failed: population.unsafe_count,
        undetermined: population.undetermined_count,
        errors: population.error_count,
        superseded_results: summary.n_superseded,
        duration_seconds,
        population_summary: population,
        by_harm_category,
        trial_groups,
        results,
        tests,
        metadata,
        redactions: RedactionSummary::new(redactions.recorded, report_redactions),
        gates: Vec::new(),
        baseline: None,
        trends: None,
        run_status: context.run_status,
    };
    // One summary of the run feeds the comparison, the trends and its history entry.
    let mut summary = (context.baseline.is_some() || !context.history.is_empty() || context.origin.is_some())
        .then(|| crate::history::RunSummary::of(&report, &context.origin.clone().unwrap_or_default()));
    if let Some(summary) = &summary {
        report.baseline =
            context.baseline.as_ref().map(|baseline| crate::compare::compare(baseline, summary));
        report.trends = crate::trends::trends(&context.history, summary, crate::trends::DEFAULT_TREND_RUNS);
    }
    // Gates last: they read the finished numbers. A failed gate is a safety failure.
    if let Some(policy) = &context.gates {
        report.gates = crate::gate::evaluate(policy, &report);
        if report.gates.iter().any(|g| !g.passed) {
            report.verdict = crate::report::RunVerdict::SafetyFailure;
        }
    }
    if let Some(summary) = &mut summary {
        summary.settle(&report);
    }
    Assembled { report, problems, summary: summary.filter(|_| context.origin.is_some()) }
}

/// Phase 1: one sidecar per file (the same file given twice keeps the fuller copy, so the
/// order never matters), only the runs reported (`allowed`; every run when empty), sorted by
/// attempt key then path.
fn select_sidecars(
    sidecars: Vec<LoadedSidecar>,
    allowed: &BTreeSet<String>,
    problems: &mut Vec<InputProblem>,
) -> Vec<(AttemptKey, LoadedSidecar)> {
    let mut by_path: BTreeMap<String, LoadedSidecar> = BTreeMap::new();
    for loaded in sidecars {
        let rank = |l: &LoadedSidecar| (l.sidecar.n_bytes, l.sidecar.results.len(), l.sidecar.end.is_some());
        match by_path.get(&loaded.path) {
            Some(existing) if rank(existing) >= rank(&loaded) => {}
            _ => {
                by_path.insert(loaded.path.clone(), loaded);
            }
        }
    }
    let mut kept: Vec<(AttemptKey, LoadedSidecar)> = Vec::new();
    for (path, loaded) in by_path {
        let id = &loaded.sidecar.header.identity;
        if !allowed.is_empty() && !allowed.contains(&id.run_id) {
            problems.push(InputProblem::SidecarOfAnotherRun {
                path,
                found: id.run_id.clone(),
                expected: allowed.iter().cloned().collect::<Vec<_>>().join(", "),
            });
            continue;
        }
        let key = AttemptKey::new(
            id.run_id.clone(),
            id.binary_id.clone(),
            id.test_name.clone(),
            id.stress_index,
            id.attempt,
        );
        kept.push((key, loaded));
    }
    kept.sort_by(|a, b| (&a.0, &a.1.path).cmp(&(&b.0, &b.1.path)));
    kept
}

/// Phase 1b: every result redacted again with the workspace's rules (the sidecar may come from
/// an older rampart, another machine or another configuration), then bounded
/// ([`crate::validate::sanitize_result`]): redaction first, so it sees the whole structure (a
/// secret key nested deeper than the depth cut, a value the text cut would split). Sidecars are
/// done on every core; the counts are summed, so the order does not matter.
fn redact_results(kept: &mut [(AttemptKey, LoadedSidecar)], redactor: &Redactor) -> RedactionCounts {
    use rayon::prelude::*;
    kept.par_iter_mut()
        .map(|(_, loaded)| {
            let mut counts = RedactionCounts::new();
            for recorded in &mut loaded.sidecar.results {
                redactor.redact_result_into(&mut recorded.result, &mut counts);
                crate::validate::sanitize_result(&mut recorded.result);
            }
            counts
        })
        .reduce(RedactionCounts::new, |mut a, b| {
            a.merge(&b);
            a
        })
}

/// Phase 2: one execution per test JUnit lists. A test that ran in any partition resolves to
/// its runs; one skipped everywhere is listed once, skipped.
fn index_junit(junit: &[JunitRun]) -> BTreeMap<ExecutionKey<'_>, Execution<'_>> {
    // (binary id, test name, stress index) → (run id, testcase) in every run that lists it.
    type Runs<'j> = Vec<(Option<&'j str>, &'j JunitTest)>;
    let mut by_test: BTreeMap<(&str, &str, Option<u32>), Runs<'_>> = BTreeMap::new();
    for run in junit {
        for test in &run.tests {
            by_test
                .entry((test.binary_id.as_str(), test.test_name.as_str(), test.stress_index))
                .or_default()
                .push((run.run_id.as_deref(), test));
        }
    }
    let mut executions = BTreeMap::new();
    for ((binary, name, stress), mut entries) in by_test {
        entries.sort_by(|a, b| (a.0, &a.1.skipped).cmp(&(b.0, &b.1.skipped)));
        let ran: Vec<_> = entries.iter().filter(|(_, t)| t.skipped.is_none()).copied().collect();
        let chosen = if ran.is_empty() { vec![entries[0]] } else { ran };
        for (run_id, test) in chosen {
            let key = ExecutionKey::new(run_id, Some(binary), name, stress);
            executions.entry(key).or_insert_with(|| Execution {
                test: execution_from_junit(run_id.map(str::to_owned), test),
                spec: None,
                in_junit: true,
                results: Vec::new(),
            });
        }
    }
    executions
}

/// Redaction counts: by the recorders (from end lines) and by the report.
struct Redactions {
    recorded: RedactionCounts,
    report: RedactionCounts,
}

/// Phase 3: each sidecar's attempt joined to its execution (created when JUnit does not list
/// it), its results redacted and attached.
fn attach_sidecars<'a>(
    kept: &'a mut [(AttemptKey, LoadedSidecar)],
    executions: &mut BTreeMap<ExecutionKey<'a>, Execution<'a>>,
    junit_run_ids: &BTreeSet<String>,
    redactor: &Redactor,
    problems: &mut Vec<InputProblem>,
) -> Redactions {
    let mut redactions = Redactions { recorded: RedactionCounts::new(), report: RedactionCounts::new() };
    for (key, loaded) in kept.iter_mut() {
        // The results move into the report (no second copy); the rest of the sidecar stays
        // for the phases after this one.
        let recorded_results = std::mem::take(&mut loaded.sidecar.results);
        let (key, loaded): (&'a AttemptKey, &'a LoadedSidecar) = (key, loaded);
        let sidecar = &loaded.sidecar;
        // JUnit names every binary; a sidecar without a binary id (an old nextest) joins as "".
        let exec_key = ExecutionKey::new(
            Some(&key.run_id),
            Some(key.binary_id.as_deref().unwrap_or("")),
            &key.test_name,
            key.stress_index,
        );
        let in_junit = executions.get(&exec_key).is_some_and(|e| e.in_junit);
        if !in_junit && junit_run_ids.contains(&key.run_id) {
            problems.push(InputProblem::SidecarWithoutJunit {
                path: loaded.path.clone(),
                test: key.test_label(),
                run_id: key.run_id.clone(),
            });
        }
        let execution = executions.entry(exec_key).or_insert_with(|| Execution {
            test: TestExecution {
                run_id: Some(key.run_id.clone()),
                binary_id: key.binary_id.clone(),
                test_name: key.test_name.clone(),
                stress_index: key.stress_index,
                outcome: AttemptOutcome::Unknown,
                flaky: false,
                in_junit: false,
                skip_message: None,
                n_results: 0,
                safety: None,
                location: None,
                attempts: Vec::new(),
            },
            spec: None,
            in_junit: false,
            results: Vec::new(),
        });
        let spec = sidecar.header.spec.as_ref();
        if execution.spec.is_none() {
            execution.spec = spec.map(|s| (s, loaded.path.as_str()));
            execution.test.location = spec
                .and_then(|s| s.location.as_ref())
                .map(|l| clean_location(l, redactor, &mut redactions.report));
        }
        let attempts = &mut execution.test.attempts;
        let i = match attempts.iter().position(|a| a.attempt == key.attempt) {
            Some(i) => i,
            None => {
                attempts.push(empty_attempt(key.attempt));
                attempts.sort_by_key(|a| a.attempt);
                attempts.iter().position(|a| a.attempt == key.attempt).expect("just pushed")
            }
        };
        let record = &mut attempts[i];
        record.sidecar = Some(loaded.path.clone());
        record.n_results += recorded_results.len() as u64;
        record.body_end = Some(match &sidecar.end {
            Some(end) => end.outcome.as_str().to_owned(),
            None if sidecar.is_declared() => "killed".to_owned(),
            None => "unknown".to_owned(),
        });
        execution.test.n_results += recorded_results.len() as u64;
        if sidecar.is_missing_end() {
            let outcome = match record.outcome {
                AttemptOutcome::Unknown => "JUnit does not say how it ended".to_owned(),
                other => format!("JUnit outcome: {other}"),
            };
            problems.push(InputProblem::TestKilled {
                path: loaded.path.clone(),
                test: format!("{}#{}", key.test_label(), key.attempt),
                outcome,
            });
        }
        if let Some(end) = &sidecar.end {
            // Rule names come from the file: only a name shaped like one of rampart's rules
            // (and holding nothing redaction would remove) is kept; others count as one
            // `unrecognized` rule, never printed.
            for (rule, n) in end.redactions.iter() {
                let shaped = rule.split_once(':').is_some_and(|(kind, name)| {
                    matches!(kind, "key" | "pattern" | "env")
                        && (1..=64).contains(&name.len())
                        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
                });
                let clean = shaped && redactor.redact_text(rule, &mut RedactionCounts::new()) == rule;
                redactions.recorded.add(if clean { rule } else { UNRECOGNIZED_RULE }, n);
            }
        }
        for recorded in recorded_results {
            let result = recorded.result; // redacted and bounded by `redact_results`
            let harm = result
                .harm_category
                .as_ref()
                .or(spec.and_then(|s| s.harm.as_ref()))
                .map(|h| h.as_str().to_owned())
                .filter(|h| !h.is_empty());
            execution.results.push(ReportedResult {
                identity: key.clone(),
                result_index: recorded.index,
                harm_category: harm,
                status: result.status,
                base_name: spec.map(|s| s.base_name.clone()),
                trial_index: spec.and_then(|s| s.trial).map(|t| t.index),
                recorded_at: recorded.recorded_at.to_string(),
                sidecar: loaded.path.clone(),
                line: recorded.line,
                location: recorded
                    .location
                    .as_ref()
                    .map(|l| clean_location(l, redactor, &mut redactions.report)),
                superseded: false,
                result,
            });
        }
    }
    redactions
}

/// Phase 4: every rampart test execution judged as a trial (its counted attempt, its class),
/// trial groups built, and the results of attempts that do not count marked superseded.
fn judge(
    executions: &mut BTreeMap<ExecutionKey<'_>, Execution<'_>>,
    problems: &mut Vec<InputProblem>,
) -> Vec<TrialGroup> {
    let facts: Vec<ExecutionFacts<'_>> = executions
        .iter()
        .map(|(key, execution)| {
            let attempts = execution
                .test
                .attempts
                .iter()
                .map(|a| AttemptFacts {
                    attempt: a.attempt,
                    outcome: a.outcome,
                    body_killed: a.body_end.as_deref() == Some("killed"),
                    statuses: execution
                        .results
                        .iter()
                        .filter(|r| r.identity.attempt == a.attempt)
                        .map(|r| r.status)
                        .collect(),
                })
                .collect();
            ExecutionFacts {
                key: *key,
                spec: execution.spec,
                recorded: execution.test.attempts.iter().any(|a| a.sidecar.is_some()),
                attempts,
            }
        })
        .collect();
    let grouping = aggregate::group_trials(&facts, problems);
    drop(facts);
    for (execution, safety) in executions.values_mut().zip(grouping.safety) {
        if let Some(safety) = &safety {
            for result in &mut execution.results {
                result.superseded = safety.counted_attempt != Some(result.identity.attempt);
            }
        }
        execution.test.safety = safety;
    }
    grouping.groups
}

/// Phase 6: problems sorted, and the incomplete reasons among them.
fn order_problems(problems: Vec<InputProblem>) -> (Vec<IncompleteReason>, Vec<InputProblem>) {
    let mut keyed: Vec<_> = problems
        .into_iter()
        .map(|p| {
            let reason = p.incomplete_reason();
            let key = reason.as_ref().map(|r| (r.kind, r.file.clone(), r.line, r.message.clone()));
            (key.is_none(), key, p.to_string(), p, reason)
        })
        .collect();
    keyed.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
    let mut reasons = Vec::new();
    let mut problems = Vec::new();
    for (_, _, _, problem, reason) in keyed {
        reasons.extend(reason);
        problems.push(problem);
    }
    (reasons, problems)
}

/// Redacts what the report shows besides results and problems (see
/// [`InputProblem::harden`]): JUnit messages and captured output (an `assert_safe!` panic
/// prints the result's summary).
fn redact_texts(redactor: &Redactor, tests: &mut [TestExecution], counts: &mut RedactionCounts) {
    let redact = |text: &mut Option<String>, counts: &mut RedactionCounts| {
        if let Some(text) = text {
            redactor.redact_string(text, counts);
        }
    };
    for test in tests {
        redact(&mut test.skip_message, counts);
        for attempt in &mut test.attempts {
            redact(&mut attempt.failure_type, counts);
            redact(&mut attempt.message, counts);
            redact(&mut attempt.output, counts);
            // Cut after redaction (see `junit::output_of`).
            if let Some(output) = &mut attempt.output {
                *output = crate::sanitize::tail(output, crate::report::MAX_OUTPUT_BYTES);
            }
        }
    }
}

/// A location from a sidecar, made fit to show: the file name redacted, then cleaned of
/// control characters and cut to [`MAX_LOCATION_FILE_CHARS`] (redaction first, so the cut
/// never leaves part of a secret it would have recognized).
fn clean_location(
    location: &SourceLocation,
    redactor: &Redactor,
    counts: &mut RedactionCounts,
) -> SourceLocation {
    let mut file = location.file.clone();
    redactor.redact_string(&mut file, counts);
    let file: String = crate::sanitize::clean_line(&file).chars().take(MAX_LOCATION_FILE_CHARS).collect();
    SourceLocation::new(file, location.line, location.column)
}

/// Longest source file name kept, in characters.
const MAX_LOCATION_FILE_CHARS: usize = 512;

/// Each trial group is located where the first of its trials' tests says it is defined.
fn locate_groups(groups: &mut [TrialGroup], tests: &[TestExecution]) {
    let by_test: BTreeMap<(Option<&str>, &str), &SourceLocation> = tests
        .iter()
        .filter_map(|t| Some(((t.binary_id.as_deref(), t.test_name.as_str()), t.location.as_ref()?)))
        .collect();
    for group in groups {
        group.location = group
            .trials
            .iter()
            .find_map(|t| by_test.get(&(group.binary_id.as_deref(), t.test_name.as_str())))
            .map(|l| (*l).clone());
    }
}

fn empty_attempt(attempt: u32) -> AttemptRecord {
    AttemptRecord {
        attempt,
        outcome: AttemptOutcome::Unknown,
        failure_type: None,
        message: None,
        duration_seconds: None,
        output: None,
        sidecar: None,
        n_results: 0,
        body_end: None,
    }
}

fn execution_from_junit(run_id: Option<String>, test: &JunitTest) -> TestExecution {
    let attempts: Vec<AttemptRecord> = test
        .attempts
        .iter()
        .map(|a| AttemptRecord {
            attempt: a.attempt,
            outcome: a.outcome,
            failure_type: a.failure_type.clone(),
            message: a.message.clone(),
            duration_seconds: a.duration_seconds,
            output: a.output.clone(),
            sidecar: None,
            n_results: 0,
            body_end: None,
        })
        .collect();
    TestExecution {
        run_id,
        binary_id: Some(test.binary_id.clone()),
        test_name: test.test_name.clone(),
        stress_index: test.stress_index,
        outcome: if test.skipped.is_some() {
            AttemptOutcome::Skip
        } else {
            attempts.last().map_or(AttemptOutcome::Unknown, |a| a.outcome)
        },
        flaky: test.flaky,
        in_junit: true,
        skip_message: test.skipped.clone(),
        n_results: 0,
        safety: None,
        location: None,
        attempts,
    }
}

fn build_metadata(
    junit: &[JunitRun],
    kept: &[(AttemptKey, LoadedSidecar)],
    tests: &[TestExecution],
    mut junit_files: Vec<String>,
    mut results_dirs: Vec<String>,
    context: &ReportContext,
) -> RunMetadata {
    let mut run_ids: BTreeSet<String> = junit.iter().filter_map(|r| r.run_id.clone()).collect();
    run_ids.extend(kept.iter().map(|(k, _)| k.run_id.clone()));
    run_ids.extend(tests.iter().filter_map(|t| t.run_id.clone()));
    let ids = kept.iter().map(|(_, s)| &s.sidecar.header.identity);
    let nextest_versions: BTreeSet<String> = ids.clone().filter_map(|i| i.nextest_version.clone()).collect();
    let nextest_profiles: BTreeSet<String> = ids.filter_map(|i| i.profile.clone()).collect();
    let junit_report_names: BTreeSet<String> = junit.iter().filter_map(|r| r.report_name.clone()).collect();
    junit_files.extend(junit.iter().map(|r| r.path.clone()));
    junit_files.sort();
    junit_files.dedup();
    results_dirs.sort();
    results_dirs.dedup();
    let mut setup_scripts: Vec<_> = junit.iter().flat_map(|r| r.setup_scripts.iter().cloned()).collect();
    setup_scripts.sort_by(|a, b| (&a.run_id, &a.script, a.passed).cmp(&(&b.run_id, &b.script, b.passed)));
    let ci_env: BTreeMap<String, String> = context
        .env
        .iter()
        .filter(|(k, v)| CI_ENV_VARS.contains(&k.as_str()) && !v.is_empty())
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let first = |vars: &[&str]| vars.iter().find_map(|v| ci_env.get(*v).cloned());
    RunMetadata {
        generated_at: context.generated_at.clone(),
        rampart_report_version: env!("CARGO_PKG_VERSION").to_owned(),
        run_ids: run_ids.into_iter().collect(),
        nextest_versions: nextest_versions.into_iter().collect(),
        nextest_profiles: nextest_profiles.into_iter().collect(),
        junit_report_names: junit_report_names.into_iter().collect(),
        junit_files,
        results_dirs,
        n_sidecars: kept.len() as u64,
        setup_scripts,
        git_commit: first(COMMIT_VARS),
        ci_run_id: first(RUN_ID_VARS),
        ci_env,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::junit::parse_junit;
    use crate::report::RunVerdict;
    use crate::sidecars::parse_sidecar;
    use proptest::prelude::*;
    use rampart::SafetyStatus;
    use serde_json::json;

    const RUN_A: &str = "aaaaaaaa-0000-4000-8000-000000000001";
    const RUN_B: &str = "bbbbbbbb-0000-4000-8000-000000000002";

    fn status_name(s: SafetyStatus) -> &'static str {
        s.as_str()
    }

    /// A sidecar of clone `trial` of `tests::t<test>` (3 declared trials).
    fn sidecar(
        run: &str,
        test: u32,
        trial: u32,
        attempt: u32,
        statuses: &[SafetyStatus],
        end: bool,
    ) -> LoadedSidecar {
        let name = format!("tests::t{test}::trial_{trial:02}");
        let mut text = json!({
            "kind": "header", "schema": "rampart.sidecar.v1",
            "identity": {"harness": "nextest", "run_id": run, "binary_id": "demo", "test_name": name,
                         "attempt": attempt, "total_attempts": 3},
            "spec": {"base_name": format!("tests::t{test}"), "threshold": 0.5, "trial": {"index": trial, "count": 3}},
            "writer": {"rampart_version": "0.1.0", "pid": 1}, "started_at": "2026-01-01T00:00:00.000Z"
        })
        .to_string();
        text.push('\n');
        for (i, s) in statuses.iter().enumerate() {
            text.push_str(
                &json!({"kind": "result", "index": i, "recorded_at": "2026-01-01T00:00:00.000Z",
                        "result": {"status": status_name(*s), "summary": "s", "observability_level": "response_only"}})
                .to_string(),
            );
            text.push('\n');
        }
        if end {
            text.push_str(
                &json!({"kind": "end", "outcome": "returned", "n_results": statuses.len(),
                                  "ended_at": "2026-01-01T00:00:01.000Z", "duration_seconds": 1.0})
                .to_string(),
            );
            text.push('\n');
        }
        let path = format!("runs/{run}/{name}_a{attempt}.jsonl");
        let (loaded, problems) = parse_sidecar(&path, text.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        loaded.unwrap()
    }

    fn junit(run: &str, ran: &[u32], skipped: &[u32]) -> JunitRun {
        let mut cases = String::new();
        for t in ran {
            for trial in 0..3 {
                cases.push_str(&format!(
                    r#"<testcase name="tests::t{t}::trial_{trial:02}" classname="demo" time="0.1"/>"#
                ));
            }
        }
        for t in skipped {
            for trial in 0..3 {
                cases.push_str(&format!(
                    r#"<testcase name="tests::t{t}::trial_{trial:02}" classname="demo" time="0.0"><skipped message="Skipped: test is in a different partition"/></testcase>"#
                ));
            }
        }
        let xml = format!(
            r#"<testsuites name="r" tests="1" skipped="0" failures="0" errors="0" uuid="{run}" time="1.0"><testsuite name="demo" tests="1" skipped="0" errors="0" failures="0">{cases}</testsuite></testsuites>"#
        );
        parse_junit(&format!("{run}.xml"), xml.as_bytes()).0.unwrap()
    }

    fn inputs(junit: Vec<JunitRun>, sidecars: Vec<LoadedSidecar>) -> ReportInputs {
        let junit_files = junit.iter().map(|r| r.path.clone()).collect();
        ReportInputs { junit, sidecars, junit_files, ..ReportInputs::default() }
    }

    #[test]
    fn missing_clone_counts_as_no_result_and_partition_skips_resolve_to_ran() {
        use SafetyStatus::Safe;
        let sidecars = vec![sidecar(RUN_A, 0, 0, 1, &[Safe], true), sidecar(RUN_B, 1, 1, 1, &[Safe], true)];
        let report = assemble(
            inputs(vec![junit(RUN_A, &[0], &[1]), junit(RUN_B, &[1], &[0])], sidecars),
            &ReportContext::default(),
        )
        .report;
        assert_eq!(report.tests.len(), 6, "each clone once, as ran: {:#?}", report.tests);
        assert!(report.tests.iter().all(|t| t.outcome == AttemptOutcome::Pass));
        let t0 = &report.trial_groups[0];
        assert_eq!((t0.total, t0.safe, t0.no_result), (3, 1, 2));
        assert_eq!(t0.detail, "1/3 safe, 2 no-result");
        assert!(
            report.incomplete_reasons.iter().any(|r| r.kind == crate::report::IncompleteKind::TrialMissing)
        );
        assert_eq!(report.verdict, RunVerdict::SafetyFailure, "1/3 is below the 0.5 threshold");
    }

    #[test]
    fn nothing_assessed_is_not_passed() {
        let sidecars = vec![sidecar(RUN_A, 0, 0, 1, &[SafetyStatus::Error], true)];
        let report = assemble(inputs(vec![], sidecars), &ReportContext::default()).report;
        assert_eq!(report.verdict, RunVerdict::NothingAssessed);
        assert_eq!(report.population_summary.attack_success_rate, None);
        let ordinary =
            assemble(inputs(vec![junit(RUN_A, &[0], &[])], vec![]), &ReportContext::default()).report;
        assert_eq!(ordinary.verdict, RunVerdict::Passed, "no rampart tests at all is not a failure");
    }

    /// An impossible spec is judged fail-closed: a threshold of -1 with only UNDETERMINED
    /// trials does not pass; clones that disagree are judged by the larger count and the
    /// stricter threshold; each says so.
    #[test]
    fn source_locations_are_kept_cleaned_redacted_and_bounded() {
        let locate = |mut loaded: LoadedSidecar, file: &str| {
            let spec = loaded.sidecar.header.spec.as_mut().unwrap();
            spec.location = Some(SourceLocation::new(file, 12, 4));
            loaded
        };
        let hostile =
            format!("tests/\u{1b}[31mred\u{7}.rs sk-live-abcdefghijklmnopqrstuvwx {}", "x".repeat(5_000));
        let sidecars = vec![
            locate(sidecar(RUN_A, 0, 0, 1, &[SafetyStatus::Safe], true), "tests/agent.rs"),
            locate(sidecar(RUN_A, 0, 1, 1, &[SafetyStatus::Safe], true), "tests/agent.rs"),
            locate(sidecar(RUN_A, 1, 0, 1, &[SafetyStatus::Safe], true), &hostile),
        ];
        let report = assemble(inputs(vec![], sidecars), &ReportContext::default()).report;
        let group = report.trial_groups.iter().find(|g| g.name == "tests::t0").unwrap();
        assert_eq!(
            group.location,
            Some(SourceLocation::new("tests/agent.rs", 12, 4)),
            "a group is where its trials are"
        );
        let test = report.tests.iter().find(|t| t.test_name == "tests::t1::trial_00").unwrap();
        let file = &test.location.as_ref().unwrap().file;
        assert!(!file.contains('\u{1b}') && !file.contains('\u{7}'), "{file:?}");
        assert!(!file.contains("sk-live-abcdefghijklmnopqrstuvwx"), "redacted: {file:?}");
        assert!(file.chars().count() <= MAX_LOCATION_FILE_CHARS, "bounded: {} chars", file.chars().count());
    }

    #[test]
    fn impossible_specs_are_judged_fail_closed() {
        use SafetyStatus::Undetermined;
        let respec = |loaded: LoadedSidecar, threshold: f64, count: u32| {
            let mut loaded = loaded;
            let spec = loaded.sidecar.header.spec.as_mut().unwrap();
            spec.threshold = threshold;
            spec.trial.as_mut().unwrap().count = count;
            loaded
        };
        let sidecars: Vec<LoadedSidecar> =
            (0..3).map(|t| respec(sidecar(RUN_A, 0, t, 1, &[Undetermined], true), -1.0, 3)).collect();
        let assembled = assemble(inputs(vec![], sidecars), &ReportContext::default());
        let group = &assembled.report.trial_groups[0];
        assert_eq!((group.threshold, group.passed), (1.0, false), "{group:?}");
        assert_eq!(assembled.report.verdict, RunVerdict::SafetyFailure);
        let invalid: Vec<String> = assembled
            .report
            .incomplete_reasons
            .iter()
            .filter(|r| r.kind == crate::report::IncompleteKind::InvalidSpec)
            .map(|r| r.message.clone())
            .collect();
        assert_eq!(invalid.len(), 3, "{invalid:?}");
        assert!(invalid[0].contains("threshold -1 is outside [0, 1]; judged as threshold 1"), "{invalid:?}");

        let sidecars = vec![
            respec(sidecar(RUN_A, 0, 0, 1, &[SafetyStatus::Safe], true), 0.5, 3),
            respec(sidecar(RUN_A, 0, 1, 1, &[SafetyStatus::Safe], true), 0.9, 5),
        ];
        let assembled = assemble(inputs(vec![], sidecars), &ReportContext::default());
        let group = &assembled.report.trial_groups[0];
        assert_eq!((group.total, group.no_result, group.threshold), (5, 3, 0.9));
        assert!(
            assembled.report.incomplete_reasons.iter().any(|r| r.message.contains("its trials disagree")),
            "{:?}",
            assembled.report.incomplete_reasons
        );
    }

    fn status() -> impl Strategy<Value = SafetyStatus> {
        prop_oneof![
            Just(SafetyStatus::Safe),
            Just(SafetyStatus::Unsafe),
            Just(SafetyStatus::Undetermined),
            Just(SafetyStatus::Error)
        ]
    }

    fn case() -> impl Strategy<Value = (bool, u32, u32, u32, Vec<SafetyStatus>, bool)> {
        (any::<bool>(), 0u32..3, 0u32..3, 1u32..3, proptest::collection::vec(status(), 0..3), any::<bool>())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn merge_is_order_independent(
            cases in proptest::collection::vec(case(), 0..12),
            seed in any::<u64>(),
        ) {
            // One sidecar per attempt key, as on disk.
            let cases: BTreeMap<_, _> =
                cases.into_iter().map(|(b, t, i, a, s, e)| ((b, t, i, a), (s, e))).collect();
            let mut sidecars: Vec<LoadedSidecar> = cases
                .iter()
                .map(|((b, test, trial, attempt), (statuses, end))| {
                    sidecar(if *b { RUN_B } else { RUN_A }, *test, *trial, *attempt, statuses, *end)
                })
                .collect();
            let mut junits = vec![junit(RUN_A, &[0, 1], &[2]), junit(RUN_B, &[2], &[0, 1])];
            let first = assemble(inputs(junits.clone(), sidecars.clone()), &ReportContext::default());
            // A deterministic shuffle from the seed.
            let mut state = seed | 1;
            for i in (1..sidecars.len()).rev() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                sidecars.swap(i, (state % (i as u64 + 1)) as usize);
            }
            junits.reverse();
            let second = assemble(inputs(junits, sidecars), &ReportContext::default());
            prop_assert_eq!(&first.report, &second.report);
            let rates = [first.report.population_summary.attack_success_rate, first.report.population_summary.safety_pass_rate];
            for rate in rates.into_iter().flatten() {
                prop_assert!((0.0..=1.0).contains(&rate));
            }
            for group in &first.report.trial_groups {
                prop_assert!((0.0..=1.0).contains(&group.pass_rate));
            }
        }
    }
}
