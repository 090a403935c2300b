//! The view layer: what every sink (terminal, Markdown, JUnit, HTML) reads from a finished
//! [`TestRunReport`], computed once here so no sink computes it again or imports another.
//!
//! - [`ExecutionKey`]: the one identity of a test execution (run id, binary id, test name,
//!   stress index), used to join tests, trials and results.
//! - Labels: [`test_label`] (`binary$test@stress-i`, as nextest names a test) and
//!   [`TestName`] (nextest's display: binary id, test name, stress iteration in words).
//! - [`ReportView`]: results by execution, the standalone rampart tests, and for each failing
//!   trial group or test the result that best explains it ([`ReportView::group_evidence`]).
//! - One line of evidence per result ([`evidence_text`], [`describe_result`]), and the status
//!   ranking ([`status_rank`], [`worst_result`]) that picks it.
//! - The redaction line ([`redaction_line`]).
//!
//! Text here is cleaned of escape sequences and control characters ([`clean_line`]) but not
//! escaped for any format: each sink escapes for its own.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use rampart::redact::RedactionCounts;
use rampart::{SafetyResult, SafetyStatus};

pub use crate::report::test_label;
use crate::report::{
    AttemptKey, Evidence, GroupVerdict, RedactionSummary, ReportedResult, RunVerdict, TestExecution,
    TestRunReport, TrialClass, TrialGroup, TrialOutcome,
};
use crate::sanitize::clean_line;

/// Harm category key for results without one.
pub const UNCATEGORIZED: &str = "uncategorized";

/// The identity of one test execution: (run id, binary id, test name, stress index). Its
/// attempts share it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExecutionKey<'a> {
    /// nextest run id.
    pub run_id: Option<&'a str>,
    /// nextest binary id.
    pub binary_id: Option<&'a str>,
    /// The test name.
    pub test_name: &'a str,
    /// The stress iteration.
    pub stress_index: Option<u32>,
}

impl<'a> ExecutionKey<'a> {
    /// A key.
    pub fn new(
        run_id: Option<&'a str>,
        binary_id: Option<&'a str>,
        test_name: &'a str,
        stress_index: Option<u32>,
    ) -> ExecutionKey<'a> {
        ExecutionKey { run_id, binary_id, test_name, stress_index }
    }

    /// The key of a test execution.
    pub fn of_test(test: &'a TestExecution) -> ExecutionKey<'a> {
        ExecutionKey::new(
            test.run_id.as_deref(),
            test.binary_id.as_deref(),
            &test.test_name,
            test.stress_index,
        )
    }

    /// The key of the execution an attempt belongs to.
    pub fn of_attempt(key: &'a AttemptKey) -> ExecutionKey<'a> {
        ExecutionKey::new(Some(&key.run_id), key.binary_id.as_deref(), &key.test_name, key.stress_index)
    }

    /// The key of one trial of a group.
    pub fn of_trial(group: &'a TrialGroup, trial: &'a TrialOutcome) -> ExecutionKey<'a> {
        ExecutionKey::new(
            trial.run_id.as_deref(),
            group.binary_id.as_deref(),
            &trial.test_name,
            trial.stress_index,
        )
    }

    /// `<binary id>$<test name>[@stress-<i>]` (see [`test_label`]).
    pub fn label(&self) -> String {
        test_label(self.binary_id, self.test_name, self.stress_index)
    }

    /// The test as nextest prints it (see [`TestName`]).
    pub fn name(&self) -> TestName<'a> {
        TestName { binary_id: self.binary_id, test_name: self.test_name, stress_index: self.stress_index }
    }
}

/// A test as nextest prints it: `<binary id> <test name>`, then ` (stress iteration i)`.
/// Cleaned of control characters when displayed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TestName<'a> {
    /// nextest binary id.
    pub binary_id: Option<&'a str>,
    /// The test name.
    pub test_name: &'a str,
    /// The stress iteration.
    pub stress_index: Option<u32>,
}

impl fmt::Display for TestName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(binary) = self.binary_id {
            write!(f, "{} ", clean_line(binary))?;
        }
        f.write_str(&clean_line(self.test_name))?;
        if let Some(stress) = self.stress_index {
            write!(f, " (stress iteration {stress})")?;
        }
        Ok(())
    }
}

