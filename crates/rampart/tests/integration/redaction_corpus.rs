//! The committed redaction corpus (`fixtures/redaction/`, written by its `generate.py`):
//! recall over true secrets and changes to benign look-alikes, per shape.
//!
//! Fails unless every true secret is removed (recall 100%), also from the case JSON-encoded
//! once more (as a stringified subtree or a double-encoded tool result holds it), no benign
//! string changes (encoded or not), every redacted output is stable under a second redaction,
//! and the recorder's cheap test ([`Redactor::needs_redaction`]) flags every result holding a
//! true secret. The figures are
//! printed (run with `--nocapture`) and copied into docs/redaction.md's "Measured" section.

use std::collections::BTreeMap;
use std::path::PathBuf;

use rampart::redact::{RedactionCounts, Redactor, load_config};
use rampart::{ObservabilityLevel, Response, SafetyResult, ToolCall, Turn};
use serde_json::Value;

use crate::support;

fn corpus_dir() -> PathBuf {
    support::rampart_crate_dir().join("../../fixtures/redaction")
}

enum Input {
    Text(String),
    Json(Value),
}

struct Case {
    id: String,
    shape: String,
    input: Input,
    secrets: Vec<String>,
}

fn load(file: &str) -> Vec<Case> {
    let path = corpus_dir().join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .enumerate()
        .map(|(n, line)| {
            let mut record: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{file}:{}: {e}", n + 1));
            let field = |record: &Value, name: &str| {
                record[name].as_str().unwrap_or_else(|| panic!("{file}:{}: no {name}", n + 1)).to_owned()
            };
            let input =
                match (record.get_mut("text").map(Value::take), record.get_mut("json").map(Value::take)) {
                    (Some(Value::String(text)), None) => Input::Text(text),
                    (None, Some(json)) => Input::Json(json),
                    _ => panic!("{file}:{}: needs one of text (a string) and json", n + 1),
                };
            let secrets = record
                .get("secrets")
                .and_then(Value::as_array)
                .map(|items| {
                    items.iter().map(|s| s.as_str().expect("secrets are strings").to_owned()).collect()
                })
                .unwrap_or_default();
            Case { id: field(&record, "id"), shape: field(&record, "shape"), input, secrets }
        })
        .collect()
}

/// The corpus configuration (`rampart.toml`), with `env.json` as the environment.
fn redactor() -> Redactor {
    let dir = corpus_dir();
    let loaded = load_config(&dir).expect("rampart.toml parses").expect("fixtures/redaction/rampart.toml");
    let env: BTreeMap<String, String> =
        serde_json::from_str(&std::fs::read_to_string(dir.join("env.json")).expect("env.json"))
            .expect("env.json");
    let redactor = Redactor::new(&loaded.config, Some(&loaded.path), move |name| env.get(name).cloned())
        .expect("the corpus configuration builds");
    assert!(redactor.warnings().is_empty(), "{:?}", redactor.warnings());
    redactor
}

/// Redacts one case; returns the output and what it counted.
fn redact(redactor: &Redactor, input: &Input) -> (Input, RedactionCounts) {
    let mut counts = RedactionCounts::new();
    let output = match input {
        Input::Text(text) => Input::Text(redactor.redact_text(text, &mut counts).into_owned()),
        Input::Json(value) => {
            let mut value = value.clone();
            redactor.redact_json(&mut value, &mut counts);
            Input::Json(value)
        }
    };
    (output, counts)
}

/// Every string of an output (JSON keys and values, numbers as written).
fn strings(input: &Input) -> Vec<String> {
    fn json(value: &Value, out: &mut Vec<String>) {
        match value {
            Value::String(text) => out.push(text.clone()),
            Value::Number(n) => out.push(n.to_string()),
            Value::Array(items) => items.iter().for_each(|item| json(item, out)),
            Value::Object(map) => {
                for (key, value) in map {
                    out.push(key.clone());
                    json(value, out);
                }
            }
            Value::Null | Value::Bool(_) => {}
        }
    }
    match input {
        Input::Text(text) => vec![text.clone()],
        Input::Json(value) => {
            let mut out = Vec::new();
            json(value, &mut out);
            out
        }
    }
}

fn same(a: &Input, b: &Input) -> bool {
    match (a, b) {
        (Input::Text(a), Input::Text(b)) => a == b,
        (Input::Json(a), Input::Json(b)) => a == b,
        _ => false,
    }
}

