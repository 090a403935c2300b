//! Problems found in the inputs: each is a miette diagnostic (stable code, the file and its
//! line/column or JUnit element path, and what to do) and, unless it is only advice, a reason
//! the run is incomplete. None of them stops the report: everything readable is kept.

use miette::{Diagnostic, SourceSpan};
use rampart::redact::{RedactionCounts, Redactor};

use crate::report::{IncompleteKind, IncompleteReason};
use crate::sanitize::visible;
use crate::view::{label_words, plural};

/// A problem with the inputs.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum InputProblem {
    /// A JUnit file could not be read.
    #[error("failed to read JUnit file {path}")]
    #[diagnostic(
        code(rampart::junit::unreadable),
        help(
            "check the path; nextest writes it to target/nextest/<profile>/junit.xml when the profile sets junit.path"
        )
    )]
    JunitIo {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A JUnit file holds bytes that are not UTF-8.
    #[error("JUnit file {path} is not valid UTF-8 (first bad byte at offset {valid_up_to})")]
    #[diagnostic(
        code(rampart::junit::not_utf8),
        help(
            "nextest always writes UTF-8: the file was damaged or written by another tool; re-run `cargo nextest run` to regenerate it"
        )
    )]
    JunitNotUtf8 {
        /// The file.
        path: String,
        /// Offset of the first invalid byte.
        valid_up_to: usize,
        /// The file text (lossy).
        #[source_code]
        source_code: Option<Excerpt>,
        /// The invalid byte.
        #[label("not UTF-8")]
        span: Option<SourceSpan>,
    },

    /// A JUnit file could not be parsed.
    #[error("JUnit file {path} is malformed at {element_path}: {detail}")]
    #[diagnostic(
        code(rampart::junit::malformed),
        help(
            "the file may be truncated (nextest killed while writing it) or not a nextest JUnit report; re-run `cargo nextest run`, or pass the right file with --junit"
        )
    )]
    JunitMalformed {
        /// The file.
        path: String,
        /// Where in the document, e.g. `testsuites/testsuite[0]("alpha")/testcase[2]`.
        element_path: String,
        /// quick-junit's message.
        detail: String,
    },

    /// No JUnit file was found or given.
    #[error("no nextest JUnit report: the report is built from sidecars alone")]
    #[diagnostic(
        code(rampart::junit::missing),
        severity(Warning),
        help(
            "crashes, timeouts and tests that never wrote a sidecar are invisible without JUnit; enable it in .config/nextest.toml ([profile.ci.junit] path = \"junit.xml\") and pass --junit"
        )
    )]
    JunitMissing,

    /// A setup script failed.
    #[error("setup script `{script}` failed in {path}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    #[diagnostic(
        code(rampart::junit::setup_script_failed),
        help(
            "nextest cancels the run when a setup script fails, so tests are missing; fix the script and re-run"
        )
    )]
    SetupScriptFailed {
        /// The JUnit file.
        path: String,
        /// Script id.
        script: String,
        /// Failure type/message.
        message: Option<String>,
    },

    /// The JUnit lists tests, but no rampart test recorded anything.
    #[error("no rampart results: {n_tests} tests ran and none recorded a safety result")]
    #[diagnostic(
        code(rampart::junit::no_rampart_tests),
        severity(Advice),
        help(
            "this is fine for an ordinary test suite; mark safety tests with #[rampart::test] or call rampart::record_result"
        )
    )]
    NoRampartTests {
        /// Tests in the JUnit.
        n_tests: usize,
    },

    /// A results directory is missing or holds no sidecar.
    #[error("results directory {path} holds no sidecar")]
    #[diagnostic(
        code(rampart::results::empty_dir),
        help(
            "pass a run directory (target/rampart/runs/<run id>) or a runs/ directory; if tests set RAMPART_DIR, set it for the report too"
        )
    )]
    ResultsDirEmpty {
        /// The directory.
        path: String,
    },

    /// A sidecar could not be read.
    #[error("failed to read sidecar {path}")]
    #[diagnostic(
        code(rampart::sidecar::unreadable),
        help("check the file's permissions; its results are missing from the report")
    )]
    SidecarIo {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },

    /// A sidecar is empty.
    #[error("sidecar {path} is empty (the test process was killed before it wrote the header)")]
    #[diagnostic(
        code(rampart::sidecar::empty),
        help("see the test's JUnit outcome (abort, timeout) for what killed it; re-run the test")
    )]
    SidecarEmpty {
        /// The file.
        path: String,
    },

    /// A sidecar's first line is not a header.
    #[error("sidecar {path} has no readable header: {reason}")]
    #[diagnostic(
        code(rampart::sidecar::bad_header),
        help(
            "the file was damaged or is not a rampart sidecar; remove stray files from the run directory and re-run the test"
        )
    )]
    SidecarBadHeader {
        /// The file.
        path: String,
        /// What is wrong.
        reason: String,
        /// The file text.
        #[source_code]
        source_code: Option<Excerpt>,
        /// Where.
        #[label("here")]
        span: Option<SourceSpan>,
    },

    /// A sidecar's schema is not one this reader knows.
    #[error(
        "sidecar {path} has unsupported schema `{found}` (this report reads {})",
        rampart::sidecar::SCHEMA
    )]
    #[diagnostic(
        code(rampart::sidecar::unknown_schema),
        help(
            "the file's results are not read: a newer major (e.g. rampart.sidecar.v2) was written by a newer rampart, so upgrade cargo-rampart-report to the version of the rampart crate the tests link; a missing or foreign schema means the file is not a rampart sidecar"
        )
    )]
    SidecarUnknownSchema {
        /// The file.
        path: String,
        /// The schema found.
        found: String,
    },

    /// A sidecar's last line is cut short.
    #[error(
        "sidecar {path} line {line} is cut short: the sidecar is truncated (the process was killed, or the disk filled up, while writing it)"
    )]
    #[diagnostic(
        code(rampart::sidecar::torn_line),
        help("the results before this line are kept; see the test's JUnit outcome for what killed it")
    )]
    SidecarTornLine {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The file text.
        #[source_code]
        source_code: Option<Excerpt>,
        /// The line.
        #[label("torn line")]
        span: Option<SourceSpan>,
    },

    /// A sidecar line cannot be used.
    #[error("sidecar {path} line {line} column {column}: {detail}")]
    #[diagnostic(
        code(rampart::sidecar::bad_line),
        help(
            "the line's result is missing from the report; sidecars are written only by rampart, so this file was edited or damaged"
        )
    )]
    SidecarBadLine {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        detail: String,
        /// The file text.
        #[source_code]
        source_code: Option<Excerpt>,
        /// Where.
        #[label("{detail}")]
        span: Option<SourceSpan>,
    },

    /// A sidecar holds bytes that are not UTF-8.
    #[error("sidecar {path} has {} that {} not valid UTF-8", plural(*n_lines as u64, "line", "lines"), if *n_lines == 1 { "is" } else { "are" })]
    #[diagnostic(
        code(rampart::sidecar::not_utf8),
        help("the lines were read with U+FFFD replacements; the file was damaged")
    )]
    SidecarNotUtf8 {
        /// The file.
        path: String,
        /// Lines read lossily.
        n_lines: usize,
    },

    /// A result line is larger than the per-result cap: a marker with its status (when it can
    /// be read) stands in for it, without its evidence.
    #[error(
        "sidecar {path} line {line}: result of {size} exceeded the {limit} cap; its status is kept, its evidence dropped"
    )]
    #[diagnostic(
        code(rampart::sidecar::result_oversized),
        help(
            "record less per result (large documents belong in attachments you trim), or raise the cap with --max-result-bytes"
        )
    )]
    SidecarResultOversized {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// The line's size, for people.
        size: String,
        /// The cap, for people.
        limit: String,
    },

    /// A sidecar file is larger than the per-sidecar cap: only its first part was read.
    #[error("sidecar {path} is {size}, over the {limit} cap: only its first {limit} were read")]
    #[diagnostic(
        code(rampart::sidecar::file_oversized),
        help("results after the cap are missing; raise it with --max-sidecar-bytes if the file is genuine")
    )]
    SidecarOversized {
        /// The file.
        path: String,
        /// The file's size, for people.
        size: String,
        /// The cap, for people.
        limit: String,
    },

    /// Numbers too large for a 64-bit float were read as null.
    #[error("sidecar {path}: {} too large for a 64-bit float {} read as null", plural(*n_numbers as u64, "number", "numbers"), if *n_numbers == 1 { "was" } else { "were" })]
    #[diagnostic(
        code(rampart::sidecar::number_out_of_range),
        severity(Warning),
        help(
            "the results are kept; JSON numbers like 1e999 have no finite value, so they are shown as null"
        )
    )]
    SidecarNumbersOutOfRange {
        /// The file.
        path: String,
        /// How many.
        n_numbers: usize,
    },

    /// A symlink in a results directory points outside it and was not followed.
    #[error("{path} is a symlink to {target}, outside the results directory {dir}: not followed")]
    #[diagnostic(
        code(rampart::results::symlink_outside),
        help(
            "the report reads only files inside the results directories; copy the sidecars in, or pass their directory with --results"
        )
    )]
    SymlinkOutsideResults {
        /// The symlink.
        path: String,
        /// Where it points.
        target: String,
        /// The results directory.
        dir: String,
    },

    /// A declared test's sidecar has no end line.
    #[error(
        "test {} was killed before its end line ({outcome}); its recorded results are kept, later ones are missing",
        label_words(test)
    )]
    #[diagnostic(
        code(rampart::sidecar::no_end_line),
        help("look at the test's JUnit output for the crash or timeout, fix it, and re-run")
    )]
    TestKilled {
        /// The sidecar.
        path: String,
        /// `<binary id>$<test name>[@stress-i]#<attempt>`.
        test: String,
        /// What JUnit says happened.
        outcome: String,
    },

    /// A sidecar names a test its run's JUnit does not list.
    #[error(
        "sidecar {path} is for test {}, which the JUnit of run {run_id} does not list",
        label_words(test)
    )]
    #[diagnostic(
        code(rampart::join::not_in_junit),
        help(
            "the JUnit file may be from an older invocation with the same run id, or was written before the run finished; pass the JUnit of that run with --junit"
        )
    )]
    SidecarWithoutJunit {
        /// The sidecar.
        path: String,
        /// The test.
        test: String,
        /// Its run id.
        run_id: String,
    },

    /// A sidecar belongs to another run.
    #[error("sidecar {path} belongs to run {found}, not to the runs reported ({expected})")]
    #[diagnostic(
        code(rampart::join::other_run),
        help(
            "it was copied into the wrong directory, or --run-id/--junit name another run; its results are left out"
        )
    )]
    SidecarOfAnotherRun {
        /// The sidecar.
        path: String,
        /// Its run id.
        found: String,
        /// The run ids reported.
        expected: String,
    },

    /// A test's `#[rampart::test]` spec (from its sidecar header) says something impossible:
    /// a threshold outside [0, 1], a trial index past the trial count, clones of one group
    /// that disagree. It is judged fail-closed (see `judged`).
    #[error("test {}: {detail}; judged as {judged}", label_words(test))]
    #[diagnostic(
        code(rampart::join::invalid_spec),
        help(
            "sidecars are written only by rampart's macro, so this one was edited or written by something else; re-run the test"
        )
    )]
    InvalidSpec {
        /// The sidecar.
        path: String,
        /// The test (`<binary id>$<test name>`).
        test: String,
        /// What is wrong.
        detail: String,
        /// How it is judged instead.
        judged: String,
    },

    /// The run was stopped before it finished (a cancelled CI job, Ctrl-C, nextest killed).
    #[error("the run was cancelled: {detail}")]
    #[diagnostic(
        code(rampart::run::cancelled),
        help(
            "the report holds what was recorded before the run stopped; tests that had not started are missing"
        )
    )]
    RunCancelled {
        /// How it ended.
        detail: String,
    },

    /// Declared trial clones left no sidecar.
    #[error("trial group {group}: {} {missing} left no sidecar and {} as no-result", if missing.contains(',') { "trials" } else { "trial" }, if missing.contains(',') { "count" } else { "counts" })]
    #[diagnostic(
        code(rampart::join::trial_missing),
        help(
            "the clones were filtered out, skipped, or killed before they started; run every clone of the group"
        )
    )]
    TrialMissing {
        /// The group.
        group: String,
        /// The missing trial indices, comma-separated.
        missing: String,
    },
}

