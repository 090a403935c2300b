//! The terminal summary: what failed and why, bounded, ending in the verdict.
//!
//! Shape (default):
//!
//! 1. **Trial groups**: each failing group on one line (its counts, pass rate and threshold),
//!    with one line saying why it failed (its UNSAFE trial and that trial's evidence, or the
//!    pass rate below the threshold and what kept trials from SAFE); passing groups as a count.
//! 2. **Standalone tests**: each UNSAFE, killed, ERROR and UNDETERMINED test with its evidence;
//!    SAFE ones as a count.
//! 3. **By harm category**: counted results, UNSAFE, undetermined, errors and the attack success
//!    rate per category, then all.
//! 4. The redaction counts, an incomplete-run warning, and last the verdict in words with the
//!    exit code.
//!
//! Every list is bounded ([`MAX_LISTED`] lines, then `… N more in report.json / index.html`),
//! so a run of a million results prints a screenful. `verbose` lists everything instead, in
//! RAMPART's shape (every result per harm category, every trial group).
//!
//! Tests are named as nextest names them: binary id, then test name; stress iterations and
//! attempts in words. Recorded text (summaries, evidence, names) is stripped of escape sequences
//! and control characters before it is printed: it comes from the agent under test. Colour goes
//! through `anstyle`, only when [`TerminalOptions::color`] is set.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::report::{
    Evidence, GroupVerdict, ReportedResult, RunVerdict, TestExecution, TestRunReport, TrialClass, TrialGroup,
};
use crate::sanitize::clean_line;
use crate::view::{
    ExecutionKey, ReportView, UNCATEGORIZED, attempt_words, class_rank, count, evidence_label,
    evidence_words, group_reason, inconclusive_lines, interval_words, percent, plural, redaction_line,
    status_rank, verdict_line, why_words,
};

/// Lines listed per section before `… N more`.
pub const MAX_LISTED: usize = 20;
/// Width used when the caller does not know the terminal's.
pub const DEFAULT_WIDTH: usize = 100;

/// How to render.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub struct TerminalOptions {
    /// Emit ANSI colours.
    pub color: bool,
    /// List every result and group (RAMPART's shape) instead of the failures.
    pub verbose: bool,
    /// Terminal width in columns: long lines are cut to it.
    pub width: usize,
}

impl Default for TerminalOptions {
    fn default() -> Self {
        TerminalOptions { color: false, verbose: false, width: DEFAULT_WIDTH }
    }
}

impl TerminalOptions {
    /// Options with colour on or off.
    pub fn new(color: bool) -> TerminalOptions {
        TerminalOptions { color, ..TerminalOptions::default() }
    }

    /// Lists everything.
    pub fn with_verbose(mut self, verbose: bool) -> Self {
        self.verbose = verbose;
        self
    }

    /// Sets the width (at least 40 columns are used).
    pub fn with_width(mut self, width: usize) -> Self {
        self.width = width;
        self
    }
}

const RED: Style = AnsiColor::Red.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const MAGENTA: Style = AnsiColor::Magenta.on_default().bold();
const BOLD: Style = Style::new().bold();
const DIM: Style = Style::new().dimmed();

struct Out {
    text: String,
    color: bool,
    width: usize,
}

impl Out {
    fn paint(&self, style: Style, text: &str) -> String {
        if self.color { format!("{}{text}{}", style.render(), style.render_reset()) } else { text.to_owned() }
    }

    /// A line cut to the width (`plain_len` is its length without colour codes).
    fn line(&mut self, indent: usize, head: &str, head_len: usize, rest: &str) {
        let room = self.width.saturating_sub(indent + head_len).max(20);
        let rest = cut(rest, room);
        let _ = writeln!(self.text, "{}{head}{rest}", " ".repeat(indent));
    }

    fn blank(&mut self) {
        self.text.push('\n');
    }

    fn heading(&mut self, text: &str) {
        let painted = self.paint(BOLD, text);
        let _ = writeln!(self.text, "{painted}");
    }
}