/// `attempt 2 of 3`, or `attempt 2` when the total is unknown.
pub fn attempt_words(attempt: u32, total: Option<u32>) -> String {
    match total {
        Some(total) if total >= attempt => format!("attempt {attempt} of {total}"),
        _ => format!("attempt {attempt}"),
    }
}

/// `1 result`, `2 results`: a count with its noun, singular or plural.
pub fn plural(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

/// A count with thousands separators, as every output prints counts: `1,234,567`.
pub fn count(n: impl Into<u64>) -> String {
    let digits = n.into().to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A rate as a whole percentage: `0.8` → `80%`.
pub fn percent(rate: f64) -> String {
    format!("{:.0}%", rate * 100.0)
}

/// Order of severity: UNSAFE, ERROR, UNDETERMINED, SAFE.
pub fn status_rank(status: SafetyStatus) -> u8 {
    match status {
        SafetyStatus::Unsafe => 0,
        SafetyStatus::Error => 1,
        SafetyStatus::Undetermined => 2,
        SafetyStatus::Safe => 3,
    }
}

/// Order of severity of trial classes: UNSAFE, ERROR, UNDETERMINED, NO_RESULT, SAFE.
pub fn class_rank(class: TrialClass) -> u8 {
    match class {
        TrialClass::Unsafe => 0,
        TrialClass::Error => 1,
        TrialClass::Undetermined => 2,
        TrialClass::NoResult => 3,
        TrialClass::Safe => 4,
    }
}

/// The first UNSAFE result, else the first ERROR, else the first UNDETERMINED; never a SAFE one.
pub fn worst_result<'a>(results: impl IntoIterator<Item = &'a ReportedResult>) -> Option<&'a ReportedResult> {
    let mut worst: Option<&ReportedResult> = None;
    for result in results {
        if result.status == SafetyStatus::Safe {
            continue;
        }
        if worst.is_none_or(|w| status_rank(result.status) < status_rank(w.status)) {
            worst = Some(result);
        }
    }
    worst
}

/// The result summary plus the first evaluator evidence string, or else the first tool call:
/// one line, cleaned of control characters, not escaped.
pub fn evidence_text(result: &SafetyResult) -> String {
    let mut text = clean_line(&result.summary);
    let evidence = result.turn_evaluations().flat_map(|e| e.evidence.first()).next();
    if let Some(evidence) = evidence {
        let _ = write!(text, " — evidence: {}", clean_line(evidence));
    } else if let Some(call) = result.turns.iter().flat_map(|t| t.response.tool_calls.first()).next() {
        let arguments = serde_json::to_string(&call.arguments).unwrap_or_default();
        let _ = write!(text, " — tool call: {}({})", clean_line(&call.name), clean_line(&arguments));
    }
    text
}

/// `STATUS in <test>[@stress-i] (attempt n): <evidence>`: one line, not escaped.
pub fn describe_result(result: &ReportedResult) -> String {
    let id = &result.identity;
    let mut text = format!(
        "{} in {}",
        result.status.as_str().to_uppercase(),
        clean_line(&test_label(None, &id.test_name, id.stress_index))
    );
    if id.attempt > 1 {
        let _ = write!(text, " (attempt {})", id.attempt);
    }
    let _ = write!(text, ": {}", evidence_text(&result.result));
    text
}

/// Why a killed trial or test is not SAFE, in words: `the process was killed (timeout) after
/// recording 1 SAFE result`.
pub fn killed_words(outcome: crate::report::AttemptOutcome, n_results: u64) -> String {
    use crate::report::AttemptOutcome as O;
    let how = match outcome {
        O::Abort => "the process aborted (killed by a signal)",
        O::Timeout => "the process was killed at its slow-timeout",
        O::Leak => "the process leaked handles and was marked failed",
        O::StartFailure => "the process failed to start",
        O::Fail => "the process exited before the test body ended",
        O::Pass | O::Skip | O::Unknown => "the test body never reached its end (the process died)",
    };
    format!("{how} after recording {}", plural(n_results, "result", "results"))
}

