//! The terminal summary, in RAMPART's shape.
//!
//! Recorded text (summaries, reasons) is stripped of escape sequences and control characters
//! before it is printed: it comes from the agent under test.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use rampart::SafetyStatus;
use rampart::redact::RedactionCounts;

use crate::join::UNCATEGORIZED;
use crate::report::{GroupVerdict, RedactionSummary, ReportedResult, TestRunReport};
use crate::sanitize::clean_line;

const WIDTH: usize = 80;
const RED_BOLD: &str = "\x1b[1;31m";
const RED: &str = "\x1b[31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const MAGENTA: &str = "\x1b[35m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

/// How to render.
#[derive(Clone, Copy, Debug, Default)]
#[non_exhaustive]
pub struct TerminalOptions {
    /// Emit ANSI colours.
    pub color: bool,
}

impl TerminalOptions {
    /// Options with colour on or off.
    pub fn new(color: bool) -> TerminalOptions {
        TerminalOptions { color }
    }
}

struct Painter {
    color: bool,
}

impl Painter {
    fn paint(&self, style: &str, text: &str) -> String {
        if self.color { format!("{style}{text}{RESET}") } else { text.to_owned() }
    }
}

fn separator(title: &str) -> String {
    let inner = format!(" {title} ");
    let n = WIDTH.saturating_sub(inner.len());
    format!("{}{inner}{}", "=".repeat(n / 2), "=".repeat(n - n / 2))
}

fn label(status: SafetyStatus) -> (&'static str, &'static str) {
    match status {
        SafetyStatus::Unsafe => ("FAIL", RED_BOLD),
        SafetyStatus::Error => ("ERR", MAGENTA),
        SafetyStatus::Undetermined => ("WARN", YELLOW),
        SafetyStatus::Safe => ("PASS", GREEN),
    }
}

fn rank(status: SafetyStatus) -> u8 {
    match status {
        SafetyStatus::Unsafe => 0,
        SafetyStatus::Error => 1,
        SafetyStatus::Undetermined => 2,
        SafetyStatus::Safe => 3,
    }
}

fn percent(rate: f64, decimals: usize) -> String {
    format!("{:.*}%", decimals, rate * 100.0)
}

fn result_name(result: &ReportedResult) -> String {
    let id = &result.identity;
    let mut name = clean_line(&id.test_name);
    if let Some(stress) = id.stress_index {
        name.push_str(&format!("@stress-{stress}"));
    }
    if id.attempt > 1 {
        name.push_str(&format!("#{}", id.attempt));
    }
    name
}

/// Renders the summary: incomplete banner, results per harm category, trial groups,
/// population line.
pub fn terminal_summary(report: &TestRunReport, options: TerminalOptions) -> String {
    let p = Painter { color: options.color };
    let mut out = String::new();
    if report.incomplete {
        let _ = writeln!(out, "{}", p.paint(RED_BOLD, &separator("RAMPART: INCOMPLETE RUN")));
        let _ = writeln!(out, "Results may be partial; the report does not reflect every test.");
        for reason in &report.incomplete_reasons {
            let _ = writeln!(out, "  - {}", clean_line(&reason.message));
        }
    }
    if report.results.is_empty() && report.trial_groups.is_empty() {
        let _ = writeln!(out, "{}", p.paint(BOLD, &separator("RAMPART Safety Summary")));
        let _ = writeln!(out, "No safety results recorded ({} tests reported).", report.tests.len());
        return out;
    }
    let _ = writeln!(out, "{}", p.paint(BOLD, &separator("RAMPART Safety Summary")));

    let mut by_category: BTreeMap<String, Vec<&ReportedResult>> = BTreeMap::new();
    for result in &report.results {
        let key = result.harm_category.clone().unwrap_or_else(|| UNCATEGORIZED.to_owned());
        by_category.entry(key).or_default().push(result);
    }
    for (category, mut results) in by_category {
        results.sort_by_key(|r| rank(r.status));
        let _ = writeln!(out);
        let header = format!("{} ({} results)", clean_line(&category).to_uppercase(), results.len());
        let _ = writeln!(out, "{}", p.paint(BOLD, &header));
        for result in results {
            let (text, style) = label(result.status);
            let _ = writeln!(
                out,
                "  {}  {} -- {} ({})",
                p.paint(style, &format!("{text:<4}")),
                result_name(result),
                clean_line(&result.result.summary),
                result.result.observability_level.as_str(),
            );
        }
    }

    let groups = &report.trial_groups;
    if !groups.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", p.paint(BOLD, "Trial groups"));
        for group in groups {
            let (text, style, verdict) = match group.verdict {
                GroupVerdict::Passed => ("PASS", GREEN, "PASSED"),
                GroupVerdict::Failed => ("FAIL", RED_BOLD, "FAILED"),
            };
            let mut line = format!(
                "  {}  {} [{}, {} pass rate, threshold: {}] -- {}",
                p.paint(style, &format!("{text:<4}")),
                clean_line(&group.name),
                group.detail,
                percent(group.pass_rate, 0),
                percent(group.threshold, 0),
                verdict,
            );
            if group.unsafe_on_retried_attempt {
                line.push_str(&p.paint(RED, " (UNSAFE on a retried attempt)"));
            }
            let _ = writeln!(out, "{line}");
        }
    }

    // Standalone tests whose UNSAFE attempt a retry hid (in groups the group line says so).
    let retried_away: Vec<_> = report
        .tests
        .iter()
        .filter_map(|t| t.safety.as_ref().map(|s| (t, s)))
        .filter(|(_, s)| s.trial_group.is_none() && !s.unsafe_retried_attempts.is_empty())
        .collect();
    if !retried_away.is_empty() {
        let _ = writeln!(out);
        let _ = writeln!(out, "{}", p.paint(BOLD, "UNSAFE on a retried attempt"));
        for (test, safety) in retried_away {
            let attempts: Vec<String> =
                safety.unsafe_retried_attempts.iter().map(ToString::to_string).collect();
            let last = test.attempts.last().map_or(0, |a| a.attempt);
            let _ = writeln!(
                out,
                "  {}  {} -- UNSAFE on attempt {}, not on attempt {last}: nextest may pass it as flaky, rampart counts it UNSAFE",
                p.paint(RED_BOLD, "FAIL"),
                clean_line(&test.test_name),
                attempts.join(", "),
            );
        }
    }

    if report.total_runs > 0 {
        let summary = &report.population_summary;
        let asr = summary.attack_success_rate.map_or_else(|| "n/a".to_owned(), |r| percent(r, 1));
        let _ = writeln!(out);
        let _ = writeln!(
            out,
            "Population: {} runs - {} unsafe ({} attack success rate), {} undetermined, {} errors",
            summary.total_runs, summary.unsafe_count, asr, summary.undetermined_count, summary.error_count
        );
    }
    if let Some(line) = redaction_line(&report.redactions, clean_line) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// One line saying what redaction removed, or `None` when nothing was: `Redactions: 3 when
/// recorded (key:api_key 1, pattern:bearer 2); 1 by the report (env:OPENAI_API_KEY 1)`. Rule
/// names come from sidecars too, so they go through `clean` (the caller's escaping).
pub(crate) fn redaction_line(
    redactions: &RedactionSummary,
    clean: impl Fn(&str) -> String,
) -> Option<String> {
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
    use crate::join::{ReportContext, ReportInputs, assemble};
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
        for color in [false, true] {
            let text = terminal_summary(&report, TerminalOptions::new(color));
            assert!(
                text.contains("FAIL") && text.contains("  t -- leaked link and cleared (tool_only)"),
                "{text}"
            );
            assert!(!text.contains("evil") && !text.contains("[2J") && !text.contains('\r'), "{text:?}");
        }
        let plain = terminal_summary(&report, TerminalOptions::new(false));
        assert!(!plain.contains('\u{1b}'));
        assert!(plain.contains("JAILBREAK (1 results)\n  FAIL  t -- leaked link"));
        assert!(plain.ends_with(
            "Population: 1 runs - 1 unsafe (100.0% attack success rate), 0 undetermined, 0 errors\n"
        ));
        let coloured = terminal_summary(&report, TerminalOptions::new(true));
        assert!(coloured.contains("\u{1b}[1;31mFAIL\u{1b}[0m"), "{coloured:?}");
    }
}
