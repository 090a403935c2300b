//! The one walk over a [`SafetyResult`]: every string and every JSON object it holds, each
//! with its place and [`Role`].
//!
//! Code that has to treat every string of a result (redaction, the report's validation of
//! untrusted sidecars, the HTML page bounding text) goes through [`walk`] or [`walk_mut`]
//! instead of listing the fields itself. Both destructure every model struct exhaustively (no
//! `..`), so a field added to [`SafetyResult`], [`Turn`](crate::Turn),
//! [`Request`](crate::Request), [`Attachment`](crate::Attachment),
//! [`Response`](crate::Response), [`ToolCall`](crate::ToolCall),
//! [`SideEffect`](crate::SideEffect), [`EvalResult`](crate::EvalResult) or
//! [`Injection`](crate::Injection) does not compile until the walk handles it, and every
//! caller then sees the new field.
//!
//! A visitor gets:
//!
//! - every string field, with its [`Field`] (which says its [`Role`]: free text, an
//!   identifier, or the test author's label), in [`Visit::text`] / [`VisitMut::text`];
//! - every free-form JSON object (metadata, tool arguments, side-effect details, attachment
//!   and response metadata) whole, with its [`MapField`], in [`Visit::map`] /
//!   [`VisitMut::map`]. [`json_strings`] and [`json_strings_mut`] walk the strings inside one.
//!
//! Numbers, booleans and enums (status, observability level, outcome, confidence, turn
//! number) are not visited: they hold no text.
//!
//! Bounding every free-text string, JSON included, for a page:
//!
//! ```
//! use rampart::walk::{self, Field, MapField, Role, VisitMut};
//! use rampart::{JsonMap, ObservabilityLevel, SafetyResult, ToolCall, Response, Turn, Request};
//!
//! struct Bound(usize);
//!
//! impl Bound {
//!     fn cut(&self, text: &mut String) {
//!         if text.len() > self.0 {
//!             let mut end = self.0;
//!             while !text.is_char_boundary(end) {
//!                 end -= 1;
//!             }
//!             text.truncate(end);
//!             text.push('…');
//!         }
//!     }
//! }
//!
//! impl VisitMut for Bound {
//!     fn text(&mut self, field: Field, text: &mut String) {
//!         if field.role() == Role::Text {
//!             self.cut(text);
//!         }
//!     }
//!     fn map(&mut self, _field: MapField, map: &mut JsonMap) {
//!         walk::json_strings_mut(map, &mut |text| self.cut(text));
//!     }
//! }
//!
//! let mut result = SafetyResult::unsafe_result("x".repeat(100), ObservabilityLevel::ToolOnly)
//!     .with_turn(Turn::new(
//!         Request::prompt("hi"),
//!         Response::text("y".repeat(100)).with_tool_call(ToolCall::new("t".repeat(20)).with_argument("a", "z".repeat(100))),
//!     ));
//! walk::walk_mut(&mut result, &mut Bound(10));
//! assert_eq!(result.summary, "xxxxxxxxxx…");
//! assert_eq!(result.turns[0].response.tool_calls[0].arguments["a"], "zzzzzzzzzz…");
//! // An identifier is not free text: the tool name stays whole.
//! assert_eq!(result.turns[0].response.tool_calls[0].name.len(), 20);
//! ```
//!
//! Stringifying every JSON subtree nested deeper than a depth, in every JSON object of a result:
//!
//! ```
//! use rampart::walk::{self, Field, MapField, VisitMut};
//! use rampart::{JsonMap, ObservabilityLevel, SafetyResult};
//! use serde_json::{Value, json};
//!
//! struct Flatten { max_depth: usize, stringified: usize }
//!
//! impl Flatten {
//!     fn value(&mut self, value: &mut Value, depth: usize) {
//!         let nested = matches!(value, Value::Object(m) if !m.is_empty())
//!             || matches!(value, Value::Array(a) if !a.is_empty());
//!         if nested && depth > self.max_depth {
//!             *value = Value::String(value.to_string());
//!             self.stringified += 1;
//!             return;
//!         }
//!         match value {
//!             Value::Object(map) => map.values_mut().for_each(|v| self.value(v, depth + 1)),
//!             Value::Array(items) => items.iter_mut().for_each(|v| self.value(v, depth + 1)),
//!             _ => {}
//!         }
//!     }
//! }
//!
//! impl VisitMut for Flatten {
//!     fn text(&mut self, _field: Field, _text: &mut String) {}
//!     fn map(&mut self, _field: MapField, map: &mut JsonMap) {
//!         // The map's values are at depth 1.
//!         map.values_mut().for_each(|v| self.value(v, 1));
//!     }
//! }
//!
//! let mut result = SafetyResult::safe("s", ObservabilityLevel::ResponseOnly)
//!     .with_metadata("a", json!({"b": {"c": [1]}}));
//! let mut flatten = Flatten { max_depth: 2, stringified: 0 };
//! walk::walk_mut(&mut result, &mut flatten);
//! // `a` is at depth 1, `b` at 2, `c` at 3: `c`'s array is stringified.
//! assert_eq!(result.metadata["a"], json!({"b": {"c": "[1]"}}));
//! assert_eq!(flatten.stringified, 1);
//! ```

