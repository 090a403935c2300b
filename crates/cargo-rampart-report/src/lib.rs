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
use rampart::location::{RAMPART_DIR_ENV, RAMPART_SUBDIR, RUNS_SUBDIR, run_dir};
use rampart_report::exit_codes;
use rampart_report::render::{TerminalOptions, terminal_summary};
use rampart_report::report::TestRunReport;
use rampart_report::{JsonFileSink, JunitSink, MarkdownSink, ReportContext, SinkError};

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
    /// Largest result read, in bytes; a larger one is reported as an ERROR marker [default: 16 MiB].
    #[arg(long, value_name = "BYTES", default_value_t = rampart_report::validate::DEFAULT_MAX_RESULT_BYTES)]
    pub max_result_bytes: usize,
    /// Largest sidecar file read, in bytes; past it only the first part is read [default: 1 GiB].
    #[arg(long, value_name = "BYTES", default_value_t = rampart_report::validate::DEFAULT_MAX_SIDECAR_BYTES)]
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

/// Where cargo says the workspace is.
#[derive(Clone, Debug)]
pub struct Workspace {
    /// `workspace_root`.
    pub root: Utf8PathBuf,
    /// `target_directory`.
    pub target_dir: Utf8PathBuf,
}

/// Runs `cargo metadata --format-version 1 --no-deps`.
pub fn find_workspace(manifest_path: Option<&Utf8Path>) -> Result<Workspace, ReportError> {
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
    Ok(Workspace { root: field("workspace_root")?, target_dir: field("target_directory")? })
}

/// The newest `*.xml` under `<workspace root>/target/nextest/*/`.
pub fn newest_junit(workspace_root: &Utf8Path) -> Option<Utf8PathBuf> {
    let base = workspace_root.join("target").join("nextest");
    let mut newest: Option<(std::time::SystemTime, Utf8PathBuf)> = None;
    for profile in base.read_dir_utf8().ok()?.flatten() {
        let Ok(files) = profile.path().read_dir_utf8() else { continue };
        for file in files.flatten() {
            let path = file.path();
            if path.extension() != Some("xml") {
                continue;
            }
            let Ok(modified) = file.metadata().and_then(|m| m.modified()) else { continue };
            if newest.as_ref().is_none_or(|(t, p)| (modified, path) > (*t, p.as_path())) {
                newest = Some((modified, path.to_owned()));
            }
        }
    }
    newest.map(|(_, p)| p)
}

/// The rampart directories to look in, in order.
pub fn rampart_dirs(workspace: Option<&Workspace>) -> Vec<Utf8PathBuf> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os(RAMPART_DIR_ENV).filter(|v| !v.is_empty())
        && let Ok(dir) = Utf8PathBuf::try_from(std::path::PathBuf::from(dir))
    {
        let dir = match workspace {
            Some(ws) if dir.is_relative() => ws.root.join(dir),
            _ => dir,
        };
        dirs.push(dir);
    }
    if let Some(ws) = workspace {
        dirs.push(ws.root.join("target").join(RAMPART_SUBDIR));
        dirs.push(ws.target_dir.join(RAMPART_SUBDIR));
    }
    dirs.dedup();
    dirs
}

fn newest_run_dir(rampart_dirs: &[Utf8PathBuf]) -> Option<Utf8PathBuf> {
    for dir in rampart_dirs {
        let runs = dir.join(RUNS_SUBDIR);
        let Ok(entries) = runs.read_dir_utf8() else { continue };
        let newest = entries
            .flatten()
            .filter(|e| e.path().is_dir())
            .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path().to_owned())))
            .max();
        if let Some((_, path)) = newest {
            return Some(path);
        }
    }
    None
}

/// The marker file in every report directory; its first line is [`REPORT_DIR_MARKER_LINE`].
pub const REPORT_DIR_MARKER: &str = ".rampart-report";
/// The first line of [`REPORT_DIR_MARKER`].
pub const REPORT_DIR_MARKER_LINE: &str = "rampart report directory: cargo rampart-report replaces files here";

