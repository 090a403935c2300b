//! `cargo rampart-report`: turn a nextest run with rampart sidecars into a safety verdict.
//!
//! With no flags it finds the workspace (`cargo metadata`), the newest nextest JUnit report
//! under `<workspace>/target/nextest/<profile>/`, its run id, and that run's sidecars
//! (`$RAMPART_DIR/runs/<run id>`, else `<workspace>/target/rampart/runs/<run id>`, else
//! `<target dir>/rampart/runs/<run id>`). Without a JUnit report it uses the newest run
//! directory. It writes `report.json` (plus a never-overwritten copy under `runs/`),
//! `summary.md` and `junit.xml` under `target/rampart/report/`, appends the summary to
//! `$GITHUB_STEP_SUMMARY` when that is set, prints the terminal summary, says where each file
//! went, and exits with one of the codes in [`rampart_report::exit_codes`].
//!
//! | Flag | Meaning |
//! |---|---|
//! | `--junit FILE` (repeatable) | nextest JUnit report(s); several merge (partitions) |
//! | `--results DIR` (repeatable) | a run directory, or a `runs/` directory holding several |
//! | `--run-id ID` (repeatable) | report these runs (sidecars of other runs are left out) |
//! | `--out DIR` | output directory (default `<workspace>/target/rampart/report`) |
//! | `--manifest-path PATH` | the workspace's `Cargo.toml` |
//! | `--format terminal,json,markdown,junit,html` | outputs to produce (default: every one that exists; `html` is accepted and skipped until the HTML report lands); `--no-json` drops json |
//! | `--color auto\|always\|never` | colour (auto follows `CARGO_TERM_COLOR`, `NO_COLOR`, the terminal) |
//! | `--max-result-bytes N` | per-result cap (default 16 MiB): a larger result becomes an ERROR marker |
//! | `--max-sidecar-bytes N` | per-sidecar cap (default 1 GiB): only the first part of a larger file is read |
//!
//! The output directory must be new, empty, or a rampart report directory (it holds the
//! [`REPORT_DIR_MARKER`] file, written into every report directory); `/` and the home
//! directory are refused.

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Parser, ValueEnum};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use rampart::location::RAMPART_SUBDIR;
use rampart_report::{
    InputLoader, JsonFileSink, JunitSink, Limits, MarkdownSink, ReportContext, ReportDir, SinkError,
    TerminalOptions, TestRunReport, WorkspacePaths, exit_codes, rampart_dir_from_env, terminal_summary,
};

/// The environment variable GitHub Actions sets to the job summary file of the current step.
pub const GITHUB_STEP_SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";

/// The cargo entry point: `cargo rampart-report ...`.
#[derive(Debug, Parser)]
#[command(name = "cargo", bin_name = "cargo", styles = clap::builder::Styles::plain())]
pub enum CargoCli {
    /// Join rampart sidecars with nextest JUnit and report the safety verdict.
    RampartReport(ReportArgs),
}

/// Arguments of `cargo rampart-report`.
#[derive(Debug, Parser)]
#[command(name = "cargo-rampart-report", version, about = "Join rampart sidecars with nextest JUnit and report the safety verdict", after_help = EXIT_CODES_HELP)]
pub struct ReportArgs {
    /// nextest JUnit report (repeatable: partitions merge into one report).
    #[arg(long, value_name = "FILE")]
    pub junit: Vec<Utf8PathBuf>,
    /// Sidecar directory: a run directory, or a `runs/` directory holding several (repeatable).
    #[arg(long, value_name = "DIR")]
    pub results: Vec<Utf8PathBuf>,
    /// Report only these run ids (repeatable).
    #[arg(long = "run-id", value_name = "ID")]
    pub run_id: Vec<String>,
    /// Output directory [default: <workspace>/target/rampart/report].
    #[arg(long, value_name = "DIR")]
    pub out: Option<Utf8PathBuf>,
    /// Path to the workspace's Cargo.toml.
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<Utf8PathBuf>,
    /// Outputs to produce, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',', default_value = DEFAULT_FORMATS)]
    pub format: Vec<OutputFormat>,
    /// Do not write the JSON report.
    #[arg(long)]
    pub no_json: bool,
    /// When to colour the terminal summary.
    #[arg(long, value_enum, default_value = "auto")]
    pub color: ColorChoice,
    /// List every result and trial group in the terminal summary, not only what failed.
    #[arg(long, short)]
    pub verbose: bool,
    /// Largest result read, in bytes; a larger one is reported as an ERROR marker [default: 16 MiB].
    #[arg(long, value_name = "BYTES", default_value_t = rampart_report::DEFAULT_MAX_RESULT_BYTES)]
    pub max_result_bytes: usize,
    /// Largest sidecar file read, in bytes; past it only the first part is read [default: 1 GiB].
    #[arg(long, value_name = "BYTES", default_value_t = rampart_report::DEFAULT_MAX_SIDECAR_BYTES)]
    pub max_sidecar_bytes: u64,
}

