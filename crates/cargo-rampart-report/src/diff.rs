//! `cargo rampart-report diff OLD NEW`: two existing reports compared (see
//! [`rampart_report::compare`]).

use std::io::IsTerminal;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Parser, ValueEnum};
use miette::Diagnostic;
use rampart_report::compare::{Comparison, compare_reports};
use rampart_report::history::{History, RunOrigin, RunSummary};
use rampart_report::{TerminalOptions, TestRunReport, comparison_summary, exit_codes};

use crate::{ColorChoice, color_enabled, terminal_width};

/// Arguments of `cargo rampart-report diff`.
#[derive(Debug, Parser)]
#[command(
    name = "diff",
    bin_name = "cargo rampart-report diff",
    about = "Compare two rampart reports: what regressed, what was fixed, judged by exact tests",
    after_help = DIFF_HELP
)]
pub struct DiffArgs {
    /// The baseline: a report.json, or a report directory holding one.
    #[arg(value_name = "OLD")]
    pub old: Utf8PathBuf,
    /// The report to judge: a report.json, or a report directory holding one.
    #[arg(value_name = "NEW")]
    pub new: Utf8PathBuf,
    /// Print the comparison as JSON instead of the summary.
    #[arg(long)]
    pub json: bool,
    /// Exit 10 when the comparison shows this (repeatable).
    #[arg(long = "fail-on", value_enum, value_name = "WHAT")]
    pub fail_on: Vec<FailOn>,
    /// When to colour the summary.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// List changes within noise too.
    #[arg(long, short)]
    pub verbose: bool,
}

const DIFF_HELP: &str = "\
Examples:
  cargo rampart-report diff baseline/report.json target/rampart/report
  cargo rampart-report diff old new --fail-on new-unsafe --fail-on significant-regression

Exit codes:
  0   compared (whatever changed, without --fail-on)
  2   a report could not be read
  10  --fail-on: a new UNSAFE finding or a significant regression";

/// What fails `diff`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// UNSAFE trials in a group or test that had none.
    NewUnsafe,
    /// A pass rate or attack success rate significantly worse (exact test, Holm-adjusted).
    SignificantRegression,
}

/// A report that cannot be compared.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum DiffError {
    /// The file could not be read.
    #[error("could not read {path}")]
    #[diagnostic(
        code(rampart::diff::unreadable),
        help("give a report.json, or the report directory holding one")
    )]
    Unreadable {
        /// The file.
        path: Utf8PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The history holds no run to compare with.
    #[error("no run to compare with in the history {path}{which}")]
    #[diagnostic(
        code(rampart::diff::no_baseline_run),
        help(
            "run the report with --history first, or name a run with --baseline-run (a run id or CI run id)"
        )
    )]
    NoBaselineRun {
        /// The history directory.
        path: Utf8PathBuf,
        /// Which run was asked for, in words.
        which: String,
    },
    /// The file is not a rampart report.
    #[error("{path}:{line}:{column}: not a rampart report: {message}")]
    #[diagnostic(
        code(rampart::diff::not_a_report),
        help("give a report.json written by `cargo rampart-report` (schema rampart.report.v1)")
    )]
    NotAReport {
        /// The file.
        path: Utf8PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What is wrong.
        message: String,
    },
}

/// Reads a report: `path` itself, or `path/report.json` for a directory.
pub fn read_report(path: &Utf8Path) -> Result<TestRunReport, DiffError> {
    let file = if path.is_dir() { path.join("report.json") } else { path.to_owned() };
    let text = fs_err::read_to_string(&file).map_err(|source| DiffError::Unreadable {
        path: file.clone(),
        source: std::io::Error::other(source),
    })?;
    let report: TestRunReport = serde_json::from_str(&text).map_err(|e| DiffError::NotAReport {
        path: file.clone(),
        line: e.line(),
        column: e.column(),
        message: e.to_string().split(" at line ").next().unwrap_or_default().to_owned(),
    })?;
    if !report.schema_version.starts_with("rampart.report.v1") {
        return Err(DiffError::NotAReport {
            path: file,
            line: 1,
            column: 1,
            message: format!("schema_version {:?} is not rampart.report.v1", report.schema_version),
        });
    }
    Ok(report)
}

/// Runs `diff`: prints the comparison and returns the exit code.
pub fn run_diff(args: &DiffArgs) -> Result<i32, DiffError> {
    let old = read_report(&args.old)?;
    let new = read_report(&args.new)?;
    let comparison = compare_reports(&old, &new);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&comparison).expect("a comparison serializes"));
    } else {
        let color = color_enabled(args.color, std::io::stdout().is_terminal());
        let options = TerminalOptions::new(color).with_verbose(args.verbose).with_width(terminal_width());
        print!("{}", comparison_summary(&comparison, options));
    }
    Ok(if fails(&comparison, &args.fail_on) { exit_codes::SAFETY_FAILURE } else { exit_codes::PASSED })
}

fn fails(comparison: &Comparison, fail_on: &[FailOn]) -> bool {
    fail_on.iter().any(|f| match f {
        FailOn::NewUnsafe => comparison.new_unsafe().next().is_some(),
        FailOn::SignificantRegression => comparison.n_significant_regressions() > 0,
    })
}

/// Which run of a history directory is the baseline.
#[derive(Clone, Debug, Default)]
pub struct BaselineChoice<'a> {
    /// A run id, CI run id or history file name (or a prefix of one).
    pub run: Option<&'a str>,
    /// The branch whose newest run is taken.
    pub branch: Option<&'a str>,
}

/// Reads a baseline: a report (`report.json` or its directory) or a run of a history
/// directory (see [`BaselineChoice`]); skipped history files are printed as warnings.
pub fn read_baseline(path: &Utf8Path, choice: &BaselineChoice<'_>) -> Result<RunSummary, DiffError> {
    let is_history = path.is_dir() && !path.join("report.json").exists();
    if !is_history {
        return Ok(RunSummary::of(&read_report(path)?, &RunOrigin::default()));
    }
    let (pick, skipped) = History::new(path).find_newest(|name, run| match (choice.run, choice.branch) {
        (Some(id), _) => {
            run.run_ids.iter().any(|x| x.starts_with(id))
                || run.ci_run_id.as_deref() == Some(id)
                || name.starts_with(id)
        }
        (None, Some(branch)) => run.git_branch.as_deref() == Some(branch),
        (None, None) => true,
    });
    for skip in &skipped {
        eprintln!("warning: skipped history file {}: {}", skip.path, skip.why);
    }
    pick.ok_or_else(|| DiffError::NoBaselineRun {
        path: path.to_owned(),
        which: match (choice.run, choice.branch) {
            (Some(id), _) => format!(" named {id}"),
            (None, Some(branch)) => format!(" on branch {branch}"),
            (None, None) => String::new(),
        },
    })
}
