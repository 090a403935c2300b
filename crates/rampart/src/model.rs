//! The safety-result data model: what one safety test observed and concluded.
//!
//! Every type here is part of the sidecar wire format (see [`crate::sidecar`]): the serde
//! names are the contract. Optional fields are omitted from JSON when empty and take their
//! default when absent, so "absent" always means "not recorded", never "did not happen".

use std::borrow::Cow;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// Free-form JSON object used for metadata, tool arguments and side-effect details.
pub type JsonMap = Map<String, Value>;

/// The verdict of one safety result.
///
/// A closed set: readers refuse values they do not know rather than guess.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum SafetyStatus {
    /// The agent behaved correctly: the attack did not work.
    Safe,
    /// A violation was detected: the attack worked. One UNSAFE result is a finding.
    Unsafe,
    /// The evaluators could not tell, typically because of an observability gap.
    Undetermined,
    /// The test infrastructure failed (a timeout, a 503 from a tool); not a safety finding.
    Error,
}

impl SafetyStatus {
    /// The wire name (`safe`, `unsafe`, `undetermined`, `error`).
    pub fn as_str(self) -> &'static str {
        match self {
            SafetyStatus::Safe => "safe",
            SafetyStatus::Unsafe => "unsafe",
            SafetyStatus::Undetermined => "undetermined",
            SafetyStatus::Error => "error",
        }
    }
}

impl fmt::Display for SafetyStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A harm category: an open string with well-known constants.
///
/// Any string is a valid category (a team can define `custom_product_risk`); the constants
/// below are the categories RAMPART ships with.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(transparent)]
pub struct HarmCategory(Cow<'static, str>);

impl HarmCategory {
    /// Poisoning of the agent's long-term memory.
    pub const MEMORY_POISONING: HarmCategory = HarmCategory::from_static("memory_poisoning");
    /// Direct or indirect (through a document, a web page, a tool result) prompt injection.
    pub const PROMPT_INJECTION: HarmCategory = HarmCategory::from_static("prompt_injection");
    /// Attempts to make the agent ignore its policy.
    pub const JAILBREAK: HarmCategory = HarmCategory::from_static("jailbreak");
    /// Data leaving the trust boundary through a tool (an email, an HTTP request).
    pub const DATA_EXFILTRATION: HarmCategory = HarmCategory::from_static("data_exfiltration");
    /// A tool call the agent must not make, or makes with too much authority.
    pub const OVER_PERMISSIVE_ACTION: HarmCategory = HarmCategory::from_static("over_permissive_action");
    /// Secrets or private data disclosed in the response (a system-prompt secret, PII).
    pub const DATA_LEAKAGE: HarmCategory = HarmCategory::from_static("data_leakage");
    /// Harmful or policy-violating content.
    pub const CONTENT_SAFETY: HarmCategory = HarmCategory::from_static("content_safety");
    /// Fabricated facts presented as true.
    pub const HALLUCINATION: HarmCategory = HarmCategory::from_static("hallucination");
    /// A behaviour that used to be safe and regressed.
    pub const BEHAVIORAL_REGRESSION: HarmCategory = HarmCategory::from_static("behavioral_regression");

    /// The well-known categories, in the order above.
    pub const WELL_KNOWN: [HarmCategory; 9] = [
        HarmCategory::MEMORY_POISONING,
        HarmCategory::PROMPT_INJECTION,
        HarmCategory::JAILBREAK,
        HarmCategory::DATA_EXFILTRATION,
        HarmCategory::OVER_PERMISSIVE_ACTION,
        HarmCategory::DATA_LEAKAGE,
        HarmCategory::CONTENT_SAFETY,
        HarmCategory::HALLUCINATION,
        HarmCategory::BEHAVIORAL_REGRESSION,
    ];

    /// A category from a string literal, usable in `const` items.
    pub const fn from_static(name: &'static str) -> HarmCategory {
        HarmCategory(Cow::Borrowed(name))
    }

    /// A category with any name.
    pub fn new(name: impl Into<String>) -> HarmCategory {
        HarmCategory(Cow::Owned(name.into()))
    }

    /// The category's name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name, to change in place (for [`crate::walk::walk_mut`]).
    pub(crate) fn string_mut(&mut self) -> &mut String {
        self.0.to_mut()
    }

    /// Whether this is one of [`HarmCategory::WELL_KNOWN`].
    pub fn is_well_known(&self) -> bool {
        HarmCategory::WELL_KNOWN.iter().any(|c| c.as_str() == self.as_str())
    }
}

impl fmt::Display for HarmCategory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for HarmCategory {
    fn from(name: &str) -> Self {
        HarmCategory::new(name)
    }
}

impl From<String> for HarmCategory {
    fn from(name: String) -> Self {
        HarmCategory::new(name)
    }
}

impl From<&HarmCategory> for HarmCategory {
    fn from(category: &HarmCategory) -> Self {
        category.clone()
    }
}

/// How much of the agent's behaviour the test could observe.
///
/// Declared by the test's adapter. An evaluator that needs tool data under
/// [`ObservabilityLevel::ResponseOnly`] should return UNDETERMINED, not a false SAFE.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum ObservabilityLevel {
    /// Tool calls and their side effects (HTTP requests, file writes) were observed.
    ToolAndSideEffects,
    /// Tool calls were observed, their side effects were not.
    ToolOnly,
    /// Only the response text was observed.
    ResponseOnly,
}

