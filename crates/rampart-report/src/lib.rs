//! Reporting for rampart: join the sidecars that `rampart` tests write with nextest's JUnit,
//! aggregate trials and harm statistics, and emit reports.
//!
//! The pipeline is: read ([`load_junit`], [`load_results_dir`]) into [`ReportInputs`], then
//! [`assemble`] (pure: it reads no file, no clock and no environment, so its output can be
//! snapshotted), then any number of [`ReportSink`]s and [`terminal_summary`]. Every number is
//! computed once, by `assemble` (see "What counts" in [`TestRunReport`]); the
//! view layer ([`ReportView`], [`ExecutionKey`], labels and evidence lines) is what every
//! sink reads. A custom sink in a user's xtask implements [`ReportSink`]:
//!
//! ```
//! use rampart_report::{ReportSink, SinkError, TestRunReport};
//!
//! #[derive(Debug)]
//! struct CountSink;
//! impl ReportSink for CountSink {
//!     fn emit(&self, report: &TestRunReport) -> Result<(), SinkError> {
//!         eprintln!("{} results, {} unsafe", report.total_runs, report.failed);
//!         Ok(())
//!     }
//! }
//! ```
#![warn(missing_docs)]

mod aggregate;
mod annotations;
mod assemble;
pub mod compare;
pub mod exit_codes;
mod gate;
pub mod history;
mod junit;
mod junit_out;
mod load;
mod markdown;
mod problem;
mod report;
mod sanitize;
mod sarif;
mod sidecars;
mod sink;
pub mod stats;
mod terminal;
pub mod trends;
mod validate;
mod view;
pub mod watch;
mod write;

use camino::Utf8PathBuf;

pub use aggregate::{
    Z_95, attack_success_rate, clustered_interval, evidence, trials_needed, wilson_interval,
};
pub use annotations::{MAX_ANNOTATIONS, github_annotations};
pub use assemble::{Assembled, CI_ENV_VARS, ReportContext, ReportInputs, assemble};
pub use gate::{
    EvidenceMode, FailOn, GATE_KEYS, GateError, GateLimits, GatePolicy, TOOL_HARMS,
    evaluate as evaluate_gates, is_observability_gap,
};
pub use junit::{JunitAttempt, JunitRun, JunitTest, load_junit, parse_junit, split_stress};
pub use junit_out::{JUNIT_FILE, JunitSink, junit_report};
pub use load::{Discovered, InputLoader, NothingFound, WorkspacePaths, rampart_dir_from_env};
pub use markdown::{
    DroppedSection, GITHUB_STEP_SUMMARY_LIMIT, MarkdownSink, MarkdownSummary, MarkdownWritten, SUMMARY_FILE,
    escape_inline, render_markdown,
};
pub use problem::{Excerpt, InputProblem};
pub use report::{
    AttemptKey, AttemptOutcome, AttemptRecord, Evidence, GateResult, GroupVerdict, IncompleteKind,
    IncompleteReason, Interval, MAX_OUTPUT_BYTES, PopulationSummary, RedactionSummary, ReportedResult,
    RunMetadata, RunStatus, RunVerdict, SCHEMA_VERSION, SetupScriptRecord, TestExecution, TestRunReport,
    TestSafety, TrialClass, TrialGroup, TrialOutcome, TrialSource, report_json_schema, test_label,
};
pub use sanitize::{clean_line, clean_text, inert_text, visible};
pub use sarif::{MAX_SARIF_RESULTS, SARIF_FILE, SarifSink, sarif_log};
pub use sidecars::{
    LoadedSidecar, SidecarFile, find_sidecar_files, find_sidecar_files_checked, load_results_dir,
    load_results_dir_with, load_sidecar, load_sidecar_file, load_sidecar_with, parse_sidecar,
    parse_sidecar_with,
};
pub use sink::{
    JsonFileSink, JsonWritten, LATEST_FILE, ReportSink, SinkError, to_inert_json_pretty,
    write_inert_json_outline,
};
pub use terminal::{
    DEFAULT_WIDTH as DEFAULT_TERMINAL_WIDTH, MAX_LISTED, TerminalOptions, comparison_summary,
    terminal_summary,
};
pub use validate::{
    DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_SIDECAR_BYTES, HTML_MAX_TEXT_BYTES, Limits, MAX_NESTING_DEPTH,
    MAX_STRINGIFIED_BYTES, bound_text, sanitize_result,
};
pub use view::{
    ExecutionKey, ReportView, TestName, UNCATEGORIZED, attempt_words, class_rank, count, describe_result,
    evidence_label, evidence_text, evidence_words, group_reason, inconclusive_lines, interval_words,
    killed_words, label_words, location_words, percent, plural, redaction_line, scope_evidence_words,
    status_rank, verdict_line, why_words, worst_result,
};
pub use write::{MARKER_FILE, MARKER_LINE, OutDirRefused, ReportDir};

/// Reads the given JUnit files and results directories into [`ReportInputs`].
pub fn load_inputs(
    junit_files: &[Utf8PathBuf],
    results_dirs: &[Utf8PathBuf],
    run_ids: &[String],
) -> ReportInputs {
    let mut inputs = ReportInputs {
        run_ids: run_ids.to_vec(),
        junit_files: junit_files.iter().map(ToString::to_string).collect(),
        results_dirs: results_dirs.iter().map(ToString::to_string).collect(),
        ..ReportInputs::default()
    };
    for file in junit_files {
        let (run, problems) = junit::load_junit(file);
        inputs.junit.extend(run);
        inputs.problems.extend(problems);
    }
    for dir in results_dirs {
        let (sidecars, problems) = sidecars::load_results_dir(dir);
        inputs.sidecars.extend(sidecars);
        inputs.problems.extend(problems);
    }
    inputs
}
