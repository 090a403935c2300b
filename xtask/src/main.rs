//! Project automation: `cargo xtask <task>`.
//!
//! - `demo`: run the demo red-team suite under nextest, then `cargo rampart-report` on it.
//! - `test`: everything CI checks: generated files, doctests, then the whole suite under nextest.
//! - `codegen [--check]`: regenerate the committed JSON Schemas (or fail when they are stale).
//! - `fuzz --smoke [--seconds N]`: run each fuzz target for a fixed time (not part of `test`).
//! - `bench report [ARGS...]`: the report benchmark (release build of `rampart-bench` and
//!   `cargo-rampart-report`, synthetic runs, the floor, interleaved runs, peak RSS);
//!   `bench history [ARGS...]`: what reading a run history and a baseline adds to the report.
//! - `screenshot`: render the demo's HTML report in headless Chromium into `docs/report.png`.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

mod codegen;
mod fuzz;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  demo [ARGS...]     run the demo red-team suite (fixtures/demo) under `cargo nextest run --profile ci`,
                     then `cargo rampart-report` on it; ARGS go to nextest (e.g. --stress-count 2)
  test               check generated files, run doctests, then run every test under nextest
  codegen [--check]  regenerate the JSON Schemas of the wire formats; --check fails if they are stale
  fuzz --smoke [--seconds N]
                     run each fuzz target in fuzz/ for N seconds (default 60), print iteration counts
  bench report [--sizes 10k,100k,1m] [--ordinary 100k|none] [--runs 3]
  bench history [--groups 10k] [--history-runs 100] [--runs 3]
                     time `cargo rampart-report` (--format json, and all outputs) against its floor on
                     synthetic runs generated under target/bench-report/ (reused when present);
                     prints medians, ratios, peak RSS and a Markdown table for the README;
                     history: the report on a suite of --groups trial groups alone, and reading a
                     --history-runs history for trends and --baseline
  screenshot         re-render the demo's report (runs `demo` first when the demo has no results yet),
                     open it in headless Chromium at 1200x960 and write docs/report.png (the README's picture)
";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("demo") => demo(&args[1..]),
        Some("test") => test(),
        Some("fuzz") => fuzz::run(&args[1..]),
        Some("screenshot") => screenshot(),
        Some("bench") => match args.get(1).map(String::as_str) {
            Some(which @ ("report" | "history")) => bench_report(which, &args[2..]),
            _ => Err(format!("usage: cargo xtask bench report|history [ARGS...]\n\n{USAGE}")),
        },
        Some("codegen") => match args.get(1).map(String::as_str) {
            None => codegen::run(&workspace_root(), codegen::Mode::Write),
            Some("--check") => codegen::run(&workspace_root(), codegen::Mode::Check),
            Some(other) => Err(format!("unknown codegen flag `{other}`\n\n{USAGE}")),
        },
        Some("-h" | "--help" | "help") => {
            print!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        Some(other) => Err(format!("unknown task `{other}`\n\n{USAGE}")),
        None => Err(USAGE.to_owned()),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("xtask: error: {message}");
            ExitCode::from(2)
        }
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_path_buf()
}

/// `cargo xtask bench report`: builds the driver and the CLI in release mode, then runs the
/// driver (crates/rampart-bench) with the generated inputs under `target/bench-report/`.
fn bench_report(which: &str, args: &[String]) -> Result<ExitCode, String> {
    let root = workspace_root();
    run_ok(cargo().current_dir(&root).args([
        "build",
        "--release",
        "--locked",
        "-p",
        "rampart-bench",
        "-p",
        "cargo-rampart-report",
    ]))?;
    let release = root.join("target").join("release");
    let status = run(Command::new(release.join("rampart-bench"))
        .arg(which)
        .arg("--cli")
        .arg(release.join("cargo-rampart-report"))
        .arg("--work")
        .arg(root.join("target").join("bench-report"))
        .args(args))?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

fn cargo() -> Command {
    Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()))
}

fn run(command: &mut Command) -> Result<std::process::ExitStatus, String> {
    eprintln!("xtask: running {command:?}");
    command.status().map_err(|e| format!("could not start {command:?}: {e}"))
}

fn run_ok(command: &mut Command) -> Result<(), String> {
    let status = run(command)?;
    if status.success() { Ok(()) } else { Err(format!("{command:?} failed with {status}")) }
}