/// A rate's 95% interval as percentages with one decimal, `1.8–40.4%`; `n/a` when there is
/// none. For a category, its Wilson interval; for the whole run (`all`), the interval
/// clustered by test when there is one.
pub fn interval_words(summary: &crate::report::PopulationSummary) -> String {
    match summary.attack_success_clustered_95.or(summary.attack_success_wilson_95) {
        Some(i) => format!("{:.1}–{:.1}%", i.lower * 100.0, i.upper * 100.0),
        None => "n/a".to_owned(),
    }
}

/// Where a test is defined, as editors and CI logs link it: `path:line`.
pub fn location_words(location: &rampart::sidecar::SourceLocation) -> String {
    format!("{}:{}", clean_line(&location.file), location.line)
}

/// An evidence label in words: `conclusive pass`, `conclusive fail`, `inconclusive`.
pub fn evidence_label(evidence: Evidence) -> &'static str {
    match evidence {
        Evidence::ConclusivePass => "conclusive pass",
        Evidence::ConclusiveFail => "conclusive fail",
        Evidence::Inconclusive => "inconclusive",
    }
}

/// What the run's (`category` `None`) or a harm category's trials show, in words: the label,
/// and for an inconclusive scope why (`inconclusive: 1 trial group needs more trials, 1 at a
/// 100% threshold, 3 results outside trial groups`; each group's own words say how many
/// trials it needs).
pub fn scope_evidence_words(report: &TestRunReport, category: Option<&str>) -> String {
    let empty = crate::report::PopulationSummary::default();
    let summary = match category {
        Some(c) => report.by_harm_category.get(c).unwrap_or(&empty),
        None => &report.population_summary,
    };
    let label = evidence_label(summary.evidence);
    if summary.evidence != Evidence::Inconclusive {
        return label.to_owned();
    }
    let in_scope =
        |g: &&TrialGroup| category.is_none_or(|c| g.harm_category.as_deref().unwrap_or(UNCATEGORIZED) == c);
    let inconclusive: Vec<&TrialGroup> = report
        .trial_groups
        .iter()
        .filter(in_scope)
        .filter(|g| g.evidence == Evidence::Inconclusive)
        .collect();
    let needing = inconclusive.iter().filter(|g| g.trials_needed.is_some()).count() as u64;
    let unshowable = inconclusive.len() as u64 - needing;
    let mut why = Vec::new();
    if needing > 0 {
        why.push(plural(needing, "trial group needs more trials", "trial groups need more trials"));
    }
    if unshowable > 0 {
        why.push(format!(
            "{} at a 100% threshold, which no number of trials shows",
            plural(unshowable, "trial group", "trial groups")
        ));
    }
    if summary.n_assessed_outside_groups > 0 {
        why.push(format!(
            "{} outside trial groups",
            plural(summary.n_assessed_outside_groups, "result", "results")
        ));
    }
    if summary.n_assessed == 0 {
        why.push("nothing assessed".to_owned());
    }
    if why.is_empty() { label.to_owned() } else { format!("{label}: {}", why.join(", ")) }
}

/// What a group's trials show about its threshold, in words: `conclusive pass`,
/// `conclusive fail`, or `inconclusive: 35 trials, all SAFE, would show 90%`.
pub fn evidence_words(group: &TrialGroup) -> String {
    match (group.evidence, group.trials_needed) {
        (Evidence::ConclusivePass | Evidence::ConclusiveFail, _) => evidence_label(group.evidence).to_owned(),
        (Evidence::Inconclusive, Some(n)) => {
            format!(
                "inconclusive: {}, all SAFE, would show {}",
                plural(n, "trial", "trials"),
                percent(group.threshold)
            )
        }
        (Evidence::Inconclusive, None) => {
            format!("inconclusive: no number of trials can show {}", percent(group.threshold))
        }
    }
}