const EXIT_CODES_HELP: &str = "\
Exit codes:
  0   passed (also: no rampart tests at all)
  2   usage error or no usable input
  3   the report could not be written
  10  safety failure: an UNSAFE result (any attempt) or a trial group below its threshold
  11  incomplete run: results may be missing
  12  nothing assessed: rampart tests ran but every result is an ERROR or none was recorded";

/// The formats produced without `--format`: every one that is built.
pub const DEFAULT_FORMATS: &str = "terminal,json,markdown,junit,html";

/// An output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// The summary on stdout.
    Terminal,
    /// `report.json` and `runs/run_report_<time>.json` under --out.
    Json,
    /// `summary.md` under --out, also appended to `$GITHUB_STEP_SUMMARY` when set.
    Markdown,
    /// `junit.xml` under --out: one testcase per trial group and standalone rampart test.
    Junit,
    /// `index.html` under --out (not built yet: accepted and skipped).
    Html,
}

/// Colour choice.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Follow CARGO_TERM_COLOR, NO_COLOR and whether stdout is a terminal.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// Every way `cargo rampart-report` fails before it has a verdict.
#[derive(Debug, thiserror::Error, Diagnostic)]
#[non_exhaustive]
pub enum ReportError {
    /// `cargo metadata` failed.
    #[error("failed to find the cargo workspace: {detail}")]
    #[diagnostic(
        code(rampart::cli::no_workspace),
        help(
            "run inside the workspace, pass --manifest-path, or give the inputs with --junit/--results and --out"
        )
    )]
    Workspace {
        /// What went wrong.
        detail: String,
    },
    /// An input path given on the command line does not exist.
    #[error("{flag} {path} does not exist")]
    #[diagnostic(code(rampart::cli::missing_input), help("check the path"))]
    MissingInput {
        /// The flag.
        flag: &'static str,
        /// The path.
        path: Utf8PathBuf,
    },
    /// Nothing to report from.
    #[error("found no nextest JUnit report and no rampart sidecars")]
    #[diagnostic(
        code(rampart::cli::nothing_found),
        help(
            "run `cargo nextest run` first (a profile with [profile.<name>.junit] path = \"junit.xml\" gives the best report), or pass --junit/--results; looked in: {looked}"
        )
    )]
    NothingFound {
        /// Where we looked.
        looked: String,
    },
    /// The output directory is not safe to write reports into.
    #[error("refusing to write the report into {path}: {reason}")]
    #[diagnostic(
        code(rampart::cli::unsafe_out_dir),
        help(
            "pass an empty or new directory with --out (a directory holding a `.rampart-report` marker is a report directory and is reused)"
        )
    )]
    UnsafeOutDir {
        /// The directory.
        path: Utf8PathBuf,
        /// Why.
        reason: String,
    },
    /// A sink failed.
    #[error("failed to write the report")]
    #[diagnostic(code(rampart::cli::write_failed), help("check that the --out directory is writable"))]
    Write(#[source] SinkError),
}

impl ReportError {
    /// The exit code for this error.
    pub fn exit_code(&self) -> i32 {
        match self {
            ReportError::Write(_) => exit_codes::OUTPUT_FAILED,
            ReportError::Workspace { .. }
            | ReportError::UnsafeOutDir { .. }
            | ReportError::MissingInput { .. }
            | ReportError::NothingFound { .. } => exit_codes::UNUSABLE_INPUT,
        }
    }
}

/// Parses the command line (as `cargo rampart-report ...` or `cargo-rampart-report ...`),
/// runs, prints, and returns the exit code.
pub fn main_with_args(args: impl IntoIterator<Item = OsString>) -> i32 {
    let args: Vec<OsString> = args.into_iter().collect();
    let parsed = if args.get(1).is_some_and(|a| a == "rampart-report") {
        CargoCli::try_parse_from(&args).map(|CargoCli::RampartReport(args)| args)
    } else {
        ReportArgs::try_parse_from(&args)
    };
    let args = match parsed {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { exit_codes::UNUSABLE_INPUT } else { exit_codes::PASSED };
        }
    };
    let color_err = std::io::stderr().is_terminal() && color_enabled(args.color, false);
    match run(&args) {
        Ok(code) => code,
        Err(error) => {
            let code = error.exit_code();
            eprint!("{}", render_diagnostic(&error, color_err));
            code
        }
    }
}

/// Renders a diagnostic as text.
pub fn render_diagnostic(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        out = format!("{diagnostic}\n");
    }
    out
}

