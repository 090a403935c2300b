//! Finding and reading sidecar files (the format and its reader live in `rampart::sidecar`).

use std::io::Read as _;

use camino::{Utf8Path, Utf8PathBuf};
use rampart::sidecar::{FILE_EXTENSION, LineProblemKind, ParseOptions, Sidecar, SidecarError, format_bytes};

use crate::problem::{InputProblem, named_source, span};
use crate::validate::Limits;

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
/// holding run directories (`runs/`). Sorted by path. Symlinks are followed only when they
/// point inside `dir`; see [`find_sidecar_files_checked`].
pub fn find_sidecar_files(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    find_sidecar_files_checked(dir).0
}

/// [`find_sidecar_files`], plus a problem for each symlink that points outside `dir` (it is
/// not followed: the walk uses `symlink_metadata`, and a link is used only when its
/// canonical target is inside the canonical `dir`).
pub fn find_sidecar_files_checked(dir: &Utf8Path) -> (Vec<Utf8PathBuf>, Vec<InputProblem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let root = dir.canonicalize_utf8().ok();
    let mut classify = |path: Utf8PathBuf, subdirs: Option<&mut Vec<Utf8PathBuf>>| {
        let Ok(meta) = path.symlink_metadata() else { return };
        let file_type = if meta.file_type().is_symlink() {
            let target = path.canonicalize_utf8().ok();
            match (&root, target) {
                (Some(root), Some(target)) if target.starts_with(root) => match target.metadata() {
                    Ok(meta) => meta.file_type(),
                    Err(_) => return,
                },
                (_, target) => {
                    let is_candidate = subdirs.is_some() || path.extension() == Some(FILE_EXTENSION);
                    if is_candidate {
                        let target = target.map(|t| t.to_string()).unwrap_or_else(|| {
                            fs_err::read_link(&path)
                                .map(|t| t.display().to_string())
                                .unwrap_or_else(|_| "an unreadable target".to_owned())
                        });
                        problems.push(InputProblem::SymlinkOutsideResults {
                            path: path.to_string(),
                            target,
                            dir: dir.to_string(),
                        });
                    }
                    return;
                }
            }
        } else {
            meta.file_type()
        };
        if file_type.is_dir() {
            if let Some(subdirs) = subdirs {
                subdirs.push(path);
            }
        } else if file_type.is_file() && path.extension() == Some(FILE_EXTENSION) {
            files.push(path);
        }
    };
    let Ok(entries) = dir.read_dir_utf8() else { return (files, problems) };
    let mut subdirs = Vec::new();
    for entry in entries.flatten() {
        classify(entry.path().to_owned(), Some(&mut subdirs));
    }
    for subdir in subdirs {
        if let Ok(entries) = subdir.read_dir_utf8() {
            for entry in entries.flatten() {
                classify(entry.path().to_owned(), None);
            }
        }
    }
    files.sort();
    problems.sort_by_key(ToString::to_string);
    (files, problems)
}

/// Reads every sidecar under `dir` (see [`find_sidecar_files`]) with the default [`Limits`].
pub fn load_results_dir(dir: &Utf8Path) -> (Vec<LoadedSidecar>, Vec<InputProblem>) {
    load_results_dir_with(dir, &Limits::default())
}

/// Reads every sidecar under `dir` (see [`find_sidecar_files`]) within `limits`.
pub fn load_results_dir_with(dir: &Utf8Path, limits: &Limits) -> (Vec<LoadedSidecar>, Vec<InputProblem>) {
    let (files, mut problems) = find_sidecar_files_checked(dir);
    if files.is_empty() {
        problems.push(InputProblem::ResultsDirEmpty { path: dir.to_string() });
        return (Vec::new(), problems);
    }
    let mut loaded = Vec::new();
    for file in files {
        let (sidecar, file_problems) = load_sidecar_with(&file, limits);
        loaded.extend(sidecar);
        problems.extend(file_problems);
    }
    (loaded, problems)
}

/// Reads one sidecar file with the default [`Limits`].
pub fn load_sidecar(path: &Utf8Path) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    load_sidecar_with(path, &Limits::default())
}

/// Reads one sidecar file within `limits`: past [`Limits::max_sidecar_bytes`] only the whole
/// lines before the cap are read.
pub fn load_sidecar_with(path: &Utf8Path, limits: &Limits) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let io = |source| (None, vec![InputProblem::SidecarIo { path: path.to_string(), source }]);
    let file = match fs_err::File::open(path) {
        Ok(file) => file,
        Err(source) => return io(source),
    };
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::new();
    if let Err(source) = file.take(limits.max_sidecar_bytes.saturating_add(1)).read_to_end(&mut bytes) {
        return io(source);
    }
    if bytes.len() as u64 <= limits.max_sidecar_bytes {
        return parse_sidecar_with(path.as_str(), &bytes, limits);
    }
    let keep =
        bytes[..limits.max_sidecar_bytes as usize].iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    bytes.truncate(keep);
    let (sidecar, mut problems) = parse_sidecar_with(path.as_str(), &bytes, limits);
    problems.insert(
        0,
        InputProblem::SidecarOversized {
            path: path.to_string(),
            size: format_bytes(file_len.max(limits.max_sidecar_bytes + 1)),
            limit: format_bytes(limits.max_sidecar_bytes),
        },
    );
    (sidecar, problems)
}

/// Parses sidecar bytes with the default [`Limits`]; `path` names the file in problems.
pub fn parse_sidecar(path: &str, bytes: &[u8]) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    parse_sidecar_with(path, bytes, &Limits::default())
}

/// Parses sidecar bytes within `limits` and sanitizes every result
/// ([`crate::validate::sanitize_result`]); `path` names the file in problems.
pub fn parse_sidecar_with(
    path: &str,
    bytes: &[u8],
    limits: &Limits,
) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let options = ParseOptions::new().with_max_line_bytes(limits.max_result_bytes);
    let mut sidecar = match rampart::sidecar::parse_with(bytes, &options) {
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
            LineProblemKind::Oversized { limit } => InputProblem::SidecarResultOversized {
                path: path.to_owned(),
                line: problem.line,
                size: format_bytes(problem.n_bytes as u64),
                limit: format_bytes(*limit as u64),
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
    for recorded in &mut sidecar.results {
        crate::validate::sanitize_result(&mut recorded.result);
    }
    if sidecar.n_out_of_range_numbers > 0 {
        problems.push(InputProblem::SidecarNumbersOutOfRange {
            path: path.to_owned(),
            n_numbers: sidecar.n_out_of_range_numbers,
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
