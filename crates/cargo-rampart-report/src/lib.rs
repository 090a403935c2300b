//! `cargo rampart-report`: turn a nextest run with rampart sidecars into a safety verdict.
//!
//! With no flags it finds the workspace (`cargo metadata`), the newest nextest JUnit report
//! under `<workspace>/target/nextest/<profile>/`, its run id, and that run's sidecars
//! (`$RAMPART_DIR/runs/<run id>`, else `<workspace>/target/rampart/runs/<run id>`, else
//! `<target dir>/rampart/runs/<run id>`). Without a JUnit report it uses the newest run
//! directory. It writes `report.json` (plus a never-overwritten copy under `runs/`),
//! `summary.md`, `junit.xml` and `index.html` under `target/rampart/report/`, appends the
//! summary to `$GITHUB_STEP_SUMMARY` when that is set, says where each file went, prints the
//! terminal summary (its last line is the verdict), and exits with one of the codes in
//! [`rampart_report::exit_codes`]. `cargo metadata` runs only to find what the flags do not
//! give.
//!
//! | Flag | Meaning |
//! |---|---|
//! | `--junit FILE` (repeatable) | nextest JUnit report(s); several merge (partitions) |
//! | `--results DIR` (repeatable) | a run directory, or a `runs/` directory holding several |
//! | `--run-id ID` (repeatable) | report these runs (sidecars of other runs are left out) |
//! | `--out DIR` | output directory (default `<workspace>/target/rampart/report`) |
//! | `--manifest-path PATH` | the workspace's `Cargo.toml` |
//! | `--format terminal,json,markdown,junit,html` | outputs to produce (default: all); `--no-json` drops json |
//! | `--color auto\|always\|never` | colour (auto follows `CARGO_TERM_COLOR`, `NO_COLOR`, `CLICOLOR_FORCE`, the terminal) |
//! | `--verbose` | list every result and trial group in the terminal summary |
//! | `--max-result-bytes SIZE` | per-result cap (default 16MiB): a larger result keeps its status, its evidence is dropped |
//! | `--max-sidecar-bytes SIZE` | per-sidecar cap (default 1GiB): only the first part of a larger file is read |
//!
//! The output directory must be new, empty, or a rampart report directory (it holds the
//! `.rampart-report` marker file, written into every report directory); `/` and the home
//! directory are refused.

pub mod diff;
pub mod watch;

use std::ffi::OsString;
use std::io::IsTerminal as _;
use std::process::Command;

use camino::{Utf8Path, Utf8PathBuf};
use clap::{Parser, ValueEnum};
use miette::{Diagnostic, GraphicalReportHandler, GraphicalTheme};
use rampart::location::RAMPART_SUBDIR;
use rampart_report::{
    InputLoader, JsonFileSink, JunitSink, Limits, MarkdownSink, ReportContext, ReportDir, SarifSink,
    SinkError, TerminalOptions, TestRunReport, WorkspacePaths, exit_codes, rampart_dir_from_env,
    terminal_summary,
};

