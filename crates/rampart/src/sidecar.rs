//! The sidecar format: one file per test attempt, written by the recorder, read by the report.
//!
//! This module owns both the writer's types and the reader, so the two cannot disagree.
//!
//! # Format (`rampart.sidecar.v1`)
//!
//! A sidecar is [JSON Lines](https://jsonlines.org): UTF-8, one JSON object per line, each
//! line ending in `\n`. Every line has a `kind`:
//!
//! 1. **`header`**, always the first line, written when the file is created:
//!    - `schema`: `"rampart.sidecar.v1"`. Readers refuse a file whose major version they do
//!      not know.
//!    - `identity` ([`AttemptIdentity`]): which run, binary, test, stress iteration and
//!      attempt this file belongs to, taken from nextest's environment (or libtest's thread
//!      name under plain `cargo test`).
//!    - `spec` ([`TestSpec`], present only for `#[rampart::test]` tests): the declared base
//!      name, harm category, threshold, and trial index and count.
//!    - `writer` ([`WriterInfo`]): rampart version and process id.
//!    - `started_at`: when the file was created.
//! 2. **`result`**, one per [`record_result`](crate::record_result) call, in call order:
//!    `index` (0-based, consecutive), `recorded_at`, and `result` ([`SafetyResult`]).
//! 3. **`end`**, written by `#[rampart::test]` when the test body returns or panics:
//!    `outcome` (`returned` | `panicked`), `n_results`, `ended_at`, `duration_seconds`, and
//!    `panic_message` when it panicked, and `redactions` (rule name → count, see
//!    [`crate::redact`]) when the recorder redacted anything. A file whose header has a
//!    `spec` but no end line belongs to a process that was killed (abort, signal, timeout) or
//!    ran out of disk.
//!
//! Each line is written with a single `write_all` on a file opened in append mode, so a
//! process killed mid-test leaves every earlier line intact and at most one torn last line,
//! which the reader reports as [`LineProblemKind::TornTail`].
//!
//! # Version policy
//!
//! Adding an optional field keeps the version. Removing, renaming or narrowing a field, or
//! changing a field's meaning, bumps the major (`rampart.sidecar.v2`). Readers ignore fields
//! they do not know and refuse majors they do not know. Closed enums (statuses, outcomes)
//! fail closed on unknown values; the harm category is an open string.

use std::borrow::Cow;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

mod probe;

use crate::model::{HarmCategory, SafetyResult};
use crate::redact::RedactionCounts;
use crate::time::Timestamp;

/// The schema string this crate writes.
pub const SCHEMA: &str = "rampart.sidecar.v1";
/// The prefix every sidecar schema string shares; the major version follows it.
pub const SCHEMA_PREFIX: &str = "rampart.sidecar.v";
/// The schema major version this crate reads and writes.
pub const SCHEMA_MAJOR: u32 = 1;
/// The file extension of sidecar files (without the dot).
pub const FILE_EXTENSION: &str = "jsonl";

/// One line of a sidecar file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SidecarLine<'a> {
    /// The first line: identity and declared spec.
    Header(Header),
    /// One recorded result.
    Result(ResultLine<'a>),
    /// The test body returned or panicked.
    End(EndLine),
}

/// The header line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct Header {
    /// Always [`SCHEMA`] when written by this version.
    pub schema: String,
    /// Which test attempt wrote this file.
    pub identity: AttemptIdentity,
    /// What `#[rampart::test]` declared; absent for a plain test that calls `record_result`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<TestSpec>,
    /// Who wrote the file.
    pub writer: WriterInfo,
    /// When the file was created.
    pub started_at: Timestamp,
}

impl Header {
    /// A header of the current schema ([`SCHEMA`]).
    pub fn new(
        identity: AttemptIdentity,
        spec: Option<TestSpec>,
        writer: WriterInfo,
        started_at: Timestamp,
    ) -> Header {
        Header { schema: SCHEMA.to_owned(), identity, spec, writer, started_at }
    }
}

/// The test runner that ran the attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Harness {
    /// cargo-nextest: one process per test attempt.
    Nextest,
    /// libtest under plain `cargo test`: many tests per process, one thread each.
    CargoTest,
}

/// Identifies one test attempt: (run id, binary id, test name, stress index, attempt).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct AttemptIdentity {
    /// Which runner ran the test.
    pub harness: Harness,
    /// nextest's `NEXTEST_RUN_ID` (equal to the JUnit `uuid`), or `cargo-test-<time>-<pid>`.
    pub run_id: String,
    /// nextest's binary id, e.g. `demo::agent`; absent under `cargo test` and nextest < 0.9.116.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// The libtest test name, e.g. `injection::summarise_document::trial_03`.
    pub test_name: String,
    /// 1-based attempt number (retries).
    pub attempt: u32,
    /// Attempts allowed for this test (retries + 1).
    pub total_attempts: u32,
    /// 0-based stress iteration, under `--stress-count`/`--stress-duration`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress_index: Option<u32>,
    /// Total stress iterations, when known (absent for duration-based stress runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stress_total: Option<u32>,
    /// nextest profile, e.g. `ci`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// nextest version, when nextest says (0.9.130+).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nextest_version: Option<String>,
    /// nextest's `NEXTEST_ATTEMPT_ID`, verbatim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attempt_id: Option<String>,
}

impl AttemptIdentity {
    /// Attempt 1 of 1 of a test, with no binary id, stress iteration or nextest details.
    pub fn new(harness: Harness, run_id: impl Into<String>, test_name: impl Into<String>) -> AttemptIdentity {
        AttemptIdentity {
            harness,
            run_id: run_id.into(),
            binary_id: None,
            test_name: test_name.into(),
            attempt: 1,
            total_attempts: 1,
            stress_index: None,
            stress_total: None,
            profile: None,
            nextest_version: None,
            attempt_id: None,
        }
    }