/// `text` cut to `max` characters, with `…` when cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

fn percent1(rate: Option<f64>) -> String {
    rate.map_or_else(|| "n/a".to_owned(), |r| format!("{:.1}%", r * 100.0))
}

fn class_label(class: TrialClass, killed: bool) -> (&'static str, Style) {
    match class {
        TrialClass::Unsafe => ("UNSAFE", RED),
        TrialClass::Error if killed => ("KILLED", MAGENTA),
        TrialClass::Error => ("ERROR", MAGENTA),
        TrialClass::Undetermined => ("UNDETERMINED", YELLOW),
        TrialClass::NoResult => ("NO RESULT", YELLOW),
        TrialClass::Safe => ("SAFE", GREEN),
    }
}

/// Renders the summary (see the module docs).
pub fn terminal_summary(report: &TestRunReport, options: TerminalOptions) -> String {
    let view = ReportView::new(report);
    let mut out = Out { text: String::new(), color: options.color, width: options.width.max(40) };
    if options.verbose {
        results_by_category(&mut out, report);
    }
    groups_section(&mut out, &view, options.verbose);
    standalone_section(&mut out, &view, options.verbose);
    gates_section(&mut out, report, options.verbose);
    if let Some(comparison) = &report.baseline {
        comparison_section(&mut out, comparison, options.verbose);
    }
    if let Some(trends) = &report.trends {
        trends_section(&mut out, trends);
    }
    category_section(&mut out, report);
    footer(&mut out, report, &view);
    out.text
}

fn more_line(out: &mut Out, n_more: usize, what: &str) {
    if n_more > 0 {
        let line = format!("… {n_more} more {what} in report.json / index.html");
        let painted = out.paint(DIM, &line);
        let _ = writeln!(out.text, "  {painted}");
    }
}

/// Every result per harm category, RAMPART's shape (`--verbose`).
fn results_by_category(out: &mut Out, report: &TestRunReport) {
    let mut by_category: BTreeMap<String, Vec<&ReportedResult>> = BTreeMap::new();
    for result in &report.results {
        let key = result.harm_category.clone().unwrap_or_else(|| UNCATEGORIZED.to_owned());
        by_category.entry(key).or_default().push(result);
    }
    for (category, mut results) in by_category {
        results.sort_by_key(|r| status_rank(r.status));
        out.heading(&format!(
            "{} ({})",
            clean_line(&category).to_uppercase(),
            plural(results.len() as u64, "result", "results")
        ));
        for result in results {
            let (label, style) = match result.status {
                rampart::SafetyStatus::Unsafe => ("FAIL", RED),
                rampart::SafetyStatus::Error => ("ERR", MAGENTA),
                rampart::SafetyStatus::Undetermined => ("WARN", YELLOW),
                rampart::SafetyStatus::Safe => ("PASS", GREEN),
            };
            let key = ExecutionKey::of_attempt(&result.identity);
            let mut name = key.name().to_string();
            if result.identity.attempt > 1 {
                let _ = write!(name, ", {}", attempt_words(result.identity.attempt, None));
            }
            if result.superseded {
                name.push_str(" [superseded]");
            }
            let head = format!("{}  ", out.paint(style, &format!("{label:<4}")));
            let rest = format!(
                "{name} -- {} ({})",
                clean_line(&result.result.summary),
                result.result.observability_level.as_str()
            );
            out.line(2, &head, 6, &rest);
        }
        out.blank();
    }
}