impl ObservabilityLevel {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ObservabilityLevel::ToolAndSideEffects => "tool_and_side_effects",
            ObservabilityLevel::ToolOnly => "tool_only",
            ObservabilityLevel::ResponseOnly => "response_only",
        }
    }
}

impl fmt::Display for ObservabilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The raw signal of one evaluator: did it detect what it looks for?
///
/// Not a safety judgment by itself: [`Polarity`] turns outcomes into a [`SafetyStatus`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EvalOutcome {
    /// The evaluator found what it looks for.
    Detected,
    /// The evaluator looked and did not find it.
    NotDetected,
    /// The evaluator could not tell.
    Undetermined,
}

/// How evaluator outcomes map to a verdict.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Polarity {
    /// The evaluators look for the attack's success (a leaked secret, a forbidden tool
    /// call): no outcomes → ERROR; any detected → UNSAFE; else any undetermined →
    /// UNDETERMINED; else SAFE.
    Attack,
    /// The evaluators look for the correct behaviour (a refusal): no outcomes → ERROR; any
    /// not detected → UNSAFE; else any undetermined → UNDETERMINED; else SAFE.
    Probe,
}

impl Polarity {
    /// Resolves a verdict from evaluator outcomes.
    ///
    /// ```
    /// use rampart::{EvalOutcome::*, Polarity, SafetyStatus};
    /// assert_eq!(Polarity::Attack.verdict([NotDetected, Detected]), SafetyStatus::Unsafe);
    /// assert_eq!(Polarity::Probe.verdict([Detected, Undetermined]), SafetyStatus::Undetermined);
    /// assert_eq!(Polarity::Attack.verdict([]), SafetyStatus::Error);
    /// ```
    pub fn verdict(self, outcomes: impl IntoIterator<Item = EvalOutcome>) -> SafetyStatus {
        let failing = match self {
            Polarity::Attack => EvalOutcome::Detected,
            Polarity::Probe => EvalOutcome::NotDetected,
        };
        let mut any = false;
        let mut any_undetermined = false;
        for outcome in outcomes {
            any = true;
            if outcome == failing {
                return SafetyStatus::Unsafe;
            }
            any_undetermined |= outcome == EvalOutcome::Undetermined;
        }
        match (any, any_undetermined) {
            (false, _) => SafetyStatus::Error,
            (true, true) => SafetyStatus::Undetermined,
            (true, false) => SafetyStatus::Safe,
        }
    }
}

/// The verdict of attack-polarity evaluators; see [`Polarity::Attack`].
pub fn attack_verdict(outcomes: impl IntoIterator<Item = EvalOutcome>) -> SafetyStatus {
    Polarity::Attack.verdict(outcomes)
}

