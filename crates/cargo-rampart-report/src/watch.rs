//! `cargo rampart-report --watch`: follow a run while nextest runs it, print each UNSAFE
//! finding as it is recorded and a progress line every 10 seconds, then, when nextest has
//! written the run's JUnit, report exactly as `cargo rampart-report` would.
//!
//! `cargo rampart-report --watch -- cargo nextest run ...` runs the command itself (its output
//! passes through), follows the run it starts, and reports when it exits. Ctrl-C and SIGTERM
//! are forwarded to it, and the report is still written from what was recorded.
//!
//! The run is `--run-id`'s, else the newest run directory started at most a minute before the
//! watch (so it can start beside `cargo nextest run`), else the first one to appear. The
//! sidecars are followed by polling every half second ([`rampart_report::watch::LiveRun`]:
//! each byte read once), which works on every file system, network ones and containers
//! included.

use std::time::{Duration, Instant, SystemTime};

use camino::{Utf8Path, Utf8PathBuf};
use rampart::redact::Redactor;
use rampart_report::WorkspacePaths;
use rampart_report::watch::{LiveEvent, LiveRun};

/// How often the run directory is polled.
const POLL: Duration = Duration::from_millis(500);
/// How often a progress line is printed.
const PROGRESS_EVERY: Duration = Duration::from_secs(10);
/// How far before the watch a run may have started and still be the one watched.
const STARTED_BESIDE: Duration = Duration::from_secs(60);
/// How often the live report is rewritten at most (and never more than a tenth of the time).
const LIVE_EVERY: Duration = Duration::from_secs(5);

/// Writes the live report of a run directory (`report.json` and the page, marked in progress).
pub type LiveReport<'a> = dyn FnMut(&Utf8Path) + 'a;

/// When the live report is rewritten: when something changed, at most every [`LIVE_EVERY`],
/// and at most a tenth of the time (a slow rewrite waits ten times its own length).
#[derive(Default)]
struct LiveSchedule {
    last: Option<(Instant, Duration)>,
    seen: Option<rampart_report::watch::LiveSummary>,
}

impl LiveSchedule {
    fn maybe_write(&mut self, live: &LiveRun, write: &mut LiveReport<'_>) {
        let summary = live.summary();
        if self.seen.as_ref() == Some(summary) || summary.attempts == 0 {
            return;
        }
        if let Some((at, cost)) = self.last
            && at.elapsed() < LIVE_EVERY.max(cost * 10)
        {
            return;
        }
        let started = Instant::now();
        if let Some(dir) = Utf8Path::from_path(live.dir()) {
            write(dir);
        }
        self.last = Some((started, started.elapsed()));
        self.seen = Some(summary.clone());
    }
}

/// Follows a run until its JUnit appears; returns its run id.
pub fn watch(
    workspace: &WorkspacePaths,
    rampart_dir_env: Option<&Utf8Path>,
    run_id: Option<&str>,
    redactor: &Redactor,
    width: usize,
    live_report: &mut LiveReport<'_>,
) -> std::io::Result<String> {
    let started = SystemTime::now();
    let runs = runs_dirs(workspace, rampart_dir_env);
    let mut said_waiting = false;
    let run_dir = loop {
        if let Some(dir) = find_run(&runs, run_id, started) {
            break dir;
        }
        if !said_waiting {
            let place = runs.first().map_or_else(String::new, |r| r.to_string());
            eprintln!(
                "rampart-report: waiting for {} under {place} (start `cargo nextest run`)",
                run_id.map_or_else(|| "a run".to_owned(), |id| format!("run {id}"))
            );
            said_waiting = true;
        }
        std::thread::sleep(POLL);
    };
    let id = run_dir.file_name().unwrap_or_default().to_owned();
    eprintln!("rampart-report: watching run {id} ({run_dir})");
    let mut live = LiveRun::new(run_dir.as_std_path());
    let mut last_progress = Instant::now();
    let mut schedule = LiveSchedule::default();
    loop {
        // The JUnit is written when nextest is done: read what the sidecars hold by then.
        let done = junit_of(workspace, &id);
        print_events(&mut live, redactor, width)?;
        if done.is_none() {
            schedule.maybe_write(&live, live_report);
        }
        if done.is_some() {
            println!(
                "rampart-report: run {id} finished; seen live (every attempt): {}",
                live.summary().progress_line()
            );
            return Ok(id);
        }
        if last_progress.elapsed() >= PROGRESS_EVERY {
            println!("rampart-report: {}", live.summary().progress_line());
            last_progress = Instant::now();
        }
        std::thread::sleep(POLL);
    }
}

fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width.max(20) {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.max(20) - 1).collect();
    out.push('…');
    out
}

/// The run directory to follow: `run_id`'s, else the newest started at most
/// [`STARTED_BESIDE`] before `started`.
fn find_run(runs: &[Utf8PathBuf], run_id: Option<&str>, started: SystemTime) -> Option<Utf8PathBuf> {
    if let Some(id) = run_id {
        return runs.iter().map(|r| r.join(id)).find(|d| d.is_dir());
    }
    let since = started.checked_sub(STARTED_BESIDE).unwrap_or(SystemTime::UNIX_EPOCH);
    let mut newest: Option<(SystemTime, Utf8PathBuf)> = None;
    for runs_dir in runs {
        let Ok(entries) = runs_dir.read_dir_utf8() else { continue };
        for entry in entries.flatten() {
            let Ok(meta) = entry.metadata() else { continue };
            let Ok(created) = meta.created().or_else(|_| meta.modified()) else { continue };
            if meta.is_dir() && created >= since && newest.as_ref().is_none_or(|(t, _)| created > *t) {
                newest = Some((created, entry.path().to_owned()));
            }
        }
    }
    newest.map(|(_, d)| d)
}

/// The JUnit file nextest wrote for `run_id` (under `target/nextest/<profile>/`, holding the
/// run id), once it exists.
pub fn junit_of(workspace: &WorkspacePaths, run_id: &str) -> Option<Utf8PathBuf> {
    let needle = format!("uuid=\"{run_id}\"");
    workspace.junit_files().into_iter().map(|(_, path)| path).find(|path| {
        let mut head = vec![0; 64 * 1024];
        std::fs::File::open(path)
            .and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            .is_ok_and(|n| String::from_utf8_lossy(&head[..n]).contains(&needle))
    })
}

/// What following a command's run found.
#[derive(Debug)]
pub struct CommandRun {
    /// The run's id, when a run directory appeared.
    pub run_id: Option<String>,
    /// How the command exited.
    pub status: std::process::ExitStatus,
    /// The termination signal (Ctrl-C, SIGTERM) that arrived and was forwarded, in words.
    pub cancelled: Option<String>,
}

/// Runs `command`, following the run it starts until it exits.
pub fn watch_command(
    workspace: &WorkspacePaths,
    rampart_dir_env: Option<&Utf8Path>,
    run_id: Option<&str>,
    redactor: &Redactor,
    width: usize,
    command: &[String],
    live_report: &mut LiveReport<'_>,
) -> std::io::Result<CommandRun> {
    let started = SystemTime::now();
    let signals = Signals::register()?;
    let (program, args) =
        command.split_first().ok_or_else(|| std::io::Error::other("no command after --"))?;
    let mut child = std::process::Command::new(program).args(args).spawn()?;
    let runs = runs_dirs(workspace, rampart_dir_env);
    let mut live: Option<LiveRun> = None;
    let mut last_progress = Instant::now();
    let mut cancelled: Option<String> = None;
    let mut schedule = LiveSchedule::default();
    loop {
        if let Some(signal) = signals.take() {
            cancelled = Some(format!("{signal} received"));
            eprintln!(
                "rampart-report: {signal} received: stopping the command, then reporting what was recorded"
            );
            forward(&child, &signal);
        }
        let exited = child.try_wait()?;
        if live.is_none()
            && let Some(dir) = find_run(&runs, run_id, started)
        {
            eprintln!("rampart-report: watching run {} ({dir})", dir.file_name().unwrap_or_default());
            live = Some(LiveRun::new(dir.as_std_path()));
        }
        if let Some(live) = &mut live {
            print_events(live, redactor, width)?;
            if exited.is_none() {
                schedule.maybe_write(live, live_report);
            }
            if last_progress.elapsed() >= PROGRESS_EVERY && exited.is_none() {
                println!("rampart-report: {}", live.summary().progress_line());
                last_progress = Instant::now();
            }
        }
        if let Some(status) = exited {
            let run_id =
                live.as_ref().and_then(|l| l.dir().file_name()).map(|n| n.to_string_lossy().into_owned());
            if let Some(live) = &live {
                println!(
                    "rampart-report: run {} {}; seen live (every attempt): {}",
                    run_id.as_deref().unwrap_or("?"),
                    if cancelled.is_some() { "cancelled" } else { "finished" },
                    live.summary().progress_line()
                );
            }
            return Ok(CommandRun { run_id, status, cancelled });
        }
        std::thread::sleep(POLL);
    }
}