impl InputProblem {
    /// The incomplete-run reason this problem gives, or `None` for advice.
    pub fn incomplete_reason(&self) -> Option<IncompleteReason> {
        use InputProblem as P;
        let (kind, file, line, test): (IncompleteKind, Option<&str>, Option<usize>, Option<&str>) = match self
        {
            P::JunitIo { path, .. } | P::JunitNotUtf8 { path, .. } | P::JunitMalformed { path, .. } => {
                (IncompleteKind::JunitUnreadable, Some(path), None, None)
            }
            P::JunitMissing => (IncompleteKind::JunitMissing, None, None, None),
            P::RunCancelled { .. } => (IncompleteKind::RunCancelled, None, None, None),
            P::SetupScriptFailed { path, .. } => (IncompleteKind::SetupScriptFailed, Some(path), None, None),
            P::NoRampartTests { .. } => return None,
            P::ResultsDirEmpty { path } => (IncompleteKind::ResultsDirEmpty, Some(path), None, None),
            P::SidecarIo { path, .. } | P::SidecarEmpty { path } | P::SidecarBadHeader { path, .. } => (
                IncompleteKind::SidecarUnreadable,
                Some(path),
                Some(1).filter(|_| matches!(self, P::SidecarBadHeader { .. })),
                None,
            ),
            P::SidecarUnknownSchema { path, .. } => {
                (IncompleteKind::SidecarUnknownSchema, Some(path), Some(1), None)
            }
            P::SidecarTornLine { path, line, .. } | P::SidecarBadLine { path, line, .. } => {
                (IncompleteKind::SidecarLineUnreadable, Some(path), Some(*line), None)
            }
            P::SidecarNotUtf8 { path, .. } => (IncompleteKind::SidecarNotUtf8, Some(path), None, None),
            P::SidecarResultOversized { path, line, .. } => {
                (IncompleteKind::ResultOversized, Some(path), Some(*line), None)
            }
            P::SidecarOversized { path, .. } => (IncompleteKind::SidecarOversized, Some(path), None, None),
            P::SidecarNumbersOutOfRange { .. } => return None,
            P::SymlinkOutsideResults { path, .. } => {
                (IncompleteKind::SymlinkOutsideResults, Some(path), None, None)
            }
            P::TestKilled { path, test, .. } => {
                (IncompleteKind::TestKilledBeforeEnd, Some(path), None, Some(test))
            }
            P::SidecarWithoutJunit { path, test, .. } => {
                (IncompleteKind::SidecarWithoutJunit, Some(path), None, Some(test))
            }
            P::SidecarOfAnotherRun { path, .. } => {
                (IncompleteKind::SidecarOfAnotherRun, Some(path), None, None)
            }
            P::TrialMissing { group, .. } => (IncompleteKind::TrialMissing, None, None, Some(group)),
            P::InvalidSpec { path, test, .. } => {
                (IncompleteKind::InvalidSpec, Some(path), Some(1), Some(test))
            }
        };
        Some(IncompleteReason {
            kind,
            message: crate::sanitize::clean_line(&self.to_string()),
            file: file.map(str::to_owned),
            line,
            test: test.map(str::to_owned),
        })
    }
}