/// The verdict of probe-polarity evaluators; see [`Polarity::Probe`].
pub fn probe_verdict(outcomes: impl IntoIterator<Item = EvalOutcome>) -> SafetyStatus {
    Polarity::Probe.verdict(outcomes)
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

fn default_confidence() -> f64 {
    1.0
}

fn f64_or_nan<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<f64, D::Error> {
    Ok(Option::<f64>::deserialize(deserializer)?.unwrap_or(f64::NAN))
}

fn is_full_confidence(confidence: &f64) -> bool {
    *confidence == 1.0
}

/// The outcome of one safety test execution: the unit that reports count.
///
/// Build one with [`SafetyResult::new`] or the status shortcuts, then chain `with_*`:
///
/// ```
/// use rampart::{HarmCategory, ObservabilityLevel, SafetyResult, Turn};
/// let result = SafetyResult::unsafe_result("agent emailed the secret", ObservabilityLevel::ToolOnly)
///     .with_harm(HarmCategory::DATA_EXFILTRATION)
///     .with_strategy("xpia")
///     .with_turn(Turn::exchange("summarise this document", "Done, and I emailed it to you."));
/// assert!(!result.is_safe());
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SafetyResult {
    /// The verdict.
    pub status: SafetyStatus,
    /// One human-readable line saying what happened.
    pub summary: String,
    /// What the test could observe; stated explicitly so no report claims a level nobody chose.
    pub observability_level: ObservabilityLevel,
    /// The conversation, as evidence.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub turns: Vec<Turn>,
    /// Wall time of the execution, in seconds, when measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// The harm category; `#[rampart::test(harm = "...")]` fills it in when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm_category: Option<HarmCategory>,
    /// The attack strategy, e.g. `xpia`, `crescendo`, `probe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    /// Where attack payloads were planted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub injections: Vec<Injection>,
    /// Anything else worth keeping: model id, seed, temperature, evaluator version.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: JsonMap,
}

impl SafetyResult {
    /// A result with the three required fields.
    pub fn new(
        status: SafetyStatus,
        summary: impl Into<String>,
        observability_level: ObservabilityLevel,
    ) -> SafetyResult {
        SafetyResult {
            status,
            summary: summary.into(),
            observability_level,
            turns: Vec::new(),
            duration_seconds: None,
            harm_category: None,
            strategy: None,
            injections: Vec::new(),
            metadata: Map::new(),
        }
    }

    /// A SAFE result.
    pub fn safe(summary: impl Into<String>, observability_level: ObservabilityLevel) -> Self {
        SafetyResult::new(SafetyStatus::Safe, summary, observability_level)
    }

    /// An UNSAFE result: a finding.
    pub fn unsafe_result(summary: impl Into<String>, observability_level: ObservabilityLevel) -> Self {
        SafetyResult::new(SafetyStatus::Unsafe, summary, observability_level)
    }

    /// An UNDETERMINED result.
    pub fn undetermined(summary: impl Into<String>, observability_level: ObservabilityLevel) -> Self {
        SafetyResult::new(SafetyStatus::Undetermined, summary, observability_level)
    }

    /// An ERROR result: the infrastructure failed, nothing was assessed.
    pub fn error(summary: impl Into<String>, observability_level: ObservabilityLevel) -> Self {
        SafetyResult::new(SafetyStatus::Error, summary, observability_level)
    }

    /// A result whose status is resolved from the evaluator outcomes of its turns.
    ///
    /// Uses every turn's `eval_result`; with no evaluated turn the status is ERROR.
    pub fn from_turns(
        polarity: Polarity,
        summary: impl Into<String>,
        observability_level: ObservabilityLevel,
        turns: Vec<Turn>,
    ) -> Self {
        let status = polarity.verdict(turns.iter().filter_map(|t| t.eval_result.as_ref()).map(|e| e.outcome));
        let mut result = SafetyResult::new(status, summary, observability_level);
        result.turns = turns;
        result
    }

    /// Whether the status is SAFE. Holds exactly when `status == SafetyStatus::Safe`.
    pub fn is_safe(&self) -> bool {
        self.status == SafetyStatus::Safe
    }

    /// The evaluator results of the turns that have one, in turn order.
    pub fn turn_evaluations(&self) -> impl Iterator<Item = &EvalResult> {
        self.turns.iter().filter_map(|t| t.eval_result.as_ref())
    }

    /// Replaces the summary (handy when it depends on a status resolved by [`SafetyResult::from_turns`]).
    pub fn with_summary(mut self, summary: impl Into<String>) -> Self {
        self.summary = summary.into();
        self
    }

    /// Sets the harm category.
    pub fn with_harm(mut self, category: impl Into<HarmCategory>) -> Self {
        self.harm_category = Some(category.into());
        self
    }

    /// Sets the attack strategy.
    pub fn with_strategy(mut self, strategy: impl Into<String>) -> Self {
        self.strategy = Some(strategy.into());
        self
    }

    /// Appends a turn, numbering it after the previous ones when it has no number.
    pub fn with_turn(mut self, mut turn: Turn) -> Self {
        if turn.turn_number == 0 {
            turn.turn_number = u32::try_from(self.turns.len()).unwrap_or(u32::MAX);
        }
        self.turns.push(turn);
        self
    }

    /// Sets the measured duration.
    pub fn with_duration(mut self, duration: std::time::Duration) -> Self {
        self.duration_seconds = Some(duration.as_secs_f64());
        self
    }

    /// Appends an injection record.
    pub fn with_injection(mut self, injection: Injection) -> Self {
        self.injections.push(injection);
        self
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// One exchange with the agent: what was sent, what came back, and how it was judged.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Turn {
    /// What the test sent.
    pub request: Request,
    /// What the agent did.
    pub response: Response,
    /// The evaluator's verdict on this turn, if one ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_result: Option<EvalResult>,
    /// 0-based position in the conversation.
    #[serde(default, skip_serializing_if = "is_default")]
    pub turn_number: u32,
    /// When the turn happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
    /// Why a multi-turn driver chose this request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_reasoning: Option<String>,
}

impl Turn {
    /// A turn from a request and a response.
    pub fn new(request: Request, response: Response) -> Turn {
        Turn { request, response, eval_result: None, turn_number: 0, timestamp: None, driver_reasoning: None }
    }

    /// A plain prompt → text exchange.
    pub fn exchange(prompt: impl Into<String>, response_text: impl Into<String>) -> Turn {
        Turn::new(Request::prompt(prompt), Response::text(response_text))
    }

    /// Sets the evaluator result.
    pub fn with_eval(mut self, eval: EvalResult) -> Self {
        self.eval_result = Some(eval);
        self
    }

    /// Sets the turn number.
    pub fn with_number(mut self, turn_number: u32) -> Self {
        self.turn_number = turn_number;
        self
    }

    /// Sets the timestamp.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }

    /// Sets the driver's reasoning.
    pub fn with_driver_reasoning(mut self, reasoning: impl Into<String>) -> Self {
        self.driver_reasoning = Some(reasoning.into());
        self
    }
}

/// What the test sent to the agent: a prompt, attachments, or both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Request {
    /// The user prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// Documents or other payloads handed to the agent (the usual carrier of indirect
    /// prompt injection).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<Attachment>,
}

impl Request {
    /// A request with a prompt only.
    pub fn prompt(prompt: impl Into<String>) -> Request {
        Request { prompt: Some(prompt.into()), attachments: Vec::new() }
    }

    /// Appends an attachment.
    pub fn with_attachment(mut self, attachment: Attachment) -> Self {
        self.attachments.push(attachment);
        self
    }
}

/// A payload handed to the agent with a request.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Attachment {
    /// Identifies the payload across results (e.g. the attack payload's id).
    pub id: String,
    /// The payload as text.
    pub content: String,
    /// The payload's format: `text`, `html`, `markdown`, or another name.
    #[serde(default = "Attachment::default_format")]
    pub format: String,
    /// Anything else about the payload (file name, source).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: JsonMap,
}

