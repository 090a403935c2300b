//! `rampart-bench`: the report benchmark's driver (run it through `cargo xtask bench report`,
//! which builds it and `cargo-rampart-report` in release mode first).
//!
//! ```text
//! rampart-bench report --cli <cargo-rampart-report> [--sizes 10k,100k,1m] [--ordinary 100k]
//!                      [--runs 3] [--work <dir>]
//! rampart-bench history --cli <cargo-rampart-report> [--groups 10k] [--history-runs 100]
//!                       [--runs 3] [--work <dir>]
//! rampart-bench floor --junit <file> --results <dir>
//! rampart-bench measure -- <command...>
//! ```

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

use rampart_bench::{
    Generated, Measured, TRIALS_PER_GROUP, floor, generate, generate_ordinary, generate_shaped, measure, say,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("report") => report(&args[1..]),
        Some("history") => history(&args[1..]),
        Some("floor") => run_floor(&args[1..]),
        Some("measure") => run_measure(&args[1..]),
        _ => Err("usage: rampart-bench report|floor|measure ... (see `cargo xtask bench report`)".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("rampart-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value` from `args`.
fn flag<'a>(args: &'a [String], name: &str) -> Option<&'a str> {
    args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).map(String::as_str)
}

/// `10k`, `1m`, `2500` as a count.
fn count(text: &str) -> Result<u64, String> {
    let t = text.trim().to_ascii_lowercase();
    let (digits, scale) = match t.as_bytes().last() {
        Some(b'k') => (&t[..t.len() - 1], 1_000),
        Some(b'm') => (&t[..t.len() - 1], 1_000_000),
        _ => (&t[..], 1),
    };
    digits.parse::<u64>().map(|n| n * scale).map_err(|_| format!("not a count: {text:?} (use e.g. 10k, 1m)"))
}

fn run_floor(args: &[String]) -> Result<(), String> {
    let junit = flag(args, "--junit").ok_or("floor needs --junit")?;
    let results = flag(args, "--results").ok_or("floor needs --results")?;
    let (cases, lines) =
        floor(&[PathBuf::from(junit)], &[PathBuf::from(results)]).map_err(|e| e.to_string())?;
    println!("{cases} testcases, {lines} sidecar lines");
    Ok(())
}

fn run_measure(args: &[String]) -> Result<(), String> {
    let command = match args.first().map(String::as_str) {
        Some("--") => &args[1..],
        _ => args,
    };
    let (program, rest) = command.split_first().ok_or("measure needs a command")?;
    let m = measure(Command::new(program).args(rest)).map_err(|e| format!("{program}: {e}"))?;
    println!("{} {} {}", m.wall.as_nanos(), m.max_rss_kib, m.code);
    Ok(())
}

/// Measures `command` in a fresh `rampart-bench measure` process, so its peak RSS is its own.
fn measured(command: &[String]) -> Result<Measured, String> {
    let me = std::env::current_exe().map_err(|e| e.to_string())?;
    let output =
        Command::new(me).arg("measure").arg("--").args(command).output().map_err(|e| e.to_string())?;
    let text = String::from_utf8_lossy(&output.stdout);
    let fields: Vec<u64> =
        text.split_whitespace().filter_map(|f| f.parse::<i64>().ok()).map(|n| n as u64).collect();
    match (output.status.success(), fields.as_slice()) {
        (true, [wall, rss, code]) => {
            Ok(Measured { wall: Duration::from_nanos(*wall), max_rss_kib: *rss, code: *code as i32 })
        }
        _ => Err(format!("measuring {command:?} failed: {}", String::from_utf8_lossy(&output.stderr))),
    }
}

/// One input of the benchmark and where it lives.
struct Input {
    label: String,
    generated: Generated,
}

/// Generates (or reuses, when its stamp matches) the input for `label` in `dir`.
fn input(
    dir: &Path,
    label: &str,
    make: impl FnOnce(&Path) -> std::io::Result<Generated>,
) -> Result<Input, String> {
    let stamp = dir.join("generated.txt");
    if let Ok(text) = std::fs::read_to_string(&stamp) {
        let f: Vec<u64> = text.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        if let [tests, results, bytes] = f.as_slice() {
            return Ok(Input {
                label: label.to_owned(),
                generated: Generated {
                    junit: dir.join("junit.xml"),
                    results: dir.join("rampart"),
                    tests: *tests,
                    results_count: *results,
                    input_bytes: *bytes,
                },
            });
        }
    }
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    say(&format!("generating {label} in {} ...", dir.display()));
    let g = make(dir).map_err(|e| format!("generating {label}: {e}"))?;
    std::fs::write(&stamp, format!("{} {} {}\n", g.tests, g.results_count, g.input_bytes))
        .map_err(|e| e.to_string())?;
    Ok(Input { label: label.to_owned(), generated: g })
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    let n = xs.len();
    if n % 2 == 1 { xs[n / 2] } else { (xs[n / 2 - 1] + xs[n / 2]) / 2.0 }
}

