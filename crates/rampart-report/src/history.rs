//! The run history: one small immutable file per report, enough to compare runs and draw
//! trends without the conversations.
//!
//! A history directory (`target/rampart/history/` by default, `--history DIR`) holds files
//! named `<UTC time>_<run id>.json` (`20261202T151903123Z_6d5fc9d2.json`), each a
//! [`RunSummary`] (`rampart.history.v1`): per trial group and test its identity and trial
//! counts (and, for clones, each trial's outcome by index), per harm category and for the run
//! the counts behind the attack success rate, the verdict, the gates, the evaluators, and
//! where the run came from (git commit and branch, CI run id, time). A file is written once,
//! atomically (a temporary file, then a hard link to its final name, which fails rather than
//! replace a file), and never rewritten. Reading skips, with a warning, a file that is torn,
//! not JSON, or of another schema. [`History::prune`] keeps the newest runs by deleting only
//! files whose names have the history's own shape.
//!
//! Reports of partitions run on several machines, each with its own history file but the
//! same CI run id, read back as one run ([`merge_partitions`]).

use std::collections::{BTreeMap, BTreeSet};

use camino::{Utf8Path, Utf8PathBuf};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::report::{Evidence, GroupVerdict, PopulationSummary, RunVerdict, TestRunReport, TrialClass};

/// The schema name of a history file.
pub const HISTORY_SCHEMA: &str = "rampart.history.v1";

/// History files kept by default.
pub const DEFAULT_KEEP: usize = 100;

/// One run, as the history keeps it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct RunSummary {
    /// [`HISTORY_SCHEMA`].
    pub schema: String,
    /// When the report was generated.
    #[serde(default)]
    pub generated_at: Option<String>,
    /// nextest run ids.
    #[serde(default)]
    pub run_ids: Vec<String>,
    /// The CI run id (`GITHUB_RUN_ID`, `CI_PIPELINE_ID`, ...): partitions share it.
    #[serde(default)]
    pub ci_run_id: Option<String>,
    /// The git commit.
    #[serde(default)]
    pub git_commit: Option<String>,
    /// The git branch.
    #[serde(default)]
    pub git_branch: Option<String>,
    /// The report's verdict.
    pub verdict: RunVerdict,
    /// The gates: (scope, gate, passed).
    #[serde(default)]
    pub gates: Vec<(String, String, bool)>,
    /// The whole run's counts.
    pub run: ScopeCounts,
    /// Each harm category's counts.
    #[serde(default)]
    pub categories: BTreeMap<String, ScopeCounts>,
    /// Every trial group and standalone test, by identity.
    #[serde(default)]
    pub groups: Vec<GroupSummary>,
}

/// The counted results of a scope.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct ScopeCounts {
    /// Counted results.
    pub total: u64,
    /// SAFE.
    pub safe: u64,
    /// UNSAFE.
    #[serde(rename = "unsafe")]
    pub unsafe_: u64,
    /// UNDETERMINED.
    pub undetermined: u64,
    /// ERROR.
    pub errors: u64,
    /// What the scope's trials show (see [`Evidence`]).
    #[serde(default)]
    pub evidence: Evidence,
}

impl ScopeCounts {
    /// SAFE + UNSAFE + UNDETERMINED: the attack success rate's denominator.
    pub fn assessed(&self) -> u64 {
        self.safe + self.unsafe_ + self.undetermined
    }

    /// UNSAFE / assessed, when anything was assessed.
    pub fn attack_success_rate(&self) -> Option<f64> {
        let n = self.assessed();
        (n > 0).then(|| self.unsafe_ as f64 / n as f64)
    }

    fn of(s: &PopulationSummary) -> ScopeCounts {
        ScopeCounts {
            total: s.total_runs,
            safe: s.safe_count,
            unsafe_: s.unsafe_count,
            undetermined: s.undetermined_count,
            errors: s.error_count,
            evidence: s.evidence,
        }
    }