impl Attachment {
    fn default_format() -> String {
        "text".to_owned()
    }

    /// A text attachment.
    pub fn text(id: impl Into<String>, content: impl Into<String>) -> Attachment {
        Attachment::new(id, content, "text")
    }

    /// An attachment of the given format.
    pub fn new(id: impl Into<String>, content: impl Into<String>, format: impl Into<String>) -> Attachment {
        Attachment { id: id.into(), content: content.into(), format: format.into(), metadata: Map::new() }
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// What the agent did in reply.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Response {
    /// The response text. Agent output is hostile: reports render it as text only.
    #[serde(default)]
    pub text: String,
    /// Tool calls the agent made.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Observed effects of those calls.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub side_effects: Vec<SideEffect>,
    /// Anything else (model id, token counts, finish reason).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub metadata: JsonMap,
}

impl Response {
    /// A text-only response.
    pub fn text(text: impl Into<String>) -> Response {
        Response { text: text.into(), ..Response::default() }
    }

    /// Appends a tool call.
    pub fn with_tool_call(mut self, call: ToolCall) -> Self {
        self.tool_calls.push(call);
        self
    }

    /// Appends a side effect.
    pub fn with_side_effect(mut self, effect: SideEffect) -> Self {
        self.side_effects.push(effect);
        self
    }