fn show(input: &Input) -> String {
    match input {
        Input::Text(text) => format!("{text:?}"),
        Input::Json(value) => value.to_string(),
    }
}

/// The case as a recorded result: text as the response, JSON as a tool call's arguments.
fn as_result(input: &Input) -> SafetyResult {
    let response = match input {
        Input::Text(text) => Response::text(text.clone()),
        Input::Json(value) => {
            let mut call = ToolCall::new("http_request");
            match value {
                Value::Object(map) => {
                    map.iter().for_each(|(k, v)| call = call.clone().with_argument(k.clone(), v.clone()))
                }
                other => call = call.with_argument("body", other.clone()),
            }
            Response::text("done").with_tool_call(call)
        }
    };
    SafetyResult::unsafe_result("corpus case", ObservabilityLevel::ToolOnly)
        .with_turn(Turn::new(rampart::Request::prompt("p"), response))
}

/// The case JSON-encoded once more, as a stringified subtree or a double-encoded tool result
/// holds it: text as a JSON string literal, JSON as compact text.
fn encoded(input: &Input) -> Input {
    match input {
        Input::Text(text) => Input::Text(serde_json::to_string(text).expect("strings serialize")),
        Input::Json(value) => Input::Text(value.to_string()),
    }
}

/// A secret as it appears inside a JSON string.
fn escaped(secret: &str) -> String {
    let quoted = serde_json::to_string(secret).expect("strings serialize");
    quoted[1..quoted.len() - 1].to_owned()
}

#[derive(Default)]
struct Tally {
    cases: usize,
    secrets: usize,
    removed: usize,
    /// Secrets removed from the case JSON-encoded once more.
    removed_encoded: usize,
    changed: usize,
}

#[test]
fn redaction_corpus_recall_and_false_positives() {
    let redactor = redactor();
    let secrets = load("secrets.jsonl");
    let benign = load("benign.jsonl");
    let mut failures = Vec::new();

    let mut true_shapes: BTreeMap<&str, Tally> = BTreeMap::new();
    for case in &secrets {
        assert!(!case.secrets.is_empty(), "{}: a true case lists its secrets", case.id);
        let (output, counts) = redact(&redactor, &case.input);
        let texts = strings(&output);
        let tally = true_shapes.entry(&case.shape).or_default();
        tally.cases += 1;
        for secret in &case.secrets {
            tally.secrets += 1;
            if texts.iter().any(|t| t.contains(secret.as_str())) {
                failures.push(format!("{}: {secret:?} survived: {}", case.id, show(&output)));
            } else {
                tally.removed += 1;
            }
        }
        if counts.is_empty() {
            failures.push(format!("{}: nothing counted", case.id));
        }
        let (again, again_counts) = redact(&redactor, &output);
        if !same(&again, &output) || !again_counts.is_empty() {
            failures.push(format!("{}: not idempotent: {} -> {}", case.id, show(&output), show(&again)));
        }
        if !redactor.needs_redaction(&as_result(&case.input)) {
            failures.push(format!("{}: needs_redaction says no", case.id));
        }
        let (output, _) = redact(&redactor, &encoded(&case.input));
        let texts = strings(&output);
        for secret in &case.secrets {
            if texts.iter().any(|t| t.contains(&escaped(secret))) {
                failures.push(format!("{}: {secret:?} survived, encoded: {}", case.id, show(&output)));
            } else {
                tally.removed_encoded += 1;
            }
        }
    }

    let mut benign_shapes: BTreeMap<&str, Tally> = BTreeMap::new();
    for case in &benign {
        assert!(case.secrets.is_empty(), "{}: a benign case lists no secrets", case.id);
        let (output, counts) = redact(&redactor, &case.input);
        let tally = benign_shapes.entry(&case.shape).or_default();
        tally.cases += 1;
        let encoded_input = encoded(&case.input);
        let (encoded_output, encoded_counts) = redact(&redactor, &encoded_input);
        if !same(&output, &case.input) || !counts.is_empty() {
            tally.changed += 1;
            failures.push(format!(
                "{}: benign text changed: {} -> {}",
                case.id,
                show(&case.input),
                show(&output)
            ));
        } else if !same(&encoded_output, &encoded_input) || !encoded_counts.is_empty() {
            tally.changed += 1;
            failures.push(format!(
                "{}: benign text changed, encoded: {} -> {}",
                case.id,
                show(&encoded_input),
                show(&encoded_output)
            ));
        }
    }

    let total_secrets: usize = true_shapes.values().map(|t| t.secrets).sum();
    let removed: usize = true_shapes.values().map(|t| t.removed).sum();
    let changed: usize = benign_shapes.values().map(|t| t.changed).sum();
    println!("true secrets ({} cases, {} shapes):", secrets.len(), true_shapes.len());
    println!("| shape | cases | secrets | removed | removed, encoded |");
    println!("|---|---:|---:|---:|---:|");
    for (shape, t) in &true_shapes {
        println!("| `{shape}` | {} | {} | {} | {} |", t.cases, t.secrets, t.removed, t.removed_encoded);
    }
    let removed_encoded: usize = true_shapes.values().map(|t| t.removed_encoded).sum();
    println!(
        "recall: {removed}/{total_secrets} = {:.1}%; encoded once more: {removed_encoded}/{total_secrets} = {:.1}%",
        100.0 * removed as f64 / total_secrets.max(1) as f64,
        100.0 * removed_encoded as f64 / total_secrets.max(1) as f64
    );
    println!("benign look-alikes ({} cases, {} shapes):", benign.len(), benign_shapes.len());
    println!("| shape | cases | changed |");
    println!("|---|---:|---:|");
    for (shape, t) in &benign_shapes {
        println!("| `{shape}` | {} | {} |", t.cases, t.changed);
    }
    println!(
        "benign changed: {changed}/{} = {:.1}%",
        benign.len(),
        100.0 * changed as f64 / benign.len().max(1) as f64
    );

    // The corpus is as large and varied as documented.
    assert!(
        total_secrets >= 200 && true_shapes.len() >= 15,
        "{total_secrets} secrets in {} shapes",
        true_shapes.len()
    );
    assert!(benign.len() >= 200, "{} benign cases", benign.len());
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}

