//! The input loader: from "this workspace" or explicit paths to [`ReportInputs`].
//!
//! Discovery, in order:
//!
//! 1. **JUnit:** the files given; else the newest `*.xml` under
//!    `<workspace root>/target/nextest/<profile>/` (nextest keeps its output under the workspace
//!    root whatever `CARGO_TARGET_DIR` says).
//! 2. **Run ids:** those given, plus the `uuid` of every JUnit file read.
//! 3. **Sidecars:** the results directories given; else, for each run id, its run directory in
//!    the first rampart directory that has one ([`rampart::location::rampart_dir_candidates`]:
//!    the same rules the recorder writes by); else, with neither JUnit nor run id, the newest run
//!    directory.
//!
//! Every file is read within [`Limits`].

use camino::{Utf8Path, Utf8PathBuf};
use rampart::location::{DirInputs, RAMPART_DIR_ENV, RUNS_SUBDIR, rampart_dir_candidates, run_dir};

use crate::assemble::ReportInputs;
use crate::junit::load_junit;
use crate::problem::InputProblem;
use crate::sidecars::{find_sidecar_files_checked, load_sidecar_file};
use crate::validate::Limits;

/// Where the workspace is (from `cargo metadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct WorkspacePaths {
    /// `workspace_root`.
    pub root: Utf8PathBuf,
    /// `target_directory`.
    pub target_dir: Utf8PathBuf,
}

impl WorkspacePaths {
    /// Paths of a workspace.
    pub fn new(root: impl Into<Utf8PathBuf>, target_dir: impl Into<Utf8PathBuf>) -> WorkspacePaths {
        WorkspacePaths { root: root.into(), target_dir: target_dir.into() }
    }

    /// The rampart directories a run's sidecars may be in, in order, given `$RAMPART_DIR`
    /// (relative to the workspace root when relative).
    pub fn rampart_dirs(&self, rampart_dir_env: Option<&Utf8Path>) -> Vec<Utf8PathBuf> {
        let inputs = DirInputs {
            rampart_dir: rampart_dir_env.map(|d| d.as_std_path().to_path_buf()),
            workspace_root: Some(self.root.as_std_path().to_path_buf()),
            current_exe: None,
            current_dir: None,
        };
        rampart_dir_candidates(&inputs, Some(self.target_dir.as_std_path()))
            .into_iter()
            .filter_map(|d| Utf8PathBuf::from_path_buf(d.path).ok())
            .collect()
    }

    /// Every `*.xml` under `<root>/target/nextest/*/` (nextest's JUnit files, one per
    /// profile), with when each was last written.
    pub fn junit_files(&self) -> Vec<(std::time::SystemTime, Utf8PathBuf)> {
        let base = self.root.join("target").join("nextest");
        let mut out = Vec::new();
        let Ok(profiles) = base.read_dir_utf8() else { return out };
        for profile in profiles.flatten() {
            let Ok(files) = profile.path().read_dir_utf8() else { continue };
            for file in files.flatten() {
                if file.path().extension() != Some("xml") {
                    continue;
                }
                if let Ok(modified) = file.metadata().and_then(|m| m.modified()) {
                    out.push((modified, file.path().to_owned()));
                }
            }
        }
        out
    }

    /// The newest `*.xml` under `<root>/target/nextest/*/`.
    pub fn newest_junit(&self) -> Option<Utf8PathBuf> {
        self.junit_files().into_iter().max().map(|(_, p)| p)
    }
}

/// `$RAMPART_DIR`, when set and not empty.
pub fn rampart_dir_from_env() -> Option<Utf8PathBuf> {
    std::env::var_os(RAMPART_DIR_ENV)
        .filter(|v| !v.is_empty())
        .and_then(|v| Utf8PathBuf::from_path_buf(std::path::PathBuf::from(v)).ok())
}

/// Nothing to report from: no JUnit and no sidecar where the loader looked.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("found no nextest JUnit report and no rampart sidecars")]
#[non_exhaustive]
pub struct NothingFound {
    /// Every place looked in.
    pub looked: Vec<String>,
}

/// Finds and reads a run's JUnit and sidecars (see the [module docs](self)).
#[derive(Clone, Debug, Default)]
pub struct InputLoader {
    junit: Vec<Utf8PathBuf>,
    results: Vec<Utf8PathBuf>,
    run_ids: Vec<String>,
    workspace: Option<WorkspacePaths>,
    rampart_dir_env: Option<Utf8PathBuf>,
    limits: Limits,
}

/// What the loader found, before reading it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Discovered {
    /// JUnit files to read.
    pub junit_files: Vec<Utf8PathBuf>,
    /// Results directories to read.
    pub results_dirs: Vec<Utf8PathBuf>,
    /// Every place looked in.
    pub looked: Vec<String>,
}

