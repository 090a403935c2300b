//! Problems found in the inputs: each is a miette diagnostic (stable code, the file and its
//! line/column or JUnit element path, and what to do) and, unless it is only advice, a reason
//! the run is incomplete. None of them stops the report: everything readable is kept.

use miette::{Diagnostic, NamedSource, SourceSpan};

use crate::report::{IncompleteKind, IncompleteReason};

/// Files larger than this are not attached to diagnostics as source text.
const MAX_SOURCE_BYTES: usize = 1 << 20;

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
        source_code: Option<NamedSource<String>>,
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
        source_code: Option<NamedSource<String>>,
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
        source_code: Option<NamedSource<String>>,
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
        source_code: Option<NamedSource<String>>,
        /// Where.
        #[label("{detail}")]
        span: Option<SourceSpan>,
    },

    /// A sidecar holds bytes that are not UTF-8.
    #[error("sidecar {path} has {n_lines} line(s) that are not valid UTF-8")]
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

    /// A result line is larger than the per-result cap: an ERROR marker stands in for it.
    #[error(
        "sidecar {path} line {line}: result of {size} exceeded the {limit} cap; it is reported as an ERROR marker"
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
    #[error("sidecar {path}: {n_numbers} number(s) too large for a 64-bit float were read as null")]
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
        "test {test} was killed before its end line ({outcome}); its recorded results are kept, later ones are missing"
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
    #[error("sidecar {path} is for test {test}, which the JUnit of run {run_id} does not list")]
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
    #[error("sidecar {path} belongs to run {found}, not to the run(s) reported ({expected})")]
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

    /// Declared trial clones left no sidecar.
    #[error("trial group {group}: trial(s) {missing} left no sidecar and count as no-result")]
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

/// Source text for a diagnostic, unless the file is too large.
pub(crate) fn named_source(path: &str, bytes: &[u8]) -> Option<NamedSource<String>> {
    (bytes.len() <= MAX_SOURCE_BYTES)
        .then(|| NamedSource::new(path, String::from_utf8_lossy(bytes).into_owned()).with_language("json"))
}

/// A span of `len` bytes at `offset`, clamped to `text_len`.
pub(crate) fn span(offset: usize, len: usize, text_len: usize) -> SourceSpan {
    let offset = offset.min(text_len);
    let len = len.max(1).min(text_len.saturating_sub(offset));
    SourceSpan::new(offset.into(), len)
}