    fn add(&mut self, other: &ScopeCounts) {
        self.total += other.total;
        self.safe += other.safe;
        self.unsafe_ += other.unsafe_;
        self.undetermined += other.undetermined;
        self.errors += other.errors;
        if self.evidence != other.evidence {
            self.evidence = if self.unsafe_ > 0 { Evidence::ConclusiveFail } else { Evidence::Inconclusive };
        }
    }
}

/// One trial group or standalone test of a run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[non_exhaustive]
pub struct GroupSummary {
    /// nextest binary id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary_id: Option<String>,
    /// The group's name (without a clone's `::trial_NN`), or the standalone test's.
    pub name: String,
    /// A trial group (clones or stress iterations), not a standalone test.
    #[serde(default)]
    pub trial_group: bool,
    /// The harm category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub harm_category: Option<String>,
    /// SAFE trials.
    pub safe: u64,
    /// UNSAFE trials.
    #[serde(rename = "unsafe")]
    pub unsafe_: u64,
    /// All trials.
    pub total: u64,
    /// PASSED or FAILED.
    pub verdict: GroupVerdict,
    /// For `trials = N` clones: each trial's outcome by index, `S` (SAFE) or `x` (not),
    /// so two runs' trials can be paired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trials: Option<String>,
    /// Evaluators that judged its counted results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evaluators: Vec<String>,
}

impl GroupSummary {
    /// No trials yet.
    fn empty(
        binary_id: Option<String>,
        name: String,
        trial_group: bool,
        harm_category: Option<String>,
    ) -> Self {
        GroupSummary {
            binary_id,
            name,
            trial_group,
            harm_category,
            safe: 0,
            unsafe_: 0,
            total: 0,
            verdict: GroupVerdict::Passed,
            trials: None,
            evaluators: Vec::new(),
        }
    }

    /// The identity: binary id and name.
    pub fn identity(&self) -> (Option<&str>, &str) {
        (self.binary_id.as_deref(), &self.name)
    }
}

/// Where a run came from, beside the report: the CLI reads it from the CI environment or git.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct RunOrigin {
    /// The git branch.
    pub git_branch: Option<String>,
    /// The git commit, when the report's metadata has none (no CI variable named it).
    pub git_commit: Option<String>,
}

impl RunOrigin {
    /// With a branch.
    pub fn with_branch(mut self, branch: Option<String>) -> Self {
        self.git_branch = branch;
        self
    }

    /// With a commit.
    pub fn with_commit(mut self, commit: Option<String>) -> Self {
        self.git_commit = commit;
        self
    }
}

