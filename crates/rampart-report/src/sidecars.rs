//! Finding and reading sidecar files (the format and its reader live in `rampart::sidecar`).

use std::io::Read as _;

use camino::{Utf8Path, Utf8PathBuf};
use rampart::sidecar::{FILE_EXTENSION, LineProblemKind, ParseOptions, Sidecar, SidecarError, format_bytes};

use crate::problem::{InputProblem, line_around, line_excerpt};
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

/// A sidecar file found in a results directory.
///
/// On Unix it is opened relative to the directory the walk listed (held open, never looked up
/// by path again) with `O_NOFOLLOW`, and checked to be a regular file on the opened descriptor:
/// swapping it (or its directory) for a symlink after the walk cannot make the report read a
/// file outside the results directory.
#[derive(Clone, Debug)]
pub struct SidecarFile {
    /// The file's path, for messages.
    pub path: Utf8PathBuf,
    #[cfg(unix)]
    dir: std::sync::Arc<rustix::fd::OwnedFd>,
    #[cfg(unix)]
    name: std::ffi::CString,
}

impl SidecarFile {
    /// Opens the file for reading, refusing anything but a regular file.
    pub fn open(&self) -> std::io::Result<std::fs::File> {
        #[cfg(unix)]
        {
            use rustix::fs::{FileType, Mode, OFlags};
            let fd = rustix::fs::openat(
                &*self.dir,
                self.name.as_c_str(),
                OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC | OFlags::NONBLOCK,
                Mode::empty(),
            )?;
            let stat = rustix::fs::fstat(&fd)?;
            if FileType::from_raw_mode(stat.st_mode) != FileType::RegularFile {
                return Err(std::io::Error::other("not a regular file"));
            }
            Ok(std::fs::File::from(fd))
        }
        #[cfg(not(unix))]
        {
            let meta = std::fs::symlink_metadata(&self.path)?;
            if !meta.file_type().is_file() {
                return Err(std::io::Error::other("not a regular file"));
            }
            std::fs::File::open(&self.path)
        }
    }
}

/// The sidecar files under `dir`: a run directory (files directly inside), or a directory
/// holding run directories (`runs/`). Sorted by path. See [`find_sidecar_files_checked`].
pub fn find_sidecar_files(dir: &Utf8Path) -> Vec<Utf8PathBuf> {
    find_sidecar_files_checked(dir).0.into_iter().map(|f| f.path).collect()
}

/// [`find_sidecar_files`], as [`SidecarFile`]s, plus a problem for each symlink that points
/// outside `dir`. No symlink inside the directory is followed (a link to a file inside is
/// read through the file's own name); `dir` itself may be one.
pub fn find_sidecar_files_checked(dir: &Utf8Path) -> (Vec<SidecarFile>, Vec<InputProblem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    walk(dir, &mut files, &mut problems);
    files.sort_by(|a, b| a.path.cmp(&b.path));
    problems.sort_by_key(ToString::to_string);
    (files, problems)
}

/// A symlink met by the walk: a problem when it points outside the results directory.
fn symlink_problem(dir: &Utf8Path, path: &Utf8Path, is_candidate: bool) -> Option<InputProblem> {
    let root = dir.canonicalize_utf8().ok();
    let target = path.canonicalize_utf8().ok();
    if let (Some(root), Some(target)) = (&root, &target)
        && target.starts_with(root)
    {
        return None;
    }
    if !is_candidate {
        return None;
    }
    let target = target.map(|t| t.to_string()).unwrap_or_else(|| {
        fs_err::read_link(path)
            .map(|t| t.display().to_string())
            .unwrap_or_else(|_| "an unreadable target".to_owned())
    });
    Some(InputProblem::SymlinkOutsideResults { path: path.to_string(), target, dir: dir.to_string() })
}

