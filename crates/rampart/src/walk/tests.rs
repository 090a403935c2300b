use super::*;
use crate::model::{EvalOutcome, ObservabilityLevel, SafetyStatus};
use crate::time::Timestamp;
use serde_json::json;

/// Every field, so a new variant must be added here (the match has no wildcard).
fn all_fields() -> Vec<Field> {
    let fields = vec![
        Field::Summary,
        Field::HarmCategory,
        Field::Strategy,
        Field::InjectionPayloadId,
        Field::InjectionSurfaceName,
        Field::Prompt,
        Field::AttachmentId,
        Field::AttachmentContent,
        Field::AttachmentFormat,
        Field::ResponseText,
        Field::ToolName,
        Field::ToolResult,
        Field::ToolTimestamp,
        Field::SideEffectKind,
        Field::Evidence,
        Field::Rationale,
        Field::Evaluator,
        Field::UndeterminedOperand,
        Field::TurnTimestamp,
        Field::DriverReasoning,
    ];
    for field in &fields {
        match field {
            Field::Summary
            | Field::HarmCategory
            | Field::Strategy
            | Field::InjectionPayloadId
            | Field::InjectionSurfaceName
            | Field::Prompt
            | Field::AttachmentId
            | Field::AttachmentContent
            | Field::AttachmentFormat
            | Field::ResponseText
            | Field::ToolName
            | Field::ToolResult
            | Field::ToolTimestamp
            | Field::SideEffectKind
            | Field::Evidence
            | Field::Rationale
            | Field::Evaluator
            | Field::UndeterminedOperand
            | Field::TurnTimestamp
            | Field::DriverReasoning => {}
        }
    }
    fields
}

fn all_map_fields() -> Vec<MapField> {
    let fields = vec![
        MapField::Metadata,
        MapField::AttachmentMetadata,
        MapField::ToolArguments,
        MapField::SideEffectDetails,
        MapField::ResponseMetadata,
    ];
    for field in &fields {
        match field {
            MapField::Metadata
            | MapField::AttachmentMetadata
            | MapField::ToolArguments
            | MapField::SideEffectDetails
            | MapField::ResponseMetadata => {}
        }
    }
    fields
}

/// A result with every string field set to `s<n>` and every map holding `m<n>`.
fn full_result() -> SafetyResult {
    let turn = Turn::new(
        Request::prompt("s-prompt").with_attachment(
            Attachment::new("s-att-id", "s-att-content", "s-att-format").with_metadata("m-att", "s-att-meta"),
        ),
        Response::text("s-response")
            .with_tool_call(
                ToolCall::new("s-tool")
                    .with_argument("m-args", json!({"deep": ["s-arg"]}))
                    .with_result("s-tool-result")
                    .with_timestamp(Timestamp::from_string("s-tool-ts")),
            )
            .with_side_effect(SideEffect::new("s-kind").with_detail("m-details", "s-detail"))
            .with_metadata("m-response", "s-response-meta"),
    )
    .with_eval(
        EvalResult::new(EvalOutcome::Undetermined)
            .with_evidence("s-evidence")
            .with_rationale("s-rationale")
            .with_evaluator("s-evaluator")
            .with_undetermined_operand("s-operand"),
    )
    .with_timestamp(Timestamp::from_string("s-turn-ts"))
    .with_driver_reasoning("s-reasoning");
    SafetyResult::new(SafetyStatus::Undetermined, "s-summary", ObservabilityLevel::ToolAndSideEffects)
        .with_harm("s-harm")
        .with_strategy("s-strategy")
        .with_injection(Injection::new("s-surface").with_payload_id("s-payload"))
        .with_metadata("m-meta", "s-meta")
        .with_turn(turn)
}

#[derive(Default)]
struct Collect {
    fields: Vec<(Field, String)>,
    maps: Vec<(MapField, JsonMap)>,
}

impl<'r> Visit<'r> for Collect {
    fn text(&mut self, field: Field, text: &'r str) {
        self.fields.push((field, text.to_owned()));
    }

    fn map(&mut self, field: MapField, map: &'r JsonMap) {
        self.maps.push((field, map.clone()));
    }
}

/// Every string leaf of a JSON value (object keys included), except the enums' names.
fn json_leaves(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::String(text) => out.push(text.clone()),
        Value::Array(items) => items.iter().for_each(|v| json_leaves(v, out)),
        Value::Object(map) => {
            for (key, value) in map {
                out.push(key.clone());
                json_leaves(value, out);
            }
        }
        _ => {}
    }
}