fn groups_section(out: &mut Out, view: &ReportView<'_>, verbose: bool) {
    let groups = &view.report().trial_groups;
    if groups.is_empty() {
        return;
    }
    let failing: Vec<&TrialGroup> = groups.iter().filter(|g| g.verdict == GroupVerdict::Failed).collect();
    let n_passed = groups.len() - failing.len();
    let title = if failing.is_empty() {
        format!("Trial groups: all {} passed", groups.len())
    } else {
        format!("Trial groups: {} of {} failed", count(failing.len() as u64), count(groups.len() as u64))
    };
    out.heading(&title);
    let shown: Vec<&TrialGroup> = if verbose { groups.iter().collect() } else { failing.clone() };
    let limit = if verbose { usize::MAX } else { MAX_LISTED };
    for group in shown.iter().take(limit) {
        let (label, style) = match group.verdict {
            GroupVerdict::Passed => ("PASS", GREEN),
            GroupVerdict::Failed => ("FAIL", RED),
        };
        let head = format!("{}  ", out.paint(style, label));
        let name = ExecutionKey::new(None, group.binary_id.as_deref(), &group.name, None).name();
        let mut rest = format!(
            "{name}  {}, pass rate {} (threshold {})",
            group.detail,
            percent(group.pass_rate),
            percent(group.threshold),
        );
        // A failed group with an UNSAFE trial is a conclusive fail: only say what is news.
        if !(group.verdict == GroupVerdict::Failed && group.evidence == Evidence::ConclusiveFail) {
            let _ = write!(rest, ", {}", evidence_words(group));
        }
        out.line(2, &head, 6, &rest);
        if group.verdict == GroupVerdict::Failed {
            let reason = group_reason(view, group);
            let why = out.paint(DIM, "why: ");
            out.line(8, &why, 5, &reason);
        }
    }
    more_line(out, shown.len().saturating_sub(limit), "failing trial groups");
    if !verbose && !failing.is_empty() && n_passed > 0 {
        let _ = writeln!(out.text, "  {} passed", plural(n_passed as u64, "trial group", "trial groups"));
    }
    for (i, line) in inconclusive_lines(groups).iter().enumerate() {
        out.line(if i == 0 { 2 } else { 4 }, "", 0, line);
    }
    out.blank();
}

fn standalone_section(out: &mut Out, view: &ReportView<'_>, verbose: bool) {
    let tests: Vec<&TestExecution> = view.standalone_tests().collect();
    if tests.is_empty() {
        return;
    }
    let class_of = |t: &TestExecution| t.safety.as_ref().map(|s| (s.class, s.killed.is_some()));
    let mut not_safe: Vec<&TestExecution> =
        tests.iter().copied().filter(|t| class_of(t).is_some_and(|(c, _)| c != TrialClass::Safe)).collect();
    // UNSAFE, then killed, ERROR, UNDETERMINED, no result; stable within.
    not_safe.sort_by_key(|t| {
        let (class, killed) = class_of(t).unwrap_or((TrialClass::NoResult, false));
        (class_rank(class), !killed)
    });
    let n_safe = tests.len() - not_safe.len();
    let title = if not_safe.is_empty() {
        format!("Standalone tests: all {} SAFE", tests.len())
    } else {
        format!(
            "Standalone tests: {} of {} not SAFE",
            count(not_safe.len() as u64),
            count(tests.len() as u64)
        )
    };
    out.heading(&title);
    let shown: Vec<&TestExecution> = if verbose { tests.clone() } else { not_safe.clone() };
    let limit = if verbose { usize::MAX } else { MAX_LISTED };
    for test in shown.iter().take(limit) {
        let safety = test.safety.as_ref().expect("standalone tests have a safety outcome");
        let (label, style) = class_label(safety.class, safety.killed.is_some());
        let head = format!("{}  ", out.paint(style, &format!("{label:<12}")));
        let mut rest = ExecutionKey::of_test(test).name().to_string();
        let last = test.attempts.last().map(|a| a.attempt);
        if let (Some(counted), Some(last)) = (safety.counted_attempt, last)
            && last > 1
        {
            let _ = write!(rest, " ({})", attempt_words(counted, Some(last)));
        }
        if !safety.unsafe_retried_attempts.is_empty() {
            let flaky = if test.flaky { "nextest passed it as flaky" } else { "a retry passed" };
            let _ = write!(rest, ", retried away: {flaky}, rampart counts it UNSAFE");
        }
        out.line(2, &head, 14, &rest);
        let counted: Vec<&ReportedResult> = view.counted_results_of_test(test).collect();
        if let Some(why) = why_words(safety.killed, &counted, view.test_evidence(test)) {
            let painted = out.paint(DIM, "why: ");
            out.line(16, &painted, 5, &why);
        }
    }
    more_line(out, shown.len().saturating_sub(limit), "tests that are not SAFE");
    if !verbose && !not_safe.is_empty() && n_safe > 0 {
        let _ = writeln!(out.text, "  {} SAFE", plural(n_safe as u64, "test", "tests"));
    }
    out.blank();
}