    /// Sets the binary id.
    pub fn with_binary_id(mut self, binary_id: impl Into<String>) -> Self {
        self.binary_id = Some(binary_id.into());
        self
    }

    /// Sets the attempt (1-based) and the number of attempts allowed.
    pub fn with_attempt(mut self, attempt: u32, total_attempts: u32) -> Self {
        self.attempt = attempt;
        self.total_attempts = total_attempts;
        self
    }

    /// Sets the stress iteration (0-based) and, when known, the number of iterations.
    pub fn with_stress(mut self, stress_index: u32, stress_total: Option<u32>) -> Self {
        self.stress_index = Some(stress_index);
        self.stress_total = stress_total;
        self
    }

    /// Sets the nextest profile.
    pub fn with_profile(mut self, profile: impl Into<String>) -> Self {
        self.profile = Some(profile.into());
        self
    }

    /// Sets the nextest version.
    pub fn with_nextest_version(mut self, version: impl Into<String>) -> Self {
        self.nextest_version = Some(version.into());
        self
    }

    /// Sets nextest's attempt id.
    pub fn with_attempt_id(mut self, attempt_id: impl Into<String>) -> Self {
        self.attempt_id = Some(attempt_id.into());
        self
    }
}

/// Where a test is defined: the `file!()`, `line!()` and `column!()` of its function's name.
/// The file is as rustc names it: relative to the workspace root for a workspace member.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct SourceLocation {
    /// The source file.
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column.
    pub column: u32,
}

impl SourceLocation {
    /// A location.
    pub fn new(file: impl Into<String>, line: u32, column: u32) -> SourceLocation {
        SourceLocation { file: file.into(), line, column }
    }
}

/// What `#[rampart::test]` declared about the test.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TestSpec {
    /// The test name without the trial suffix: trial clones share it and form a group.
    pub base_name: String,
    /// Harm category applied to results that carry none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm: Option<HarmCategory>,
    /// Minimum pass rate (SAFE / total) for the trial group, in [0, 1].
    pub threshold: f64,
    /// Present when the test is one clone of `trials = N`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trial: Option<TrialSpec>,
    /// Where the test function is defined (written since rampart 0.1.0's source locations;
    /// absent in older sidecars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
}

impl TestSpec {
    /// The spec of a test that is not a trial clone and sets no harm category.
    pub fn new(base_name: impl Into<String>, threshold: f64) -> TestSpec {
        TestSpec { base_name: base_name.into(), harm: None, threshold, trial: None, location: None }
    }

    /// Sets where the test is defined.
    pub fn with_location(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }

    /// Sets the harm category.
    pub fn with_harm(mut self, harm: impl Into<HarmCategory>) -> Self {
        self.harm = Some(harm.into());
        self
    }

    /// Makes it one trial clone.
    pub fn with_trial(mut self, trial: TrialSpec) -> Self {
        self.trial = Some(trial);
        self
    }
}

/// One clone of a `trials = N` test.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct TrialSpec {
    /// 0-based trial index.
    pub index: u32,
    /// Number of trials declared (N).
    pub count: u32,
}

impl TrialSpec {
    /// A trial spec.
    pub fn new(index: u32, count: u32) -> TrialSpec {
        TrialSpec { index, count }
    }
}

/// Who wrote a sidecar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct WriterInfo {
    /// Version of the `rampart` crate.
    pub rampart_version: String,
    /// Process id of the test process.
    pub pid: u32,
}

impl WriterInfo {
    /// Writer details.
    pub fn new(rampart_version: impl Into<String>, pid: u32) -> WriterInfo {
        WriterInfo { rampart_version: rampart_version.into(), pid }
    }
}

/// One recorded result.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct ResultLine<'a> {
    /// 0-based position among this attempt's results.
    pub index: u32,
    /// When `record_result` was called.
    pub recorded_at: Timestamp,
    /// Where `record_result` (or `assert_safe!`) was called, through `#[track_caller]`: the
    /// line of the finding (written since rampart 0.1.0's source locations; absent in older
    /// sidecars).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<SourceLocation>,
    /// The result.
    pub result: Cow<'a, SafetyResult>,
}

impl<'a> ResultLine<'a> {
    /// A result line.
    pub fn new(index: u32, recorded_at: Timestamp, result: Cow<'a, SafetyResult>) -> ResultLine<'a> {
        ResultLine { index, recorded_at, location: None, result }
    }

    /// With the place that recorded it.
    pub fn with_location(mut self, location: SourceLocation) -> Self {
        self.location = Some(location);
        self
    }
}

/// How the test body ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum EndOutcome {
    /// The body returned (a returned `Err` still fails the test; JUnit says so).
    Returned,
    /// The body panicked.
    Panicked,
}

impl EndOutcome {
    /// The wire name (`returned`, `panicked`).
    pub fn as_str(self) -> &'static str {
        match self {
            EndOutcome::Returned => "returned",
            EndOutcome::Panicked => "panicked",
        }
    }
}

/// The end line.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub struct EndLine {
    /// Returned or panicked.
    pub outcome: EndOutcome,
    /// How many result lines the writer wrote (or tried to write).
    pub n_results: u32,
    /// When the body ended.
    pub ended_at: Timestamp,
    /// Wall time of the body.
    pub duration_seconds: f64,
    /// The panic message, when it panicked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panic_message: Option<String>,
    /// Redactions the recorder made in this attempt's results, per rule (see
    /// [`crate::redact`]); absent when none (and from writers that predate it).
    #[serde(default, skip_serializing_if = "RedactionCounts::is_empty")]
    pub redactions: RedactionCounts,
}