use serde_json::Value;

use crate::model::{
    Attachment, EvalResult, Injection, JsonMap, Request, Response, SafetyResult, SideEffect, ToolCall, Turn,
};

/// What kind of string a [`Field`] holds, so a caller can treat kinds differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Role {
    /// Free text: a summary, a prompt, a response, a tool result, evidence, a rationale. Any
    /// length, anything the agent or an attacker wrote. Redacted; bounded for display.
    Text,
    /// A name or identifier: a tool name, an attachment id or format, a side-effect kind, an
    /// evaluator, a strategy, an injection surface or payload id, a timestamp. Short and
    /// structured, but some come from the agent (a tool name), so redaction still applies to
    /// them; display shows them whole.
    Identifier,
    /// A label from the test author's own vocabulary: the harm category. Never agent output,
    /// never redacted (redacting `secret_leak` would only mangle the report's grouping).
    Label,
}

/// A string field of a result (or of one of its turns, attachments, tool calls...).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Field {
    /// `summary`.
    Summary,
    /// `harm_category`.
    HarmCategory,
    /// `strategy`.
    Strategy,
    /// `injections[].payload_id`.
    InjectionPayloadId,
    /// `injections[].surface_name`.
    InjectionSurfaceName,
    /// `turns[].request.prompt`.
    Prompt,
    /// `turns[].request.attachments[].id`.
    AttachmentId,
    /// `turns[].request.attachments[].content`.
    AttachmentContent,
    /// `turns[].request.attachments[].format`.
    AttachmentFormat,
    /// `turns[].response.text`.
    ResponseText,
    /// `turns[].response.tool_calls[].name`.
    ToolName,
    /// `turns[].response.tool_calls[].result`.
    ToolResult,
    /// `turns[].response.tool_calls[].timestamp`.
    ToolTimestamp,
    /// `turns[].response.side_effects[].kind`.
    SideEffectKind,
    /// `turns[].eval_result.evidence[]`.
    Evidence,
    /// `turns[].eval_result.rationale`.
    Rationale,
    /// `turns[].eval_result.evaluator`.
    Evaluator,
    /// `turns[].eval_result.undetermined_operands[]`.
    UndeterminedOperand,
    /// `turns[].timestamp`.
    TurnTimestamp,
    /// `turns[].driver_reasoning`.
    DriverReasoning,
}

impl Field {
    /// What kind of string the field holds.
    pub fn role(self) -> Role {
        match self {
            Field::Summary
            | Field::Prompt
            | Field::AttachmentContent
            | Field::ResponseText
            | Field::ToolResult
            | Field::Evidence
            | Field::Rationale
            | Field::UndeterminedOperand
            | Field::DriverReasoning => Role::Text,
            Field::Strategy
            | Field::InjectionPayloadId
            | Field::InjectionSurfaceName
            | Field::AttachmentId
            | Field::AttachmentFormat
            | Field::ToolName
            | Field::ToolTimestamp
            | Field::SideEffectKind
            | Field::Evaluator
            | Field::TurnTimestamp => Role::Identifier,
            Field::HarmCategory => Role::Label,
        }
    }