/// Whether to colour: `--color`, then `CARGO_TERM_COLOR`, `NO_COLOR`, `CLICOLOR_FORCE`, then
/// whether the stream is a terminal.
pub fn color_enabled(choice: ColorChoice, is_terminal: bool) -> bool {
    match choice {
        ColorChoice::Always => return true,
        ColorChoice::Never => return false,
        ColorChoice::Auto => {}
    }
    match std::env::var("CARGO_TERM_COLOR").ok().as_deref() {
        Some("always") => return true,
        Some("never") => return false,
        _ => {}
    }
    if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
        return false;
    }
    if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0") {
        return true;
    }
    is_terminal
}

/// The width to render stdout at: `$COLUMNS`, else the terminal's, else
/// [`rampart_report::DEFAULT_TERMINAL_WIDTH`].
pub fn terminal_width() -> usize {
    if let Some(columns) = std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|c| *c > 0) {
        return columns;
    }
    terminal_size::terminal_size()
        .map_or(rampart_report::DEFAULT_TERMINAL_WIDTH, |(terminal_size::Width(w), _)| usize::from(w))
}

/// Runs `cargo metadata --format-version 1 --no-deps`.
pub fn find_workspace(manifest_path: Option<&Utf8Path>) -> Result<WorkspacePaths, ReportError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.args(["metadata", "--format-version", "1", "--no-deps"]);
    if let Some(path) = manifest_path {
        command.arg("--manifest-path").arg(path);
    }
    let output = command.output().map_err(|e| ReportError::Workspace { detail: e.to_string() })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(ReportError::Workspace { detail: stderr.trim().to_owned() });
    }
    let json: serde_json::Value = serde_json::from_slice(&output.stdout)
        .map_err(|e| ReportError::Workspace { detail: format!("unreadable cargo metadata: {e}") })?;
    let field = |name: &str| {
        json.get(name)
            .and_then(|v| v.as_str())
            .map(Utf8PathBuf::from)
            .ok_or_else(|| ReportError::Workspace { detail: format!("cargo metadata has no `{name}`") })
    };
    Ok(WorkspacePaths::new(field("workspace_root")?, field("target_directory")?))
}

/// The marker file in every report directory; its first line is [`REPORT_DIR_MARKER_LINE`].
pub const REPORT_DIR_MARKER: &str = rampart_report::MARKER_FILE;
/// The first line of [`REPORT_DIR_MARKER`].
pub const REPORT_DIR_MARKER_LINE: &str = rampart_report::MARKER_LINE;

/// Writes every file output `args.format` asks for, in the order given; returns one line per
/// output saying where it went (or why it was skipped).
pub fn write_outputs(
    report: &TestRunReport,
    args: &ReportArgs,
    out_dir: &Utf8Path,
    step_summary: Option<Utf8PathBuf>,
) -> Result<Vec<String>, ReportError> {
    let writes_files = args.format.iter().any(|f| match f {
        OutputFormat::Terminal => false,
        OutputFormat::Json => !args.no_json,
        _ => true,
    });
    if writes_files {
        ReportDir::new(out_dir).create().map_err(ReportError::Write)?;
    }
    let mut notes = Vec::new();
    let mut done = Vec::new();
    for &format in &args.format {
        if done.contains(&format) {
            continue;
        }
        done.push(format);
        match format {
            OutputFormat::Terminal => {}
            OutputFormat::Json if args.no_json => {}
            OutputFormat::Json => {
                let written = JsonFileSink::new(out_dir).write(report).map_err(ReportError::Write)?;
                notes.push(format!("wrote {}", written.latest));
            }
            OutputFormat::Markdown => {
                let written = MarkdownSink::new(out_dir)
                    .with_step_summary(step_summary.clone())
                    .write(report)
                    .map_err(ReportError::Write)?;
                let mut note = format!("wrote {}", written.summary);
                if !written.dropped.is_empty() {
                    note.push_str(" (shortened to stay under GitHub's 1 MiB job-summary limit)");
                }
                notes.push(note);
                if let Some(path) = written.step_summary {
                    notes.push(format!("appended the summary to {path} (${GITHUB_STEP_SUMMARY_ENV})"));
                }
                if let Some(path) = written.step_summary_full {
                    notes.push(format!(
                        "did not append to {path} (${GITHUB_STEP_SUMMARY_ENV}): it is already near GitHub's 1 MiB limit"
                    ));
                }
            }
            OutputFormat::Junit => {
                let path = JunitSink::new(out_dir).write(report).map_err(ReportError::Write)?;
                notes.push(format!("wrote {path}"));
            }
            OutputFormat::Html => {
                let written =
                    rampart_html::HtmlSink::new(out_dir).write(report).map_err(ReportError::Write)?;
                let mut note = format!("wrote {} (the HTML report: open it in a browser)", written.index);
                if !written.data_files.is_empty() {
                    note.push_str(&format!(
                        "; its data is in {} file(s) beside it, keep them together",
                        written.data_files.len()
                    ));
                }
                notes.push(note);
            }
        }
    }
    Ok(notes)
}

