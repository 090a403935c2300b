//! Trends over the run history: each harm category's attack success rate run by run (with
//! its Wilson interval), each trial group's pass rate and verdict run by run, and the groups
//! whose verdict keeps flipping.
//!
//! A group is **unstable** when its verdict changed at least [`UNSTABLE_FLIPS`] times over the
//! last [`UNSTABLE_WINDOW`] runs it ran in: a property of the agent (or the test) across runs,
//! kept apart from nextest's `flaky` (a test that failed, then passed on a retry, within one
//! run).

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::aggregate::{Z_95, wilson_interval};
use crate::history::{GroupSummary, RunSummary};
use crate::report::{GroupVerdict, RunVerdict};

/// Runs a trend shows at most (the current one included).
pub const DEFAULT_TREND_RUNS: usize = 30;
/// Verdict changes that make a group unstable.
pub const UNSTABLE_FLIPS: usize = 3;
/// The runs (of those a group ran in) its flips are counted over.
pub const UNSTABLE_WINDOW: usize = 10;

/// The trends of a report over the runs before it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct Trends {
    /// The runs, oldest first; the current run is the last.
    pub runs: Vec<TrendRun>,
    /// Each harm category in any of the runs, by name: one point per run (null where the
    /// category had no assessed result).
    pub categories: Vec<CategoryTrend>,
    /// The whole run's attack success rate, one point per run.
    pub all: Vec<Option<RatePoint>>,
    /// Every trial group and standalone test of the current run, by identity.
    pub groups: Vec<GroupTrend>,
}

/// One run of a trend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct TrendRun {
    /// Its first nextest run id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    /// When its report was generated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_at: Option<String>,
    /// Its git commit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub git_commit: Option<String>,
    /// Its verdict.
    pub verdict: RunVerdict,
    /// The verdict differs from the previous run's.
    pub verdict_flipped: bool,
}

/// An attack success rate at one run.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RatePoint {
    /// UNSAFE results.
    #[serde(rename = "unsafe")]
    pub unsafe_: u64,
    /// Assessed results.
    pub assessed: u64,
    /// `unsafe / assessed`.
    pub rate: f64,
    /// Wilson 95% lower bound.
    pub lower: f64,
    /// Wilson 95% upper bound.
    pub upper: f64,
}

impl RatePoint {
    fn of(unsafe_: u64, assessed: u64) -> Option<RatePoint> {
        let interval = wilson_interval(unsafe_, assessed, Z_95)?;
        Some(RatePoint {
            unsafe_,
            assessed,
            rate: unsafe_ as f64 / assessed as f64,
            lower: interval.lower,
            upper: interval.upper,
        })
    }
}

/// One harm category over the runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct CategoryTrend {
    /// The category.
    pub name: String,
    /// One point per run.
    pub points: Vec<Option<RatePoint>>,
}

/// One trial group or test over the runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct GroupTrend {
    /// nextest binary id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// The group's (or test's) name.
    pub name: String,
    /// SAFE / trials per run; null where it did not run.
    pub pass_rates: Vec<Option<f64>>,
    /// The verdict per run; null where it did not run.
    pub verdicts: Vec<Option<GroupVerdict>>,
    /// Verdict changes over the last [`UNSTABLE_WINDOW`] runs it ran in.
    pub flips: u64,
    /// `flips >= UNSTABLE_FLIPS`.
    pub unstable: bool,
}

/// The trends of `current` after `history` (oldest first; partitions already merged), over at
/// most `max_runs` runs in all; `None` without an earlier run.
pub fn trends(history: &[RunSummary], current: &RunSummary, max_runs: usize) -> Option<Trends> {
    if history.is_empty() {
        return None;
    }
    let keep = max_runs.max(2) - 1;
    let earlier = &history[history.len().saturating_sub(keep)..];
    let runs: Vec<&RunSummary> = earlier.iter().chain([current]).collect();
    let mut trend_runs: Vec<TrendRun> = Vec::with_capacity(runs.len());
    for (i, run) in runs.iter().enumerate() {
        trend_runs.push(TrendRun {
            run_id: run.run_ids.first().cloned(),
            generated_at: run.generated_at.clone(),
            git_commit: run.git_commit.clone(),
            verdict: run.verdict,
            verdict_flipped: i > 0 && runs[i - 1].verdict != run.verdict,
        });
    }
    let names: BTreeSet<&String> = runs.iter().flat_map(|r| r.categories.keys()).collect();
    let categories = names
        .into_iter()
        .map(|name| CategoryTrend {
            name: name.clone(),
            points: runs
                .iter()
                .map(|r| r.categories.get(name).and_then(|c| RatePoint::of(c.unsafe_, c.assessed())))
                .collect(),
        })
        .collect();
    let all = runs.iter().map(|r| RatePoint::of(r.run.unsafe_, r.run.assessed())).collect();
    let by_run: Vec<BTreeMap<(Option<&str>, &str), &GroupSummary>> =
        runs.iter().map(|r| r.groups.iter().map(|g| (g.identity(), g)).collect()).collect();
    let groups = current
        .groups
        .iter()
        .map(|g| {
            let series: Vec<Option<&GroupSummary>> =
                by_run.iter().map(|m| m.get(&g.identity()).copied()).collect();
            let verdicts: Vec<Option<GroupVerdict>> = series.iter().map(|s| s.map(|s| s.verdict)).collect();
            let ran: Vec<GroupVerdict> = verdicts.iter().flatten().copied().collect();
            let window = &ran[ran.len().saturating_sub(UNSTABLE_WINDOW)..];
            let flips = window.windows(2).filter(|w| w[0] != w[1]).count() as u64;
            GroupTrend {
                binary_id: g.binary_id.clone(),
                name: g.name.clone(),
                pass_rates: series
                    .iter()
                    .map(|s| s.filter(|s| s.total > 0).map(|s| s.safe as f64 / s.total as f64))
                    .collect(),
                verdicts,
                flips,
                unstable: flips as usize >= UNSTABLE_FLIPS,
            }
        })
        .collect();
    Some(Trends { runs: trend_runs, categories, all, groups })
}