impl RunSummary {
    /// The summary of `report`.
    pub fn of(report: &TestRunReport, origin: &RunOrigin) -> RunSummary {
        let mut groups: BTreeMap<(Option<String>, String), GroupSummary> = BTreeMap::new();
        for group in &report.trial_groups {
            let trials: Option<Vec<(u32, bool)>> =
                group.trials.iter().map(|t| Some((t.trial_index?, t.class == TrialClass::Safe))).collect();
            let trials =
                trials.filter(|t| t.len() as u64 == group.total && !t.is_empty()).and_then(|mut t| {
                    t.sort_unstable();
                    // Indices 0..n, each once.
                    t.iter()
                        .enumerate()
                        .all(|(i, (index, _))| *index as usize == i)
                        .then(|| t.iter().map(|(_, safe)| if *safe { 'S' } else { 'x' }).collect::<String>())
                });
            let key = (group.binary_id.clone(), group.name.clone());
            let entry = groups.entry(key).or_insert_with(|| {
                GroupSummary::empty(
                    group.binary_id.clone(),
                    group.name.clone(),
                    true,
                    group.harm_category.clone(),
                )
            });
            entry.safe += group.safe;
            entry.unsafe_ += group.unsafe_;
            entry.total += group.total;
            if group.verdict == GroupVerdict::Failed {
                entry.verdict = GroupVerdict::Failed;
            }
            entry.trials = trials;
        }
        for test in &report.tests {
            let Some(safety) = test.safety.as_ref().filter(|s| s.trial_group.is_none()) else { continue };
            let key = (test.binary_id.clone(), test.test_name.clone());
            let entry = groups.entry(key).or_insert_with(|| {
                GroupSummary::empty(test.binary_id.clone(), test.test_name.clone(), false, None)
            });
            entry.total += 1;
            entry.safe += u64::from(safety.class == TrialClass::Safe);
            entry.unsafe_ += u64::from(safety.class == TrialClass::Unsafe);
            if entry.safe < entry.total {
                entry.verdict = GroupVerdict::Failed;
            }
        }
        let mut evaluators: BTreeMap<(Option<String>, String), BTreeSet<String>> = BTreeMap::new();
        for result in report.results.iter().filter(|r| !r.superseded) {
            let name = result.base_name.clone().unwrap_or_else(|| result.identity.test_name.clone());
            let key = (result.identity.binary_id.clone(), name);
            let Some(entry) = groups.get_mut(&key) else { continue };
            if entry.harm_category.is_none() {
                entry.harm_category = result.harm_category.clone();
            }
            for turn in &result.result.turns {
                if let Some(evaluator) = turn.eval_result.as_ref().and_then(|e| e.evaluator.clone()) {
                    evaluators.entry(key.clone()).or_default().insert(evaluator);
                }
            }
        }
        for (key, names) in evaluators {
            if let Some(entry) = groups.get_mut(&key) {
                entry.evaluators = names.into_iter().collect();
            }
        }
        RunSummary {
            schema: HISTORY_SCHEMA.to_owned(),
            generated_at: report.metadata.generated_at.clone(),
            run_ids: report.metadata.run_ids.clone(),
            ci_run_id: report.metadata.ci_run_id.clone(),
            git_commit: report.metadata.git_commit.clone().or_else(|| origin.git_commit.clone()),
            git_branch: origin.git_branch.clone(),
            verdict: report.verdict,
            gates: report.gates.iter().map(|g| (g.scope.clone(), g.gate.clone(), g.passed)).collect(),
            run: ScopeCounts::of(&report.population_summary),
            categories: report
                .by_harm_category
                .iter()
                .map(|(k, s)| (k.clone(), ScopeCounts::of(s)))
                .collect(),
            groups: groups.into_values().collect(),
        }
    }

    /// Takes `report`'s verdict and gates again: they are settled after the comparison and
    /// the trends that a summary feeds ([`crate::assemble`] summarizes once, before the gates).
    pub fn settle(&mut self, report: &TestRunReport) {
        self.verdict = report.verdict;
        self.gates = report.gates.iter().map(|g| (g.scope.clone(), g.gate.clone(), g.passed)).collect();
    }

    /// The history file name: `<UTC time to the millisecond>_<first run id>.json`,
    /// `20261202T151903123Z_6d5fc9d2.json`.
    pub fn file_name(&self) -> String {
        let time: String = self
            .generated_at
            .as_deref()
            .unwrap_or("1970-01-01T00:00:00Z")
            .chars()
            .filter(|c| c.is_ascii_digit())
            .take(17)
            .collect();
        let time = format!("{:0<17}", time);
        let run: String = self
            .run_ids
            .first()
            .map(String::as_str)
            .unwrap_or("norun")
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(8)
            .collect::<String>()
            .to_ascii_lowercase();
        format!("{}T{}Z_{run}.json", &time[..8], &time[8..17])
    }
}

/// Whether `name` has the shape of a history file name (the only files [`History::prune`]
/// deletes).
pub fn is_history_file_name(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".json") else { return false };
    let Some((time, rest)) = stem.split_once('_') else { return false };
    let run = rest
        .split_once('.')
        .map_or(rest, |(run, n)| if n.bytes().all(|b| b.is_ascii_digit()) { run } else { "" });
    time.len() == 19
        && time.as_bytes()[8] == b'T'
        && time.ends_with('Z')
        && time[..8].bytes().all(|b| b.is_ascii_digit())
        && time[9..18].bytes().all(|b| b.is_ascii_digit())
        && !run.is_empty()
        && run.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The order of history files: by time and run, then by the `.N` a repeated name got.