/// Runs the report with parsed arguments; returns the exit code of the verdict.
pub fn run(args: &ReportArgs) -> Result<i32, ReportError> {
    let explicit_inputs = !args.junit.is_empty() || !args.results.is_empty();
    // `cargo metadata` is only needed to find what was not given.
    let needs_workspace = !explicit_inputs || args.out.is_none() || args.manifest_path.is_some();
    let workspace = if needs_workspace {
        match find_workspace(args.manifest_path.as_deref()) {
            Ok(ws) => Some(ws),
            Err(e) if !explicit_inputs || args.manifest_path.is_some() => return Err(e),
            Err(_) => None,
        }
    } else {
        None
    };
    for path in &args.junit {
        if !path.exists() {
            return Err(ReportError::MissingInput { flag: "--junit", path: path.clone() });
        }
    }
    for path in &args.results {
        if !path.exists() {
            return Err(ReportError::MissingInput { flag: "--results", path: path.clone() });
        }
    }

    let out_dir = match (&args.out, &workspace) {
        (Some(out), _) => out.clone(),
        (None, Some(ws)) => ws.root.join("target").join(RAMPART_SUBDIR).join("report"),
        (None, None) => Utf8PathBuf::from("target").join(RAMPART_SUBDIR).join("report"),
    };
    if args.format.iter().any(|f| *f != OutputFormat::Terminal) {
        ReportDir::new(&out_dir)
            .check()
            .map_err(|e| ReportError::UnsafeOutDir { path: e.path, reason: e.reason })?;
    }

    let loader = InputLoader::new()
        .with_junit(args.junit.iter().cloned())
        .with_results(args.results.iter().cloned())
        .with_run_ids(args.run_id.iter().cloned())
        .with_workspace(workspace.clone())
        .with_rampart_dir_env(rampart_dir_from_env())
        .with_limits(
            Limits::new()
                .with_max_result_bytes(args.max_result_bytes)
                .with_max_sidecar_bytes(args.max_sidecar_bytes),
        );
    let (mut inputs, found) =
        loader.load().map_err(|e| ReportError::NothingFound { looked: e.looked.join(", ") })?;
    loader.read_sidecars(&mut inputs, &found, |n_files| {
        if n_files >= 1000 {
            eprintln!("rampart-report: reading {n_files} sidecars...");
        }
    });

    // Redaction: the workspace's rules (`rampart.toml`), applied again to everything read.
    let redactor = match &workspace {
        Some(ws) => rampart::redact::Redactor::for_workspace_or_builtin(ws.root.as_std_path()),
        None => rampart::redact::Redactor::for_process(),
    };
    for warning in redactor.warnings() {
        eprintln!("rampart-report: warning: {warning}");
    }
    let context = ReportContext::from_process().with_redactor(redactor);
    let assembled = rampart_report::assemble(inputs, &context);
    let report = assembled.report;

    let color_err = color_enabled(args.color, std::io::stderr().is_terminal());
    const MAX_SHOWN: usize = 20;
    for problem in assembled.problems.iter().take(MAX_SHOWN) {
        // A diagnostic quotes its input (the sidecar line), which may hold a secret.
        let rendered = render_diagnostic(problem, color_err);
        eprint!("{}", context.redactor.redact_text(&rendered, &mut Default::default()));
    }
    if assembled.problems.len() > MAX_SHOWN {
        eprintln!(
            "... and {} more problems (see incomplete_reasons in the JSON report)",
            assembled.problems.len() - MAX_SHOWN
        );
    }

    let step_summary = std::env::var_os(GITHUB_STEP_SUMMARY_ENV)
        .filter(|v| !v.is_empty())
        .and_then(|v| Utf8PathBuf::try_from(std::path::PathBuf::from(v)).ok());
    let notes = write_outputs(&report, args, &out_dir, step_summary)?;
    for note in notes {
        eprintln!("rampart-report: {note}");
    }
    // Last, so the verdict is the final line a terminal or CI log shows.
    if args.format.contains(&OutputFormat::Terminal) {
        let stdout = std::io::stdout();
        let color = color_enabled(args.color, stdout.is_terminal());
        let options = TerminalOptions::new(color).with_verbose(args.verbose).with_width(terminal_width());
        print!("{}", terminal_summary(&report, options));
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    Ok(report.verdict.exit_code())
}