impl EndLine {
    /// An end line without a panic message.
    pub fn new(outcome: EndOutcome, n_results: u32, ended_at: Timestamp, duration_seconds: f64) -> EndLine {
        EndLine {
            outcome,
            n_results,
            ended_at,
            duration_seconds,
            panic_message: None,
            redactions: RedactionCounts::new(),
        }
    }

    /// Sets the redaction counts.
    pub fn with_redactions(mut self, redactions: RedactionCounts) -> Self {
        self.redactions = redactions;
        self
    }

    /// Sets the panic message.
    pub fn with_panic_message(mut self, message: impl Into<String>) -> Self {
        self.panic_message = Some(message.into());
        self
    }
}

/// A sidecar as read back: everything readable, plus what was not.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Sidecar {
    /// The header line.
    pub header: Header,
    /// Every result line that parsed, in file order.
    pub results: Vec<RecordedResult>,
    /// The end line, when present.
    pub end: Option<EndLine>,
    /// Lines that could not be used, and inconsistencies between lines.
    pub problems: Vec<LineProblem>,
    /// Lines that held invalid UTF-8, read with U+FFFD replacements.
    pub n_lossy_lines: usize,
    /// Size of the file in bytes.
    pub n_bytes: u64,
    /// Numbers too large for an `f64` (`1e999`, a 400-digit integer) read as `null`.
    pub n_out_of_range_numbers: usize,
}

impl Sidecar {
    /// Whether the test declared itself with `#[rampart::test]` (and so must have an end line).
    pub fn is_declared(&self) -> bool {
        self.header.spec.is_some()
    }

    /// Whether the file stops before its end line although the test declared one.
    pub fn is_missing_end(&self) -> bool {
        self.is_declared() && self.end.is_none()
    }
}

/// A result line as read back.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct RecordedResult {
    /// 1-based line number in the file.
    pub line: usize,
    /// The writer's index.
    pub index: u32,
    /// When it was recorded.
    pub recorded_at: Timestamp,
    /// Where it was recorded (see [`ResultLine::location`]).
    pub location: Option<SourceLocation>,
    /// The result.
    pub result: SafetyResult,
}

/// A line that could not be used, or an inconsistency.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LineProblem {
    /// 1-based line number.
    pub line: usize,
    /// Byte offset of the line's start in the file.
    pub byte_offset: usize,
    /// Length of the line in bytes (without the newline).
    pub n_bytes: usize,
    /// What is wrong.
    pub kind: LineProblemKind,
}

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LineProblemKind {
    /// The last line has no newline and does not parse: the writer was killed mid-write, or
    /// the disk filled up.
    TornTail,
    /// The line is not valid JSON for its kind.
    Malformed {
        /// serde_json's message.
        message: String,
        /// 1-based column within the line, when serde_json knows it.
        column: Option<usize>,
    },
    /// The line's `kind` is not one this reader knows (written by a newer minor version).
    UnknownKind {
        /// The kind found.
        kind: String,
    },
    /// A second header line.
    DuplicateHeader,
    /// A line after the end line (the file was appended to after the test ended); a result
    /// there is still read.
    AfterEnd,
    /// A result index out of sequence: results between are missing.
    IndexGap {
        /// The index expected next.
        expected: u32,
        /// The index found.
        found: u32,
    },
    /// The line is longer than [`ParseOptions::max_line_bytes`]: it was not parsed. A result
    /// line is replaced by an ERROR marker result (see [`parse_with`]).
    Oversized {
        /// The cap, in bytes.
        limit: usize,
    },
    /// The end line counts more results than the file holds.
    CountMismatch {
        /// `n_results` of the end line.
        declared: u32,
        /// Result lines read.
        found: u32,
    },
}

impl fmt::Display for LineProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LineProblemKind::TornTail => f.write_str(
                "last line is cut short (the process was killed while writing, or the disk filled up)",
            ),
            LineProblemKind::Malformed { message, .. } => {
                write!(f, "line is not a valid sidecar record: {message}")
            }
            LineProblemKind::UnknownKind { kind } => {
                write!(f, "unknown line kind `{kind}` (written by a newer rampart?)")
            }
            LineProblemKind::DuplicateHeader => f.write_str("second header line"),
            LineProblemKind::AfterEnd => {
                f.write_str("line after the end line: the file was appended to after the test ended (a result there still counts)")
            }
            LineProblemKind::IndexGap { expected, found } => {
                if *found > *expected {
                    let missing = if found - expected == 1 {
                        format!("result {expected} is missing")
                    } else {
                        format!("results {expected} to {} are missing", found - 1)
                    };
                    write!(f, "result index {found} where {expected} was expected: {missing}")
                } else {
                    write!(f, "result index {found} where {expected} was expected: an index repeats or goes back")
                }
            }
            LineProblemKind::Oversized { limit } => {
                write!(f, "line is larger than the {} cap and was not read", format_bytes(*limit as u64))
            }
            LineProblemKind::CountMismatch { declared, found } => {
                write!(f, "end line counts {declared} results but the file holds {found}")
            }
        }
    }
}

/// Why a sidecar could not be read at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SidecarError {
    /// The file could not be read.
    #[error("failed to read sidecar {path}")]
    Io {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The file is empty: the process was killed before it wrote the header.
    #[error("sidecar is empty (the test process was killed before it wrote the header)")]
    Empty,
    /// The first line is not a readable header.
    #[error("first line is not a sidecar header: {reason}")]
    BadHeader {
        /// What is wrong.
        reason: String,
        /// 1-based column, when known.
        column: Option<usize>,
        /// Length of the first line in bytes.
        n_bytes: usize,
    },
    /// The header names a schema this reader does not support.
    #[error("unsupported sidecar schema `{found}` (this rampart reads {SCHEMA})")]
    UnsupportedSchema {
        /// The schema string found (empty when missing).
        found: String,
    },
}

