//! Reporting for rampart: join the sidecars that `rampart` tests write with nextest's JUnit,
//! aggregate trials and harm statistics, and emit reports.
//!
//! The pipeline is: read ([`junit::load_junit`], [`sidecars::load_results_dir`]) into
//! [`ReportInputs`], then [`assemble`] (pure: it reads no file, no clock and no environment,
//! so its output can be snapshotted), then any number of [`ReportSink`]s and
//! [`render::terminal_summary`]. A custom sink in a user's xtask implements [`ReportSink`]:
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

pub mod aggregate;
pub mod exit_codes;
pub mod join;
pub mod junit;
pub mod junit_out;
pub mod markdown;
pub mod problem;
pub mod render;
pub mod report;
pub mod sanitize;
pub mod sidecars;
pub mod sink;
pub mod validate;

use camino::Utf8PathBuf;

pub use join::{Assembled, ReportContext, ReportInputs, assemble};
pub use junit_out::JunitSink;
pub use markdown::MarkdownSink;
pub use problem::InputProblem;
pub use report::{SCHEMA_VERSION, TestRunReport, report_json_schema};
pub use sink::{JsonFileSink, ReportSink, SinkError};

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