/// The `[gate]` policy's limits: the failed ones with why (all with `--verbose`).
fn gates_section(out: &mut Out, report: &TestRunReport, verbose: bool) {
    if report.gates.is_empty() {
        return;
    }
    let failed = report.gates.iter().filter(|g| !g.passed).count();
    let title = if failed == 0 {
        format!("Gates: all {} passed", report.gates.len())
    } else {
        format!("Gates: {} of {} failed", count(failed as u64), count(report.gates.len() as u64))
    };
    out.heading(&title);
    for gate in report.gates.iter().filter(|g| verbose || !g.passed) {
        let (label, style) = if gate.passed { ("PASS", GREEN) } else { ("FAIL", RED) };
        let head = format!("{}  ", out.paint(style, label));
        // The key and scope first, so a cut line keeps them.
        out.line(2, &head, 6, &clean_line(&format!("{} ({}): {}", gate.gate, gate.scope, gate.reason)));
    }
    if !verbose && failed > 0 && failed < report.gates.len() {
        let _ =
            writeln!(out.text, "  {} passed", plural((report.gates.len() - failed) as u64, "gate", "gates"));
    }
    out.blank();
}

fn category_section(out: &mut Out, report: &TestRunReport) {
    if report.total_runs == 0 {
        return;
    }
    out.heading("By harm category (each trial counts once)");
    let name_width = report
        .by_harm_category
        .keys()
        .take(MAX_LISTED)
        .map(|k| clean_line(k).chars().count().min(40))
        .max()
        .unwrap_or(0)
        .max("harm category".len());
    let row = |name: &str, s: &crate::report::PopulationSummary| {
        format!(
            "  {:<name_width$}  {:>7}  {:>6}  {:>12}  {:>6}  {:>20}",
            cut(&clean_line(name), 40),
            count(s.total_runs),
            count(s.unsafe_count),
            count(s.undetermined_count),
            count(s.error_count),
            match s.attack_success_rate {
                Some(_) => format!(
                    "{} [{}]",
                    percent1(s.attack_success_rate),
                    interval_words(s).trim_end_matches('%')
                ),
                None => percent1(None),
            },
        )
    };
    let header = format!(
        "  {:<name_width$}  {:>7}  {:>6}  {:>12}  {:>6}  {:>20}",
        "harm category", "results", "unsafe", "undetermined", "errors", "attack success [95%]"
    );
    let mut rows: Vec<(String, &str)> = report
        .by_harm_category
        .iter()
        .take(MAX_LISTED)
        .map(|(category, summary)| (row(category, summary), evidence_label(summary.evidence)))
        .collect();
    let n_more = report.by_harm_category.len().saturating_sub(MAX_LISTED);
    if report.by_harm_category.len() > 1 {
        let all = &report.population_summary;
        rows.push((row("all", all), evidence_label(all.evidence)));
    }
    // The evidence label is a last column when it fits the width, else lines of its own.
    let widest =
        rows.iter().map(|(r, _)| r.chars().count()).chain([header.chars().count()]).max().unwrap_or(0);
    let column = widest + 2 + "conclusive pass".len() <= out.width;
    let pad = |text: &str| format!("{text}{}", " ".repeat(widest - text.chars().count()));
    if column {
        let _ = writeln!(out.text, "{}  evidence", pad(&header));
    } else {
        let _ = writeln!(out.text, "{header}");
    }
    let n_rows = rows.len();
    for (i, (text, label)) in rows.iter().enumerate() {
        if i + 1 == n_rows && report.by_harm_category.len() > 1 {
            more_line(out, n_more, "harm categories");
        }
        if column {
            let _ = writeln!(out.text, "{}  {label}", pad(text));
        } else {
            let _ = writeln!(out.text, "{text}");
        }
    }
    if report.by_harm_category.len() <= 1 {
        more_line(out, n_more, "harm categories");
    }
    if !column {
        let names: Vec<String> =
            report.by_harm_category.keys().take(MAX_LISTED).map(|k| cut(&clean_line(k), 40)).collect();
        let mut labels: Vec<&str> = rows.iter().map(|(_, l)| *l).collect();
        let run_label = (report.by_harm_category.len() > 1).then(|| labels.pop()).flatten();
        for wanted in ["conclusive fail", "inconclusive", "conclusive pass"] {
            let these: Vec<&str> =
                names.iter().zip(&labels).filter(|(_, l)| **l == wanted).map(|(n, _)| n.as_str()).collect();
            if !these.is_empty() {
                out.line(2, "", 0, &format!("{wanted} at 95%: {}", these.join(", ")));
            }
        }
        if let Some(label) = run_label {
            out.line(2, "", 0, &format!("all categories together: {label}"));
        }
    }
    if report.by_harm_category.len() > 1 && report.population_summary.attack_success_clustered_95.is_some() {
        let _ = writeln!(out.text, "  (the interval for all allows for results of one test being alike)");
    }
    if report.superseded_results > 0 {
        let _ = writeln!(
            out.text,
            "  ({} kept as evidence, not counted)",
            plural(report.superseded_results, "result from another attempt", "results from other attempts")
        );
    }
    out.blank();
}

