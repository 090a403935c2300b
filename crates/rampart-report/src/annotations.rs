//! GitHub Actions annotations: `::error file=…,line=…,title=…::…` workflow commands for what
//! failed, so findings show on the pull request's diff and the run's summary.
//!
//! GitHub shows at most 10 error annotations per step (and about 50 per job): see the
//! "GitHub surfaces" notes in the peers reference, after zizmor's measurements, and
//! <https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-commands>. So
//! the most severe come first (failed gates, failed trial groups by their UNSAFE trials, then
//! standalone UNSAFE tests), and past [`MAX_ANNOTATIONS`] one last annotation says how many were left out.
//!
//! Everything is escaped by GitHub's workflow-command rules (`%`, CR and LF in the message;
//! also `:` and `,` in properties), so recorded text can neither end the command nor start
//! another; it is cleaned of control characters first.

use std::fmt::Write as _;

use rampart::SafetyStatus;

use crate::report::{GroupVerdict, TestRunReport, TrialClass};
use crate::sanitize::clean_line;
use crate::view::{ExecutionKey, ReportView, group_reason, why_words};

/// Error annotations GitHub shows per step.
pub const MAX_ANNOTATIONS: usize = 10;

/// Longest message, in characters (GitHub truncates long ones in the diff view anyway).
const MAX_MESSAGE_CHARS: usize = 1_000;

/// One failure to annotate.
struct Finding {
    /// Higher first: failed gates, failed groups by their UNSAFE trials, then UNSAFE tests.
    severity: u64,
    /// Source file and line.
    place: Option<(String, u32)>,
    title: String,
    message: String,
}

/// The workflow-command lines for `report`'s failures, most severe first, at most
/// [`MAX_ANNOTATIONS`].
pub fn github_annotations(report: &TestRunReport) -> Vec<String> {
    let view = ReportView::new(report);
    let mut findings: Vec<Finding> = Vec::new();
    // Failed gates first: a policy decided the release. They have no source line.
    for gate in report.gates.iter().filter(|g| !g.passed) {
        findings.push(Finding {
            severity: 2_000_000,
            place: None,
            title: format!("rampart: gate {} failed ({})", gate.gate, gate.scope),
            message: gate.reason.clone(),
        });
    }
    for group in report.trial_groups.iter().filter(|g| g.verdict == GroupVerdict::Failed) {
        let name = ExecutionKey::new(None, group.binary_id.as_deref(), &group.name, None).name().to_string();
        findings.push(Finding {
            severity: 1_000_000 + group.unsafe_,
            place: group.location.as_ref().map(|l| (l.file.clone(), l.line)),
            title: format!("rampart: trial group {name} failed ({})", group.detail),
            message: group_reason(&view, group),
        });
    }
    for test in view.standalone_tests() {
        let Some(safety) = &test.safety else { continue };
        if safety.class != TrialClass::Unsafe {
            continue;
        }
        let name = ExecutionKey::of_test(test).name().to_string();
        let counted: Vec<_> = view.counted_results_of_test(test).collect();
        let why = why_words(safety.killed, &counted, view.test_evidence(test)).unwrap_or_default();
        // The line that recorded the first UNSAFE result, else the test's definition.
        let place = counted
            .iter()
            .filter(|r| r.status == SafetyStatus::Unsafe)
            .find_map(|r| r.location.as_ref())
            .or(test.location.as_ref());
        findings.push(Finding {
            severity: 1,
            place: place.map(|l| (l.file.clone(), l.line)),
            title: format!("rampart: {name} is UNSAFE"),
            message: why,
        });
    }
    // Stable: most UNSAFE trials first, then the report's own order.
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let n = findings.len();
    let shown = if n > MAX_ANNOTATIONS { MAX_ANNOTATIONS - 1 } else { n };
    let mut lines: Vec<String> =
        findings.into_iter().take(shown).map(|f| command(f.place.as_ref(), &f.title, &f.message)).collect();
    if n > shown {
        lines.push(command(
            None,
            "rampart: more findings",
            &format!("{} more failed groups or UNSAFE tests: see the report", n - shown),
        ));
    }
    lines
}

/// One `::error` command.
fn command(place: Option<&(String, u32)>, title: &str, message: &str) -> String {
    let mut line = String::from("::error ");
    if let Some((file, number)) = place {
        let _ = write!(line, "file={},line={number},", property(file));
    }
    let _ = write!(line, "title={}::{}", property(title), data(message));
    line
}

/// A message escaped as GitHub's toolkit does (`escapeData`), after removing control
/// characters and cutting it.
fn data(text: &str) -> String {
    let text: String = clean_line(text).chars().take(MAX_MESSAGE_CHARS).collect();
    text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

/// A property value escaped as GitHub's toolkit does (`escapeProperty`).
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_follow_githubs_rules() {
        assert_eq!(data("50% done\r\nnext"), "50%25 done next", "line breaks are cleaned away first");
        assert_eq!(data("a%0Ab"), "a%250Ab", "an escape in the text stays text");
        assert_eq!(property("tests::t, 2:3"), "tests%3A%3At%2C 2%3A3");
        assert_eq!(
            command(Some(&("tests/a b.rs".to_owned(), 7)), "t:1", "::set-env name=X::1\n::error::x"),
            "::error file=tests/a b.rs,line=7,title=t%3A1::::set-env name=X::1 ::error::x"
        );
        assert_eq!(command(None, "t", "\u{1b}[31mred"), "::error title=t::red");
    }
}