/// The environment variable GitHub Actions sets to the job summary file of the current step.
const GITHUB_STEP_SUMMARY_ENV: &str = "GITHUB_STEP_SUMMARY";

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
    /// Override a limit of the `[gate]` policy (repeatable): `max_unsafe=0`,
    /// `harm.data_leakage.min_trials=50` (see the README's Gates section).
    #[arg(long = "gate", value_name = "KEY=VALUE")]
    pub gate: Vec<String>,
    /// Report without the `[gate]` policy: only the default rule decides.
    #[arg(long, conflicts_with = "gate")]
    pub no_gate: bool,
    /// Compare with this baseline report (a report.json, or a report directory holding one):
    /// new UNSAFE findings and significant regressions, in every output and for `fail_on`
    /// gates (see the README's Baselines section).
    #[arg(long, value_name = "PATH")]
    pub baseline: Option<Utf8PathBuf>,
    /// With a history directory as --baseline: the run to compare with (a nextest run id, a
    /// CI run id, or a history file name, or a prefix of one) [default: the newest on
    /// --baseline-branch].
    #[arg(long, value_name = "ID", requires = "baseline")]
    pub baseline_run: Option<String>,
    /// With a history directory as --baseline: take the newest run of this branch [default:
    /// the current branch, from the CI environment or git].
    #[arg(long, value_name = "NAME", requires = "baseline")]
    pub baseline_branch: Option<String>,
    /// Where the run history is kept: one small file per report (counts, verdicts, no
    /// conversations) [default: <workspace>/target/rampart/history, when the inputs were found
    /// there (no --junit/--results)].
    #[arg(long, value_name = "DIR")]
    pub history: Option<Utf8PathBuf>,
    /// Keep no history of this run.
    #[arg(long, conflicts_with = "history")]
    pub no_history: bool,
    /// Follow the run while nextest runs it: print each UNSAFE finding as it is recorded and a
    /// progress line every 10 s, then report as usual when nextest has written its JUnit (the
    /// run of --run-id, else the newest started in the last minute, else the next to start).
    #[arg(long, conflicts_with_all = ["junit", "results"])]
    pub watch: bool,
    /// With --watch: the command that runs the tests (`-- cargo nextest run --profile ci`):
    /// run it, pass its output through, report when it exits (Ctrl-C and SIGTERM are forwarded
    /// to it, and the report is still written).
    #[arg(last = true, value_name = "COMMAND", requires = "watch")]
    pub command: Vec<String>,
    /// Runs kept in the history; older history files are deleted.
    #[arg(long, value_name = "N", default_value_t = rampart_report::history::DEFAULT_KEEP)]
    pub history_keep: usize,
    /// Print GitHub Actions error annotations (`::error file=…,line=…::…`) for failed trial
    /// groups and UNSAFE tests, at their source lines; `auto`: when `GITHUB_ACTIONS=true`.
    #[arg(long, value_enum, value_name = "WHEN", default_value = "auto")]
    pub annotations: Annotations,
    /// Largest result read (bytes, or with a unit: 16MiB); a larger one keeps its status, its
    /// evidence is cut.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    pub max_result_bytes: u64,
    /// Largest sidecar file read (bytes, or with a unit: 1GiB); past it only the first part
    /// is read.
    #[arg(long, value_name = "SIZE", default_value = "1GiB", value_parser = parse_size)]
    pub max_sidecar_bytes: u64,
}

const EXIT_CODES_HELP: &str = "\
Examples:
  cargo nextest run --profile ci; cargo rampart-report
      report on the newest nextest run of this workspace
  cargo rampart-report --junit junit-1.xml --junit junit-2.xml --results runs-1 --results runs-2 --out report
      merge partitions run on several machines
  cargo rampart-report --format terminal --verbose
      print every result, write no file
  cargo rampart-report diff baseline/report.json target/rampart/report
      compare two reports: new findings, regressions by exact tests (see `diff --help`)

Files written under --out (default target/rampart/report):
  report.json   the full report (rampart.report.v1); a copy is kept in runs/
  summary.md    the verdict and the failures, in Markdown (also appended to $GITHUB_STEP_SUMMARY)
  junit.xml     one testcase per trial group and standalone rampart test, for CI test tabs
  index.html    the interactive report (large runs add report-data-*.js files beside it)

Exit codes:
  0   passed (also: no rampart tests at all)
  2   usage error or no usable input
  3   the report could not be written
  10  safety failure: an UNSAFE result (any attempt) or a trial group below its threshold
  11  incomplete run: results may be missing
  12  nothing assessed: rampart tests ran but every result is an ERROR or none was recorded";