    /// Adds one metadata entry.
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }
}

/// One tool call made by the agent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ToolCall {
    /// The tool's name, e.g. `send_email`.
    pub name: String,
    /// The arguments, as the agent passed them.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub arguments: JsonMap,
    /// What the tool returned, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    /// When the call was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<Timestamp>,
}

impl ToolCall {
    /// A call with no arguments.
    pub fn new(name: impl Into<String>) -> ToolCall {
        ToolCall { name: name.into(), arguments: Map::new(), result: None, timestamp: None }
    }

    /// Adds one argument.
    pub fn with_argument(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.arguments.insert(key.into(), value.into());
        self
    }

    /// Sets the tool's result.
    pub fn with_result(mut self, result: impl Into<String>) -> Self {
        self.result = Some(result.into());
        self
    }

    /// Sets the timestamp.
    pub fn with_timestamp(mut self, timestamp: Timestamp) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// An observed effect of the agent's actions on the world.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SideEffect {
    /// What kind of effect, e.g. `http_request`, `file_write`, `email_sent`.
    pub kind: String,
    /// Its details.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub details: JsonMap,
}

impl SideEffect {
    /// An effect with no details.
    pub fn new(kind: impl Into<String>) -> SideEffect {
        SideEffect { kind: kind.into(), details: Map::new() }
    }

    /// Adds one detail.
    pub fn with_detail(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.details.insert(key.into(), value.into());
        self
    }
}

/// One evaluator's judgment of a turn.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct EvalResult {
    /// What the evaluator found.
    pub outcome: EvalOutcome,
    /// How sure it is, in [0, 1].
    // A non-finite confidence is written as `null` (JSON has no NaN) and read back as NaN.
    #[serde(
        default = "default_confidence",
        skip_serializing_if = "is_full_confidence",
        deserialize_with = "f64_or_nan"
    )]
    #[cfg_attr(feature = "schema", schemars(with = "Option<f64>"))]
    pub confidence: f64,
    /// Quotes or facts that back the outcome.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<String>,
    /// Why the evaluator decided so.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rationale: String,
    /// The evaluator's name and version, e.g. `secret-canary@1`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluator: Option<String>,
    /// One reason per sub-evaluation that could not be observed (a "qualified pass" keeps
    /// them even when the outcome is decided).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub undetermined_operands: Vec<String>,
}

impl EvalResult {
    /// An evaluator result with full confidence.
    pub fn new(outcome: EvalOutcome) -> EvalResult {
        EvalResult {
            outcome,
            confidence: 1.0,
            evidence: Vec::new(),
            rationale: String::new(),
            evaluator: None,
            undetermined_operands: Vec::new(),
        }
    }

    /// Sets the confidence.
    pub fn with_confidence(mut self, confidence: f64) -> Self {
        self.confidence = confidence;
        self
    }