impl Trends {
    /// The unstable groups, in identity order.
    pub fn unstable(&self) -> impl Iterator<Item = &GroupTrend> {
        self.groups.iter().filter(|g| g.unstable)
    }
}

/// A series of rates in words, its last `n` points: `14% → 14% → 71%` (`–` where there was
/// none).
pub fn series_words(points: &[Option<RatePoint>], n: usize) -> String {
    let start = points.len().saturating_sub(n);
    let words: Vec<String> = points[start..]
        .iter()
        .map(|p| p.map_or_else(|| "–".to_owned(), |p| format!("{:.0}%", p.rate * 100.0)))
        .collect();
    let lead = if start > 0 { "… " } else { "" };
    format!("{lead}{}", words.join(" → "))
}

/// A group's verdicts in words, oldest first: `P F P F` (`·` where it did not run).
pub fn verdicts_words(verdicts: &[Option<GroupVerdict>]) -> String {
    verdicts
        .iter()
        .map(|v| match v {
            Some(GroupVerdict::Passed) => "P",
            Some(GroupVerdict::Failed) => "F",
            None => "·",
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::ScopeCounts;

    fn run(id: &str, verdicts: &[(&str, bool)], leak: (u64, u64)) -> RunSummary {
        let mut categories = BTreeMap::new();
        let counts =
            ScopeCounts { unsafe_: leak.0, safe: leak.1 - leak.0, total: leak.1, ..Default::default() };
        categories.insert("data_leakage".to_owned(), counts.clone());
        serde_json::from_value(serde_json::json!({
            "schema": crate::history::HISTORY_SCHEMA,
            "run_ids": [id],
            "verdict": if verdicts.iter().all(|v| v.1) { "passed" } else { "safety_failure" },
            "run": counts,
            "categories": categories,
            "groups": verdicts.iter().map(|(name, passed)| serde_json::json!({
                "name": name, "safe": if *passed { 10 } else { 5 }, "unsafe": if *passed { 0 } else { 5 },
                "total": 10, "verdict": if *passed { "PASSED" } else { "FAILED" }
            })).collect::<Vec<_>>(),
        }))
        .unwrap()
    }

    #[test]
    fn flips_over_the_window_make_a_group_unstable() {
        // g flips P F P F (3 changes); h is steady; the run verdict flips with g.
        let pattern = [true, false, true, false];
        let history: Vec<RunSummary> = pattern[..3]
            .iter()
            .enumerate()
            .map(|(i, p)| run(&format!("r{i}"), &[("g", *p), ("h", true)], (i as u64, 10)))
            .collect();
        let current = run("r3", &[("g", pattern[3]), ("h", true)], (3, 10));
        let t = trends(&history, &current, 30).unwrap();
        assert_eq!(t.runs.len(), 4);
        assert_eq!(t.runs.iter().map(|r| r.verdict_flipped).collect::<Vec<_>>(), [false, true, true, true]);
        let g = t.groups.iter().find(|g| g.name == "g").unwrap();
        assert_eq!((g.flips, g.unstable), (3, true));
        assert_eq!(g.pass_rates, [Some(1.0), Some(0.5), Some(1.0), Some(0.5)]);
        let h = t.groups.iter().find(|g| g.name == "h").unwrap();
        assert_eq!((h.flips, h.unstable), (0, false));
        // The category's points carry the Wilson interval: 3 of 10 → [0.108, 0.603].
        let last = t.categories[0].points[3].unwrap();
        assert!((last.lower - 0.1078).abs() < 1e-3 && (last.upper - 0.6032).abs() < 1e-3, "{last:?}");
        // Without an earlier run there is no trend; max_runs bounds the series.
        assert!(trends(&[], &current, 30).is_none());
        assert_eq!(trends(&history, &current, 2).unwrap().runs.len(), 2);
    }
}