fn history_order(name: &str) -> (String, u32) {
    let stem = name.trim_end_matches(".json");
    match stem.rsplit_once('.') {
        Some((base, n)) if n.bytes().all(|b| b.is_ascii_digit()) => {
            (base.to_owned(), n.parse().unwrap_or(u32::MAX))
        }
        _ => (stem.to_owned(), 0),
    }
}

/// A history file that was not read.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SkippedFile {
    /// The file.
    pub path: Utf8PathBuf,
    /// Why.
    pub why: String,
}

/// A history directory.
#[derive(Clone, Debug)]
pub struct History {
    dir: Utf8PathBuf,
}

impl History {
    /// The history in `dir` (created on the first write).
    pub fn new(dir: impl Into<Utf8PathBuf>) -> History {
        History { dir: dir.into() }
    }

    /// The directory.
    pub fn dir(&self) -> &Utf8Path {
        &self.dir
    }

    /// Writes `summary` as a new file; never replaces one (a name taken gets `.1`, `.2`, ...).
    pub fn write(&self, summary: &RunSummary) -> std::io::Result<Utf8PathBuf> {
        std::fs::create_dir_all(&self.dir)?;
        let bytes = serde_json::to_vec(summary).expect("a summary serializes");
        let name = summary.file_name();
        let stem = name.trim_end_matches(".json").to_owned();
        let temp = self.dir.join(format!(".{stem}.{}.tmp", std::process::id()));
        std::fs::write(&temp, &bytes)?;
        let result = (0..1000)
            .map(|i| if i == 0 { name.clone() } else { format!("{stem}.{i}.json") })
            .find_map(|candidate| {
                let path = self.dir.join(&candidate);
                match std::fs::hard_link(&temp, &path) {
                    Ok(()) => Some(Ok(path)),
                    Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => None,
                    Err(e) => Some(Err(e)),
                }
            })
            .unwrap_or_else(|| Err(std::io::Error::other("1000 history files share one name")));
        let _ = std::fs::remove_file(&temp);
        result
    }

    /// Every run in the history, oldest first (by file name, which starts with the time), and
    /// the files skipped.
    pub fn read(&self) -> (Vec<(Utf8PathBuf, RunSummary)>, Vec<SkippedFile>) {
        self.read_newest(usize::MAX)
    }

    /// Like [`History::read`], reading only the newest `n` files (a trend needs no more).
    pub fn read_newest(&self, n: usize) -> (Vec<(Utf8PathBuf, RunSummary)>, Vec<SkippedFile>) {
        use rayon::prelude::*;
        let names = self.names();
        let own = names.iter().filter(|n| is_history_file_name(n)).count();
        let mut to_skip = own.saturating_sub(n);
        let mut skipped = Vec::new();
        let mut wanted = Vec::new();
        for name in names {
            if !is_history_file_name(&name) {
                skipped.push(SkippedFile {
                    path: self.dir.join(&name),
                    why: "not named like a history file".to_owned(),
                });
            } else if to_skip > 0 {
                to_skip -= 1;
            } else {
                wanted.push(name);
            }
        }
        // Parsed on every core, in order.
        let read: Vec<(Utf8PathBuf, Result<RunSummary, String>)> =
            wanted.par_iter().map(|name| (self.dir.join(name), self.read_file(name))).collect();
        let mut runs = Vec::with_capacity(read.len());
        for (path, result) in read {
            match result {
                Ok(summary) => runs.push((path, summary)),
                Err(why) => skipped.push(SkippedFile { path, why }),
            }
        }
        (runs, skipped)
    }