#[cfg(unix)]
fn walk(dir: &Utf8Path, files: &mut Vec<SidecarFile>, problems: &mut Vec<InputProblem>) {
    use std::os::fd::AsFd as _;
    use std::sync::Arc;

    use rustix::fs::{FileType, Mode, OFlags};

    let open_dir = |at: rustix::fd::BorrowedFd<'_>, name: &std::ffi::CStr, follow: bool| {
        let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if !follow {
            flags |= OFlags::NOFOLLOW;
        }
        rustix::fs::openat(at, name, flags, Mode::empty())
    };
    let Ok(top_name) = std::ffi::CString::new(dir.as_str()) else { return };
    // The directory given may be a symlink; nothing below it is followed.
    let Ok(top) = open_dir(rustix::fs::CWD, &top_name, true) else { return };
    let mut stack: Vec<(Utf8PathBuf, Arc<rustix::fd::OwnedFd>, bool)> =
        vec![(dir.to_owned(), Arc::new(top), true)];
    while let Some((path, fd, is_top)) = stack.pop() {
        let Ok(entries) = rustix::fs::Dir::read_from(&*fd) else { continue };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let bytes = name.to_bytes();
            if bytes == b"." || bytes == b".." {
                continue;
            }
            // A name that is not UTF-8 is still read (opened by its bytes); it is shown lossily.
            let name_str = String::from_utf8_lossy(bytes);
            let child = path.join(name_str.as_ref());
            let mut file_type = entry.file_type();
            if file_type == FileType::Unknown {
                file_type = rustix::fs::statat(&*fd, name, rustix::fs::AtFlags::SYMLINK_NOFOLLOW)
                    .map_or(FileType::Unknown, |st| FileType::from_raw_mode(st.st_mode));
            }
            match file_type {
                FileType::Directory if is_top => {
                    if let Ok(sub) = open_dir(fd.as_fd(), name, false) {
                        stack.push((child, Arc::new(sub), false));
                    }
                }
                FileType::RegularFile if child.extension() == Some(FILE_EXTENSION) => {
                    files.push(SidecarFile { path: child, dir: Arc::clone(&fd), name: name.to_owned() });
                }
                FileType::Symlink => {
                    let is_candidate = is_top || child.extension() == Some(FILE_EXTENSION);
                    problems.extend(symlink_problem(dir, &child, is_candidate));
                }
                _ => {}
            }
        }
    }
}

#[cfg(not(unix))]
fn walk(dir: &Utf8Path, files: &mut Vec<SidecarFile>, problems: &mut Vec<InputProblem>) {
    let mut stack = vec![(dir.to_owned(), true)];
    while let Some((path, is_top)) = stack.pop() {
        let Ok(entries) = path.read_dir_utf8() else { continue };
        for entry in entries.flatten() {
            let child = entry.path().to_owned();
            let Ok(file_type) = entry.file_type() else { continue };
            if file_type.is_symlink() {
                let is_candidate = is_top || child.extension() == Some(FILE_EXTENSION);
                problems.extend(symlink_problem(dir, &child, is_candidate));
            } else if file_type.is_dir() && is_top {
                stack.push((child, false));
            } else if file_type.is_file() && child.extension() == Some(FILE_EXTENSION) {
                files.push(SidecarFile { path: child });
            }
        }
    }
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
        let (sidecar, file_problems) = load_sidecar_file(&file, limits);
        loaded.extend(sidecar);
        problems.extend(file_problems);
    }
    (loaded, problems)
}

/// Reads one sidecar file with the default [`Limits`].
pub fn load_sidecar(path: &Utf8Path) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    load_sidecar_with(path, &Limits::default())
}

/// Reads one sidecar file, named by path, within `limits` (see [`load_sidecar_file`]). A
/// symlink is not followed.
pub fn load_sidecar_with(path: &Utf8Path, limits: &Limits) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let io = |source| (None, vec![InputProblem::SidecarIo { path: path.to_string(), source }]);
    let opened = std::fs::OpenOptions::new().read(true).custom_flags_nofollow().open(path);
    match opened {
        Ok(file) => read_sidecar(path, file, limits),
        Err(source) => io(source),
    }
}

/// Reads one sidecar file found by [`find_sidecar_files_checked`] within `limits`: past
/// [`Limits::max_sidecar_bytes`] only the whole lines before the cap are read.
pub fn load_sidecar_file(file: &SidecarFile, limits: &Limits) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    match file.open() {
        Ok(opened) => read_sidecar(&file.path, opened, limits),
        Err(source) => (None, vec![InputProblem::SidecarIo { path: file.path.to_string(), source }]),
    }
}