/// Captured output and logs hold many lines: every text case, followed by another line (the
/// next case's text, as in a JUnit output that holds them all), loses its secrets too, and so
/// does its JSON encoding inside a longer line (as a diagnostic quotes a malformed line). A
/// value cut short (a quote that never closes) ends at its line or at an enclosing quote, not
/// only at the text's end.
#[test]
fn redaction_corpus_texts_joined_into_lines() {
    let redactor = redactor();
    let secrets = load("secrets.jsonl");
    let texts: Vec<(&Case, &str)> = secrets
        .iter()
        .filter_map(|c| match &c.input {
            Input::Text(text) => Some((c, text.as_str())),
            Input::Json(_) => None,
        })
        .collect();
    assert!(texts.len() >= 200, "{} text cases", texts.len());
    let mut failures = Vec::new();
    for (i, (case, text)) in texts.iter().enumerate() {
        let next = texts[(i + 1) % texts.len()].1;
        // As a diagnostic quotes a malformed line: the text JSON-encoded inside a line that goes
        // on after its closing quote.
        let line = format!(r#"{{"summary":{},"x":1}} oops"#, serde_json::to_string(text).unwrap());
        let mut counts = RedactionCounts::new();
        let output = redactor.redact_text(&line, &mut counts);
        for secret in &case.secrets {
            if output.contains(&escaped(secret)) {
                failures.push(format!("{}: {secret:?} survived inside a line: {output:?}", case.id));
            }
        }
        let joined = format!("{text}\n{next}");
        let mut counts = RedactionCounts::new();
        let output = redactor.redact_text(&joined, &mut counts);
        for secret in &case.secrets {
            if output.contains(secret.as_str()) {
                failures
                    .push(format!("{}: {secret:?} survived when followed by a line: {output:?}", case.id));
            }
        }
    }
    let all: Vec<&str> = texts.iter().map(|(_, t)| *t).collect();
    let joined = all.join("\n");
    let mut counts = RedactionCounts::new();
    let output = redactor.redact_text(&joined, &mut counts);
    for (case, _) in &texts {
        for secret in &case.secrets {
            if output.contains(secret.as_str()) {
                failures.push(format!("{}: {secret:?} survived in all texts joined", case.id));
            }
        }
    }
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
}