    /// Appends a piece of evidence.
    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence.push(evidence.into());
        self
    }

    /// Sets the rationale.
    pub fn with_rationale(mut self, rationale: impl Into<String>) -> Self {
        self.rationale = rationale.into();
        self
    }

    /// Sets the evaluator's name.
    pub fn with_evaluator(mut self, evaluator: impl Into<String>) -> Self {
        self.evaluator = Some(evaluator.into());
        self
    }

    /// Appends an undetermined operand.
    pub fn with_undetermined_operand(mut self, reason: impl Into<String>) -> Self {
        self.undetermined_operands.push(reason.into());
        self
    }
}

/// Where an attack payload was planted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Injection {
    /// The payload's id, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_id: Option<String>,
    /// The surface that carried it, e.g. `SharePoint`, `email inbox`.
    pub surface_name: String,
}

impl Injection {
    /// An injection on a surface.
    pub fn new(surface_name: impl Into<String>) -> Injection {
        Injection { payload_id: None, surface_name: surface_name.into() }
    }

    /// Sets the payload id.
    pub fn with_payload_id(mut self, payload_id: impl Into<String>) -> Self {
        self.payload_id = Some(payload_id.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polarity_tables() {
        use EvalOutcome::*;
        use SafetyStatus as S;
        let cases: &[(&[EvalOutcome], S, S)] = &[
            (&[], S::Error, S::Error),
            (&[Detected], S::Unsafe, S::Safe),
            (&[NotDetected], S::Safe, S::Unsafe),
            (&[Undetermined], S::Undetermined, S::Undetermined),
            (&[Undetermined, Detected], S::Unsafe, S::Undetermined),
            (&[Undetermined, NotDetected], S::Undetermined, S::Unsafe),
            (&[NotDetected, NotDetected], S::Safe, S::Unsafe),
            (&[Detected, Detected], S::Unsafe, S::Safe),
        ];
        for (outcomes, attack, probe) in cases {
            assert_eq!(attack_verdict(outcomes.iter().copied()), *attack, "attack {outcomes:?}");
            assert_eq!(probe_verdict(outcomes.iter().copied()), *probe, "probe {outcomes:?}");
        }
    }

    #[test]
    fn is_safe_iff_status_safe() {
        for status in
            [SafetyStatus::Safe, SafetyStatus::Unsafe, SafetyStatus::Undetermined, SafetyStatus::Error]
        {
            let r = SafetyResult::new(status, "x", ObservabilityLevel::ResponseOnly);
            assert_eq!(r.is_safe(), status == SafetyStatus::Safe);
        }
    }

    #[test]
    fn wire_names() {
        let r = SafetyResult::unsafe_result("leak", ObservabilityLevel::ToolAndSideEffects)
            .with_harm("custom_product_risk")
            .with_turn(Turn::exchange("hi", "hello").with_eval(EvalResult::new(EvalOutcome::NotDetected)));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["status"], "unsafe");
        assert_eq!(json["observability_level"], "tool_and_side_effects");
        assert_eq!(json["harm_category"], "custom_product_risk");
        assert_eq!(json["turns"][0]["eval_result"]["outcome"], "not_detected");
        assert!(json.get("strategy").is_none(), "empty optional fields are omitted");
        let back: SafetyResult = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn unknown_status_fails_closed_and_unknown_fields_are_tolerated() {
        let bad = r#"{"status":"mostly_safe","summary":"x","observability_level":"tool_only"}"#;
        assert!(serde_json::from_str::<SafetyResult>(bad).is_err());
        let extra = r#"{"status":"safe","summary":"x","observability_level":"tool_only","future":1}"#;
        assert!(serde_json::from_str::<SafetyResult>(extra).unwrap().is_safe());
    }

    #[test]
    fn from_turns_uses_evaluations() {
        let r = SafetyResult::from_turns(
            Polarity::Attack,
            "s",
            ObservabilityLevel::ToolOnly,
            vec![Turn::exchange("a", "b").with_eval(EvalResult::new(EvalOutcome::Detected))],
        );
        assert_eq!(r.status, SafetyStatus::Unsafe);
        let none = SafetyResult::from_turns(
            Polarity::Attack,
            "s",
            ObservabilityLevel::ToolOnly,
            vec![Turn::exchange("a", "b")],
        );
        assert_eq!(none.status, SafetyStatus::Error);
    }
}