/// The source text a diagnostic quotes: one line of a file (or a window of it), shown with
/// its real line number in that file.
#[derive(Clone, Debug)]
pub struct Excerpt {
    name: String,
    text: String,
    /// 1-based line of `text` in its file.
    line: usize,
    /// The line goes on before `text` / after it.
    cut_front: bool,
    cut_back: bool,
}

impl Excerpt {
    /// The quoted text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The 1-based line in the file.
    pub fn line(&self) -> usize {
        self.line
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let inner = self.text.read_span(span, context_lines_before, context_lines_after)?;
        Ok(Box::new(
            miette::MietteSpanContents::new_named(
                self.name.clone(),
                inner.data(),
                *inner.span(),
                inner.line() + self.line.saturating_sub(1),
                inner.column(),
                inner.line_count(),
            )
            .with_language("json"),
        ))
    }
}

/// Characters of a line shown in a diagnostic's excerpt, around the problem.
pub(crate) const MAX_EXCERPT_CHARS: usize = 240;

/// Bytes of a line kept around the problem for redaction: redaction sees this much, then
/// [`InputProblem::harden`] cuts what is shown to [`MAX_EXCERPT_CHARS`], so the cut never
/// splits a secret redaction could have recognized.
const REDACTION_WINDOW_BYTES: usize = 32 << 10;