#[derive(Deserialize)]
struct SchemaProbe {
    kind: Option<String>,
    schema: Option<String>,
}

#[derive(Deserialize)]
struct KindProbe {
    kind: Option<String>,
}

/// Whether `schema` is a sidecar schema string of a major version this crate reads.
pub fn is_supported_schema(schema: &str) -> bool {
    schema
        .strip_prefix(SCHEMA_PREFIX)
        .and_then(|major| major.parse::<u32>().ok())
        .is_some_and(|major| major == SCHEMA_MAJOR)
}

/// Reads and parses a sidecar file. See [`parse`].
pub fn read(path: &Path) -> Result<Sidecar, SidecarError> {
    let bytes = std::fs::read(path)
        .map_err(|source| SidecarError::Io { path: path.display().to_string(), source })?;
    parse(&bytes)
}

/// Parses sidecar bytes, with no line-size cap. See [`parse_with`].
///
/// Only a missing or unreadable header, or an unsupported schema, is fatal: every other
/// problem is recorded in [`Sidecar::problems`] and reading goes on, so everything readable
/// is kept.
pub fn parse(bytes: &[u8]) -> Result<Sidecar, SidecarError> {
    parse_with(bytes, &ParseOptions::default())
}

/// Options of [`parse_with`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ParseOptions {
    /// Lines longer than this many bytes (newline excluded) are not parsed into a
    /// [`SafetyResult`]. `None`: no cap.
    pub max_line_bytes: Option<usize>,
}

impl ParseOptions {
    /// No caps (what [`parse`] uses).
    pub fn new() -> ParseOptions {
        ParseOptions::default()
    }

    /// Sets the per-line cap in bytes.
    pub fn with_max_line_bytes(mut self, max_line_bytes: usize) -> Self {
        self.max_line_bytes = Some(max_line_bytes);
        self
    }
}

