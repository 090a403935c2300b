//! `cargo xtask fuzz --smoke [--seconds N]`: runs every coverage-guided fuzz target in `fuzz/`
//! (cargo-fuzz layout, libFuzzer) for a fixed time and prints its iteration count.
//!
//! The toolchain is stable: cargo-fuzz's nightly-only flags (`-Zsanitizer`) are accepted
//! with `RUSTC_BOOTSTRAP=1`, which this task sets for the fuzz build only. cargo-fuzz is
//! installed with `cargo install --locked cargo-fuzz` when missing. Corpora are seeded from
//! `fixtures/report/` (sidecars and JUnit), `fixtures/nextest-0.9.143/junit/` (real nextest
//! JUnit) and `fixtures/hostile/cases/` (the adversarial corpus) into
//! `target/fuzz-corpus/<target>/`, which keeps what the fuzzer finds
//! between runs. Crashes land in `fuzz/artifacts/<target>/`.

use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

use crate::{cargo, run_ok, workspace_root};

/// The fuzz targets and the fixture extensions that seed each.
const TARGETS: &[(&str, &[&str])] = &[
    ("sidecar_parse", &["jsonl"]),
    ("junit_assemble", &["xml", "jsonl"]),
    ("report_outputs", &["xml", "jsonl"]),
];

pub fn run(args: &[String]) -> Result<ExitCode, String> {
    let mut seconds = 60u64;
    let mut smoke = false;
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--smoke" => smoke = true,
            "--seconds" => {
                seconds = iter
                    .next()
                    .and_then(|s| s.parse().ok())
                    .ok_or("--seconds needs a whole number of seconds")?
            }
            other => {
                return Err(format!(
                    "unknown fuzz flag `{other}` (usage: cargo xtask fuzz --smoke [--seconds N])"
                ));
            }
        }
    }
    if !smoke {
        return Err("only `cargo xtask fuzz --smoke [--seconds N]` is supported; for a long campaign run `RUSTC_BOOTSTRAP=1 cargo fuzz run <target>` in fuzz/".to_owned());
    }
    ensure_cargo_fuzz()?;
    let root = workspace_root();
    let fuzz_dir = root.join("fuzz");
    let target_dir = std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    let mut summary = Vec::new();
    for (target, extensions) in TARGETS {
        let corpus = target_dir.join("fuzz-corpus").join(target);
        seed_corpus(&root, &corpus, extensions)?;
        let mut command = cargo();
        command
            .current_dir(&fuzz_dir)
            .env("RUSTC_BOOTSTRAP", "1")
            .env("CARGO_TARGET_DIR", target_dir.join("fuzz"))
            .args(["fuzz", "run", "-O", target])
            .arg(&corpus)
            .args(["--", &format!("-max_total_time={seconds}"), "-max_len=65536", "-print_final_stats=1"])
            .stderr(Stdio::piped());
        eprintln!("xtask: fuzzing {target} for {seconds} s");
        let output = command.output().map_err(|e| format!("could not start cargo fuzz: {e}"))?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            eprintln!("{stderr}");
            return Err(format!("fuzz target {target} failed (a finding is in fuzz/artifacts/{target}/)"));
        }
        let runs = final_stat(&stderr, "stat::number_of_executed_units:").unwrap_or_else(|| "?".to_owned());
        let coverage = stderr
            .lines()
            .rev()
            .find_map(|l| l.split("cov: ").nth(1).and_then(|c| c.split_whitespace().next()))
            .unwrap_or("?")
            .to_owned();
        summary.push(format!(
            "{target}: {runs} iterations in {seconds} s, coverage {coverage} edges, no finding"
        ));
    }
    for line in &summary {
        println!("{line}");
    }
    Ok(ExitCode::SUCCESS)
}

fn final_stat(stderr: &str, key: &str) -> Option<String> {
    stderr.lines().find_map(|l| l.strip_prefix(key).map(|v| v.trim().to_owned()))
}

fn ensure_cargo_fuzz() -> Result<(), String> {
    let present = cargo()
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if present {
        return Ok(());
    }
    eprintln!("xtask: cargo-fuzz is not installed; installing it with `cargo install --locked cargo-fuzz`");
    run_ok(cargo().args(["install", "--locked", "cargo-fuzz"]))
}

/// Copies every fixture file with one of `extensions` into `corpus` (flat, named by a hash of
/// its path so reruns do not duplicate).
fn seed_corpus(root: &Path, corpus: &Path, extensions: &[&str]) -> Result<(), String> {
    std::fs::create_dir_all(corpus).map_err(|e| format!("could not create {}: {e}", corpus.display()))?;
    let sources = [
        root.join("fixtures/report"),
        root.join("fixtures/nextest-0.9.143/junit"),
        root.join("fixtures/hostile/cases"),
    ];
    let mut pending: Vec<PathBuf> = sources.into_iter().filter(|d| d.is_dir()).collect();
    while let Some(dir) = pending.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("could not list {}: {e}", dir.display()))?;
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().and_then(|e| e.to_str()).is_some_and(|e| extensions.contains(&e))
                // What the fuzzer reads at most (-max_len): larger seeds only cost time.
                && entry.metadata().is_ok_and(|m| m.len() <= 65_536)
            {
                let name = format!("seed-{:016x}", fnv1a(path.to_string_lossy().as_bytes()));
                std::fs::copy(&path, corpus.join(name))
                    .map_err(|e| format!("could not copy {}: {e}", path.display()))?;
            }
        }
    }
    Ok(())
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_libfuzzer_final_stats() {
        let stderr =
            "#1000 DONE cov: 812 ft: 2000\nstat::number_of_executed_units: 123456\nstat::peak_rss_mb: 40\n";
        assert_eq!(super::final_stat(stderr, "stat::number_of_executed_units:").as_deref(), Some("123456"));
    }
}