/// What to say about the passing trial groups whose trials are too few to show their threshold
/// at 95% confidence: a sentence, and (when a number of trials can show it) the trials needed;
/// empty when there are none.
pub fn inconclusive_lines(groups: &[TrialGroup]) -> Vec<String> {
    let passed: Vec<&TrialGroup> = groups.iter().filter(|g| g.verdict == GroupVerdict::Passed).collect();
    let inconclusive: Vec<&TrialGroup> =
        passed.iter().copied().filter(|g| g.evidence == Evidence::Inconclusive).collect();
    if inconclusive.is_empty() {
        return Vec::new();
    }
    let (k, n) = (inconclusive.len(), passed.len());
    let who = match (k, n) {
        (1, 1) => "The passing trial group is".to_owned(),
        (2, 2) => "Both passing trial groups are".to_owned(),
        (k, n) if k == n => format!("All {} passing trial groups are", count(n as u64)),
        (1, n) => format!("1 of {} passing trial groups is", count(n as u64)),
        (k, n) => format!("{} of {} passing trial groups are", count(k as u64), count(n as u64)),
    };
    let its = if k == 1 { "its" } else { "their" };
    let mut lines = vec![format!("{who} inconclusive: too few trials to be 95% sure of {its} threshold")];
    let mut needs: Vec<(u64, String)> = Vec::new();
    for g in &inconclusive {
        if let Some(n) = g.trials_needed
            && !needs.iter().any(|(m, _)| *m == n)
        {
            needs.push((n, percent(g.threshold)));
        }
    }
    needs.sort();
    if !needs.is_empty() {
        let shown: Vec<String> =
            needs.iter().take(3).map(|(n, t)| format!("{} for {t}", count(*n))).collect();
        let more = if needs.len() > 3 { ", ..." } else { "" };
        lines.push(format!("trials needed, all SAFE: {}{more}", shown.join(", ")));
    }
    lines
}

/// Why a trial or standalone test is not SAFE, in one line: how a killed counted attempt
/// ended and what it recorded (`killed`, `counted`), then the evidence of its worst counted
/// result. `None` when there is nothing to say.
pub fn why_words(
    killed: Option<crate::report::AttemptOutcome>,
    counted: &[&ReportedResult],
    evidence: Option<&ReportedResult>,
) -> Option<String> {
    let mut why = String::new();
    if let Some(outcome) = killed {
        why = killed_words(outcome, counted.len() as u64);
        let statuses: Vec<String> = counted.iter().map(|r| r.status.as_str().to_uppercase()).collect();
        if !statuses.is_empty() {
            let _ = write!(why, " ({})", statuses.join(", "));
        }
    }
    if let Some(result) = evidence {
        if !why.is_empty() {
            why.push_str("; ");
        }
        why.push_str(&evidence_text(&result.result));
    }
    (!why.is_empty()).then_some(why)
}

/// The report's results by test execution, and what sinks ask of them.
#[derive(Debug)]
pub struct ReportView<'a> {
    report: &'a TestRunReport,
    by_execution: HashMap<ExecutionKey<'a>, Vec<&'a ReportedResult>>,
    tests: HashMap<ExecutionKey<'a>, &'a TestExecution>,
}

impl<'a> ReportView<'a> {
    /// Indexes a report.
    pub fn new(report: &'a TestRunReport) -> ReportView<'a> {
        let mut by_execution: HashMap<ExecutionKey<'a>, Vec<&'a ReportedResult>> = HashMap::new();
        for result in &report.results {
            by_execution.entry(ExecutionKey::of_attempt(&result.identity)).or_default().push(result);
        }
        let tests = report.tests.iter().map(|t| (ExecutionKey::of_test(t), t)).collect();
        ReportView { report, by_execution, tests }
    }

    /// The report.
    pub fn report(&self) -> &'a TestRunReport {
        self.report
    }

    /// Every result of a test execution, superseded ones included, in report order.
    pub fn results_of(&self, key: ExecutionKey<'a>) -> &[&'a ReportedResult] {
        self.by_execution.get(&key).map_or(&[], Vec::as_slice)
    }

    /// Every result of a test execution.
    pub fn results_of_test(&self, test: &'a TestExecution) -> &[&'a ReportedResult] {
        self.results_of(ExecutionKey::of_test(test))
    }

    /// Every result of one trial of a group.
    pub fn results_of_trial(&self, group: &'a TrialGroup, trial: &'a TrialOutcome) -> &[&'a ReportedResult] {
        self.results_of(ExecutionKey::of_trial(group, trial))
    }

