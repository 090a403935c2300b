//! `cargo rampart-report --watch`: follow a run while nextest runs it, print each UNSAFE
//! finding as it is recorded and a progress line every 10 seconds, then, when nextest has
//! written the run's JUnit, report exactly as `cargo rampart-report` would.
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

/// Follows a run until its JUnit appears; returns its run id.
pub fn watch(
    workspace: &WorkspacePaths,
    rampart_dir_env: Option<&Utf8Path>,
    run_id: Option<&str>,
    redactor: &Redactor,
    width: usize,
) -> std::io::Result<String> {
    let started = SystemTime::now();
    let runs: Vec<Utf8PathBuf> = workspace
        .rampart_dirs(rampart_dir_env)
        .into_iter()
        .map(|d| d.join(rampart::location::RUNS_SUBDIR))
        .collect();
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
    loop {
        // The JUnit is written when nextest is done: read what the sidecars hold by then.
        let done = junit_of(workspace, &id);
        for event in live.poll(redactor)? {
            let line = match event {
                LiveEvent::Unsafe { test, evidence } => format!("UNSAFE        {test} — {evidence}"),
                LiveEvent::GroupFailed { group } => format!("FAILED        {group} (an UNSAFE trial)"),
                other => format!("{other:?}"),
            };
            println!("{}", cut(&line, width));
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
fn junit_of(workspace: &WorkspacePaths, run_id: &str) -> Option<Utf8PathBuf> {
    let base = workspace.root.join("target").join("nextest");
    let needle = format!("uuid=\"{run_id}\"");
    for profile in base.read_dir_utf8().ok()?.flatten() {
        let Ok(files) = profile.path().read_dir_utf8() else { continue };
        for file in files.flatten() {
            let path = file.path();
            if path.extension() != Some("xml") {
                continue;
            }
            let mut head = vec![0; 64 * 1024];
            let Ok(n) = std::fs::File::open(path).and_then(|mut f| std::io::Read::read(&mut f, &mut head))
            else {
                continue;
            };
            if String::from_utf8_lossy(&head[..n]).contains(&needle) {
                return Some(path.to_owned());
            }
        }
    }
    None
}