fn mib(kib: u64) -> String {
    format!("{:.0} MiB", kib as f64 / 1024.0)
}

fn report(args: &[String]) -> Result<(), String> {
    let cli = flag(args, "--cli").ok_or("report needs --cli <path to cargo-rampart-report>")?;
    let sizes: Vec<u64> =
        flag(args, "--sizes").unwrap_or("10k,100k,1m").split(',').map(count).collect::<Result<_, _>>()?;
    let ordinary: Option<u64> = match flag(args, "--ordinary").unwrap_or("100k") {
        "0" | "none" => None,
        n => Some(count(n)?),
    };
    let runs: usize = flag(args, "--runs").unwrap_or("3").parse().map_err(|_| "--runs: a number")?;
    let work = PathBuf::from(flag(args, "--work").ok_or("report needs --work <dir>")?);
    let me = std::env::current_exe().map_err(|e| e.to_string())?;

    let mut inputs = Vec::new();
    if let Some(tests) = ordinary {
        let label = format!("{}-test JUnit, no sidecars", rampart_report::count(tests));
        inputs.push(input(&work.join(format!("ordinary-{tests}")), &label, |d| generate_ordinary(d, tests))?);
    }
    for &n in &sizes {
        let label = format!("{} results", rampart_report::count(n));
        inputs.push(input(&work.join(format!("results-{n}")), &label, |d| generate(d, n))?);
    }

    say(&format!(
        "\nrampart-bench: {runs} interleaved runs per input; floor = quick-junit parses the JUnit and \
         serde_json parses every sidecar line, one file at a time\n"
    ));
    let mut rows = Vec::new();
    for input in &inputs {
        let g = &input.generated;
        let out = work.join("out");
        let junit = g.junit.display().to_string();
        let results = g.results.join("runs").display().to_string();
        let floor_cmd: Vec<String> = vec![
            me.display().to_string(),
            "floor".into(),
            "--junit".into(),
            junit.clone(),
            "--results".into(),
            results.clone(),
        ];
        let report_cmd = |formats: Option<&str>| -> Vec<String> {
            let mut c =
                vec![cli.to_owned(), "--junit".into(), junit.clone(), "--results".into(), results.clone()];
            c.extend(["--out".into(), out.display().to_string()]);
            if let Some(f) = formats {
                c.extend(["--format".into(), f.to_owned()]);
            }
            c
        };
        let commands = [("floor", floor_cmd), ("json", report_cmd(Some("json"))), ("all", report_cmd(None))];
        let mut walls: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
        let mut rss: Vec<u64> = vec![0; commands.len()];
        let mut out_bytes = 0;
        for run in 0..runs {
            for (i, (name, command)) in commands.iter().enumerate() {
                let _ = std::fs::remove_dir_all(&out);
                let m = measured(command)?;
                if *name != "floor" && !matches!(m.code, 0 | 10 | 11) {
                    return Err(format!("{name} on {} exited {}", input.label, m.code));
                }
                if *name == "all" {
                    out_bytes = dir_bytes(&out);
                }
                walls[i].push(m.wall.as_secs_f64());
                rss[i] = rss[i].max(m.max_rss_kib);
                say(&format!(
                    "  {:<32} run {}/{runs} {name:<5} {:>8.2} s  {:>9}",
                    input.label,
                    run + 1,
                    m.wall.as_secs_f64(),
                    mib(m.max_rss_kib)
                ));
            }
        }
        let _ = std::fs::remove_dir_all(&out);
        let medians: Vec<f64> = walls.into_iter().map(median).collect();
        rows.push((input.label.clone(), g.clone(), medians, rss, out_bytes));
    }

    say(
        "\n| input | input size | floor | `--format json` | all outputs | peak RSS (floor / json / all) | per result (all) | outputs written |",
    );
    say("|---|---|---|---|---|---|---|---|");
    for (label, g, m, rss, out_bytes) in &rows {
        let per_result = if g.results_count > 0 {
            format!("{:.1} µs", m[2] * 1e6 / g.results_count as f64)
        } else {
            "-".to_owned()
        };
        say(&format!(
            "| {label} ({} tests) | {} | {:.2} s | {:.2} s ({:.2}×) | {:.2} s ({:.2}×) | {} / {} / {} | {per_result} | {} |",
            rampart_report::count(g.tests),
            mib(g.input_bytes / 1024),
            m[0],
            m[1],
            m[1] / m[0],
            m[2],
            m[2] / m[0],
            mib(rss[0]),
            mib(rss[1]),
            mib(rss[2]),
            mib(*out_bytes / 1024),
        ));
    }
    Ok(())
}