/// The excerpt of one line for a diagnostic: only the offending line (never its neighbours,
/// which may hold valid results with secrets), a window of it around the marked bytes
/// `[start, start + len)`; the span is relative to the excerpt. Not yet redacted, made
/// visible, nor cut to what is shown: see [`InputProblem::harden`].
pub(crate) fn line_excerpt(
    path: &str,
    line_no: usize,
    line: &[u8],
    start: usize,
    len: usize,
) -> (Excerpt, SourceSpan) {
    let start = start.min(line.len());
    let end = start.saturating_add(len.max(1)).min(line.len());
    let from = start.saturating_sub(REDACTION_WINDOW_BYTES);
    let to = end.saturating_add(REDACTION_WINDOW_BYTES).min(line.len()).max(from);
    // Decoded piecewise so the span lands on the same characters.
    let prefix = String::from_utf8_lossy(&line[from..start]);
    let marked = String::from_utf8_lossy(&line[start..end]);
    let suffix = String::from_utf8_lossy(&line[end..to]);
    let text = format!("{prefix}{marked}{suffix}");
    let excerpt = Excerpt {
        name: path.to_owned(),
        text,
        line: line_no.max(1),
        cut_front: from > 0,
        cut_back: to < line.len(),
    };
    (excerpt, SourceSpan::new(prefix.len().into(), marked.len()))
}