fn footer(out: &mut Out, report: &TestRunReport, view: &ReportView<'_>) {
    if let Some(line) = redaction_line(&report.redactions, clean_line) {
        let _ = writeln!(out.text, "{line}");
    }
    if report.incomplete && report.verdict != RunVerdict::Incomplete {
        let warning = out.paint(YELLOW, "warning:");
        let _ = writeln!(
            out.text,
            "{warning} incomplete run: {}, results may be missing (see above)",
            plural(report.incomplete_reasons.len() as u64, "problem", "problems")
        );
    }
    let line = verdict_line(view);
    let style = match report.verdict {
        RunVerdict::SafetyFailure => RED,
        RunVerdict::NothingAssessed | RunVerdict::Incomplete => YELLOW,
        RunVerdict::Passed => GREEN,
    };
    let painted = out.paint(style, &line);
    let _ = writeln!(out.text, "{painted}");
}

/// The comparison with a baseline, for the terminal: the changes that matter (new UNSAFE
/// findings, significant regressions, fixed, significant improvements, new and removed
/// tests; `verbose` adds changes within noise), each with its counts, interval and p-value
/// on a line below, then the attack success rate of each harm category, and the verdict.
pub fn comparison_summary(c: &crate::compare::Comparison, options: TerminalOptions) -> String {
    let mut out = Out { text: String::new(), color: options.color, width: options.width.max(40) };
    comparison_section(&mut out, c, options.verbose);
    let line = c.verdict_line();
    let style = if line.starts_with("REGRESSED") { RED } else { GREEN };
    let _ = writeln!(out.text, "{}", out.paint(style, &line));
    out.text
}

