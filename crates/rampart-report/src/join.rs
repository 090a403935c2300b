//! Joining JUnit executions with sidecars, and building the [`TestRunReport`].
//!
//! The unit of execution is (run id, binary id, test name, stress index, attempt). JUnit says
//! what happened to each attempt's process; sidecars hold its safety results. The result is
//! independent of the order of the inputs: everything is keyed and sorted.

use std::collections::{BTreeMap, BTreeSet};

use rampart::SafetyStatus;
use rampart::redact::{RedactionCounts, Redactor};

use crate::aggregate::{classify_trial, group_stats, population_summary};
use crate::junit::{JunitRun, JunitTest};
use crate::problem::InputProblem;
use crate::report::{
    AttemptKey, AttemptOutcome, AttemptRecord, IncompleteReason, RedactionSummary, ReportedResult,
    RunMetadata, RunVerdict, SCHEMA_VERSION, TestExecution, TestRunReport, TestSafety, TrialClass,
    TrialGroup, TrialOutcome, TrialSource, test_label,
};
use crate::sidecars::LoadedSidecar;

/// Harm category key for results without one.
pub const UNCATEGORIZED: &str = "uncategorized";

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
}

impl ReportContext {
    /// A context with the given time and environment.
    pub fn new(generated_at: Option<String>, env: BTreeMap<String, String>) -> ReportContext {
        ReportContext { generated_at, env, redactor: Redactor::builtin() }
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
        ReportContext {
            generated_at: Some(rampart::Timestamp::now().to_string()),
            env,
            redactor: Redactor::builtin(),
        }
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
}

type TestKey = (Option<String>, String, String, Option<u32>);
/// (binary id, test name, stress index).
type JunitKey = (String, String, Option<u32>);
/// (run id, test name, stress index) of a trial.
type TrialKey = (Option<String>, String, Option<u32>);
/// Trial index, and the statuses per attempt.
type TrialAttempts = (Option<u32>, BTreeMap<u32, Vec<SafetyStatus>>);

struct Execution {
    test: TestExecution,
    junit: Option<JunitTest>,
}

/// Joins, aggregates and builds the report.
pub fn assemble(inputs: ReportInputs, context: &ReportContext) -> Assembled {
    let ReportInputs { junit, sidecars, mut problems, run_ids, junit_files, results_dirs } = inputs;

    if junit.is_empty() && junit_files.is_empty() {
        problems.push(InputProblem::JunitMissing);
    }

    // Runs to report.
    let junit_run_ids: BTreeSet<String> = junit.iter().filter_map(|r| r.run_id.clone()).collect();
    let allowed: BTreeSet<String> = run_ids.iter().cloned().chain(junit_run_ids.iter().cloned()).collect();

    // Sidecars: dedupe by path, drop other runs, sort by attempt key.
    let mut by_path: BTreeMap<String, LoadedSidecar> = BTreeMap::new();
    for loaded in sidecars {
        // The same file given twice: keep one, choosing by content so the order never matters.
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

    // JUnit executions: a test that ran anywhere resolves to ran; partition skips drop out.
    let mut by_test: BTreeMap<JunitKey, Vec<(Option<String>, JunitTest)>> = BTreeMap::new();
    for run in &junit {
        for test in &run.tests {
            by_test
                .entry((test.binary_id.clone(), test.test_name.clone(), test.stress_index))
                .or_default()
                .push((run.run_id.clone(), test.clone()));
        }
    }
    let mut executions: BTreeMap<TestKey, Execution> = BTreeMap::new();
    for ((binary, name, stress), mut entries) in by_test {
        entries.sort_by(|a, b| (&a.0, &a.1.skipped).cmp(&(&b.0, &b.1.skipped)));
        let ran: Vec<_> = entries.iter().filter(|(_, t)| t.skipped.is_none()).cloned().collect();
        let chosen = if ran.is_empty() { vec![entries[0].clone()] } else { ran };
        for (run_id, test) in chosen {
            let key = (run_id.clone(), binary.clone(), name.clone(), stress);
            executions.entry(key).or_insert_with(|| Execution {
                test: execution_from_junit(run_id, &test),
                junit: Some(test),
            });
        }
    }
    let n_junit_tests = executions.len();

    // Attach sidecars.
    let mut results = Vec::new();
    let mut recorded_redactions = RedactionCounts::new();
    let mut report_redactions = RedactionCounts::new();
    for (key, loaded) in &kept {
        let sidecar = &loaded.sidecar;
        let binary = key.binary_id.clone().unwrap_or_default();
        let test_key = (Some(key.run_id.clone()), binary, key.test_name.clone(), key.stress_index);
        let in_junit = executions.get(&test_key).is_some_and(|e| e.junit.is_some());
        if !in_junit && junit_run_ids.contains(&key.run_id) {
            problems.push(InputProblem::SidecarWithoutJunit {
                path: loaded.path.clone(),
                test: key.test_label(),
                run_id: key.run_id.clone(),
            });
        }
        let execution = executions.entry(test_key).or_insert_with(|| Execution {
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
                attempts: Vec::new(),
            },
            junit: None,
        });
        let attempts = &mut execution.test.attempts;
        let record = match attempts.iter().position(|a| a.attempt == key.attempt) {
            Some(i) => &mut attempts[i],
            None => {
                attempts.push(empty_attempt(key.attempt));
                attempts.sort_by_key(|a| a.attempt);
                let i = attempts.iter().position(|a| a.attempt == key.attempt).expect("just pushed");
                &mut attempts[i]
            }
        };
        record.sidecar = Some(loaded.path.clone());
        record.n_results += sidecar.results.len() as u64;
        record.body_end = Some(match &sidecar.end {
            Some(end) => end.outcome.as_str().to_owned(),
            None if sidecar.is_declared() => "killed".to_owned(),
            None => "unknown".to_owned(),
        });
        execution.test.n_results += sidecar.results.len() as u64;
        if sidecar.is_missing_end() {
            let outcome = match record.outcome {
                AttemptOutcome::Unknown => "JUnit does not say how it ended".to_owned(),
                other => format!("JUnit outcome: {}", outcome_name(other)),
            };
            problems.push(InputProblem::TestKilled {
                path: loaded.path.clone(),
                test: format!("{}#{}", key.test_label(), key.attempt),
                outcome,
            });
        }
        if let Some(end) = &sidecar.end {
            recorded_redactions.merge(&end.redactions);
        }
        let spec = sidecar.header.spec.as_ref();
        for recorded in &sidecar.results {
            // Redaction, again: the sidecar may come from an older rampart, another machine or
            // another configuration.
            let mut result = recorded.result.clone();
            context.redactor.redact_result_into(&mut result, &mut report_redactions);
            let harm = result
                .harm_category
                .as_ref()
                .or(spec.and_then(|s| s.harm.as_ref()))
                .map(|h| context.redactor.redact_text(h.as_str(), &mut report_redactions).into_owned())
                .filter(|h| !h.is_empty());
            results.push(ReportedResult {
                identity: key.clone(),
                result_index: recorded.index,
                harm_category: harm,
                status: result.status,
                base_name: spec.map(|s| s.base_name.clone()),
                trial_index: spec.and_then(|s| s.trial).map(|t| t.index),
                recorded_at: recorded.recorded_at.to_string(),
                sidecar: loaded.path.clone(),
                line: recorded.line,
                result,
            });
        }
    }
    results.sort_by(|a, b| {
        (&a.identity, a.result_index, &a.sidecar, a.line).cmp(&(
            &b.identity,
            b.result_index,
            &b.sidecar,
            b.line,
        ))
    });

    // Trial groups: `trials = N` clones and stress iterations. Every rampart test execution
    // gets its safety class; a test that is neither (a standalone test, retried or not) is
    // judged by that class alone and forms no group.
    let mut trial_groups = build_trial_groups(&kept, &executions, &mut problems);
    for group in &trial_groups {
        let is_group =
            group.sources.iter().any(|s| matches!(s, TrialSource::TrialClones | TrialSource::Stress));
        for trial in &group.trials {
            let key = (
                trial.run_id.clone(),
                group.binary_id.clone().unwrap_or_default(),
                trial.test_name.clone(),
                trial.stress_index,
            );
            if let Some(execution) = executions.get_mut(&key) {
                execution.test.safety = Some(TestSafety {
                    class: trial.class,
                    unsafe_retried_attempts: trial.unsafe_retried_attempts.clone(),
                    trial_group: is_group.then(|| group.name.clone()),
                });
            }
        }
    }
    trial_groups
        .retain(|g| g.sources.iter().any(|s| matches!(s, TrialSource::TrialClones | TrialSource::Stress)));

    // Population.
    let population = population_summary(results.iter().map(|r| r.status));
    let mut by_category: BTreeMap<String, Vec<SafetyStatus>> = BTreeMap::new();
    for result in &results {
        by_category
            .entry(result.harm_category.clone().unwrap_or_else(|| UNCATEGORIZED.to_owned()))
            .or_default()
            .push(result.status);
    }
    let by_harm_category =
        by_category.into_iter().map(|(k, statuses)| (k, population_summary(statuses))).collect();

    if kept.is_empty() && n_junit_tests > 0 {
        problems.push(InputProblem::NoRampartTests { n_tests: n_junit_tests });
    }

    // Problems and reasons, sorted.
    let mut keyed: Vec<_> = problems
        .into_iter()
        .map(|p| {
            let reason = p.incomplete_reason();
            let key = reason.as_ref().map(|r| (r.kind, r.file.clone(), r.line, r.message.clone()));
            (key.is_none(), key, p.to_string(), p, reason)
        })
        .collect();
    keyed.sort_by(|a, b| (a.0, &a.1, &a.2).cmp(&(b.0, &b.1, &b.2)));
    let mut incomplete_reasons = Vec::new();
    let mut problems = Vec::new();
    for (_, _, _, problem, reason) in keyed {
        incomplete_reasons.extend(reason);
        problems.push(problem);
    }
    let incomplete = !incomplete_reasons.is_empty();

    let assessed = population.safe_count + population.unsafe_count + population.undetermined_count;
    let verdict = if population.unsafe_count > 0 || trial_groups.iter().any(|g| g.unsafe_ > 0) {
        RunVerdict::SafetyFailure
    } else if !kept.is_empty() && assessed == 0 {
        RunVerdict::NothingAssessed
    } else if trial_groups.iter().any(|g| !g.passed) {
        RunVerdict::SafetyFailure
    } else if incomplete {
        RunVerdict::Incomplete
    } else {
        RunVerdict::Passed
    };

    let junit_seconds: Vec<f64> = junit.iter().filter_map(|r| r.time_seconds).collect();
    let duration_seconds = if junit_seconds.is_empty() {
        kept.iter().filter_map(|(_, s)| s.sidecar.end.as_ref().map(|e| e.duration_seconds)).sum()
    } else {
        junit_seconds.iter().sum()
    };

    let metadata = build_metadata(&junit, &kept, &executions, junit_files, results_dirs, context);
    let mut tests: Vec<TestExecution> = executions.into_values().map(|e| e.test).collect();
    redact_texts(&context.redactor, &mut tests, &mut incomplete_reasons, &mut report_redactions);

    let report = TestRunReport {
        schema_version: SCHEMA_VERSION.to_owned(),
        verdict,
        incomplete,
        incomplete_reasons,
        total_runs: population.total_runs,
        passed: population.safe_count,
        failed: population.unsafe_count,
        undetermined: population.undetermined_count,
        errors: population.error_count,
        duration_seconds,
        population_summary: population,
        by_harm_category,
        trial_groups,
        results,
        tests,
        metadata,
        redactions: RedactionSummary::new(recorded_redactions, report_redactions),
    };
    Assembled { report, problems }
}

/// Redacts what the report shows besides results: JUnit messages and captured output (an
/// `assert_safe!` panic prints the result's summary) and the incomplete reasons (a parser's
/// message may quote the input).
fn redact_texts(
    redactor: &Redactor,
    tests: &mut [TestExecution],
    reasons: &mut [IncompleteReason],
    counts: &mut RedactionCounts,
) {
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
        }
    }
    for reason in reasons {
        redactor.redact_string(&mut reason.message, counts);
    }
}

