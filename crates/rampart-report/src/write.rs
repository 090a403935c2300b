//! The one writer of report directories: every file a sink writes goes through [`ReportDir`].
//!
//! - **Atomic:** each file is written to a temporary name in the same directory, flushed to
//!   disk, then renamed over the old one: a reader (or a kill mid-write) sees the old file or
//!   the new one, never half of one.
//! - **Ordinary modes:** the temporary file is created like any other file (mode `0666` minus
//!   the process umask, so `0644` under the usual umask), not `0600` as temp-file crates do: a
//!   report directory served by a web server or shared on a CI runner is readable.
//! - **Marked:** the directory holds [`MARKER_FILE`], which says a rampart report lives here
//!   and may be replaced; `cargo rampart-report` refuses to write into a non-empty directory
//!   without it.
//! - **Tidy:** files that a sink wrote last time and did not write this time (the HTML page's
//!   data files, when a run shrinks) are removed by [`ReportDir::remove_stale`].
//! - **Never clobbers archives:** [`ReportDir::create_new`] links a file in only if the name
//!   is free.

use std::fs::{File, OpenOptions};

use camino::{Utf8Path, Utf8PathBuf};

use crate::sink::SinkError;

/// The marker file in every report directory; its first line is [`MARKER_LINE`].
pub const MARKER_FILE: &str = ".rampart-report";
/// The first line of [`MARKER_FILE`].
pub const MARKER_LINE: &str = "rampart report directory: cargo rampart-report replaces files here";

/// A report directory: where sinks write.
#[derive(Clone, Debug)]
pub struct ReportDir {
    path: Utf8PathBuf,
}

fn io_error(path: &Utf8Path) -> impl FnOnce(std::io::Error) -> SinkError + use<> {
    let path = path.to_string();
    move |source| SinkError::Io { path, source }
}

impl ReportDir {
    /// A report directory at `path` (created on first write).
    pub fn new(path: impl Into<Utf8PathBuf>) -> ReportDir {
        ReportDir { path: path.into() }
    }

    /// The directory.
    pub fn path(&self) -> &Utf8Path {
        &self.path
    }

    /// Creates the directory (and its parents) and writes [`MARKER_FILE`] when missing.
    pub fn create(&self) -> Result<(), SinkError> {
        fs_err::create_dir_all(&self.path).map_err(io_error(&self.path))?;
        let marker = self.path.join(MARKER_FILE);
        if !marker.exists() {
            let text = format!(
                "{MARKER_LINE}\nWritten by rampart-report {}. Reports here are replaced on every run; do not keep other files here.\n",
                env!("CARGO_PKG_VERSION")
            );
            self.write(MARKER_FILE, text.as_bytes())?;
        }
        Ok(())
    }

    /// Writes `bytes` to `<dir>/<name>` atomically (temporary file, then rename); returns the
    /// path. `name` may name a subdirectory (`runs/x.json`), which is created.
    pub fn write(&self, name: &str, bytes: &[u8]) -> Result<Utf8PathBuf, SinkError> {
        self.write_with(name, |w| w.write_all(bytes))
    }