/// Trends over the history: the unstable groups, and the whole run's attack success over the
/// last runs.
fn trends_section(out: &mut Out, trends: &crate::trends::Trends) {
    use crate::trends::{UNSTABLE_FLIPS, UNSTABLE_WINDOW, series_words, verdicts_words};
    out.heading(&format!("Trends over the last {}", plural(trends.runs.len() as u64, "run", "runs")));
    out.line(2, "", 0, &format!("attack success: {}", series_words(&trends.all, 8)));
    let unstable: Vec<_> = trends.unstable().collect();
    if unstable.is_empty() {
        let _ = writeln!(out.text, "  no unstable trial group or test");
    } else {
        let _ = writeln!(
            out.text,
            "  {} (verdict changed {UNSTABLE_FLIPS}+ times in its last {UNSTABLE_WINDOW} runs):",
            plural(unstable.len() as u64, "unstable trial group or test", "unstable trial groups and tests")
        );
        for g in unstable.iter().take(MAX_LISTED) {
            let name = ExecutionKey::new(None, g.binary_id.as_deref(), &g.name, None).name().to_string();
            let head = format!("{:<10}", out.paint(YELLOW, "UNSTABLE"));
            out.line(4, &head, 10, &clean_line(&format!("{name}  {}", verdicts_words(&g.verdicts))));
        }
        more_line(out, unstable.len().saturating_sub(MAX_LISTED), "unstable groups");
    }
    out.blank();
}