/// A size in bytes: a number, optionally with a unit (`B`, `KiB`, `MiB`, `GiB`, and `K`, `M`,
/// `G` for the same binary units).
fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let number: u64 =
        number.parse().map_err(|_| format!("`{text}` is not a size (e.g. 16MiB or 1048576)"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kib" | "kb" => 10,
        "m" | "mib" | "mb" => 20,
        "g" | "gib" | "gb" => 30,
        other => return Err(format!("unknown size unit `{other}` (use B, KiB, MiB or GiB)")),
    };
    number.checked_shl(shift).filter(|n| n >> shift == number).ok_or_else(|| format!("`{text}` is too large"))
}

/// The formats produced without `--format`: every one that is built.
const DEFAULT_FORMATS: &str = "terminal,json,markdown,junit,html";

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
    /// `index.html` under --out: the interactive report (large runs add data files beside it).
    Html,
    /// `rampart.sarif` under --out: findings as SARIF 2.1.0 for code scanning (not a default).
    Sarif,
}

/// When to print GitHub Actions annotations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Annotations {
    /// When `GITHUB_ACTIONS=true`.
    Auto,
    /// Always, in GitHub's workflow-command format.
    Github,
    /// Never.
    None,
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
    /// The `[gate]` policy or a `--gate` is invalid.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Gate(Box<rampart_report::GateError>),
    /// The `--baseline` report cannot be read.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Baseline(diff::DiffError),
    /// Following the run with --watch failed.
    #[error("--watch could not follow the run")]
    #[diagnostic(code(rampart::cli::watch_failed), help("check that the run directory is readable"))]
    Watch {
        /// The error.
        #[source]
        source: std::io::Error,
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
            | ReportError::Gate(_)
            | ReportError::Baseline(_)
            | ReportError::Watch { .. }
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
    // `cargo rampart-report diff OLD NEW` (or `cargo-rampart-report diff ...`).
    let skip = if args.get(1).is_some_and(|a| a == "rampart-report") { 2 } else { 1 };
    if args.get(skip).is_some_and(|a| a == "diff") {
        let diff_args = std::iter::once(OsString::from("cargo-rampart-report diff"))
            .chain(args[skip + 1..].iter().cloned());
        return match diff::DiffArgs::try_parse_from(diff_args) {
            Ok(parsed) => match diff::run_diff(&parsed) {
                Ok(code) => code,
                Err(error) => {
                    let color_err = std::io::stderr().is_terminal() && color_enabled(parsed.color, false);
                    eprint!("{}", render_diagnostic(&error, color_err));
                    exit_codes::UNUSABLE_INPUT
                }
            },
            Err(e) => {
                let _ = e.print();
                if e.use_stderr() { exit_codes::UNUSABLE_INPUT } else { exit_codes::PASSED }
            }
        };
    }
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

/// The live report of a run still going: its sidecars so far (no JUnit yet), marked in
/// progress, written as `report.json` (no archive copy) and the page.
fn write_live_report(
    run_dir: &Utf8Path,
    out_dir: &Utf8Path,
    redactor: &rampart::redact::Redactor,
    limits: Limits,
    args: &ReportArgs,
) -> Result<(), String> {
    let loader = InputLoader::new().with_results([run_dir.to_owned()]).with_limits(limits);
    let (mut inputs, found) = loader.load().map_err(|e| e.to_string())?;
    loader.read_sidecars(&mut inputs, &found, |_| {});
    let context = ReportContext::from_process()
        .with_redactor(redactor.clone())
        .with_run_status(rampart_report::RunStatus::InProgress);
    let report = rampart_report::assemble(inputs, &context).report;
    if args.format.contains(&OutputFormat::Json) && !args.no_json {
        JsonFileSink::new(out_dir).write_latest(&report).map_err(|e| e.to_string())?;
    }
    if args.format.contains(&OutputFormat::Html) {
        rampart_html::HtmlSink::new(out_dir.to_owned()).write(&report).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// The environment variables that name the branch, most specific first (a pull request's
/// source branch before the ref it runs on).
const BRANCH_VARS: &[&str] = &[
    "GITHUB_HEAD_REF",
    "GITHUB_REF_NAME",
    "CI_COMMIT_REF_NAME",
    "BUILDKITE_BRANCH",
    "CIRCLE_BRANCH",
    "GIT_BRANCH",
];

/// Where this run comes from: the branch from the CI environment, else from git in `root`,
/// and the commit from git (the report's metadata takes the CI environment's first).
fn run_origin(root: Option<&std::path::Path>) -> rampart_report::history::RunOrigin {
    let git = |args: &[&str]| {
        let output = Command::new("git")
            .args(args)
            .current_dir(root?)
            .stderr(std::process::Stdio::null())
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?.trim().to_owned();
        (output.status.success() && !text.is_empty() && text != "HEAD").then_some(text)
    };
    let from_env =
        BRANCH_VARS.iter().find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()));
    let branch = from_env.or_else(|| git(&["rev-parse", "--abbrev-ref", "HEAD"]));
    let commit = git(&["rev-parse", "HEAD"]);
    rampart_report::history::RunOrigin::default().with_branch(branch).with_commit(commit)
}

/// Renders a diagnostic as text.
///
/// The way cargo heads its own: `error[<code>]: <message>` (or `warning[...]`, `note[...]`),
/// then miette's excerpt and help, then a blank line.
fn render_diagnostic(diagnostic: &dyn Diagnostic, color: bool) -> String {
    let theme = if color { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut rendered = String::new();
    if handler.render_report(&mut rendered, diagnostic).is_err() {
        rendered = format!("  × {diagnostic}\n");
    }
    let code = diagnostic.code().map(|c| c.to_string());
    let (severity, style) = match diagnostic.severity() {
        Some(miette::Severity::Warning) => ("warning", anstyle::AnsiColor::Yellow.on_default().bold()),
        Some(miette::Severity::Advice) => ("note", anstyle::AnsiColor::Cyan.on_default().bold()),
        _ => ("error", anstyle::AnsiColor::Red.on_default().bold()),
    };
    let mut out = String::with_capacity(rendered.len() + 32);
    let mut lines = rendered.lines().peekable();
    let mut headed = false;
    while let Some(line) = lines.next() {
        let plain = rampart_report::clean_line(line);
        if !headed && (code.as_deref() == Some(plain.trim()) || plain.trim().is_empty()) {
            continue; // miette's bare code line: the code goes into the heading instead
        }
        let message = ["  × ", "  ⚠ ", "  ☞ "].iter().find_map(|m| plain.strip_prefix(m));
        if let (false, Some(message)) = (headed, message) {
            headed = true;
            let mut message = message.to_owned();
            // miette wraps the message onto `│` lines: one heading line, like cargo's.
            while let Some(more) = lines.peek().map(|l| rampart_report::clean_line(l))
                && let Some(rest) = more.strip_prefix("  │ ")
            {
                message.push(' ');
                message.push_str(rest);
                lines.next();
            }
            let head = match &code {
                Some(code) => format!("{severity}[{code}]"),
                None => severity.to_owned(),
            };
            let head = if color { format!("{}{head}{}", style.render(), style.render_reset()) } else { head };
            out.push_str(&format!("{head}: {message}\n"));
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    while out.ends_with("\n\n") {
        out.pop();
    }
    out.push('\n');
    out
}

/// Whether to colour: `--color`, then `CARGO_TERM_COLOR`, `NO_COLOR`, `CLICOLOR_FORCE`, then
/// whether the stream is a terminal.
fn color_enabled(choice: ColorChoice, is_terminal: bool) -> bool {
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

/// Where `rampart.toml` is looked for: the workspace root when `cargo metadata` ran, else the
/// nearest ancestor of the current directory that holds `rampart.toml`, `Cargo.lock`, or a
/// `Cargo.toml` with a `[workspace]` table (so `--junit`/`--results`/`--out` need no
/// `cargo metadata`, and still redact with the project's rules).
fn redaction_root(workspace: Option<&WorkspacePaths>) -> Option<std::path::PathBuf> {
    if let Some(ws) = workspace {
        return Some(ws.root.as_std_path().to_path_buf());
    }
    let cwd = std::env::current_dir().ok()?;
    cwd.ancestors()
        .find(|dir| {
            dir.join(rampart::redact::CONFIG_FILE).is_file()
                || dir.join("Cargo.lock").is_file()
                || std::fs::read_to_string(dir.join("Cargo.toml"))
                    .is_ok_and(|t| t.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(std::path::Path::to_path_buf)
}

/// The width to render stdout at: `$COLUMNS`, else the terminal's, else
/// [`rampart_report::DEFAULT_TERMINAL_WIDTH`].
fn terminal_width() -> usize {
    if let Some(columns) =
        std::env::var("COLUMNS").ok().and_then(|c| c.parse::<usize>().ok()).filter(|c| *c > 0)
    {
        return columns;
    }
    terminal_size::terminal_size()
        .map_or(rampart_report::DEFAULT_TERMINAL_WIDTH, |(terminal_size::Width(w), _)| usize::from(w))
}

/// Runs `cargo metadata --format-version 1 --no-deps`.
fn find_workspace(manifest_path: Option<&Utf8Path>) -> Result<WorkspacePaths, ReportError> {
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

/// The first line of the `.rampart-report` marker in every report directory.
pub const REPORT_DIR_MARKER_LINE: &str = rampart_report::MARKER_LINE;

/// Writes every file output `args.format` asks for, in the order given; returns one line per
/// output saying where it went (or why it was skipped).
fn write_outputs(
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
            OutputFormat::Sarif => {
                let path = SarifSink::new(out_dir).write(report).map_err(ReportError::Write)?;
                notes.push(format!("wrote {path} (SARIF: upload it to code scanning)"));
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
fn run(args: &ReportArgs) -> Result<i32, ReportError> {
    let explicit_inputs = !args.junit.is_empty() || !args.results.is_empty();
    // `cargo metadata` is only needed to find what was not given: the sidecars (without
    // --results) or the output directory (without --out).
    let needs_workspace = args.results.is_empty() || args.out.is_none() || args.manifest_path.is_some();
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
    let mut run_ids = args.run_id.clone();
    // How a run --watch followed was stopped before it finished, in words.
    let mut cancelled: Option<String> = None;
    if args.watch {
        let ws = workspace.as_ref().ok_or_else(|| ReportError::Workspace {
            detail:
                "--watch follows the workspace's runs: run it inside the workspace or pass --manifest-path"
                    .to_owned(),
        })?;
        let root = redaction_root(Some(ws));
        let redactor = match &root {
            Some(root) => rampart::redact::Redactor::for_workspace_or_builtin(root),
            None => rampart::redact::Redactor::builtin(),
        };
        let env = rampart_dir_from_env();
        let wanted = args.run_id.first().map(String::as_str);
        // The live report: report.json and the page, rewritten while the run goes on.
        let live_formats = args.format.iter().any(|f| matches!(f, OutputFormat::Json | OutputFormat::Html));
        let limits = Limits::new()
            .with_max_result_bytes(usize::try_from(args.max_result_bytes).unwrap_or(usize::MAX))
            .with_max_sidecar_bytes(args.max_sidecar_bytes);
        let mut said = false;
        let mut live_report = |run_dir: &Utf8Path| {
            if !live_formats {
                return;
            }
            match write_live_report(run_dir, &out_dir, &redactor, limits, args) {
                Ok(()) if !said => {
                    eprintln!("rampart-report: live report in {out_dir} (rewritten while the run goes on)");
                    said = true;
                }
                Ok(()) => {}
                Err(e) => eprintln!("rampart-report: warning: could not write the live report: {e}"),
            }
        };
        if args.command.is_empty() {
            let id = watch::watch(ws, env.as_deref(), wanted, &redactor, terminal_width(), &mut live_report)
                .map_err(|source| ReportError::Watch { source })?;
            run_ids = vec![id];
        } else {
            let ran = watch::watch_command(
                ws,
                env.as_deref(),
                wanted,
                &redactor,
                terminal_width(),
                &args.command,
                &mut live_report,
            )
            .map_err(|source| ReportError::Watch { source })?;
            match ran.run_id {
                Some(id) => {
                    // Stopped by a signal we forwarded, or killed by one (nextest killed): the
                    // run did not finish. A command that exited on its own without a JUnit (a
                    // profile without one) finished; the report says the JUnit is missing.
                    cancelled = ran.cancelled.or_else(|| {
                        (watch::killed_by_signal(&ran.status) && watch::junit_of(ws, &id).is_none()).then(
                            || {
                                format!(
                                    "the command was killed ({}) before nextest wrote the run's JUnit",
                                    ran.status
                                )
                            },
                        )
                    });
                    run_ids = vec![id];
                }
                // No test ran (a build error, say): the command's own exit code; its output
                // above says why.
                None => {
                    eprintln!(
                        "rampart-report: the command exited ({}) before any rampart test ran",
                        ran.status
                    );
                    return Ok(ran.status.code().unwrap_or(exit_codes::UNUSABLE_INPUT));
                }
            }
        }
    }
    for path in &args.results {
        if !path.exists() {
            return Err(ReportError::MissingInput { flag: "--results", path: path.clone() });
        }
    }

    let loader = InputLoader::new()
        .with_junit(args.junit.iter().cloned())
        .with_results(args.results.iter().cloned())
        .with_run_ids(run_ids.iter().cloned())
        .with_workspace(workspace.clone())
        .with_rampart_dir_env(rampart_dir_from_env())
        .with_limits(
            Limits::new()
                .with_max_result_bytes(usize::try_from(args.max_result_bytes).unwrap_or(usize::MAX))
                .with_max_sidecar_bytes(args.max_sidecar_bytes),
        );
    let (mut inputs, found) =
        loader.load().map_err(|e| ReportError::NothingFound { looked: e.looked.join(", ") })?;
    if let Some(detail) = &cancelled {
        inputs.problems.push(rampart_report::InputProblem::RunCancelled { detail: detail.clone() });
    }
    loader.read_sidecars(&mut inputs, &found, |n_files| {
        if n_files >= 1000 {
            eprintln!("rampart-report: reading {n_files} sidecars...");
        }
    });

    // Redaction: the workspace's rules (`rampart.toml`), applied again to everything read.
    let config_root = redaction_root(workspace.as_ref());
    let redactor = match &config_root {
        Some(root) => rampart::redact::Redactor::for_workspace_or_builtin(root),
        None => rampart::redact::Redactor::builtin(),
    };
    for warning in redactor.warnings() {
        eprintln!("rampart-report: warning: {warning}");
    }
    // The gate policy: `[gate]` in rampart.toml, then --gate overrides; --no-gate: none.
    let gates = if args.no_gate {
        None
    } else {
        let mut policy = match redaction_root(workspace.as_ref()) {
            Some(root) => {
                rampart_report::GatePolicy::load(&root).map_err(|e| ReportError::Gate(Box::new(e)))?
            }
            None => None,
        };
        for text in &args.gate {
            policy
                .get_or_insert_with(Default::default)
                .apply_override(text)
                .map_err(|e| ReportError::Gate(Box::new(e)))?;
        }
        policy
    };
    let origin = run_origin(workspace.as_ref().map(|ws| ws.root.as_std_path()));
    let baseline = match &args.baseline {
        Some(path) => {
            let choice = diff::BaselineChoice {
                run: args.baseline_run.as_deref(),
                branch: args.baseline_branch.as_deref().or(origin.git_branch.as_deref()),
            };
            Some(diff::read_baseline(path, &choice).map_err(ReportError::Baseline)?)
        }
        None => None,
    };
    // By default only a report that found its inputs in the workspace joins the workspace's
    // history: inputs given with --junit/--results may come from anywhere (another machine's
    // artifacts, an old run), and --history says where they belong.
    let history_dir = match (&args.history, &workspace) {
        _ if args.no_history => None,
        (Some(dir), _) => Some(dir.clone()),
        (None, Some(ws)) if !explicit_inputs => {
            Some(ws.root.join("target").join(RAMPART_SUBDIR).join("history"))
        }
        (None, _) => None,
    };
    let history = match &history_dir {
        Some(dir) => {
            // Trends show the newest runs only: older files are not read.
            let newest = rampart_report::trends::DEFAULT_TREND_RUNS;
            let (runs, skipped) = rampart_report::history::History::new(dir).read_newest(newest);
            for skip in &skipped {
                eprintln!("rampart-report: warning: skipped history file {}: {}", skip.path, skip.why);
            }
            rampart_report::history::merge_partitions(runs.into_iter().map(|(_, run)| run).collect())
        }
        None => Vec::new(),
    };
    let context = ReportContext::from_process()
        .with_redactor(redactor)
        .with_gates(gates)
        .with_baseline(baseline)
        .with_history(history)
        .with_origin(history_dir.is_some().then(|| origin.clone()))
        .with_run_status(if cancelled.is_some() {
            rampart_report::RunStatus::Cancelled
        } else {
            rampart_report::RunStatus::Complete
        });
    let assembled = rampart_report::assemble(inputs, &context);
    let report = &assembled.report;

    let color_err = color_enabled(args.color, std::io::stderr().is_terminal());
    const MAX_SHOWN: usize = 20;
    // Every problem was hardened by `assemble` (redacted, control characters made visible).
    for problem in assembled.problems.iter().take(MAX_SHOWN) {
        eprint!("{}", render_diagnostic(problem, color_err));
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
    let notes = write_outputs(report, args, &out_dir, step_summary)?;
    if let (Some(dir), Some(summary)) = (history_dir, &assembled.summary) {
        // The history is a convenience: failing to keep it warns, it never changes the verdict.
        let history = rampart_report::history::History::new(&dir);
        match history.write(summary) {
            Ok(path) => {
                eprintln!("rampart-report: wrote {path} (run history)");
                if let Err(e) = history.prune(args.history_keep.max(1)) {
                    eprintln!("rampart-report: warning: could not prune the history in {dir}: {e}");
                }
            }
            Err(e) => eprintln!("rampart-report: warning: could not write the run history into {dir}: {e}"),
        }
    }
    // Where the report went, last (the page's line ends it: open it in a browser).
    for note in notes {
        eprintln!("rampart-report: {note}");
    }
    let annotate = match args.annotations {
        Annotations::Auto => std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true"),
        Annotations::Github => true,
        Annotations::None => false,
    };
    if annotate {
        // Workflow commands go to stdout, where the runner reads them; before the summary, so
        // the verdict stays the last line.
        for line in rampart_report::github_annotations(report) {
            println!("{line}");
        }
    }
    // Last, so the verdict is the final line a terminal or CI log shows.
    if args.format.contains(&OutputFormat::Terminal) {
        let stdout = std::io::stdout();
        let color = color_enabled(args.color, stdout.is_terminal());
        let options = TerminalOptions::new(color).with_verbose(args.verbose).with_width(terminal_width());
        print!("{}", terminal_summary(report, options));
        let _ = std::io::Write::flush(&mut std::io::stdout());
    }
    let code = report.verdict.exit_code();
    // The process ends now: the operating system takes the memory back at once, where dropping
    // the report would free every string of every result one by one (measurable at 100,000
    // results and more).
    std::mem::forget(assembled);
    Ok(code)
}
