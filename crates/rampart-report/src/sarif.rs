//! `rampart.sarif`: findings as SARIF 2.1.0, for code scanning (GitHub's
//! `github/codeql-action/upload-sarif`, and other SARIF viewers).
//!
//! One run, tool `rampart`; one rule per harm category (`rampart/<category>`) and one for
//! gates (`rampart/gate`); one result per failed gate, per failed trial group and per UNSAFE
//! counted result, located where the report knows: a group at its test function's line
//! (`#[rampart::test]`), an UNSAFE result at the line that recorded it (`record_result` and
//! `assert_safe!` are `#[track_caller]`), else its test's line; its message the evidence line the
//! other outputs show (redacted, cleaned, link-free: SARIF viewers render message text as plain
//! text, and there is no `markdown` property here).
//!
//! GitHub code scanning's limits (documented at
//! <https://docs.github.com/en/code-security/code-scanning/integrating-with-code-scanning/sarif-support-for-code-scanning>):
//! at most 25,000 results per run and 10 MB gzip-compressed per file. Past
//! [`MAX_SARIF_RESULTS`] the most severe are kept (failed gates and groups first, then UNSAFE results in
//! the report's order) and the run's `properties.rampart_results_left_out` says how many were
//! not; messages are cut to [`MAX_MESSAGE_CHARS`], so the file stays far below 10 MB.

use std::collections::BTreeMap;

use camino::Utf8PathBuf;
use serde_json::{Value, json};

use rampart::SafetyStatus;

use crate::report::{GroupVerdict, TestRunReport};
use crate::sanitize::clean_line;
use crate::sink::SinkError;
use crate::view::{ExecutionKey, ReportView, UNCATEGORIZED, describe_result, group_reason};
use crate::write::ReportDir;

/// File name under the output directory.
pub const SARIF_FILE: &str = "rampart.sarif";

/// Results kept per run (GitHub code scanning's limit).
pub const MAX_SARIF_RESULTS: usize = 25_000;

/// Longest message, in characters.
const MAX_MESSAGE_CHARS: usize = 1_000;

/// The SARIF log of `report`.
pub fn sarif_log(report: &TestRunReport) -> Value {
    let view = ReportView::new(report);
    let mut rules: BTreeMap<String, usize> = BTreeMap::new();
    for category in report.by_harm_category.keys() {
        rules.insert(category.clone(), 0);
    }
    for group in &report.trial_groups {
        rules.insert(group.harm_category.clone().unwrap_or_else(|| UNCATEGORIZED.to_owned()), 0);
    }
    for (i, value) in rules.values_mut().enumerate() {
        *value = i;
    }
    let rule_of = |harm: Option<&str>| {
        let harm = harm.unwrap_or(UNCATEGORIZED);
        (format!("rampart/{harm}"), rules.get(harm).copied())
    };

    let mut results: Vec<Value> = Vec::new();
    // Failed gates: a rule of their own, no source line (a policy, not a test, failed).
    let gate_rule = rules.len();
    for gate in report.gates.iter().filter(|g| !g.passed) {
        let message = format!("Gate {} failed ({}): {}", gate.gate, gate.scope, gate.reason);
        results.push(result("rampart/gate", Some(gate_rule), &message, None));
    }
    for group in report.trial_groups.iter().filter(|g| g.verdict == GroupVerdict::Failed) {
        let (rule_id, rule_index) = rule_of(group.harm_category.as_deref());
        let name = ExecutionKey::new(None, group.binary_id.as_deref(), &group.name, None).name().to_string();
        let message = format!("Trial group {name} failed ({}): {}", group.detail, group_reason(&view, group));
        results.push(result(&rule_id, rule_index, &message, group.location.as_ref()));
    }
    for r in report.results.iter().filter(|r| !r.superseded && r.status == SafetyStatus::Unsafe) {
        let (rule_id, rule_index) = rule_of(r.harm_category.as_deref());
        // The line that recorded the finding, else the test's definition.
        let location = r
            .location
            .as_ref()
            .or_else(|| view.test(ExecutionKey::of_attempt(&r.identity)).and_then(|t| t.location.as_ref()));
        results.push(result(&rule_id, rule_index, &format!("UNSAFE: {}", describe_result(r)), location));
    }
    let left_out = results.len().saturating_sub(MAX_SARIF_RESULTS);
    results.truncate(MAX_SARIF_RESULTS);

    let mut rules: Vec<Value> = rules
        .keys()
        .map(|harm| {
            json!({
                "id": format!("rampart/{harm}"),
                "name": clean_line(harm),
                "shortDescription": {"text": format!("An AI agent safety failure: {}", clean_line(harm))},
                "defaultConfiguration": {"level": "error"},
                "properties": {"tags": ["security", "ai-safety"]},
            })
        })
        .collect();
    rules.push(json!({
        "id": "rampart/gate",
        "name": "gate",
        "shortDescription": {"text": "A limit of the [gate] policy in rampart.toml failed"},
        "defaultConfiguration": {"level": "error"},
    }));
    let mut run = json!({
        "tool": {"driver": {
            "name": "rampart",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "results": results,
        "columnKind": "unicodeCodePoints",
        "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "The workspace root"}}},
    });
    if left_out > 0 {
        run["properties"] = json!({"rampart_results_left_out": left_out});
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    })
}

/// One SARIF result.
fn result(
    rule_id: &str,
    rule_index: Option<usize>,
    message: &str,
    location: Option<&rampart::sidecar::SourceLocation>,
) -> Value {
    let text: String = clean_line(message).chars().take(MAX_MESSAGE_CHARS).collect();
    let mut result = json!({
        "ruleId": rule_id,
        "level": "error",
        "message": {"text": text},
    });
    if let Some(index) = rule_index {
        result["ruleIndex"] = json!(index);
    }
    if let Some(location) = location {
        result["locations"] = json!([{
            "physicalLocation": {
                "artifactLocation": {"uri": uri(&location.file), "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": location.line.max(1), "startColumn": location.column.max(1)},
            }
        }]);
    }
    result
}

/// A relative file path as a URI reference: `/` separators, and everything but unreserved
/// characters and `/` percent-encoded.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.replace('\\', "/").bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Writes `<out>/rampart.sarif`.
#[derive(Clone, Debug)]
pub struct SarifSink {
    out: ReportDir,
}

impl SarifSink {
    /// A sink writing under `out_dir`.
    pub fn new(out_dir: impl Into<Utf8PathBuf>) -> SarifSink {
        SarifSink { out: ReportDir::new(out_dir) }
    }

    /// Writes the file and returns its path.
    pub fn write(&self, report: &TestRunReport) -> Result<Utf8PathBuf, SinkError> {
        let log = sarif_log(report);
        let mut bytes = crate::sink::to_inert_json_pretty(&log)?;
        bytes.push(b'\n');
        self.out.write(SARIF_FILE, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("tests/agent.rs"), "tests/agent.rs");
        assert_eq!(uri("tests\\a b#1?.rs"), "tests/a%20b%231%3F.rs");
        assert_eq!(uri("tests/é.rs"), "tests/%C3%A9.rs");
    }
}