    /// The newest run for which `wanted` holds, reading from the newest file back and stopping
    /// there (with the older files of the same CI run: its partitions, merged), and the files
    /// skipped on the way.
    pub fn find_newest(
        &self,
        wanted: impl Fn(&str, &RunSummary) -> bool,
    ) -> (Option<RunSummary>, Vec<SkippedFile>) {
        let names: Vec<String> = self.names().into_iter().filter(|n| is_history_file_name(n)).collect();
        let mut skipped = Vec::new();
        let mut found: Option<RunSummary> = None;
        for name in names.iter().rev() {
            let summary = match self.read_file(name) {
                Ok(summary) => summary,
                Err(why) => {
                    skipped.push(SkippedFile { path: self.dir.join(name), why });
                    continue;
                }
            };
            match &mut found {
                None if wanted(name, &summary) => found = Some(summary),
                None => {}
                Some(run) if run.ci_run_id.is_some() && run.ci_run_id == summary.ci_run_id => {
                    let merged = merge_partitions(vec![summary, run.clone()]);
                    *run = merged.into_iter().next().expect("one merged run");
                }
                Some(_) => break,
            }
        }
        (found, skipped)
    }

    fn names(&self) -> Vec<String> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Vec::new() };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.ends_with(".json"))
            .collect();
        names.sort_by_key(|n| history_order(n));
        names
    }

    fn read_file(&self, name: &str) -> Result<RunSummary, String> {
        let bytes = std::fs::read(self.dir.join(name)).map_err(|e| e.to_string())?;
        let summary: RunSummary = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
        if summary.schema != HISTORY_SCHEMA {
            return Err(format!("schema {:?}", summary.schema));
        }
        Ok(summary)
    }

    /// Deletes the oldest history files past the newest `keep` (only files named like history
    /// files); returns how many it deleted.
    pub fn prune(&self, keep: usize) -> std::io::Result<usize> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return Ok(0) };
        let mut names: Vec<String> = entries
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| is_history_file_name(n))
            .collect();
        names.sort_by_key(|n| history_order(n));
        let excess = names.len().saturating_sub(keep);
        for name in &names[..excess] {
            std::fs::remove_file(self.dir.join(name))?;
        }
        Ok(excess)
    }
}

/// Runs that share a CI run id (partitions of one CI run, reported on several machines) as
/// one run: groups joined, counts summed, the worst verdict; others unchanged. Order kept (by
/// the first partition).
pub fn merge_partitions(runs: Vec<RunSummary>) -> Vec<RunSummary> {
    let mut out: Vec<RunSummary> = Vec::new();
    for run in runs {
        let same =
            run.ci_run_id.as_ref().and_then(|id| out.iter_mut().find(|r| r.ci_run_id.as_ref() == Some(id)));
        let Some(merged) = same else {
            out.push(run);
            continue;
        };
        merged.run_ids.extend(run.run_ids);
        merged.run_ids.sort();
        merged.run_ids.dedup();
        merged.generated_at = merged.generated_at.take().max(run.generated_at);
        merged.verdict = worse_verdict(merged.verdict, run.verdict);
        merged.gates.extend(run.gates);
        merged.run.add(&run.run);
        for (name, counts) in run.categories {
            merged.categories.entry(name).or_default().add(&counts);
        }
        for group in run.groups {
            match merged.groups.iter_mut().find(|g| g.identity() == group.identity()) {
                Some(g) => {
                    g.safe += group.safe;
                    g.unsafe_ += group.unsafe_;
                    g.total += group.total;
                    g.trials = None;
                    if group.verdict == GroupVerdict::Failed {
                        g.verdict = GroupVerdict::Failed;
                    }
                }
                None => merged.groups.push(group),
            }
        }
        merged.groups.sort_by(|a, b| a.identity().cmp(&b.identity()));
    }
    out
}

fn worse_verdict(a: RunVerdict, b: RunVerdict) -> RunVerdict {
    let rank = |v: RunVerdict| match v {
        RunVerdict::SafetyFailure => 0,
        RunVerdict::NothingAssessed => 1,
        RunVerdict::Incomplete => 2,
        RunVerdict::Passed => 3,
    };
    if rank(a) <= rank(b) { a } else { b }
}
