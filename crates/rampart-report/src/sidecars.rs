//! Finding and reading sidecar files (the format and its reader live in `rampart::sidecar`).

use camino::{Utf8Path, Utf8PathBuf};
use rampart::sidecar::{FILE_EXTENSION, LineProblemKind, Sidecar, SidecarError};

use crate::problem::{InputProblem, named_source, span};

/// A sidecar file, read.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct LoadedSidecar {
    /// The file.
    pub path: String,
    /// Its contents.
    pub sidecar: Sidecar,
}

impl LoadedSidecar {
    /// A loaded sidecar (for tests and custom ingest).
    pub fn new(path: impl Into<String>, sidecar: Sidecar) -> LoadedSidecar {
        LoadedSidecar { path: path.into(), sidecar }
    }
}

/// The sidecar files under `dir`: a run directory (files directly inside), or a directory
/// holding run directories (`runs/`). Sorted by path.
pub fn find_sidecar_files(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = dir.read_dir_utf8() else { return files };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        let path = entry.path().to_owned();
        if path.is_dir() {
            subdirs.push(path);
        } else if path.extension() == Some(FILE_EXTENSION) {
            files.push(path);
        }
    }
    for subdir in subdirs {
        if let Ok(entries) = subdir.read_dir_utf8() {
            files.extend(
                entries
                    .flatten()
                    .map(|e| e.path().to_owned())
                    .filter(|p| p.is_file() && p.extension() == Some(FILE_EXTENSION)),
            );
        }
    }
    files.sort();
    files
}

/// Reads every sidecar under `dir` (see [`find_sidecar_files`]).
pub fn load_results_dir(dir: &Utf8Path) -> (Vec<LoadedSidecar>, Vec<InputProblem>) {
    let files = find_sidecar_files(dir);
    if files.is_empty() {
        return (Vec::new(), vec![InputProblem::ResultsDirEmpty { path: dir.to_string() }]);
    }
    let mut loaded = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let (sidecar, file_problems) = load_sidecar(&file);
        loaded.extend(sidecar);
        problems.extend(file_problems);
    }
    (loaded, problems)
}

/// Reads one sidecar file.
pub fn load_sidecar(path: &Utf8Path) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    match fs_err::read(path) {
        Ok(bytes) => parse_sidecar(path.as_str(), &bytes),
        Err(source) => (None, vec![InputProblem::SidecarIo { path: path.to_string(), source }]),
    }
}

/// Parses sidecar bytes; `path` names the file in problems.
pub fn parse_sidecar(path: &str, bytes: &[u8]) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let sidecar = match rampart::sidecar::parse(bytes) {
        Ok(sidecar) => sidecar,
        Err(error) => return (None, vec![fatal_problem(path, bytes, error)]),
    };
    let mut problems = Vec::new();
    for problem in &sidecar.problems {
        let source_code = named_source(path, bytes);
        let len = source_code.as_ref().map_or(0, |s| s.inner().len());
        let whole_line = source_code.as_ref().map(|_| span(problem.byte_offset, problem.n_bytes, len));
        problems.push(match &problem.kind {
            LineProblemKind::TornTail => InputProblem::SidecarTornLine {
                path: path.to_owned(),
                line: problem.line,
                source_code,
                span: whole_line,
            },
            // Without a position (e.g. an unknown enum value) the whole line is marked.
            LineProblemKind::Malformed { message, column } => InputProblem::SidecarBadLine {
                path: path.to_owned(),
                line: problem.line,
                column: column.unwrap_or(1),
                detail: message.clone(),
                span: source_code.as_ref().map(|_| match column {
                    Some(column) => span(problem.byte_offset + column - 1, 1, len),
                    None => span(problem.byte_offset, problem.n_bytes, len),
                }),
                source_code,
            },
            other => InputProblem::SidecarBadLine {
                path: path.to_owned(),
                line: problem.line,
                column: 1,
                detail: other.to_string(),
                source_code,
                span: whole_line,
            },
        });
    }
    if sidecar.n_lossy_lines > 0 {
        problems.push(InputProblem::SidecarNotUtf8 { path: path.to_owned(), n_lines: sidecar.n_lossy_lines });
    }
    (Some(LoadedSidecar { path: path.to_owned(), sidecar }), problems)
}

fn fatal_problem(path: &str, bytes: &[u8], error: SidecarError) -> InputProblem {
    match error {
        SidecarError::Empty => InputProblem::SidecarEmpty { path: path.to_owned() },
        SidecarError::BadHeader { reason, column, n_bytes } => {
            let source_code = named_source(path, bytes);
            let len = source_code.as_ref().map_or(0, |s| s.inner().len());
            let span = source_code.as_ref().map(|_| match column {
                Some(column) if column > 1 => span(column - 1, 1, len),
                _ => span(0, n_bytes, len),
            });
            InputProblem::SidecarBadHeader { path: path.to_owned(), reason, source_code, span }
        }
        SidecarError::UnsupportedSchema { found } => {
            InputProblem::SidecarUnknownSchema { path: path.to_owned(), found }
        }
        SidecarError::Io { source, .. } => InputProblem::SidecarIo { path: path.to_owned(), source },
        other => InputProblem::SidecarBadHeader {
            path: path.to_owned(),
            reason: other.to_string(),
            source_code: None,
            span: None,
        },
    }
}