/// Parses sidecar bytes like [`parse`], with caps.
///
/// A line longer than [`ParseOptions::max_line_bytes`] is never deserialized into a
/// [`SafetyResult`]: it gets a [`LineProblemKind::Oversized`] problem and, when it is a result
/// line, a marker result in its place. A result line that does not parse (nested deeper than
/// the parser's recursion limit, malformed after its status) gets its problem and a marker
/// too, when its status can be read; a torn last line gets one when it got as far as an UNSAFE
/// status. A marker keeps what a non-recursive probe of the line finds: the status (an UNSAFE
/// result stays UNSAFE; ERROR when none can be read), summary, harm category, strategy, index
/// and recording time; its evidence is gone, and its metadata says why (`rampart_truncated`,
/// `rampart_original_size_bytes`, `rampart_limit_bytes` for an oversized line,
/// `rampart_unreadable` otherwise; `rampart_status_read` when the status was read). So no
/// line can hide a finding. An oversized header is a [`SidecarError::BadHeader`].
pub fn parse_with(bytes: &[u8], options: &ParseOptions) -> Result<Sidecar, SidecarError> {
    if bytes.is_empty() {
        return Err(SidecarError::Empty);
    }
    let mut lines = split_lines(bytes);
    let first = lines.next().expect("non-empty input has a first line");
    if let Some(limit) = options.max_line_bytes.filter(|&limit| first.bytes.len() > limit) {
        return Err(SidecarError::BadHeader {
            reason: format!(
                "the header line is {}, over the {} line cap",
                format_bytes(first.bytes.len() as u64),
                format_bytes(limit as u64)
            ),
            column: None,
            n_bytes: first.bytes.len(),
        });
    }
    let mut n_lossy_lines = 0;
    let first_text = utf8_or_lossy(first.bytes, &mut n_lossy_lines);
    let probe: SchemaProbe = serde_json::from_str(&first_text).map_err(|e| SidecarError::BadHeader {
        reason: if first.terminated { e.to_string() } else { "the header line is cut short".to_owned() },
        column: known_column(e.column()),
        n_bytes: first.bytes.len(),
    })?;
    if probe.kind.as_deref() != Some("header") {
        return Err(SidecarError::BadHeader {
            reason: format!("expected `\"kind\":\"header\"`, found {:?}", probe.kind.unwrap_or_default()),
            column: None,
            n_bytes: first.bytes.len(),
        });
    }
    let schema = probe.schema.unwrap_or_default();
    if !is_supported_schema(&schema) {
        return Err(SidecarError::UnsupportedSchema { found: schema });
    }
    let header = match serde_json::from_str::<SidecarLine<'static>>(&first_text) {
        Ok(SidecarLine::Header(header)) => header,
        Ok(_) => unreachable!("kind was checked to be header"),
        Err(e) => {
            return Err(SidecarError::BadHeader {
                reason: e.to_string(),
                column: known_column(e.column()),
                n_bytes: first.bytes.len(),
            });
        }
    };

    let mut sidecar = Sidecar {
        header,
        results: Vec::new(),
        end: None,
        problems: Vec::new(),
        n_lossy_lines: 0,
        n_bytes: bytes.len() as u64,
        n_out_of_range_numbers: 0,
    };
    let mut next_index: u32 = 0;
    for line in lines {
        let problem = |kind| LineProblem {
            line: line.number,
            byte_offset: line.offset,
            n_bytes: line.bytes.len(),
            kind,
        };
        if line.bytes.iter().all(u8::is_ascii_whitespace) {
            if !line.terminated {
                continue;
            }
            sidecar
                .problems
                .push(problem(LineProblemKind::Malformed { message: "blank line".to_owned(), column: None }));
            continue;
        }
        if let Some(limit) = options.max_line_bytes.filter(|&limit| line.bytes.len() > limit) {
            sidecar.problems.push(problem(LineProblemKind::Oversized { limit }));
            let why = format!(
                "result of {} exceeded the {} cap",
                format_bytes(line.bytes.len() as u64),
                format_bytes(limit as u64)
            );
            if let Some(mut marker) = marker_result(line.bytes, &why, true, &sidecar.header, next_index) {
                marker
                    .result
                    .metadata
                    .insert("rampart_original_size_bytes".into(), (line.bytes.len() as u64).into());
                marker.result.metadata.insert("rampart_limit_bytes".into(), (limit as u64).into());
                next_index = marker.index.saturating_add(1);
                sidecar.results.push(RecordedResult { line: line.number, ..marker });
            }
            continue;
        }
        let text = utf8_or_lossy(line.bytes, &mut n_lossy_lines);
        let mut parsed = parse_line(&text);
        if let Err(e) = &parsed
            && line.terminated
            && e.to_string().starts_with("number out of range")
            && let Some((rewritten, n_numbers)) = null_out_of_range_numbers(&text)
            && let Ok(line) = parse_line(&rewritten)
        {
            sidecar.n_out_of_range_numbers += n_numbers;
            parsed = Ok(line);
        }
        match parsed {
            // A line after the end line: the writer never writes one, so the file was tampered
            // with (an agent can append to its own sidecar). A result there is still a result: a
            // finding is never hidden behind an injected end line.
            Ok(SidecarLine::Result(result)) if sidecar.end.is_some() => {
                sidecar.problems.push(problem(LineProblemKind::AfterEnd));
                next_index = result.index.saturating_add(1);
                sidecar.results.push(RecordedResult {
                    line: line.number,
                    index: result.index,
                    recorded_at: result.recorded_at,
                    location: result.location,
                    result: result.result.into_owned(),
                });
            }
            Ok(_) if sidecar.end.is_some() => sidecar.problems.push(problem(LineProblemKind::AfterEnd)),
            Ok(SidecarLine::Header(_)) => sidecar.problems.push(problem(LineProblemKind::DuplicateHeader)),
            Ok(SidecarLine::Result(result)) => {
                if result.index != next_index {
                    sidecar.problems.push(problem(LineProblemKind::IndexGap {
                        expected: next_index,
                        found: result.index,
                    }));
                }
                next_index = result.index.saturating_add(1);
                sidecar.results.push(RecordedResult {
                    line: line.number,
                    index: result.index,
                    recorded_at: result.recorded_at,
                    location: result.location,
                    result: result.result.into_owned(),
                });
            }
            Ok(SidecarLine::End(end)) => {
                let found = u32::try_from(sidecar.results.len()).unwrap_or(u32::MAX);
                if end.n_results > found {
                    sidecar
                        .problems
                        .push(problem(LineProblemKind::CountMismatch { declared: end.n_results, found }));
                }
                sidecar.end = Some(end);
            }
            Err(_) if !line.terminated => {
                sidecar.problems.push(problem(LineProblemKind::TornTail));
                // A finding is never lost: a cut line that got as far as `"status":"unsafe"`
                // counts as UNSAFE.
                if let Some(marker) =
                    marker_result(line.bytes, "the line is cut short", false, &sidecar.header, next_index)
                    && marker.result.status == crate::model::SafetyStatus::Unsafe
                {
                    next_index = marker.index.saturating_add(1);
                    sidecar.results.push(RecordedResult { line: line.number, ..marker });
                }
            }
            Err(e) => {
                // A result whose status can be read is never dropped (too deep for the parser,
                // or malformed after its status): it stands with its status, without evidence.
                if let Some(marker) =
                    marker_result(line.bytes, &e.to_string(), false, &sidecar.header, next_index)
                    && marker.result.metadata.contains_key("rampart_status_read")
                {
                    next_index = marker.index.saturating_add(1);
                    sidecar.results.push(RecordedResult { line: line.number, ..marker });
                }
                let kind = match serde_json::from_str::<KindProbe>(&text) {
                    Ok(KindProbe { kind: Some(kind) })
                        if !["header", "result", "end"].contains(&kind.as_str()) =>
                    {
                        LineProblemKind::UnknownKind { kind }
                    }
                    _ => LineProblemKind::Malformed {
                        message: e.to_string(),
                        column: known_column(e.column()),
                    },
                };
                sidecar.problems.push(problem(kind));
            }
        }
    }
    sidecar.n_lossy_lines = n_lossy_lines;
    Ok(sidecar)
}

/// Longest harm category or strategy kept on a marker result.
const MAX_MARKER_LABEL_BYTES: usize = 256;