/// What of an excerpt is shown: at most [`MAX_EXCERPT_CHARS`] characters around the span
/// (half before it, the span, the rest after), `…` where the line goes on.
fn display_window(
    text: &str,
    start: usize,
    len: usize,
    cut_front: bool,
    cut_back: bool,
) -> (String, SourceSpan) {
    let mut start = start.min(text.len());
    while !text.is_char_boundary(start) {
        start -= 1;
    }
    let mut end = (start + len.max(1)).min(text.len());
    while !text.is_char_boundary(end) {
        end += 1;
    }
    let keep = MAX_EXCERPT_CHARS / 2;
    let before: Vec<char> = text[..start].chars().collect();
    let marked: String = text[start..end].chars().take(keep).collect();
    let after: Vec<char> = text[end..].chars().collect();
    let mut out = String::new();
    if cut_front || before.len() > keep {
        out.push('…');
    }
    out.extend(&before[before.len().saturating_sub(keep)..]);
    let span_start = out.len();
    out.push_str(&marked);
    let span = SourceSpan::new(span_start.into(), marked.len());
    out.extend(after.iter().take(keep));
    if cut_back || after.len() > keep || text[start..end].chars().count() > keep {
        out.push('…');
    }
    (out, span)
}

/// The byte range of the line holding byte `offset` in `bytes` (without its newline).
pub(crate) fn line_around(bytes: &[u8], offset: usize) -> (usize, usize) {
    let offset = offset.min(bytes.len());
    let start = bytes[..offset].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let end = bytes[offset..].iter().position(|&b| b == b'\n').map_or(bytes.len(), |i| offset + i);
    (start, end)
}