/// What the history adds: the report on a suite of `--groups` trial groups (10 trials of one
/// result each) alone, against the same report reading a history of `--history-runs` runs of
/// that suite for its trends, comparing with the newest as `--baseline`, and writing its own
/// history file; interleaved, medians.
fn history(args: &[String]) -> Result<(), String> {
    let cli = flag(args, "--cli").ok_or("history needs --cli <path to cargo-rampart-report>")?;
    let groups = count(flag(args, "--groups").unwrap_or("10k"))?;
    let history_runs = count(flag(args, "--history-runs").unwrap_or("100"))?;
    let runs: usize = flag(args, "--runs").unwrap_or("3").parse().map_err(|_| "--runs: a number")?;
    let work = PathBuf::from(flag(args, "--work").ok_or("history needs --work <dir>")?);
    let label = format!("{} trial groups", rampart_report::count(groups));
    let input = input(&work.join(format!("groups-{groups}")), &label, |d| {
        generate_shaped(d, groups * u64::from(TRIALS_PER_GROUP), 1)
    })?;
    let g = &input.generated;
    let junit = g.junit.display().to_string();
    let results = g.results.join("runs").display().to_string();
    let out = work.join("out");
    let base = |extra: &[&str]| -> Vec<String> {
        let mut c = vec![
            cli.to_owned(),
            "--junit".into(),
            junit.clone(),
            "--results".into(),
            results.clone(),
            "--out".into(),
            out.display().to_string(),
            "--format".into(),
            "json".into(),
        ];
        c.extend(extra.iter().map(|s| (*s).to_owned()));
        c
    };
    // One history file of this suite, copied under `history_runs` names.
    let seed = work.join("history-seed");
    let history = work.join("history");
    for dir in [&seed, &history] {
        let _ = std::fs::remove_dir_all(dir);
    }
    let _ = std::fs::remove_dir_all(&out);
    measured(&base(&["--history", &seed.display().to_string()]))?;
    let file = std::fs::read_dir(&seed)
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok())
        .find(|e| e.file_name().to_string_lossy().ends_with(".json"))
        .ok_or("the report wrote no history file")?
        .path();
    let bytes = std::fs::read(&file).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&history).map_err(|e| e.to_string())?;
    for i in 0..history_runs {
        let name = format!("20260101T{:06}000Z_{:08x}.json", i, i);
        std::fs::write(history.join(name), &bytes).map_err(|e| e.to_string())?;
    }
    say(&format!(
        "\nrampart-bench: {label} ({} results), a history of {history_runs} runs ({} each); {runs} interleaved runs\n",
        rampart_report::count(g.results_count),
        mib(bytes.len() as u64 / 1024)
    ));
    let h = history.display().to_string();
    let commands = [("alone", base(&[])), ("history", base(&["--history", &h, "--baseline", &h]))];
    let mut walls: Vec<Vec<f64>> = vec![Vec::new(); commands.len()];
    for run in 0..runs {
        for (i, (name, command)) in commands.iter().enumerate() {
            let _ = std::fs::remove_dir_all(&out);
            let m = measured(command)?;
            if !matches!(m.code, 0 | 10 | 11) {
                return Err(format!("{name} exited {}", m.code));
            }
            walls[i].push(m.wall.as_secs_f64());
            say(&format!(
                "  run {}/{runs} {name:<8} {:>8.2} s  {:>9}",
                run + 1,
                m.wall.as_secs_f64(),
                mib(m.max_rss_kib)
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&out);
    let m: Vec<f64> = walls.into_iter().map(median).collect();
    say(&format!(
        "\n| suite | report alone | with a {history_runs}-run history and --baseline | added |\n|---|---|---|---|\n| {label} ({} results) | {:.2} s | {:.2} s | {:+.1}% |",
        rampart_report::count(g.results_count),
        m[0],
        m[1],
        (m[1] / m[0] - 1.0) * 100.0
    ));
    Ok(())
}

/// Bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            match entry.file_type() {
                Ok(t) if t.is_dir() => stack.push(entry.path()),
                Ok(_) => total += entry.metadata().map_or(0, |m| m.len()),
                Err(_) => {}
            }
        }
    }
    total
}