/// The result standing for a result line that cannot be read whole (too large, too deep,
/// malformed, cut short), or `None` when the line is not a result line.
///
/// The line is probed without being parsed ([`probe::probe_line`]): when its status can be
/// read, the marker keeps it (an UNSAFE result stays UNSAFE), with its summary, harm category,
/// strategy, index and recording time, and metadata `rampart_status_read: true`; otherwise it
/// is an ERROR result. Either way its evidence is gone, and `rampart_truncated: true` (an
/// oversized line) or `rampart_unreadable: <why>` says so.
fn marker_result(
    bytes: &[u8],
    why: &str,
    oversized: bool,
    header: &Header,
    next_index: u32,
) -> Option<RecordedResult> {
    use crate::model::{ObservabilityLevel, SafetyStatus};
    let probe = probe::probe_line(bytes);
    match probe.kind.as_deref() {
        Some("result") => {}
        // Only a line that starts like a result line, when the probe cannot even read `kind`.
        None if bytes.starts_with(br#"{"kind":"result""#) => {}
        _ => return None,
    }
    let label = |s: Option<String>| s.filter(|s| !s.is_empty() && s.len() <= MAX_MARKER_LABEL_BYTES);
    let level = match probe.observability_level.as_deref() {
        Some("tool_and_side_effects") => ObservabilityLevel::ToolAndSideEffects,
        Some("tool_only") => ObservabilityLevel::ToolOnly,
        _ => ObservabilityLevel::ResponseOnly,
    };
    let status = match probe.status.as_deref() {
        Some("safe") => Some(SafetyStatus::Safe),
        Some("unsafe") => Some(SafetyStatus::Unsafe),
        Some("undetermined") => Some(SafetyStatus::Undetermined),
        Some("error") => Some(SafetyStatus::Error),
        _ => None,
    };
    let mut result = match status {
        Some(status) => {
            let summary = match probe.summary {
                Some(summary) => format!("{summary} [evidence lost: {why}]"),
                None => format!("[evidence lost: {why}]"),
            };
            SafetyResult::new(status, summary, level).with_metadata("rampart_status_read", true)
        }
        None => SafetyResult::error(format!("{why}; status unreadable, content dropped"), level),
    };
    if oversized {
        result = result.with_metadata("rampart_truncated", true);
    } else {
        result = result.with_metadata("rampart_unreadable", why.chars().take(512).collect::<String>());
    }
    if let Some(harm) = label(probe.harm_category)
        .or_else(|| header.spec.as_ref().and_then(|s| s.harm.as_ref()).map(|h| h.to_string()))
    {
        result = result.with_harm(harm);
    }
    if let Some(strategy) = label(probe.strategy) {
        result = result.with_strategy(strategy);
    }
    let recorded_at = probe
        .recorded_at
        .filter(|s| s.len() <= 64)
        .and_then(|s| serde_json::from_value::<Timestamp>(serde_json::Value::String(s)).ok())
        .unwrap_or_else(|| header.started_at.clone());
    Some(RecordedResult {
        line: 0,
        index: probe.index.unwrap_or(next_index),
        recorded_at,
        location: None,
        result,
    })
}

/// `n` bytes for people: `512 B`, `16 MiB`, `18.2 MiB`, `1 GiB`.
pub fn format_bytes(n: u64) -> String {
    const UNITS: [(&str, u64); 3] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)];
    for (unit, size) in UNITS {
        if n >= size {
            return if n.is_multiple_of(size) {
                format!("{} {unit}", n / size)
            } else {
                format!("{:.1} {unit}", n as f64 / size as f64)
            };
        }
    }
    format!("{n} B")
}

/// Replaces number literals that overflow an `f64` (serde_json refuses them) with `null`;
/// `None` when there is none. Strings are skipped, so text inside them is never touched.
fn null_out_of_range_numbers(text: &str) -> Option<(String, usize)> {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let (mut i, mut copied, mut n_replaced) = (0, 0, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() {
                    match bytes[i] {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ => i += 1,
                    }
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
                if text[start..i].parse::<f64>().is_ok_and(f64::is_infinite) {
                    out.push_str(&text[copied..start]);
                    out.push_str("null");
                    copied = i;
                    n_replaced += 1;
                }
            }
            _ => i += 1,
        }
    }
    (n_replaced > 0).then(|| {
        out.push_str(&text[copied..]);
        (out, n_replaced)
    })
}

/// serde_json reports column 0 when it has no position (e.g. an unknown enum value).
fn known_column(column: usize) -> Option<usize> {
    (column > 0).then_some(column)
}

/// Parses one line after the header. The writer puts `"kind"` first, so a result line (nearly
/// every line) is read straight into a [`ResultLine`] rather than through the tagged enum,
/// which would buffer the whole line into an intermediate tree first. Any other line, and a
/// result line that does not read that way, goes through the enum as before.
/// Decodes one line of a sidecar (without its newline), as [`parse`] does for a whole file's
/// well-formed lines: for readers that follow a sidecar as it grows. A line this refuses may
/// still hold a result [`parse`] recovers (a cut line, an oversized one): follow-up readers
/// are a live view, [`parse`] the record.
pub fn decode_line(text: &str) -> Result<SidecarLine<'static>, serde_json::Error> {
    parse_line(text)
}

fn parse_line(text: &str) -> Result<SidecarLine<'static>, serde_json::Error> {
    if text.starts_with(r#"{"kind":"result","#)
        && let Ok(line) = serde_json::from_str::<ResultLine<'static>>(text)
    {
        return Ok(SidecarLine::Result(line));
    }
    serde_json::from_str(text)
}

fn utf8_or_lossy<'b>(bytes: &'b [u8], n_lossy: &mut usize) -> Cow<'b, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => {
            *n_lossy += 1;
            String::from_utf8_lossy(bytes)
        }
    }
}

struct RawLine<'b> {
    number: usize,
    offset: usize,
    bytes: &'b [u8],
    terminated: bool,
}

fn split_lines(bytes: &[u8]) -> impl Iterator<Item = RawLine<'_>> {
    let mut offset = 0;
    let mut number = 0;
    std::iter::from_fn(move || {
        if offset >= bytes.len() {
            return None;
        }
        number += 1;
        let rest = &bytes[offset..];
        let (line, terminated, advance) = match rest.iter().position(|&b| b == b'\n') {
            Some(end) => (&rest[..end], true, end + 1),
            None => (rest, false, rest.len()),
        };
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let raw = RawLine { number, offset, bytes: line, terminated };
        offset += advance;
        Some(raw)
    })
}