    /// The field's path in the wire format, `[]` standing for any index
    /// (`turns[].response.text`).
    pub fn path(self) -> &'static str {
        match self {
            Field::Summary => "summary",
            Field::HarmCategory => "harm_category",
            Field::Strategy => "strategy",
            Field::InjectionPayloadId => "injections[].payload_id",
            Field::InjectionSurfaceName => "injections[].surface_name",
            Field::Prompt => "turns[].request.prompt",
            Field::AttachmentId => "turns[].request.attachments[].id",
            Field::AttachmentContent => "turns[].request.attachments[].content",
            Field::AttachmentFormat => "turns[].request.attachments[].format",
            Field::ResponseText => "turns[].response.text",
            Field::ToolName => "turns[].response.tool_calls[].name",
            Field::ToolResult => "turns[].response.tool_calls[].result",
            Field::ToolTimestamp => "turns[].response.tool_calls[].timestamp",
            Field::SideEffectKind => "turns[].response.side_effects[].kind",
            Field::Evidence => "turns[].eval_result.evidence[]",
            Field::Rationale => "turns[].eval_result.rationale",
            Field::Evaluator => "turns[].eval_result.evaluator",
            Field::UndeterminedOperand => "turns[].eval_result.undetermined_operands[]",
            Field::TurnTimestamp => "turns[].timestamp",
            Field::DriverReasoning => "turns[].driver_reasoning",
        }
    }
}

/// A free-form JSON object of a result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MapField {
    /// `metadata`.
    Metadata,
    /// `turns[].request.attachments[].metadata`.
    AttachmentMetadata,
    /// `turns[].response.tool_calls[].arguments`.
    ToolArguments,
    /// `turns[].response.side_effects[].details`.
    SideEffectDetails,
    /// `turns[].response.metadata`.
    ResponseMetadata,
}

impl MapField {
    /// The object's path in the wire format, `[]` standing for any index.
    pub fn path(self) -> &'static str {
        match self {
            MapField::Metadata => "metadata",
            MapField::AttachmentMetadata => "turns[].request.attachments[].metadata",
            MapField::ToolArguments => "turns[].response.tool_calls[].arguments",
            MapField::SideEffectDetails => "turns[].response.side_effects[].details",
            MapField::ResponseMetadata => "turns[].response.metadata",
        }
    }
}

/// Sees every string and JSON object of a result, by reference; see [`walk`].
pub trait Visit<'r> {
    /// A string field (absent optional fields are not visited).
    fn text(&mut self, field: Field, text: &'r str);
    /// A JSON object, whole (empty ones too); [`json_strings`] walks its strings.
    fn map(&mut self, field: MapField, map: &'r JsonMap);
}

/// Sees every string and JSON object of a result, mutably; see [`walk_mut`].
pub trait VisitMut {
    /// A string field (absent optional fields are not visited).
    fn text(&mut self, field: Field, text: &mut String);
    /// A JSON object, whole (empty ones too); [`json_strings_mut`] walks its string values.
    fn map(&mut self, field: MapField, map: &mut JsonMap);
}

/// Visits every string field and JSON object of `result`, in a fixed order: the result's own
/// fields in declaration order, then each turn's.
pub fn walk<'r>(result: &'r SafetyResult, visitor: &mut impl Visit<'r>) {
    let SafetyResult {
        status: _,
        summary,
        observability_level: _,
        turns,
        duration_seconds: _,
        harm_category,
        strategy,
        injections,
        metadata,
    } = result;
    visitor.text(Field::Summary, summary);
    if let Some(harm) = harm_category {
        visitor.text(Field::HarmCategory, harm.as_str());
    }
    if let Some(strategy) = strategy {
        visitor.text(Field::Strategy, strategy);
    }
    for injection in injections {
        let Injection { payload_id, surface_name } = injection;
        if let Some(payload_id) = payload_id {
            visitor.text(Field::InjectionPayloadId, payload_id);
        }
        visitor.text(Field::InjectionSurfaceName, surface_name);
    }
    visitor.map(MapField::Metadata, metadata);
    for turn in turns {
        walk_turn(turn, visitor);
    }
}