fn print_events(live: &mut LiveRun, redactor: &Redactor, width: usize) -> std::io::Result<()> {
    for event in live.poll(redactor)? {
        let line = match event {
            LiveEvent::Unsafe { test, evidence } => format!("UNSAFE        {test} — {evidence}"),
            LiveEvent::GroupFailed { group } => format!("FAILED        {group} (an UNSAFE trial)"),
            other => format!("{other:?}"),
        };
        println!("{}", cut(&line, width));
    }
    Ok(())
}

fn runs_dirs(workspace: &WorkspacePaths, rampart_dir_env: Option<&Utf8Path>) -> Vec<Utf8PathBuf> {
    workspace
        .rampart_dirs(rampart_dir_env)
        .into_iter()
        .map(|d| d.join(rampart::location::RUNS_SUBDIR))
        .collect()
}

/// Termination signals, caught so the report is still written.
struct Signals {
    #[cfg(unix)]
    flags: Vec<(i32, &'static str, std::sync::Arc<std::sync::atomic::AtomicBool>)>,
}

impl Signals {
    #[cfg(unix)]
    fn register() -> std::io::Result<Signals> {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let mut flags = Vec::new();
        for (signal, name) in [(SIGINT, "Ctrl-C (SIGINT)"), (SIGTERM, "SIGTERM")] {
            let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            signal_hook::flag::register(signal, flag.clone())?;
            flags.push((signal, name, flag));
        }
        Ok(Signals { flags })
    }

    #[cfg(not(unix))]
    fn register() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// The signal received since the last call, if any.
    #[cfg(unix)]
    fn take(&self) -> Option<Caught> {
        self.flags
            .iter()
            .find(|(_, _, flag)| flag.swap(false, std::sync::atomic::Ordering::SeqCst))
            .map(|(signal, name, _)| Caught { signal: *signal, name })
    }

    #[cfg(not(unix))]
    fn take(&self) -> Option<Caught> {
        None
    }
}

/// A signal caught.
struct Caught {
    #[cfg_attr(not(unix), allow(dead_code))]
    signal: i32,
    name: &'static str,
}

impl std::fmt::Display for Caught {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// Sends the caught signal on to the command.
fn forward(child: &std::process::Child, caught: &Caught) {
    #[cfg(unix)]
    {
        use rustix::process::{Pid, Signal, kill_process};
        let signal = if caught.signal == signal_hook::consts::SIGINT { Signal::INT } else { Signal::TERM };
        if let Some(pid) = i32::try_from(child.id()).ok().and_then(Pid::from_raw) {
            let _ = kill_process(pid, signal);
        }
    }
    #[cfg(not(unix))]
    let _ = (child, caught);
}

/// Whether the command was ended by a signal rather than exiting.
pub fn killed_by_signal(status: &std::process::ExitStatus) -> bool {
    #[cfg(unix)]
    {
        std::os::unix::process::ExitStatusExt::signal(status).is_some()
    }
    #[cfg(not(unix))]
    {
        let _ = status;
        false
    }
}