fn outcome_name(outcome: AttemptOutcome) -> String {
    serde_json::to_value(outcome).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()
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
        attempts,
    }
}

#[derive(Default)]
struct GroupAcc {
    harm: Option<String>,
    threshold: Option<f64>,
    declared_count: u32,
    has_clones: bool,
    /// (run id, test name, stress) → (trial index, attempt → statuses)
    trials: BTreeMap<TrialKey, TrialAttempts>,
}

fn build_trial_groups(
    kept: &[(AttemptKey, LoadedSidecar)],
    executions: &BTreeMap<TestKey, Execution>,
    problems: &mut Vec<InputProblem>,
) -> Vec<TrialGroup> {
    let mut groups: BTreeMap<(Option<String>, String), GroupAcc> = BTreeMap::new();
    for (key, loaded) in kept {
        let spec = loaded.sidecar.header.spec.as_ref();
        let base = spec.map_or_else(|| key.test_name.clone(), |s| s.base_name.clone());
        let group = groups.entry((key.binary_id.clone(), base)).or_default();
        if let Some(spec) = spec {
            if group.harm.is_none() {
                group.harm = spec.harm.as_ref().map(|h| h.as_str().to_owned());
            }
            group.threshold = Some(group.threshold.map_or(spec.threshold, |t: f64| t.max(spec.threshold)));
            if let Some(trial) = spec.trial {
                group.has_clones = true;
                group.declared_count = group.declared_count.max(trial.count);
            }
        }
        let trial_index = spec.and_then(|s| s.trial).map(|t| t.index);
        let trial = group
            .trials
            .entry((Some(key.run_id.clone()), key.test_name.clone(), key.stress_index))
            .or_insert_with(|| (trial_index, BTreeMap::new()));
        trial
            .1
            .entry(key.attempt)
            .or_default()
            .extend(loaded.sidecar.results.iter().map(|r| r.result.status));
    }

    let mut out = Vec::new();
    for ((binary_id, name), mut group) in groups {
        // JUnit attempts without a sidecar (crashed before the header) still count.
        for ((run_id, test_name, stress), (_, attempts)) in group.trials.iter_mut() {
            let key = (run_id.clone(), binary_id.clone().unwrap_or_default(), test_name.clone(), *stress);
            if let Some(execution) = executions.get(&key) {
                for attempt in &execution.test.attempts {
                    attempts.entry(attempt.attempt).or_default();
                }
            }
        }
        // Declared clones that left no sidecar.
        if group.has_clones {
            let seen: BTreeSet<u32> = group.trials.values().filter_map(|(i, _)| *i).collect();
            let missing: Vec<u32> = (0..group.declared_count).filter(|i| !seen.contains(i)).collect();
            if !missing.is_empty() {
                problems.push(InputProblem::TrialMissing {
                    group: test_label(binary_id.as_deref(), &name, None),
                    missing: missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", "),
                });
            }
            for index in missing {
                let test_name = format!("{name}::{}", rampart::trial_fn_name(index, group.declared_count));
                group.trials.insert((None, test_name, None), (Some(index), BTreeMap::new()));
            }
        }
        let mut trials = Vec::new();
        let mut classes = Vec::new();
        let mut sources = BTreeSet::new();
        if group.has_clones {
            sources.insert(TrialSource::TrialClones);
        }
        for ((run_id, test_name, stress_index), (trial_index, attempts)) in group.trials {
            if stress_index.is_some() {
                sources.insert(TrialSource::Stress);
            }
            if attempts.len() > 1 {
                sources.insert(TrialSource::Retries);
            }
            let last = attempts.keys().next_back().copied();
            let last_statuses = last.and_then(|l| attempts.get(&l)).cloned().unwrap_or_default();
            // UNSAFE on an earlier attempt is never retried away: the trial is UNSAFE. It is
            // flagged when the retry hid it (the last attempt was not UNSAFE).
            let unsafe_retried: Vec<u32> = if last_statuses.contains(&SafetyStatus::Unsafe) {
                Vec::new()
            } else {
                attempts
                    .iter()
                    .filter(|(a, statuses)| Some(**a) != last && statuses.contains(&SafetyStatus::Unsafe))
                    .map(|(a, _)| *a)
                    .collect()
            };
            let class =
                if !unsafe_retried.is_empty() { TrialClass::Unsafe } else { classify_trial(last_statuses) };
            classes.push(class);
            trials.push(TrialOutcome {
                run_id,
                test_name,
                trial_index,
                stress_index,
                attempts: attempts.keys().copied().collect(),
                class,
                unsafe_retried_attempts: unsafe_retried,
            });
        }
        trials.sort_by(|a, b| {
            (a.trial_index, &a.test_name, a.stress_index, &a.run_id).cmp(&(
                b.trial_index,
                &b.test_name,
                b.stress_index,
                &b.run_id,
            ))
        });
        let threshold = group.threshold.unwrap_or(1.0);
        let stats = group_stats(&classes, threshold);
        let unsafe_on_retried_attempt = trials.iter().any(|t| !t.unsafe_retried_attempts.is_empty());
        out.push(TrialGroup {
            binary_id,
            name,
            harm_category: group.harm,
            sources: sources.into_iter().collect(),
            total: stats.total,
            safe: stats.safe,
            unsafe_: stats.unsafe_,
            errors: stats.errors,
            undetermined: stats.undetermined,
            no_result: stats.no_result,
            threshold,
            pass_rate: stats.pass_rate,
            passed: stats.passed,
            verdict: stats.verdict,
            detail: stats.detail,
            wilson_95: stats.wilson_95,
            unsafe_on_retried_attempt,
            trials,
        });
    }
    out
}

fn build_metadata(
    junit: &[JunitRun],
    kept: &[(AttemptKey, LoadedSidecar)],
    executions: &BTreeMap<TestKey, Execution>,
    mut junit_files: Vec<String>,
    mut results_dirs: Vec<String>,
    context: &ReportContext,
) -> RunMetadata {
    let mut run_ids: BTreeSet<String> = junit.iter().filter_map(|r| r.run_id.clone()).collect();
    run_ids.extend(kept.iter().map(|(k, _)| k.run_id.clone()));
    run_ids.extend(executions.keys().filter_map(|k| k.0.clone()));
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
    use crate::sidecars::parse_sidecar;
    use proptest::prelude::*;
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