/// JSON string escapes decoded (`\u0073` → `s`, `\"` → `"`): what a parser would see in the
/// strings of a line that does not parse as a whole.
pub(crate) fn json_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let hex = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
                    let digits: String =
                        (0..4).filter_map(|_| chars.next_if(char::is_ascii_hexdigit)).collect();
                    (digits.len() == 4).then(|| u32::from_str_radix(&digits, 16).ok()).flatten()
                };
                let Some(high) = hex(&mut chars) else {
                    out.push_str("\\u");
                    continue;
                };
                let code = if (0xD800..0xDC00).contains(&high) {
                    let mut ahead = chars.clone();
                    match (ahead.next(), ahead.next()) {
                        (Some('\\'), Some('u')) => match hex(&mut ahead) {
                            Some(low) if (0xDC00..0xE000).contains(&low) => {
                                chars = ahead;
                                0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00)
                            }
                            _ => high,
                        },
                        _ => high,
                    }
                } else {
                    high
                };
                out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            }
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
    }
    out
}

/// Redacts the text of an excerpt: a line that parses as JSON is redacted as JSON (the key
/// rules apply to its objects); one that does not is redacted as text after its string escapes
/// are decoded (so `\u0073k-…` is seen as `sk-…`), and every `"key": value` pair in it whose
/// key is a secret-looking one loses its value.
fn redact_excerpt(redactor: &Redactor, text: &str, counts: &mut RedactionCounts) -> String {
    if let Ok(mut value) = serde_json::from_str::<serde_json::Value>(text) {
        let before = counts.total();
        redactor.redact_json(&mut value, counts);
        if counts.total() == before {
            return text.to_owned();
        }
        return serde_json::to_string(&value).unwrap_or_default();
    }
    let decoded = json_unescape(text);
    let mut redacted = redactor.redact_text(&decoded, counts).into_owned();
    static PAIR: std::sync::OnceLock<regex::Regex> = std::sync::OnceLock::new();
    let pair = PAIR.get_or_init(|| {
        regex::Regex::new(r#""((?:[^"\\]|\\.){1,64})"\s*:\s*("(?:[^"\\]|\\.)*"?|[^,}\]\s{\["]+)"#)
            .expect("the pair regex")
    });
    let mut out = String::with_capacity(redacted.len());
    let mut last = 0;
    for caps in pair.captures_iter(&redacted) {
        let (key, value) = (caps.get(1).expect("group 1"), caps.get(2).expect("group 2"));
        if redactor.key_rule(key.as_str()).is_some()
            && value.as_str() != format!("\"{}\"", rampart::redact::REDACTED)
        {
            out.push_str(&redacted[last..value.start()]);
            out.push_str(&format!("\"{}\"", rampart::redact::REDACTED));
            last = value.end();
            counts.add(redactor.key_rule(key.as_str()).unwrap_or("key"), 1);
        }
    }
    if last > 0 {
        out.push_str(&redacted[last..]);
        redacted = out;
    }
    redacted
}

impl InputProblem {
    /// Makes the problem safe to print and to keep: every free-text field (a parser's
    /// message, a schema found, a JUnit message) is redacted with `redactor`; the excerpt is
    /// redacted as [`redact_excerpt`] says; and every field, paths included, has its control
    /// characters and escape sequences made visible ([`visible`]). Paths and test names are
    /// identifiers: made visible, never redacted.
    pub fn harden(&mut self, redactor: &Redactor, counts: &mut RedactionCounts) {
        use InputProblem as P;
        let text = |field: &mut String, counts: &mut RedactionCounts| {
            *field = visible(&redactor.redact_text(field, counts));
        };
        let ident = |field: &mut String| *field = visible(field);
        let excerpt =
            |source: &mut Option<Excerpt>, span: &mut Option<SourceSpan>, counts: &mut RedactionCounts| {
                let Some(named) = source.take() else { return };
                let original = named.text.clone();
                let name = visible(&named.name);
                // Redact the whole window first, then cut what is shown.
                let redacted = redact_excerpt(redactor, &original, counts);
                let old = span.unwrap_or_else(|| SourceSpan::new(0.into(), original.len()));
                let start = old.offset().min(original.len());
                let end = (start + old.len()).min(original.len());
                let (text, start, len) = if redacted == original {
                    // Unchanged: keep the marked range, re-measured in the visible text.
                    let before = visible(&original[..start]);
                    let marked = visible(&original[start..end]);
                    (format!("{before}{marked}{}", visible(&original[end..])), before.len(), marked.len())
                } else {
                    // Redacted: mark the same share of the line (offsets moved).
                    let text = visible(&redacted);
                    let mut at = (start as f64 / original.len().max(1) as f64 * text.len() as f64) as usize;
                    at = at.min(text.len());
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    (text, at, 1)
                };
                let (text, new_span) = display_window(&text, start, len, named.cut_front, named.cut_back);
                *source = Some(Excerpt { name, text, line: named.line, cut_front: false, cut_back: false });
                *span = Some(new_span);
            };
        match self {
            P::JunitMissing | P::NoRampartTests { .. } | P::RunCancelled { .. } => {}
            P::JunitIo { path, .. } => ident(path),
            P::JunitNotUtf8 { path, source_code, span, .. } => {
                ident(path);
                excerpt(source_code, span, counts);
            }
            P::JunitMalformed { path, element_path, detail } => {
                ident(path);
                text(element_path, counts);
                text(detail, counts);
            }
            P::SetupScriptFailed { path, script, message } => {
                ident(path);
                ident(script);
                if let Some(message) = message {
                    text(message, counts);
                }
            }
            P::ResultsDirEmpty { path }
            | P::SidecarIo { path, .. }
            | P::SidecarEmpty { path }
            | P::SidecarNotUtf8 { path, .. }
            | P::SidecarOversized { path, .. }
            | P::SidecarNumbersOutOfRange { path, .. }
            | P::SidecarResultOversized { path, .. } => ident(path),
            P::SidecarBadHeader { path, reason, source_code, span } => {
                ident(path);
                text(reason, counts);
                excerpt(source_code, span, counts);
            }
            P::SidecarUnknownSchema { path, found } => {
                ident(path);
                text(found, counts);
            }
            P::SidecarTornLine { path, source_code, span, .. } => {
                ident(path);
                excerpt(source_code, span, counts);
            }
            P::SidecarBadLine { path, detail, source_code, span, .. } => {
                ident(path);
                text(detail, counts);
                excerpt(source_code, span, counts);
            }
            P::SymlinkOutsideResults { path, target, dir } => {
                ident(path);
                ident(target);
                ident(dir);
            }
            P::TestKilled { path, test, outcome } => {
                ident(path);
                ident(test);
                ident(outcome);
            }
            P::SidecarWithoutJunit { path, test, run_id } => {
                ident(path);
                ident(test);
                ident(run_id);
            }
            P::SidecarOfAnotherRun { path, found, expected } => {
                ident(path);
                ident(found);
                ident(expected);
            }
            P::TrialMissing { group, missing } => {
                ident(group);
                ident(missing);
            }
            P::InvalidSpec { path, test, detail, judged } => {
                ident(path);
                ident(test);
                text(detail, counts);
                ident(judged);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"kind":"header","schema":"rampart.sidecar.v1","identity":{"harness":"nextest","run_id":"r","test_name":"t","attempt":1,"total_attempts":1},"writer":{"rampart_version":"0.1.0","pid":1},"started_at":"2026-01-01T00:00:00.000Z"}"#;

    fn rendered(problem: &InputProblem) -> String {
        let handler = miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
        let mut out = String::new();
        handler.render_report(&mut out, problem).unwrap();
        out
    }

    fn hardened(text: &str) -> (Vec<InputProblem>, String) {
        let (_, mut problems) =
            crate::sidecars::parse_sidecar("runs/x/\u{1b}]8;;evil\u{7}.jsonl", text.as_bytes());
        let mut counts = RedactionCounts::new();
        for p in &mut problems {
            p.harden(&Redactor::builtin(), &mut counts);
        }
        let out = problems.iter().map(rendered).collect::<Vec<_>>().join("\n");
        (problems, out)
    }

    #[test]
    fn an_excerpt_quotes_only_the_bad_line_redacted_and_inert() {
        // A valid result with secrets next to a malformed line that holds more of them, some
        // JSON-escaped, and terminal escapes.
        let valid = r#"{"kind":"result","index":0,"recorded_at":"2026-01-01T00:00:01.000Z","result":{"status":"safe","summary":"ok","observability_level":"tool_only","metadata":{"cookie":"session=VALIDNEIGHBOUR123"}}}"#;
        let bad = r#"{"kind":"result","index":1,"result":{"status":"unsafe","summary":"key \u0073k-proj-abcdefghijklmnopqrstuvwx123456 \u001b]52;c;ZXZpbA==\u0007 and \u001b[2J","metadata":{"auth":"hunter2-secret-value","cookie":"c00kie-value"}"#;
        let text = format!("{HEADER}\n{valid}\n{bad} trailing garbage\n");
        let (problems, out) = hardened(&text);
        assert!(!problems.is_empty());
        for secret in
            ["VALIDNEIGHBOUR123", "abcdefghijklmnopqrstuvwx123456", "hunter2-secret-value", "c00kie-value"]
        {
            assert!(!out.contains(secret), "{secret} in\n{out}");
        }
        assert!(!out.contains("\"ok\""), "a neighbouring valid line is quoted:\n{out}");
        assert!(!out.chars().any(|c| c == '\u{1b}' || c == '\r' || c == '\u{7}'), "{out:?}");
        assert!(out.contains("<redacted>"), "{out}");
        assert!(out.contains("\\x1b]8;;evil\\x07.jsonl"), "the file name is shown inert:\n{out}");
    }

    #[test]
    fn a_torn_tail_and_a_bad_header_are_quoted_inert() {
        let torn =
            format!("{HEADER}\n{{\"kind\":\"result\",\"summary\":\"Bearer abcdef1234567890xyz \u{1b}[2J\r");
        let (problems, out) = hardened(&torn);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            !out.contains("abcdef1234567890xyz") && !out.contains('\u{1b}') && !out.contains('\r'),
            "{out:?}"
        );
        let header = "{\"kind\":\"header\",\"schema\":\"rampart.sidecar.v1\",\"identity\":\u{1b}]52;c;eA==\u{7} password=hunter22\n";
        let (problems, out) = hardened(header);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(!out.contains("hunter22") && !out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    }

    #[test]
    fn a_huge_line_is_quoted_in_a_bounded_window() {
        let bad =
            format!("{{\"kind\":\"result\",\"x\":\"{}\" oops {}", "a".repeat(100_000), "b".repeat(100_000));
        let (problems, out) = hardened(&format!("{HEADER}\n{bad}\n"));
        assert_eq!(problems.len(), 1);
        assert!(out.len() < 4_000, "{} bytes", out.len());
    }

    /// Found by fuzzing: a redacted excerpt whose marked byte lands inside a multi-byte
    /// character.
    #[test]
    fn a_display_window_never_splits_a_character() {
        let text = "ab\u{FFFD}\u{FFFD}cd";
        for start in 0..text.len() + 2 {
            for len in 0..4 {
                let (shown, span) = display_window(text, start, len, false, false);
                assert!(
                    shown.is_char_boundary(span.offset())
                        && shown.is_char_boundary(span.offset() + span.len())
                );
            }
        }
        let (_, mut problems) = crate::sidecars::parse_sidecar(
            "x.jsonl",
            b"{\"kind\":\"header\",\"sc\xff\xfe\xfdo\":\"rampart.sidecar.v1\",\"identity\":\"curl -U proxyuser:hunter2hunter2 --pr\x01\x00\x00\xff x\" oops",
        );
        for problem in &mut problems {
            problem.harden(&Redactor::builtin(), &mut RedactionCounts::new());
        }
        assert_eq!(problems.len(), 1);
    }

    #[test]
    fn json_unescape_decodes_what_a_parser_would() {
        assert_eq!(json_unescape(r#"\u0073k-\"x\"\n\\"#), "sk-\"x\"\n\\");
        assert_eq!(json_unescape(r"\ud83d\ude00 \u00e9 \uZZZZ"), "😀 é \\uZZZZ");
        assert_eq!(json_unescape(r"\ud83d alone"), "\u{FFFD} alone");
    }
}
