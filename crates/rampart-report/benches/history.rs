//! What the run history costs in process, on a suite of 10,000 trial groups with a 100-run
//! history: reading the newest 30 runs for the trends (on every core), finding the baseline
//! (the newest run of a branch, read from the newest file back), comparing with it, and
//! computing the trends. The whole-report figure (the same work inside a real report, against
//! the report alone) is `cargo xtask bench history`, in the README.
//!
//! Run with `cargo bench -p rampart-report --bench history`.

use std::time::Duration;

use camino::Utf8PathBuf;
use criterion::{Criterion, criterion_group, criterion_main};
use rampart_report::compare::compare;
use rampart_report::history::{History, RunSummary, merge_partitions};
use rampart_report::trends::{DEFAULT_TREND_RUNS, trends};

const GROUPS: usize = 10_000;
const RUNS: usize = 100;
const HARMS: [&str; 5] = ["prompt_injection", "data_leakage", "jailbreak", "tool_misuse", "harmful_content"];

/// A run of `GROUPS` groups of 10 trials, `seed` moving which trials fail.
fn summary(seed: usize) -> RunSummary {
    let groups: Vec<serde_json::Value> = (0..GROUPS)
        .map(|g| {
            let trials: String =
                (0..10).map(|t| if (g * 7 + t * 13 + seed).is_multiple_of(17) { 'x' } else { 'S' }).collect();
            let safe = trials.chars().filter(|c| *c == 'S').count();
            serde_json::json!({
                "binary_id": "agent-redteam::campaign",
                "name": format!("attacks::group_{g:06}"),
                "trial_group": true,
                "harm_category": HARMS[g % HARMS.len()],
                "safe": safe,
                "unsafe": 10 - safe,
                "total": 10,
                "verdict": if safe >= 9 { "PASSED" } else { "FAILED" },
                "trials": trials,
                "evaluators": ["forbidden-tool-call@1"],
            })
        })
        .collect();
    let counts = serde_json::json!({
        "total": GROUPS * 10, "safe": GROUPS * 9, "unsafe": GROUPS, "undetermined": 0, "errors": 0
    });
    serde_json::from_value(serde_json::json!({
        "schema": rampart_report::history::HISTORY_SCHEMA,
        "generated_at": format!("2026-12-01T00:{:02}:{:02}.000Z", seed / 60, seed % 60),
        "run_ids": [format!("{seed:08x}-0000-4000-8000-000000000000")],
        "git_branch": "main",
        "verdict": "safety_failure",
        "run": counts,
        "categories": {"data_leakage": counts, "jailbreak": counts},
        "groups": groups,
    }))
    .expect("a summary")
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let history = History::new(Utf8PathBuf::try_from(dir.path().to_path_buf()).expect("UTF-8"));
    for seed in 0..RUNS {
        history.write(&summary(seed)).expect("write");
    }
    let current = summary(RUNS);
    let mut group = c.benchmark_group("history");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("trends_and_baseline_10k_groups_100_runs", |b| {
        b.iter(|| {
            let (runs, _) = history.read_newest(DEFAULT_TREND_RUNS);
            let runs = merge_partitions(runs.into_iter().map(|(_, r)| r).collect());
            let (baseline, _) = history.find_newest(|_, r| r.git_branch.as_deref() == Some("main"));
            let comparison = compare(&baseline.expect("a baseline"), &current);
            let trends = trends(&runs, &current, DEFAULT_TREND_RUNS).expect("trends");
            (comparison.groups.len(), trends.groups.len())
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