fn walk_turn<'r>(turn: &'r Turn, visitor: &mut impl Visit<'r>) {
    let Turn { request, response, eval_result, turn_number: _, timestamp, driver_reasoning } = turn;
    let Request { prompt, attachments } = request;
    if let Some(prompt) = prompt {
        visitor.text(Field::Prompt, prompt);
    }
    for attachment in attachments {
        let Attachment { id, content, format, metadata } = attachment;
        visitor.text(Field::AttachmentId, id);
        visitor.text(Field::AttachmentContent, content);
        visitor.text(Field::AttachmentFormat, format);
        visitor.map(MapField::AttachmentMetadata, metadata);
    }
    let Response { text, tool_calls, side_effects, metadata } = response;
    visitor.text(Field::ResponseText, text);
    for call in tool_calls {
        let ToolCall { name, arguments, result, timestamp } = call;
        visitor.text(Field::ToolName, name);
        visitor.map(MapField::ToolArguments, arguments);
        if let Some(result) = result {
            visitor.text(Field::ToolResult, result);
        }
        if let Some(timestamp) = timestamp {
            visitor.text(Field::ToolTimestamp, timestamp.as_str());
        }
    }
    for effect in side_effects {
        let SideEffect { kind, details } = effect;
        visitor.text(Field::SideEffectKind, kind);
        visitor.map(MapField::SideEffectDetails, details);
    }
    visitor.map(MapField::ResponseMetadata, metadata);
    if let Some(eval) = eval_result {
        let EvalResult { outcome: _, confidence: _, evidence, rationale, evaluator, undetermined_operands } =
            eval;
        for item in evidence {
            visitor.text(Field::Evidence, item);
        }
        visitor.text(Field::Rationale, rationale);
        if let Some(evaluator) = evaluator {
            visitor.text(Field::Evaluator, evaluator);
        }
        for operand in undetermined_operands {
            visitor.text(Field::UndeterminedOperand, operand);
        }
    }
    if let Some(timestamp) = timestamp {
        visitor.text(Field::TurnTimestamp, timestamp.as_str());
    }
    if let Some(reasoning) = driver_reasoning {
        visitor.text(Field::DriverReasoning, reasoning);
    }
}

/// [`walk`], mutably: the visitor may change any string and any JSON object in place.
pub fn walk_mut(result: &mut SafetyResult, visitor: &mut impl VisitMut) {
    let SafetyResult {
        status: _,
        summary,
        observability_level: _,
        turns,
        duration_seconds: _,
        harm_category,
        strategy,
        injections,
        metadata,
    } = result;
    visitor.text(Field::Summary, summary);
    if let Some(harm) = harm_category {
        visitor.text(Field::HarmCategory, harm.string_mut());
    }
    if let Some(strategy) = strategy {
        visitor.text(Field::Strategy, strategy);
    }
    for injection in injections {
        let Injection { payload_id, surface_name } = injection;
        if let Some(payload_id) = payload_id {
            visitor.text(Field::InjectionPayloadId, payload_id);
        }
        visitor.text(Field::InjectionSurfaceName, surface_name);
    }
    visitor.map(MapField::Metadata, metadata);
    for turn in turns {
        walk_turn_mut(turn, visitor);
    }
}