/// Files rampart wrote into report directories before the marker existed: a directory holding
/// only these is taken as a report directory.
const KNOWN_REPORT_FILES: &[&str] = &["report.json", "summary.md", "junit.xml", "index.html", "runs"];

/// Checks that `out_dir` may receive reports: not `/`, not the home directory, not a file, and
/// either missing, empty, or a report directory (holding [`REPORT_DIR_MARKER`], or only files
/// rampart writes).
pub fn check_out_dir(out_dir: &Utf8Path) -> Result<(), ReportError> {
    let refuse =
        |reason: &str| ReportError::UnsafeOutDir { path: out_dir.to_owned(), reason: reason.to_owned() };
    let resolved = resolve_existing_prefix(out_dir);
    if resolved.parent().is_none() {
        return Err(refuse("it is the root directory"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .and_then(|h| std::path::PathBuf::from(h).canonicalize().ok());
    if home.is_some_and(|home| home == resolved.as_std_path()) {
        return Err(refuse("it is your home directory"));
    }
    let meta = match out_dir.symlink_metadata() {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(refuse(&format!("it cannot be inspected ({e})"))),
    };
    if !resolved.is_dir() {
        return Err(refuse(if meta.file_type().is_symlink() {
            "it is a symlink to a non-directory"
        } else {
            "it is not a directory"
        }));
    }
    if let Ok(marker) = fs_err::read_to_string(out_dir.join(REPORT_DIR_MARKER)) {
        if marker.lines().next() == Some(REPORT_DIR_MARKER_LINE) {
            return Ok(());
        }
        return Err(refuse("its `.rampart-report` marker is not one rampart wrote"));
    }
    let entries = out_dir.read_dir_utf8().map_err(|e| refuse(&format!("it cannot be listed ({e})")))?;
    let mut unknown = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let temp_file = name.starts_with(".tmp");
        let data_chunk = name.starts_with("report-") && name.ends_with(".js");
        if !(KNOWN_REPORT_FILES.contains(&name) || temp_file || data_chunk) {
            unknown.push(name.to_owned());
        }
    }
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort();
    let shown: Vec<&str> = unknown.iter().take(3).map(String::as_str).collect();
    Err(refuse(&format!(
        "it is not empty and not a rampart report directory (no `.rampart-report` marker; it holds {}{})",
        shown.join(", "),
        if unknown.len() > 3 { ", ..." } else { "" }
    )))
}

/// `path` made absolute with symlinks resolved as far as it exists.
fn resolve_existing_prefix(path: &Utf8Path) -> Utf8PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        let cwd =
            std::env::current_dir().ok().and_then(|d| Utf8PathBuf::try_from(d).ok()).unwrap_or_default();
        cwd.join(path)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(resolved) = existing.canonicalize_utf8() {
            let mut resolved = resolved;
            for part in rest.iter().rev() {
                resolved.push(part);
            }
            return normalize(&resolved);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return normalize(&absolute),
        }
    }
}