#[test]
fn every_field_and_map_is_visited_once() {
    let result = full_result();
    let mut collect = Collect::default();
    walk(&result, &mut collect);
    let visited: Vec<Field> = collect.fields.iter().map(|(f, _)| *f).collect();
    assert_eq!(visited.len(), all_fields().len(), "{visited:?}");
    for field in all_fields() {
        assert_eq!(visited.iter().filter(|f| **f == field).count(), 1, "{field:?}");
    }
    let maps: Vec<MapField> = collect.maps.iter().map(|(f, _)| *f).collect();
    assert_eq!(maps, all_map_fields());
    // Each string lands in the field named after it.
    for (field, text) in &collect.fields {
        assert!(text.starts_with("s-"), "{field:?}: {text}");
    }
}

#[test]
fn every_string_of_the_wire_format_is_visited() {
    let result = full_result();
    let mut collect = Collect::default();
    walk(&result, &mut collect);
    let mut seen: Vec<String> = collect.fields.iter().map(|(_, t)| t.clone()).collect();
    for (_, map) in &collect.maps {
        json_strings(map, &mut |item| match item {
            JsonStr::Key { key, .. } => seen.push(key.to_owned()),
            JsonStr::Value { text, .. } => seen.push(text.to_owned()),
        });
    }
    let mut leaves = Vec::new();
    json_leaves(&serde_json::to_value(&result).unwrap(), &mut leaves);
    // Every string the result holds is `s-...`, `m-...` or `deep`; the other leaves are the
    // wire format's own names (object keys, enum values).
    let data: Vec<String> =
        leaves.into_iter().filter(|l| l.starts_with("s-") || l.starts_with("m-") || l == "deep").collect();
    assert_eq!(data.len(), 31, "{data:?}");
    for leaf in data {
        assert!(seen.contains(&leaf), "{leaf} is not visited");
    }
}

struct Upper;

impl VisitMut for Upper {
    fn text(&mut self, _field: Field, text: &mut String) {
        *text = text.to_uppercase();
    }

    fn map(&mut self, _field: MapField, map: &mut JsonMap) {
        json_strings_mut(map, &mut |text| *text = text.to_uppercase());
    }
}

#[test]
fn walk_mut_changes_every_string_walk_sees() {
    let mut result = full_result();
    let mut before = Collect::default();
    walk(&result, &mut before);
    walk_mut(&mut result, &mut Upper);
    let mut after = Collect::default();
    walk(&result, &mut after);
    assert_eq!(before.fields.len(), after.fields.len());
    for ((field_a, a), (field_b, b)) in before.fields.iter().zip(&after.fields) {
        assert_eq!(field_a, field_b);
        assert_eq!(&a.to_uppercase(), b);
    }
    let json = serde_json::to_string(&result).unwrap();
    assert!(!json.contains("s-"), "{json}");
    assert_eq!(result.harm_category.as_ref().map(|h| h.as_str()), Some("S-HARM"));
    assert_eq!(result.turns[0].response.tool_calls[0].arguments["m-args"], json!({"deep": ["S-ARG"]}));
}

#[test]
fn roles() {
    for field in all_fields() {
        let expected = match field {
            Field::HarmCategory => Role::Label,
            Field::Summary
            | Field::Prompt
            | Field::AttachmentContent
            | Field::ResponseText
            | Field::ToolResult
            | Field::Evidence
            | Field::Rationale
            | Field::UndeterminedOperand
            | Field::DriverReasoning => Role::Text,
            _ => Role::Identifier,
        };
        assert_eq!(field.role(), expected, "{field:?}");
        assert!(!field.path().is_empty());
    }
    for field in all_map_fields() {
        assert!(
            field.path().ends_with("metadata")
                || field.path().ends_with("arguments")
                || field.path().ends_with("details")
        );
    }
}

#[test]
fn json_depths() {
    let map = json!({"a": "x", "b": {"c": ["y", {"d": "z"}]}});
    let Value::Object(map) = map else { unreachable!() };
    let mut items = Vec::new();
    json_strings(&map, &mut |item| {
        items.push(match item {
            JsonStr::Key { key, depth, .. } => format!("k:{key}@{depth}"),
            JsonStr::Value { text, depth } => format!("v:{text}@{depth}"),
        })
    });
    assert_eq!(items, ["k:a@1", "v:x@1", "k:b@1", "k:c@2", "v:y@3", "k:d@4", "v:z@4"]);
}