    /// Like [`write`](Self::write), with the content streamed by `fill` through a buffered
    /// writer instead of built in memory first. When `fill` fails nothing is replaced.
    pub fn write_with(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<Utf8PathBuf, SinkError> {
        let path = self.path.join(name);
        let dir = self.subdir_of(&path)?;
        let (temp, file) = create_temp(&dir, &path)?;
        let finish = fill_and_sync(file, fill).and_then(|()| std::fs::rename(&temp, &path));
        if let Err(source) = finish {
            let _ = std::fs::remove_file(&temp);
            return Err(SinkError::Io { path: path.to_string(), source });
        }
        Ok(path)
    }

    /// Gives the file `existing` (written by this directory) a second name `name`, which must
    /// not exist yet: a hard link, or a copy where the file system has none. `Ok(None)` when
    /// `name` is taken.
    pub fn link_new(&self, existing: &Utf8Path, name: &str) -> Result<Option<Utf8PathBuf>, SinkError> {
        let path = self.path.join(name);
        self.subdir_of(&path)?;
        match std::fs::hard_link(existing, &path) {
            Ok(()) => Ok(Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(_) => {
                let bytes = std::fs::read(existing).map_err(io_error(existing))?;
                self.create_new(name, &bytes)
            }
        }
    }

    /// Writes `bytes` to `<dir>/<name>` only if no file has that name: `Ok(None)` when one
    /// does. Never replaces a file, never leaves half of one.
    pub fn create_new(&self, name: &str, bytes: &[u8]) -> Result<Option<Utf8PathBuf>, SinkError> {
        let path = self.path.join(name);
        let dir = self.subdir_of(&path)?;
        let (temp, file) = create_temp(&dir, &path)?;
        let result = write_and_sync(file, bytes).and_then(|()| std::fs::hard_link(&temp, &path));
        let _ = std::fs::remove_file(&temp);
        match result {
            Ok(()) => Ok(Some(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(source) => Err(SinkError::Io { path: path.to_string(), source }),
        }
    }

    /// The directory `path` goes into, created; a subdirectory of the report directory must be
    /// a real directory, never a symlink (which could point anywhere).
    fn subdir_of(&self, path: &Utf8Path) -> Result<Utf8PathBuf, SinkError> {
        let dir = path.parent().unwrap_or(&self.path).to_owned();
        fs_err::create_dir_all(&dir).map_err(io_error(&dir))?;
        if dir != self.path {
            let meta = fs_err::symlink_metadata(&dir).map_err(io_error(&dir))?;
            if !meta.file_type().is_dir() {
                return Err(SinkError::Io {
                    path: dir.to_string(),
                    source: std::io::Error::other(
                        "it is a symlink, not a directory of the report; remove it",
                    ),
                });
            }
        }
        Ok(dir)
    }

    /// Removes the files directly in the directory whose names start with one of `prefixes`
    /// and that are not in `keep`: what a sink wrote on an earlier run and not on this one.
    pub fn remove_stale(&self, prefixes: &[&str], keep: &[String]) -> Result<(), SinkError> {
        let Ok(entries) = self.path.read_dir_utf8() else { return Ok(()) };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let stale = prefixes.iter().any(|p| name.starts_with(p)) && !keep.iter().any(|k| k == name);
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            if stale && is_file {
                fs_err::remove_file(entry.path()).map_err(io_error(entry.path()))?;
            }
        }
        Ok(())
    }
}

/// Why a directory may not receive reports.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("refusing to write the report into {path}: {reason}")]
#[non_exhaustive]
pub struct OutDirRefused {
    /// The directory.
    pub path: Utf8PathBuf,
    /// Why.
    pub reason: String,
}

/// Files rampart wrote into report directories before the marker existed: a directory holding
/// only these is taken as a report directory.
const KNOWN_REPORT_FILES: &[&str] = &["report.json", "summary.md", "junit.xml", "index.html"];

impl ReportDir {
    /// Checks that the directory may receive reports: not `/`, not the home directory, not a
    /// file, and either missing, empty, or a report directory (holding [`MARKER_FILE`], or only
    /// files rampart writes).
    pub fn check(&self) -> Result<(), OutDirRefused> {
        let out_dir = self.path.as_path();
        let refuse = |reason: &str| OutDirRefused { path: out_dir.to_owned(), reason: reason.to_owned() };
        let resolved = resolve_existing_prefix(out_dir);
        if resolved.parent().is_none() {
            return Err(refuse("it is the root directory"));
        }
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .and_then(|h| std::path::PathBuf::from(h).canonicalize().ok());
        if home.is_some_and(|home| home == resolved.as_std_path()) {
            return Err(refuse("it is your home directory"));
        }
        let meta = match out_dir.symlink_metadata() {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(refuse(&format!("it cannot be inspected ({e})"))),
        };
        if !resolved.is_dir() {
            return Err(refuse(if meta.file_type().is_symlink() {
                "it is a symlink to a non-directory"
            } else {
                "it is not a directory"
            }));
        }
        // A symlink where the report writes a directory would steer writes out of it.
        if out_dir.join("runs").symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refuse("its `runs` entry is a symlink (the report writes `runs/` there); remove it"));
        }
        if out_dir.join(MARKER_FILE).symlink_metadata().is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(refuse("its `.rampart-report` marker is a symlink"));
        }
        if let Ok(marker) = fs_err::read_to_string(out_dir.join(MARKER_FILE)) {
            if marker.lines().next() == Some(MARKER_LINE) {
                return Ok(());
            }
            return Err(refuse("its `.rampart-report` marker is not one rampart wrote"));
        }
        let entries = out_dir.read_dir_utf8().map_err(|e| refuse(&format!("it cannot be listed ({e})")))?;
        let mut unknown = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name();
            let is_file = entry.file_type().is_ok_and(|t| t.is_file());
            let temp_file = name.starts_with(".tmp") || (name.starts_with('.') && name.ends_with(".tmp"));
            let data_chunk = name.starts_with("report-") && name.ends_with(".js");
            // `runs/` only as a real directory: a symlink named `runs` would steer the archive
            // out of the report directory.
            let runs_dir = name == "runs" && entry.file_type().is_ok_and(|t| t.is_dir());
            let known =
                runs_dir || (is_file && (KNOWN_REPORT_FILES.contains(&name) || temp_file || data_chunk));
            if !known {
                unknown.push(name.to_owned());
            }
        }
        if unknown.is_empty() {
            return Ok(());
        }
        unknown.sort();
        let shown: Vec<&str> = unknown.iter().take(3).map(String::as_str).collect();
        Err(refuse(&format!(
            "it is not empty and not a rampart report directory (no `.rampart-report` marker; it holds {}{})",
            shown.join(", "),
            if unknown.len() > 3 { ", ..." } else { "" }
        )))
    }
}