/// Removes `.` and resolves `..` lexically.
fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for component in path.components() {
        match component {
            camino::Utf8Component::CurDir => {}
            camino::Utf8Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Creates `out_dir` if needed and writes [`REPORT_DIR_MARKER`] into it.
pub fn mark_out_dir(out_dir: &Utf8Path) -> Result<(), ReportError> {
    let write_error = |source| {
        ReportError::Write(rampart_report::SinkError::Io {
            path: out_dir.join(REPORT_DIR_MARKER).to_string(),
            source,
        })
    };
    fs_err::create_dir_all(out_dir).map_err(write_error)?;
    let marker = out_dir.join(REPORT_DIR_MARKER);
    if !marker.exists() {
        let text = format!(
            "{REPORT_DIR_MARKER_LINE}\nWritten by cargo-rampart-report {}. Reports here are replaced on every run; do not keep other files here.\n",
            env!("CARGO_PKG_VERSION")
        );
        fs_err::write(&marker, text).map_err(write_error)?;
    }
    Ok(())
}

/// Writes every file output `args.format` asks for, in the order given; returns one line per
/// output saying where it went (or why it was skipped).
pub fn write_outputs(
    report: &TestRunReport,
    args: &ReportArgs,
    out_dir: &Utf8Path,
    step_summary: Option<Utf8PathBuf>,
) -> Result<Vec<String>, ReportError> {
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
    let workspace = match find_workspace(args.manifest_path.as_deref()) {
        Ok(ws) => Some(ws),
        Err(e) if !explicit_inputs || args.manifest_path.is_some() => return Err(e),
        Err(_) => None,
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
        check_out_dir(&out_dir)?;
    }

    let mut looked = Vec::new();
    let junit_files = if !explicit_inputs {
        let ws = workspace.as_ref().expect("required without explicit inputs");
        looked.push(ws.root.join("target/nextest/*/*.xml").to_string());
        newest_junit(&ws.root).into_iter().collect()
    } else {
        args.junit.clone()
    };

    let mut inputs = rampart_report::load_inputs(&junit_files, &[], &args.run_id);
    let mut results_dirs = args.results.clone();
    if args.results.is_empty() {
        let dirs = rampart_dirs(workspace.as_ref());
        let mut run_ids: Vec<String> = inputs.junit.iter().filter_map(|r| r.run_id.clone()).collect();
        run_ids.extend(args.run_id.iter().cloned());
        run_ids.sort();
        run_ids.dedup();
        for run_id in &run_ids {
            let candidates: Vec<Utf8PathBuf> = dirs
                .iter()
                .map(|d| Utf8PathBuf::from_path_buf(run_dir(d.as_std_path(), run_id)).unwrap_or_default())
                .collect();
            looked.extend(candidates.iter().map(ToString::to_string));
            if let Some(found) = candidates.into_iter().find(|c| c.is_dir()) {
                results_dirs.push(found);
            }
        }
        if junit_files.is_empty() && run_ids.is_empty() {
            looked.extend(dirs.iter().map(|d| d.join(RUNS_SUBDIR).join("*").to_string()));
            results_dirs.extend(newest_run_dir(&dirs));
        }
    }
    if junit_files.is_empty() && results_dirs.is_empty() {
        return Err(ReportError::NothingFound { looked: looked.join(", ") });
    }

    let n_files: usize =
        results_dirs.iter().map(|d| rampart_report::sidecars::find_sidecar_files(d).len()).sum();
    if n_files >= 1000 {
        eprintln!("rampart-report: reading {n_files} sidecars...");
    }
    let limits = rampart_report::validate::Limits::new()
        .with_max_result_bytes(args.max_result_bytes)
        .with_max_sidecar_bytes(args.max_sidecar_bytes);
    for dir in &results_dirs {
        let (sidecars, problems) = rampart_report::sidecars::load_results_dir_with(dir, &limits);
        inputs.sidecars.extend(sidecars);
        inputs.problems.extend(problems);
    }
    inputs.results_dirs = results_dirs.iter().map(ToString::to_string).collect();

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
    let writes_files = args.format.iter().any(|f| match f {
        OutputFormat::Terminal => false,
        OutputFormat::Json => !args.no_json,
        _ => true,
    });
    if writes_files {
        mark_out_dir(&out_dir)?;
    }
    let notes = write_outputs(&report, args, &out_dir, step_summary)?;

    if args.format.contains(&OutputFormat::Terminal) {
        let color = color_enabled(args.color, std::io::stdout().is_terminal());
        print!("{}", terminal_summary(&report, TerminalOptions::new(color)));
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    // Last, so they are the final lines a CI log shows.
    for note in notes {
        eprintln!("rampart-report: {note}");
    }
    Ok(report.verdict.exit_code())
}