/// `O_NOFOLLOW` on Unix; nothing elsewhere.
trait NoFollow {
    fn custom_flags_nofollow(&mut self) -> &mut Self;
}

impl NoFollow for std::fs::OpenOptions {
    fn custom_flags_nofollow(&mut self) -> &mut Self {
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt as _;
            self.custom_flags(rustix::fs::OFlags::NOFOLLOW.bits() as i32)
        }
        #[cfg(not(unix))]
        {
            self
        }
    }
}

fn read_sidecar(
    path: &Utf8Path,
    file: std::fs::File,
    limits: &Limits,
) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let io = |source| (None, vec![InputProblem::SidecarIo { path: path.to_string(), source }]);
    let file_len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut bytes = Vec::with_capacity(usize::try_from(file_len.min(limits.max_sidecar_bytes)).unwrap_or(0));
    if let Err(source) = file.take(limits.max_sidecar_bytes.saturating_add(1)).read_to_end(&mut bytes) {
        return io(source);
    }
    if bytes.len() as u64 <= limits.max_sidecar_bytes {
        return parse_sidecar_with(path.as_str(), &bytes, limits);
    }
    // Cut at the cap, not at the last whole line: the reader probes the cut line like a torn
    // one, so an UNSAFE status at its start still counts.
    bytes.truncate(limits.max_sidecar_bytes as usize);
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

/// Parses sidecar bytes within `limits`; `path` names the file in problems. Results are as
/// recorded: the report redacts, then bounds them ([`crate::validate::sanitize_result`]) when it
/// assembles.
pub fn parse_sidecar_with(
    path: &str,
    bytes: &[u8],
    limits: &Limits,
) -> (Option<LoadedSidecar>, Vec<InputProblem>) {
    let options = ParseOptions::new().with_max_line_bytes(limits.max_result_bytes);
    let sidecar = match rampart::sidecar::parse_with(bytes, &options) {
        Ok(sidecar) => sidecar,
        Err(error) => return (None, vec![fatal_problem(path, bytes, error)]),
    };
    let mut problems = Vec::new();
    for problem in &sidecar.problems {
        // Only the offending line is quoted, never its neighbours.
        let start = problem.byte_offset.min(bytes.len());
        let line_bytes = &bytes[start..(start + problem.n_bytes).min(bytes.len())];
        let line_bytes = line_bytes.strip_suffix(b"\n").unwrap_or(line_bytes);
        let (whole_source, whole_span) = line_excerpt(path, problem.line, line_bytes, 0, line_bytes.len());
        problems.push(match &problem.kind {
            LineProblemKind::TornTail => InputProblem::SidecarTornLine {
                path: path.to_owned(),
                line: problem.line,
                source_code: Some(whole_source),
                span: Some(whole_span),
            },
            // Without a position (e.g. an unknown enum value) the whole line is marked.
            LineProblemKind::Malformed { message, column } => {
                let (source_code, span) = match column {
                    Some(column) => line_excerpt(path, problem.line, line_bytes, column.saturating_sub(1), 1),
                    None => (whole_source, whole_span),
                };
                InputProblem::SidecarBadLine {
                    path: path.to_owned(),
                    line: problem.line,
                    column: column.unwrap_or(1),
                    detail: message.clone(),
                    span: Some(span),
                    source_code: Some(source_code),
                }
            }
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
                source_code: Some(whole_source),
                span: Some(whole_span),
            },
        });
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
            let (_, end) = line_around(bytes, 0);
            let line = &bytes[..end.min(n_bytes.max(end))];
            let (source_code, span) = match column {
                Some(column) if column > 1 => line_excerpt(path, 1, line, column - 1, 1),
                _ => line_excerpt(path, 1, line, 0, line.len()),
            };
            InputProblem::SidecarBadHeader {
                path: path.to_owned(),
                reason,
                source_code: Some(source_code),
                span: Some(span),
            }
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