/// Installs cargo-nextest with `cargo install --locked` when `cargo nextest` is missing.
fn ensure_nextest() -> Result<(), String> {
    let present = cargo()
        .args(["nextest", "--version"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    eprintln!(
        "xtask: cargo-nextest is not installed; installing it with `cargo install --locked cargo-nextest`"
    );
    run_ok(cargo().args(["install", "--locked", "cargo-nextest"]))
}

/// Installs Debian's Chromium and ChromeDriver for the HTML report's browser tests when they are
/// missing and this is a root shell with apt-get; otherwise says how, and the browser tests skip
/// (outside CI) or fail (in CI).
fn ensure_chromium() -> Result<(), String> {
    let have = |path: &str| Path::new(path).exists();
    if have("/usr/bin/chromium") && have("/usr/bin/chromedriver") {
        return Ok(());
    }
    let is_root = Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    if !(is_root && have("/usr/bin/apt-get")) {
        eprintln!(
            "xtask: warning: Chromium and ChromeDriver are missing; the HTML report's browser tests will be \
             skipped. Install them with: sudo apt-get install chromium chromium-driver"
        );
        return Ok(());
    }
    eprintln!(
        "xtask: installing Chromium and ChromeDriver for the browser tests (apt-get install chromium chromium-driver)"
    );
    run_ok(Command::new("apt-get").args(["update", "-qq"]))?;
    run_ok(
        Command::new("apt-get")
            .args([
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "chromium",
                "chromium-driver",
                "fonts-liberation",
            ])
            .env("DEBIAN_FRONTEND", "noninteractive"),
    )
}

fn test() -> Result<ExitCode, String> {
    let root = workspace_root();
    ensure_nextest()?;
    ensure_chromium()?;
    codegen::run(&root, codegen::Mode::Check)?;
    // nextest does not run doctests.
    run_ok(cargo().current_dir(&root).args(["test", "--doc", "--workspace", "--locked"]))?;
    // Last, so its summary line closes the output.
    run_ok(cargo().current_dir(&root).args([
        "nextest",
        "run",
        "--workspace",
        "--locked",
        "--profile",
        "ci",
    ]))?;
    Ok(ExitCode::SUCCESS)
}

fn demo(nextest_args: &[String]) -> Result<ExitCode, String> {
    let root = workspace_root();
    let demo_dir = root.join("fixtures").join("demo");
    ensure_nextest()?;
    let manifest = demo_dir.join("Cargo.toml");
    let status = run(cargo()
        .current_dir(&demo_dir)
        .args(["nextest", "run", "--profile", "ci", "--manifest-path"])
        .arg(&manifest)
        .args(nextest_args))?;
    // The demo has intentional safety findings and failing tests: nextest exits 100 for
    // them. Anything else (a build failure, 101) means there is nothing to report on.
    match status.code() {
        Some(0 | 100) => {}
        _ => return Err(format!("the demo suite did not run ({status}); see the output above")),
    }
    let report_crate = root.join("crates").join("cargo-rampart-report");
    if !report_crate.join("Cargo.toml").is_file() {
        eprintln!(
            "xtask: the report command is not built yet; the demo's sidecars are in {}",
            demo_dir.join("target/rampart/runs").display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let status = run(cargo()
        .current_dir(&root)
        .args(["run", "--locked", "--package", "cargo-rampart-report", "--", "rampart-report"])
        .arg("--manifest-path")
        .arg(&manifest))?;
    // Pass the report's exit code through: the demo is expected to exit with the
    // safety-failure code.
    Ok(ExitCode::from(status.code().and_then(|c| u8::try_from(c).ok()).unwrap_or(1)))
}

/// `docs/report.png`: the demo's HTML report as a reader first sees it, in light mode, at
/// 1200x960. The report is re-rendered from the demo's last run (so the picture shows the
/// current page), after running the demo when it has no results yet.
fn screenshot() -> Result<ExitCode, String> {
    let root = workspace_root();
    let demo_dir = root.join("fixtures").join("demo");
    let index = demo_dir.join("target/rampart/report/index.html");
    if demo_dir.join("target/rampart/runs").is_dir() {
        // The report step of `demo` only, the page only: its exit code is the demo's verdict
        // (10), not a failure.
        let status = run(cargo()
            .current_dir(&root)
            .args([
                "run",
                "--locked",
                "--package",
                "cargo-rampart-report",
                "--",
                "rampart-report",
                "--format",
                "html",
            ])
            .arg("--manifest-path")
            .arg(demo_dir.join("Cargo.toml")))?;
        if !matches!(status.code(), Some(0 | 10 | 11 | 12)) {
            return Err(format!("cargo rampart-report on the demo failed ({status}); see the output above"));
        }
    } else {
        eprintln!("xtask: the demo has not run yet: running `cargo xtask demo` first");
        demo(&[])?;
    }
    if !index.is_file() {
        return Err(format!("no demo report at {}: run `cargo xtask demo` first", index.display()));
    }
    let chromium = std::env::var_os("RAMPART_CHROMIUM")
        .map(PathBuf::from)
        .or_else(|| {
            ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"]
                .iter()
                .map(PathBuf::from)
                .find(|p| p.is_file())
        })
        .ok_or("Chromium is missing: install it with `apt-get install chromium` (or set RAMPART_CHROMIUM)")?;
    let out = root.join("docs").join("report.png");
    let profile = std::env::temp_dir().join(format!("rampart-xtask-screenshot-{}", std::process::id()));
    let status = run(Command::new(&chromium)
        .args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            // Light mode whatever the machine prefers (0 would be dark).
            "--blink-settings=preferredColorScheme=1",
            "--window-size=1200,960",
            "--virtual-time-budget=5000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("file://{}", index.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null()));
    let _ = std::fs::remove_dir_all(&profile);
    let status = status?;
    let size = std::fs::metadata(&out).map(|m| m.len()).unwrap_or(0);
    if !status.success() || size == 0 {
        return Err(format!("{} did not write {} ({status})", chromium.display(), out.display()));
    }
    eprintln!("xtask: wrote {} ({} KiB)", out.display(), size / 1024);
    if size > 400 * 1024 {
        eprintln!(
            "xtask: warning: {} is over 400 KiB; the README's picture should stay small",
            out.display()
        );
    }
    Ok(ExitCode::SUCCESS)
}