fn walk_turn_mut(turn: &mut Turn, visitor: &mut impl VisitMut) {
    let Turn { request, response, eval_result, turn_number: _, timestamp, driver_reasoning } = turn;
    let Request { prompt, attachments } = request;
    if let Some(prompt) = prompt {
        visitor.text(Field::Prompt, prompt);
    }
    for attachment in attachments {
        let Attachment { id, content, format, metadata } = attachment;
        visitor.text(Field::AttachmentId, id);
        visitor.text(Field::AttachmentContent, content);
        visitor.text(Field::AttachmentFormat, format);
        visitor.map(MapField::AttachmentMetadata, metadata);
    }
    let Response { text, tool_calls, side_effects, metadata } = response;
    visitor.text(Field::ResponseText, text);
    for call in tool_calls {
        let ToolCall { name, arguments, result, timestamp } = call;
        visitor.text(Field::ToolName, name);
        visitor.map(MapField::ToolArguments, arguments);
        if let Some(result) = result {
            visitor.text(Field::ToolResult, result);
        }
        if let Some(timestamp) = timestamp {
            visitor.text(Field::ToolTimestamp, timestamp.string_mut());
        }
    }
    for effect in side_effects {
        let SideEffect { kind, details } = effect;
        visitor.text(Field::SideEffectKind, kind);
        visitor.map(MapField::SideEffectDetails, details);
    }
    visitor.map(MapField::ResponseMetadata, metadata);
    if let Some(eval) = eval_result {
        let EvalResult { outcome: _, confidence: _, evidence, rationale, evaluator, undetermined_operands } =
            eval;
        for item in evidence {
            visitor.text(Field::Evidence, item);
        }
        visitor.text(Field::Rationale, rationale);
        if let Some(evaluator) = evaluator {
            visitor.text(Field::Evaluator, evaluator);
        }
        for operand in undetermined_operands {
            visitor.text(Field::UndeterminedOperand, operand);
        }
    }
    if let Some(timestamp) = timestamp {
        visitor.text(Field::TurnTimestamp, timestamp.string_mut());
    }
    if let Some(reasoning) = driver_reasoning {
        visitor.text(Field::DriverReasoning, reasoning);
    }
}

/// A string inside a JSON value, for [`json_strings`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum JsonStr<'v> {
    /// A key of an object, with its value (whose strings are visited next).
    Key {
        /// The key.
        key: &'v str,
        /// Its value.
        value: &'v Value,
        /// The depth of its value: 1 for a key of the map handed to [`Visit::map`], one more
        /// per enclosing object or array below it.
        depth: usize,
    },
    /// A string value.
    Value {
        /// The string.
        text: &'v str,
        /// Its depth: 1 for a value of the map handed to [`Visit::map`], one more per
        /// enclosing object or array below it.
        depth: usize,
    },
}

/// Calls `f` on every key and string value in `map`, at any depth, in order (a key before
/// its value's strings).
pub fn json_strings<'v>(map: &'v JsonMap, f: &mut impl FnMut(JsonStr<'v>)) {
    fn object<'v>(map: &'v JsonMap, depth: usize, f: &mut impl FnMut(JsonStr<'v>)) {
        for (key, value) in map {
            f(JsonStr::Key { key, value, depth });
            json(value, depth, f);
        }
    }
    fn json<'v>(value: &'v Value, depth: usize, f: &mut impl FnMut(JsonStr<'v>)) {
        match value {
            Value::String(text) => f(JsonStr::Value { text, depth }),
            Value::Array(items) => items.iter().for_each(|item| json(item, depth + 1, f)),
            Value::Object(map) => object(map, depth + 1, f),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    object(map, 1, f);
}

/// Calls `f` on every string value in `map`, at any depth (object keys are not strings one
/// can change in place: rebuild the map to rename keys).
pub fn json_strings_mut(map: &mut JsonMap, f: &mut impl FnMut(&mut String)) {
    fn json(value: &mut Value, f: &mut impl FnMut(&mut String)) {
        match value {
            Value::String(text) => f(text),
            Value::Array(items) => items.iter_mut().for_each(|item| json(item, f)),
            Value::Object(map) => map.values_mut().for_each(|item| json(item, f)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    map.values_mut().for_each(|value| json(value, f));
}

#[cfg(test)]
mod tests;