/// Serializes one line, newline included, ready for a single `write_all`.
pub fn encode_line(line: &SidecarLine<'_>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(512);
    encode_line_into(line, &mut buf);
    buf
}

/// Like [`encode_line`], into a caller's buffer (cleared first), so a writer can reuse one
/// allocation for every line.
pub fn encode_line_into(line: &SidecarLine<'_>, buf: &mut Vec<u8>) {
    buf.clear();
    serde_json::to_writer(&mut *buf, line).expect("sidecar lines serialize: keys are strings");
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"kind":"header","schema":"rampart.sidecar.v1","identity":{"harness":"nextest","run_id":"r","test_name":"t","attempt":1,"total_attempts":1},"spec":{"base_name":"t","harm":"jailbreak","threshold":1.0},"writer":{"rampart_version":"0.1.0","pid":1},"started_at":"2026-01-01T00:00:00.000Z"}"#;

    fn result_line(index: u32, result: &str) -> String {
        format!(
            r#"{{"kind":"result","index":{index},"recorded_at":"2026-01-01T00:00:01.000Z","result":{result}}}"#
        )
    }

    fn file(lines: &[String]) -> Vec<u8> {
        let mut text = format!("{HEADER}\n");
        for line in lines {
            text.push_str(line);
            text.push('\n');
        }
        text.into_bytes()
    }

    #[test]
    fn oversized_result_keeps_its_status_and_later_results_flow() {
        let big = "x".repeat(4096);
        let bytes = file(&[
            result_line(0, r#"{"status":"safe","summary":"small","observability_level":"tool_only"}"#),
            result_line(
                1,
                &format!(
                    r#"{{"status":"unsafe","summary":"{big}","observability_level":"tool_only","harm_category":"data_leakage"}}"#
                ),
            ),
            result_line(2, r#"{"status":"safe","summary":"after","observability_level":"tool_only"}"#),
        ]);
        let sidecar = parse_with(&bytes, &ParseOptions::new().with_max_line_bytes(1024)).unwrap();
        let summaries: Vec<&str> = sidecar.results.iter().map(|r| r.result.summary.as_str()).collect();
        assert_eq!(summaries.len(), 3, "{summaries:?}");
        let marker = &sidecar.results[1];
        assert_eq!((marker.line, marker.index), (3, 1));
        // An UNSAFE result stays UNSAFE: only its evidence is lost.
        assert_eq!(marker.result.status, crate::SafetyStatus::Unsafe);
        assert_eq!(
            marker.result.summary,
            format!("{big} [evidence lost: result of 4.2 KiB exceeded the 1 KiB cap]")
        );
        assert_eq!(marker.result.metadata["rampart_status_read"], true);
        assert_eq!(marker.result.harm_category.as_ref().unwrap().as_str(), "data_leakage");
        assert_eq!(marker.result.metadata["rampart_truncated"], true);
        assert_eq!(marker.result.metadata["rampart_limit_bytes"], 1024);
        assert_eq!(sidecar.problems.len(), 1, "{:?}", sidecar.problems);
        assert_eq!(sidecar.problems[0].kind, LineProblemKind::Oversized { limit: 1024 });
        assert_eq!(sidecar.problems[0].line, 3);
        // `parse` has no cap.
        let uncapped = parse(&bytes).unwrap();
        assert!(uncapped.problems.is_empty());
        assert_eq!(uncapped.results[1].result.summary, big);
    }

    /// No line the reader refuses can hide its status: too deep for the parser, malformed
    /// after the status, or cut short after an UNSAFE status.
    #[test]
    fn unreadable_result_lines_keep_a_readable_status() {
        let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let lines = [
            result_line(
                0,
                &format!(
                    r#"{{"status":"unsafe","summary":"deep","observability_level":"tool_only","metadata":{{"d":{deep}}}}}"#
                ),
            ),
            result_line(
                1,
                r#"{"status":"unsafe","summary":"broken","observability_level":"tool_only","metadata":{"a": oops}}"#,
            ),
            result_line(
                2,
                r#"{"status":"maybe","summary":"unknown status","observability_level":"tool_only"}"#,
            ),
            result_line(3, r#"{"status":"safe","summary":"fine","observability_level":"tool_only"}"#),
        ];
        let mut bytes = file(&lines);
        bytes.extend_from_slice(br#"{"kind":"result","index":4,"recorded_at":"2026-01-01T00:00:00.000Z","result":{"status":"unsafe","summary":"cut"#);
        let sidecar = parse(&bytes).unwrap();
        let got: Vec<(u32, crate::SafetyStatus, &str)> =
            sidecar.results.iter().map(|r| (r.index, r.result.status, r.result.summary.as_str())).collect();
        use crate::SafetyStatus::{Safe, Unsafe};
        assert_eq!(got.len(), 4, "{got:?}");
        assert_eq!((got[0].0, got[0].1), (0, Unsafe));
        assert!(got[0].2.starts_with("deep [evidence lost: "), "{got:?}");
        assert_eq!((got[1].0, got[1].1), (1, Unsafe));
        // An unknown status is no status: that line stands as a problem only.
        assert_eq!((got[2].0, got[2].1, got[2].2), (3, Safe, "fine"));
        assert_eq!((got[3].0, got[3].1), (4, Unsafe), "the torn UNSAFE tail counts");
        // Each unreadable line is still a problem (the run is incomplete), and so is the gap
        // the unknown status leaves.
        let kinds: Vec<&str> = sidecar
            .problems
            .iter()
            .map(|p| match p.kind {
                LineProblemKind::Malformed { .. } => "malformed",
                LineProblemKind::IndexGap { .. } => "gap",
                LineProblemKind::TornTail => "torn",
                _ => "other",
            })
            .collect();
        assert_eq!(kinds, ["malformed", "malformed", "malformed", "gap", "torn"]);
    }

    #[test]
    fn oversized_garbage_line_is_reported_without_a_marker() {
        let bytes = file(&["z".repeat(2000)]);
        let sidecar = parse_with(&bytes, &ParseOptions::new().with_max_line_bytes(400)).unwrap();
        assert!(sidecar.results.is_empty());
        assert_eq!(sidecar.problems[0].kind, LineProblemKind::Oversized { limit: 400 });
        // A marker keeps the spec's harm category when the line has none.
        let line = result_line(0, &format!(r#"{{"status":"safe","summary":"{}""#, "y".repeat(600)));
        let sidecar = parse_with(&file(&[line]), &ParseOptions::new().with_max_line_bytes(400)).unwrap();
        assert_eq!(sidecar.results[0].result.harm_category.as_ref().unwrap().as_str(), "jailbreak");
    }

    #[test]
    fn oversized_header_is_refused() {
        let error = parse_with(HEADER.as_bytes(), &ParseOptions::new().with_max_line_bytes(64)).unwrap_err();
        assert!(error.to_string().contains("over the 64 B line cap"), "{error}");
    }

    #[test]
    fn out_of_range_numbers_read_as_null_and_are_counted() {
        let huge_int = "9".repeat(400);
        let bytes = file(&[result_line(
            0,
            &format!(
                r#"{{"status":"safe","summary":"1e999 stays text","observability_level":"tool_only","duration_seconds":1e999,"metadata":{{"big":{huge_int},"neg":-1E+400,"ok":1e-999,"s":"1e999"}},"turns":[{{"request":{{}},"response":{{}},"eval_result":{{"outcome":"detected","confidence":1e999}}}}]}}"#
            ),
        )]);
        // serde_json alone refuses the line.
        let text = std::str::from_utf8(&bytes).unwrap().lines().nth(1).unwrap();
        let error = serde_json::from_str::<SidecarLine<'_>>(text).unwrap_err();
        assert!(error.to_string().starts_with("number out of range"), "{error}");

        let sidecar = parse(&bytes).unwrap();
        assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
        assert_eq!(sidecar.n_out_of_range_numbers, 4);
        let result = &sidecar.results[0].result;
        assert_eq!(result.summary, "1e999 stays text");
        assert_eq!(result.duration_seconds, None);
        assert_eq!(result.metadata["big"], serde_json::Value::Null);
        assert_eq!(result.metadata["neg"], serde_json::Value::Null);
        assert_eq!(result.metadata["ok"], 0.0);
        assert_eq!(result.metadata["s"], "1e999");
        assert!(result.turns[0].eval_result.as_ref().unwrap().confidence.is_nan());
    }

    #[test]
    fn nan_confidence_round_trips_as_null() {
        use crate::model::{EvalOutcome, EvalResult, ObservabilityLevel, Turn};
        let result = SafetyResult::safe("s", ObservabilityLevel::ToolOnly).with_turn(
            Turn::exchange("p", "r")
                .with_eval(EvalResult::new(EvalOutcome::Detected).with_confidence(f64::NAN)),
        );
        let line = encode_line(&SidecarLine::Result(ResultLine::new(
            0,
            Timestamp::now(),
            std::borrow::Cow::Borrowed(&result),
        )));
        assert!(String::from_utf8_lossy(&line).contains(r#""confidence":null"#));
        let mut bytes = file(&[]);
        bytes.extend_from_slice(&line);
        let sidecar = parse(&bytes).unwrap();
        assert!(sidecar.problems.is_empty(), "{:?}", sidecar.problems);
        assert!(sidecar.results[0].result.turns[0].eval_result.as_ref().unwrap().confidence.is_nan());
    }

    #[test]
    fn newer_and_missing_majors_are_refused() {
        for (schema, found) in [
            (r#""schema":"rampart.sidecar.v2","#, "rampart.sidecar.v2"),
            (r#""schema":"rampart.sidecar.v10","#, "rampart.sidecar.v10"),
            (r#""schema":"other.v1","#, "other.v1"),
            ("", ""),
        ] {
            let header = HEADER.replace(r#""schema":"rampart.sidecar.v1","#, schema);
            match parse(header.as_bytes()) {
                Err(SidecarError::UnsupportedSchema { found: f }) => assert_eq!(f, found),
                other => panic!("{schema}: {other:?}"),
            }
        }
    }

    #[test]
    fn unknown_status_is_a_bad_line_and_others_are_kept() {
        let bytes = file(&[
            result_line(0, r#"{"status":"maybe","summary":"x","observability_level":"tool_only"}"#),
            result_line(
                1,
                r#"{"status":"safe","summary":"kept","observability_level":"tool_only","new_field":1,"harm_category":"custom_risk"}"#,
            ),
        ]);
        let sidecar = parse(&bytes).unwrap();
        assert_eq!(sidecar.results.len(), 1);
        assert_eq!(sidecar.results[0].result.harm_category.as_ref().unwrap().as_str(), "custom_risk");
        assert!(
            matches!(sidecar.problems[0].kind, LineProblemKind::Malformed { .. }),
            "{:?}",
            sidecar.problems
        );
        assert_eq!(sidecar.problems[0].line, 2);
    }

    #[test]
    fn formats_bytes() {
        assert_eq!(format_bytes(512), "512 B");
        assert_eq!(format_bytes(16 << 20), "16 MiB");
        assert_eq!(format_bytes(19_083_264), "18.2 MiB");
        assert_eq!(format_bytes(1 << 30), "1 GiB");
    }
}