impl InputLoader {
    /// A loader with the default limits and no inputs.
    pub fn new() -> InputLoader {
        InputLoader::default()
    }

    /// JUnit files to read (several merge: partitions); without any, the workspace's newest.
    pub fn with_junit(mut self, files: impl IntoIterator<Item = Utf8PathBuf>) -> Self {
        self.junit.extend(files);
        self
    }

    /// Results directories to read (a run directory, or a `runs/` directory holding several);
    /// without any, the run directories of the run ids.
    pub fn with_results(mut self, dirs: impl IntoIterator<Item = Utf8PathBuf>) -> Self {
        self.results.extend(dirs);
        self
    }

    /// Run ids to report.
    pub fn with_run_ids(mut self, run_ids: impl IntoIterator<Item = String>) -> Self {
        self.run_ids.extend(run_ids);
        self
    }

    /// The workspace to discover inputs in.
    pub fn with_workspace(mut self, workspace: Option<WorkspacePaths>) -> Self {
        self.workspace = workspace;
        self
    }

    /// `$RAMPART_DIR` (see [`rampart_dir_from_env`]).
    pub fn with_rampart_dir_env(mut self, dir: Option<Utf8PathBuf>) -> Self {
        self.rampart_dir_env = dir;
        self
    }

    /// Size caps.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    fn rampart_dirs(&self) -> Vec<Utf8PathBuf> {
        match &self.workspace {
            Some(ws) => ws.rampart_dirs(self.rampart_dir_env.as_deref()),
            None => self.rampart_dir_env.iter().cloned().collect(),
        }
    }

    /// Finds the JUnit files and, for the run ids they (and the given ones) name, the results
    /// directories; reads the JUnit files to learn their run ids.
    pub fn load(&self) -> Result<(ReportInputs, Discovered), NothingFound> {
        let explicit = !self.junit.is_empty() || !self.results.is_empty();
        let mut found = Discovered::default();
        if explicit {
            found.junit_files = self.junit.clone();
        } else if let Some(ws) = &self.workspace {
            found.looked.push(ws.root.join("target/nextest/*/*.xml").to_string());
            found.junit_files.extend(ws.newest_junit());
        }
        let mut inputs = ReportInputs {
            run_ids: self.run_ids.clone(),
            junit_files: found.junit_files.iter().map(ToString::to_string).collect(),
            ..ReportInputs::default()
        };
        for file in &found.junit_files {
            let (run, problems) = load_junit(file);
            inputs.junit.extend(run);
            inputs.problems.extend(problems);
        }

        found.results_dirs = self.results.clone();
        if self.results.is_empty() {
            let dirs = self.rampart_dirs();
            let mut run_ids: Vec<String> = inputs.junit.iter().filter_map(|r| r.run_id.clone()).collect();
            run_ids.extend(self.run_ids.iter().cloned());
            run_ids.sort();
            run_ids.dedup();
            for run_id in &run_ids {
                let candidates: Vec<Utf8PathBuf> = dirs
                    .iter()
                    .filter_map(|d| Utf8PathBuf::from_path_buf(run_dir(d.as_std_path(), run_id)).ok())
                    .collect();
                found.looked.extend(candidates.iter().map(ToString::to_string));
                found.results_dirs.extend(candidates.into_iter().find(|c| c.is_dir()));
            }
            if found.junit_files.is_empty() && run_ids.is_empty() {
                found.looked.extend(dirs.iter().map(|d| d.join(RUNS_SUBDIR).join("*").to_string()));
                found.results_dirs.extend(newest_run_dir(&dirs));
            }
        }
        if found.junit_files.is_empty() && found.results_dirs.is_empty() {
            return Err(NothingFound { looked: found.looked });
        }
        inputs.results_dirs = found.results_dirs.iter().map(ToString::to_string).collect();
        Ok((inputs, found))
    }

    /// Reads the sidecars of the discovered results directories into `inputs`; `progress` is
    /// told the number of sidecar files first.
    pub fn read_sidecars(&self, inputs: &mut ReportInputs, found: &Discovered, progress: impl FnOnce(usize)) {
        // One walk of each directory; the count comes from it.
        let mut files = Vec::new();
        for dir in &found.results_dirs {
            let (in_dir, problems) = find_sidecar_files_checked(dir);
            if in_dir.is_empty() {
                inputs.problems.push(InputProblem::ResultsDirEmpty { path: dir.to_string() });
            }
            inputs.problems.extend(problems);
            files.extend(in_dir);
        }
        progress(files.len());
        // Read and parsed on every core; collected in the walk's order, so nothing downstream
        // sees a difference.
        let loaded: Vec<_> = {
            use rayon::prelude::*;
            files.par_iter().map(|file| load_sidecar_file(file, &self.limits)).collect()
        };
        for (sidecar, problems) in loaded {
            inputs.sidecars.extend(sidecar);
            inputs.problems.extend(problems);
        }
    }
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