/// `path` made absolute with symlinks resolved as far as it exists.
fn resolve_existing_prefix(path: &Utf8Path) -> Utf8PathBuf {
    let absolute = if path.is_absolute() {
        path.to_owned()
    } else {
        let cwd =
            std::env::current_dir().ok().and_then(|d| Utf8PathBuf::try_from(d).ok()).unwrap_or_default();
        cwd.join(path)
    };
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(resolved) = existing.canonicalize_utf8() {
            let mut resolved = resolved;
            for part in rest.iter().rev() {
                resolved.push(part);
            }
            return normalize(&resolved);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_owned());
                existing = parent;
            }
            _ => return normalize(&absolute),
        }
    }
}

/// Removes `.` and resolves `..` lexically.
fn normalize(path: &Utf8Path) -> Utf8PathBuf {
    let mut out = Utf8PathBuf::new();
    for component in path.components() {
        match component {
            camino::Utf8Component::CurDir => {}
            camino::Utf8Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Creates a new file with ordinary permissions next to `path`: `.<name>.<pid>.<n>.tmp`.
fn create_temp(dir: &Utf8Path, path: &Utf8Path) -> Result<(Utf8PathBuf, File), SinkError> {
    let name = path.file_name().unwrap_or("report");
    let pid = std::process::id();
    for n in 0u32..10_000 {
        let temp = dir.join(format!(".{name}.{pid}.{n}.tmp"));
        // `create_new` is O_CREAT | O_EXCL: it never follows a symlink or reuses a file; the
        // kernel applies the umask to 0666 (std's default mode).
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(source) => return Err(SinkError::Io { path: temp.to_string(), source }),
        }
    }
    Err(SinkError::Io {
        path: path.to_string(),
        source: std::io::Error::new(std::io::ErrorKind::AlreadyExists, "no free temporary file name"),
    })
}

fn write_and_sync(file: File, bytes: &[u8]) -> std::io::Result<()> {
    fill_and_sync(file, |w| w.write_all(bytes))
}

/// Writes through a buffer, flushes and syncs.
fn fill_and_sync(
    file: File,
    fill: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut writer = std::io::BufWriter::with_capacity(1 << 16, file);
    fill(&mut writer)?;
    let file = writer.into_inner().map_err(std::io::IntoInnerError::into_error)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> (tempfile::TempDir, ReportDir) {
        let temp = tempfile::tempdir().unwrap();
        let path = Utf8PathBuf::try_from(temp.path().join("out")).unwrap();
        (temp, ReportDir::new(path))
    }

    #[cfg(unix)]
    #[test]
    fn files_get_ordinary_modes_and_no_temp_file_is_left() {
        use std::os::unix::fs::PermissionsExt as _;
        let (_temp, out) = dir();
        out.create().unwrap();
        out.write("report.json", b"{}").unwrap();
        out.write("runs/a.json", b"{}").unwrap();
        assert_eq!(out.create_new("runs/a.json", b"other").unwrap(), None);
        assert!(out.create_new("runs/b.json", b"{}").unwrap().is_some());
        // What any other program writes under this process's umask.
        let probe = out.path().join("probe");
        std::fs::write(&probe, b"").unwrap();
        let expected = std::fs::metadata(&probe).unwrap().permissions().mode() & 0o777;
        std::fs::remove_file(&probe).unwrap();
        for name in [MARKER_FILE, "report.json", "runs/a.json", "runs/b.json"] {
            let mode = std::fs::metadata(out.path().join(name)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, expected, "{name}: {mode:o}");
        }
        assert_eq!(std::fs::read(out.path().join("runs/a.json")).unwrap(), b"{}", "never clobbered");
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .chain(std::fs::read_dir(out.path().join("runs")).unwrap())
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [MARKER_FILE, "a.json", "b.json", "report.json", "runs"]);
    }

    #[test]
    fn stale_files_of_a_sink_are_removed_and_others_kept() {
        let (_temp, out) = dir();
        out.create().unwrap();
        for name in ["report-data-0.js", "report-data-1.js", "report-detail-0.js", "index.html", "notes.txt"]
        {
            out.write(name, b"x").unwrap();
        }
        out.remove_stale(&["report-data-", "report-detail-"], &["report-data-0.js".to_owned()]).unwrap();
        let mut names: Vec<String> = std::fs::read_dir(out.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names, [MARKER_FILE, "index.html", "notes.txt", "report-data-0.js"]);
    }

    /// A directory whose only entry is a symlink `runs -> elsewhere` is not a report
    /// directory, and no file is written through such a link.
    #[cfg(unix)]
    #[test]
    fn a_symlinked_runs_directory_steers_nothing() {
        let elsewhere = tempfile::tempdir().unwrap();
        let (_temp, out) = dir();
        std::fs::create_dir_all(out.path()).unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), out.path().join("runs")).unwrap();
        let refused = out.check().unwrap_err();
        assert!(refused.reason.contains("runs"), "{refused}");
        // Even with a marker: the check names the link, and a write through it is refused.
        std::fs::write(out.path().join(MARKER_FILE), format!("{MARKER_LINE}\n")).unwrap();
        assert!(out.check().unwrap_err().reason.contains("`runs` entry is a symlink"));
        let error = out.create_new("runs/run_report_x.json", b"{}").unwrap_err();
        assert!(error.to_string().contains("runs"), "{error}");
        assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0, "nothing written elsewhere");
    }
}