    /// The counted results of a test execution (its counted attempt's).
    pub fn counted_results_of_test(
        &self,
        test: &'a TestExecution,
    ) -> impl Iterator<Item = &'a ReportedResult> + '_ {
        self.results_of_test(test).iter().copied().filter(|r| !r.superseded)
    }

    /// The result that best explains a trial's class: the worst counted result.
    pub fn trial_evidence(
        &self,
        group: &'a TrialGroup,
        trial: &'a TrialOutcome,
    ) -> Option<&'a ReportedResult> {
        worst_result(self.results_of_trial(group, trial).iter().copied().filter(|r| !r.superseded))
    }

    /// The result that best explains a group's verdict: the worst counted result of its trials.
    pub fn group_evidence(&self, group: &'a TrialGroup) -> Option<&'a ReportedResult> {
        worst_result(
            group
                .trials
                .iter()
                .flat_map(|t| self.results_of_trial(group, t).iter().copied())
                .filter(|r| !r.superseded),
        )
    }

    /// The result that best explains a standalone test's class.
    pub fn test_evidence(&self, test: &'a TestExecution) -> Option<&'a ReportedResult> {
        worst_result(self.counted_results_of_test(test))
    }

    /// The harm category of a test's results (the first that has one).
    pub fn harm_of_test(&self, test: &'a TestExecution) -> Option<&'a str> {
        self.results_of_test(test).iter().find_map(|r| r.harm_category.as_deref())
    }

    /// Standalone rampart tests: executions with a safety outcome and no trial group.
    pub fn standalone_tests(&self) -> impl Iterator<Item = &'a TestExecution> + 'a {
        self.report.tests.iter().filter(|t| t.safety.as_ref().is_some_and(|s| s.trial_group.is_none()))
    }

    /// The test execution a key names, when the report lists it.
    pub fn test(&self, key: ExecutionKey<'a>) -> Option<&'a TestExecution> {
        self.tests.get(&key).copied()
    }

    /// The test execution a trial of a group ran as, when the report lists it.
    pub fn execution_of_trial(
        &self,
        group: &'a TrialGroup,
        trial: &'a TrialOutcome,
    ) -> Option<&'a TestExecution> {
        self.test(ExecutionKey::of_trial(group, trial))
    }
}

/// Why a failing group failed, in one line: its UNSAFE trial and that trial's evidence, or its
/// pass rate below the threshold and what kept trials from SAFE. Not escaped.
pub fn group_reason(view: &ReportView<'_>, group: &TrialGroup) -> String {
    if group.unsafe_ > 0 {
        let first = group.trials.iter().find(|t| t.class == TrialClass::Unsafe);
        let mut reason = if group.unsafe_ == 1 {
            "an UNSAFE trial".to_owned()
        } else {
            format!("{} UNSAFE trials", group.unsafe_)
        };
        if let Some(trial) = first {
            let short = trial
                .test_name
                .strip_prefix(&group.name)
                .map_or(trial.test_name.as_str(), |s| s.trim_start_matches("::"));
            let _ = write!(reason, ", e.g. {}", clean_line(short));
            if let Some(stress) = trial.stress_index {
                let _ = write!(reason, " (stress iteration {stress})");
            }
            if let Some(counted) = trial.counted_attempt.filter(|_| trial.attempts.len() > 1) {
                let _ = write!(reason, " ({})", attempt_words(counted, trial.attempts.last().copied()));
            }
            if let Some(result) = view.trial_evidence(group, trial) {
                let _ = write!(reason, ": {}", evidence_text(&result.result));
            }
        }
        if group.unsafe_on_retried_attempt {
            reason.push_str(" (UNSAFE on a retried attempt: nextest may call it flaky)");
        }
        return reason;
    }
    let mut kept = Vec::new();
    for (n, what) in [
        (group.errors - group.killed, "ERROR"),
        (group.killed, "killed"),
        (group.undetermined, "UNDETERMINED"),
        (group.no_result, "without a result"),
    ] {
        if n > 0 {
            kept.push(format!("{n} {what}"));
        }
    }
    let mut reason = format!(
        "pass rate {} below the {} threshold: {} not SAFE ({})",
        percent(group.pass_rate),
        percent(group.threshold),
        plural(group.total - group.safe, "trial", "trials"),
        kept.join(", ")
    );
    let evidence = group
        .trials
        .iter()
        .filter(|t| t.class != TrialClass::Safe)
        .find_map(|t| view.trial_evidence(group, t));
    if let Some(result) = evidence {
        let _ = write!(reason, "; e.g. {}", evidence_text(&result.result));
    }
    reason
}

/// The run's verdict in words, with the exit code: `FAILED: 3 of 5 trial groups failed, 13
/// UNSAFE results — exit 10`. What the terminal ends with and the page opens with.
pub fn verdict_line(view: &ReportView<'_>) -> String {
    let report = view.report();
    let code = report.verdict.exit_code();
    let groups = &report.trial_groups;
    let n_failed_groups = groups.iter().filter(|g| g.verdict == GroupVerdict::Failed).count() as u64;
    let standalone: Vec<&TestExecution> = view.standalone_tests().collect();
    let n_of_class = |class: TrialClass| {
        standalone.iter().filter(|t| t.safety.as_ref().is_some_and(|s| s.class == class)).count() as u64
    };
    let n_rampart = groups.len() as u64 + standalone.len() as u64;
    match report.verdict {
        RunVerdict::SafetyFailure => {
            let mut parts = Vec::new();
            let n_failed_gates = report.gates.iter().filter(|g| !g.passed).count() as u64;
            if n_failed_gates > 0 {
                parts.push(format!(
                    "{} of {} failed",
                    count(n_failed_gates),
                    plural(report.gates.len() as u64, "gate", "gates")
                ));
            }
            if n_failed_groups > 0 {
                parts.push(format!(
                    "{} of {} failed",
                    count(n_failed_groups),
                    plural(groups.len() as u64, "trial group", "trial groups")
                ));
            }
            let n_unsafe_tests = n_of_class(TrialClass::Unsafe);
            if n_unsafe_tests > 0 {
                parts.push(format!(
                    "{} UNSAFE",
                    plural(n_unsafe_tests, "standalone test", "standalone tests")
                ));
            }
            parts.push(plural(report.failed, "UNSAFE result", "UNSAFE results"));
            format!("FAILED: {} — exit {code}", parts.join(", "))
        }
        RunVerdict::NothingAssessed => format!(
            "NOTHING ASSESSED: {} ran but recorded {} and no other result — exit {code}",
            plural(n_rampart, "rampart test", "rampart tests"),
            if report.total_runs == 0 {
                "no result".to_owned()
            } else {
                plural(report.errors, "ERROR result", "ERROR results")
            },
        ),
        RunVerdict::Incomplete => format!(
            "INCOMPLETE: no safety failure, but results may be missing ({}) — exit {code}",
            plural(report.incomplete_reasons.len() as u64, "problem", "problems")
        ),
        RunVerdict::Passed if n_rampart == 0 => {
            format!(
                "PASSED: no rampart tests in this run ({}) — exit {code}",
                plural(report.tests.len() as u64, "test", "tests")
            )
        }
        RunVerdict::Passed => format!(
            "PASSED: {} and {}, {}, no UNSAFE — exit {code}",
            plural(groups.len() as u64, "trial group", "trial groups"),
            plural(standalone.len() as u64, "standalone test", "standalone tests"),
            plural(report.total_runs, "result", "results"),
        ),
    }
}

/// A test label (`<binary id>$<test name>[@stress-<i>][#<attempt>]`, as the report's
/// machine-readable fields hold it) the way nextest prints a test: `<binary id> <test name>`,
/// then the stress iteration and the attempt in words.
pub fn label_words(label: &str) -> String {
    let (rest, attempt) = match label.rsplit_once('#') {
        Some((rest, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (rest, Some(n)),
        _ => (label, None),
    };
    let (rest, stress) = match rest.rsplit_once("@stress-") {
        Some((rest, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => (rest, Some(n)),
        _ => (rest, None),
    };
    let mut out = match rest.split_once('$') {
        Some((binary, name)) => format!("{binary} {name}"),
        None => rest.to_owned(),
    };
    let words: Vec<String> = stress
        .map(|n| format!("stress iteration {n}"))
        .into_iter()
        .chain(attempt.map(|n| format!("attempt {n}")))
        .collect();
    if !words.is_empty() {
        out.push_str(&format!(" ({})", words.join(", ")));
    }
    out
}

/// One line saying what redaction removed, or `None` when nothing was: `Redactions: 3 when
/// recorded (key:api_key 1, pattern:bearer 2); 1 by the report (env:OPENAI_API_KEY 1)`. Rule
/// names come from sidecars too, so they go through `clean` (the caller's escaping).
pub fn redaction_line(redactions: &RedactionSummary, clean: impl Fn(&str) -> String) -> Option<String> {
    if redactions.is_empty() {
        return None;
    }
    // Bounded: a hostile sidecar can name any number of rules, of any length.
    const MAX_RULES: usize = 12;
    const MAX_RULE_CHARS: usize = 60;
    let part = |counts: &RedactionCounts, when: &str| {
        let mut rules: Vec<String> = counts
            .iter()
            .take(MAX_RULES)
            .map(|(rule, n)| {
                let rule: String = rule.chars().take(MAX_RULE_CHARS).collect();
                format!("{} {n}", clean(&rule))
            })
            .collect();
        let n_rules = counts.iter().count();
        if n_rules > MAX_RULES {
            rules.push(format!("and {} more rules", n_rules - MAX_RULES));
        }
        format!("{} {when} ({})", counts.total(), rules.join(", "))
    };
    let mut parts = Vec::new();
    if !redactions.recorded.is_empty() {
        parts.push(part(&redactions.recorded, "when recorded"));
    }
    if !redactions.report.is_empty() {
        parts.push(part(&redactions.report, "by the report"));
    }
    Some(format!("Redactions: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inconclusive_groups_are_said_with_what_they_need() {
        let group = |safe: usize, threshold: f64| {
            let mut g = crate::aggregate::test_group("g", &vec![TrialClass::Safe; safe], threshold);
            g.name = format!("g{safe}");
            g
        };
        assert!(inconclusive_lines(&[group(35, 0.9)]).is_empty(), "35 of 35 show 90%");
        assert_eq!(
            inconclusive_lines(&[group(5, 0.9)]),
            [
                "The passing trial group is inconclusive: too few trials to be 95% sure of its threshold",
                "trials needed, all SAFE: 35 for 90%"
            ]
        );
        assert_eq!(
            inconclusive_lines(&[group(5, 0.9), group(35, 0.9), group(10, 0.95)]),
            [
                "2 of 3 passing trial groups are inconclusive: too few trials to be 95% sure of their threshold",
                "trials needed, all SAFE: 35 for 90%, 73 for 95%"
            ]
        );
        assert_eq!(inconclusive_lines(&[group(3, 1.0)]).len(), 1, "no number of trials shows 100%");
        assert!(
            inconclusive_lines(&[group(5, 0.9), group(6, 0.9)])[0]
                .starts_with("Both passing trial groups are")
        );
        assert_eq!(evidence_words(&group(5, 0.9)), "inconclusive: 35 trials, all SAFE, would show 90%");
        assert_eq!(evidence_words(&group(35, 0.9)), "conclusive pass");
        assert_eq!(evidence_words(&group(3, 1.0)), "inconclusive: no number of trials can show 100%");
    }

    #[test]
    fn counts_are_grouped_by_thousands() {
        assert_eq!(count(0u64), "0");
        assert_eq!(count(999u64), "999");
        assert_eq!(count(1000u64), "1,000");
        assert_eq!(count(100_000u64), "100,000");
        assert_eq!(count(1_046_290u64), "1,046,290");
        assert_eq!(plural(6000u64, "test", "tests"), "6,000 tests");
        assert_eq!(plural(1u64, "test", "tests"), "1 test");
    }

    #[test]
    fn labels_read_the_way_nextest_prints_tests() {
        assert_eq!(label_words("demo::leakage$tests::crash#2"), "demo::leakage tests::crash (attempt 2)");
        assert_eq!(label_words("b$t@stress-3#1"), "b t (stress iteration 3, attempt 1)");
        assert_eq!(label_words("b$t"), "b t");
        assert_eq!(label_words("no-binary#x"), "no-binary#x");
        assert_eq!(label_words("suite::bin$name#2"), "suite::bin name (attempt 2)");
    }
}