/// The comparison's sections (changes, then attack success), each followed by a blank line.
fn comparison_section(out: &mut Out, c: &crate::compare::Comparison, verbose: bool) {
    use crate::compare::{ChangeKind, Significance, change_words, rate_words};
    let options = TerminalOptions::new(out.color).with_verbose(verbose);
    let both = c.groups.iter().filter(|g| g.baseline.is_some() && g.current.is_some()).count() as u64;
    let new = c.groups.iter().filter(|g| g.baseline.is_none()).count() as u64;
    let removed = c.groups.iter().filter(|g| g.current.is_none()).count() as u64;
    let baseline = c.baseline.run_ids.iter().map(|r| cut(&clean_line(r), 13)).collect::<Vec<_>>().join(", ");
    out.heading(&format!(
        "Compared with the baseline (run {}): {} in both, {} new, {} removed\n\
         (one-sided exact tests, Holm-adjusted; see the README's Baselines section)",
        if baseline.is_empty() { "unknown".to_owned() } else { baseline },
        plural(both, "trial group or test", "trial groups and tests"),
        count(new),
        count(removed)
    ));
    let label = |g: &crate::compare::GroupChange| -> Option<(&'static str, Style)> {
        Some(match (g.kind, g.significance) {
            (ChangeKind::NewUnsafe, _) => ("NEW UNSAFE", RED),
            (_, Significance::SignificantRegression) => ("REGRESSED", RED),
            (ChangeKind::Fixed, _) => ("FIXED", GREEN),
            (_, Significance::SignificantImprovement) => ("IMPROVED", GREEN),
            (ChangeKind::New, _) => ("NEW", DIM),
            (ChangeKind::Removed, _) => ("REMOVED", YELLOW),
            _ if options.verbose && g.pass_rate_change.is_some_and(|d| d != 0.0) => ("CHANGED", DIM),
            _ => return None,
        })
    };
    let listed: Vec<_> = c.groups.iter().filter_map(|g| Some((g, label(g)?))).collect();
    for (g, (text, style)) in listed.iter().take(MAX_LISTED) {
        let name = ExecutionKey::new(None, g.binary_id.as_deref(), &g.name, None).name().to_string();
        let head = format!("{:<12} ", out.paint(*style, text));
        out.line(2, &head, 13, &clean_line(&name));
        out.line(15, "", 0, &clean_line(&change_words(g)));
    }
    more_line(out, listed.len().saturating_sub(MAX_LISTED), "changes");
    let noise = c
        .groups
        .iter()
        .filter(|g| {
            g.significance == Significance::WithinNoise && g.pass_rate_change.is_some_and(|d| d != 0.0)
        })
        .count() as u64;
    if noise > 0 && !options.verbose {
        let _ = writeln!(
            out.text,
            "  {} within noise (--verbose lists {})",
            plural(noise, "pass rate changed", "pass rates changed"),
            if noise == 1 { "it" } else { "them" }
        );
    }
    if listed.is_empty() && noise == 0 {
        let _ = writeln!(out.text, "  no trial group or test changed");
    }
    out.blank();
    out.heading("Attack success vs the baseline");
    let width =
        c.categories.iter().map(|r| clean_line(&r.scope).chars().count().min(40)).max().unwrap_or(0).max(3);
    for r in c.categories.iter().take(MAX_LISTED).chain(std::iter::once(&c.run)) {
        let (label, style) = match r.significance {
            Significance::SignificantRegression => ("REGRESSED", RED),
            Significance::SignificantImprovement => ("IMPROVED", GREEN),
            Significance::WithinNoise => ("within noise", DIM),
        };
        let head = format!("{:<width$}  {:<12}  ", cut(&clean_line(&r.scope), 40), out.paint(style, label));
        out.line(2, &head, width + 16, &rate_words(r));
    }
    more_line(out, c.categories.len().saturating_sub(MAX_LISTED), "harm categories");
    out.blank();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::{ReportContext, ReportInputs, assemble};
    use crate::sidecars::parse_sidecar;

    fn report_with_summary(summary: &str) -> TestRunReport {
        let header = r#"{"kind":"header","schema":"rampart.sidecar.v1","identity":{"harness":"nextest","run_id":"r","binary_id":"b","test_name":"t","attempt":1,"total_attempts":1},"writer":{"rampart_version":"0.1.0","pid":1},"started_at":"2026-01-01T00:00:00.000Z"}"#;
        let result = serde_json::json!({"kind": "result", "index": 0, "recorded_at": "2026-01-01T00:00:00.000Z",
            "result": {"status": "unsafe", "summary": summary, "observability_level": "tool_only", "harm_category": "jailbreak"}});
        let text = format!("{header}\n{result}\n");
        let (loaded, _) = parse_sidecar("t.jsonl", text.as_bytes());
        let inputs = ReportInputs { sidecars: vec![loaded.unwrap()], ..ReportInputs::default() };
        assemble(inputs, &ReportContext::default()).report
    }

    #[test]
    fn recorded_escapes_never_reach_the_terminal() {
        let report = report_with_summary(
            "leaked \u{1b}]8;;https://evil\u{7}link\u{1b}]8;;\u{7} and \u{1b}[2Jcleared\r",
        );
        for options in [
            TerminalOptions::new(false),
            TerminalOptions::new(true),
            TerminalOptions::new(false).with_verbose(true),
        ] {
            let text = terminal_summary(&report, options);
            assert!(text.contains("leaked link and cleared"), "{text}");
            assert!(!text.contains("evil") && !text.contains("[2J") && !text.contains('\r'), "{text:?}");
        }
        let plain = terminal_summary(&report, TerminalOptions::new(false));
        assert!(!plain.contains('\u{1b}'));
        assert!(plain.contains("  UNSAFE        b t\n"), "{plain}");
        assert!(plain.contains("why: leaked link and cleared"), "{plain}");
        assert!(plain.ends_with("FAILED: 1 standalone test UNSAFE, 1 UNSAFE result — exit 10\n"), "{plain}");
        let verbose = terminal_summary(&report, TerminalOptions::new(false).with_verbose(true));
        assert!(
            verbose.contains("JAILBREAK (1 result)\n  FAIL  b t -- leaked link and cleared (tool_only)"),
            "{verbose}"
        );
        let coloured = terminal_summary(&report, TerminalOptions::new(true));
        assert!(coloured.contains("\u{1b}[1m\u{1b}[31mUNSAFE"), "{coloured:?}");
    }

    #[test]
    fn lines_are_cut_to_the_width() {
        let report = report_with_summary(&"word ".repeat(200));
        let text = terminal_summary(&report, TerminalOptions::new(false).with_width(80));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line:?}");
        }
        assert!(text.contains('…'));
        // The evidence label: lines of its own when the table leaves no room, else a column.
        assert!(text.contains("\n  conclusive fail at 95%: jailbreak\n"), "{text}");
        let wide = terminal_summary(&report, TerminalOptions::new(false).with_width(120));
        let header = wide.lines().find(|l| l.starts_with("  harm category")).unwrap();
        assert!(header.ends_with("attack success [95%]  evidence"), "{header:?}");
        assert!(!wide.contains(" at 95%: "), "{wide}");
    }
}
