//! Where sidecars live: the rampart directory, run directories and file names.
//!
//! Layout: `<rampart dir>/runs/<run id>/<file>.jsonl`, one file per test attempt.
//!
//! The rampart directory is, in order:
//! 1. `$RAMPART_DIR` when set (a relative value is taken from the workspace root under
//!    nextest, from the current directory otherwise);
//! 2. under nextest, `<NEXTEST_WORKSPACE_ROOT>/target/rampart`: next to nextest's own
//!    `target/nextest`, which nextest also places under the workspace root whatever
//!    `CARGO_TARGET_DIR` says. Under `--workspace-remap` (archives run on another machine)
//!    this is the remapped checkout, where the JUnit lands too;
//! 3. `<cargo target dir>/rampart`, the target dir being found from the test binary's own
//!    path (the nearest ancestor holding cargo's `CACHEDIR.TAG`): plain `cargo test`, and
//!    nextest older than 0.9.130;
//! 4. `<temp dir>/rampart`, with a warning.
//!
//! `cargo rampart-report` looks in the same places.

use std::path::{Path, PathBuf};

use crate::sidecar::{AttemptIdentity, FILE_EXTENSION};

/// Environment variable that overrides the rampart directory.
pub const RAMPART_DIR_ENV: &str = "RAMPART_DIR";
/// Name of the directory under the target dir (and under `$RAMPART_DIR`'s parent layout).
pub const RAMPART_SUBDIR: &str = "rampart";
/// Directory holding one directory per run, under the rampart directory.
pub const RUNS_SUBDIR: &str = "runs";

const MAX_SLUG_BYTES: usize = 96;

/// Where the rampart directory was found, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct RampartDir {
    /// The directory.
    pub path: PathBuf,
    /// Which rule chose it.
    pub source: RampartDirSource,
}

/// Which rule chose the rampart directory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RampartDirSource {
    /// `$RAMPART_DIR`.
    Env,
    /// `<workspace root>/target/rampart`.
    WorkspaceRoot,
    /// `<cargo target dir>/rampart`.
    TargetDir,
    /// The system temp directory: nothing better was found.
    TempDir,
}

/// Inputs of [`resolve_rampart_dir`], separated from the process environment for testing.
#[derive(Clone, Debug, Default)]
pub struct DirInputs {
    /// `$RAMPART_DIR`.
    pub rampart_dir: Option<PathBuf>,
    /// `$NEXTEST_WORKSPACE_ROOT`.
    pub workspace_root: Option<PathBuf>,
    /// The running executable.
    pub current_exe: Option<PathBuf>,
    /// The current directory.
    pub current_dir: Option<PathBuf>,
}

impl DirInputs {
    /// Reads the inputs from this process.
    pub fn from_process() -> DirInputs {
        DirInputs {
            rampart_dir: non_empty_env_path(RAMPART_DIR_ENV),
            workspace_root: non_empty_env_path("NEXTEST_WORKSPACE_ROOT"),
            current_exe: std::env::current_exe().ok(),
            current_dir: std::env::current_dir().ok(),
        }
    }
}

fn non_empty_env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from)
}

/// Chooses the rampart directory by the rules in the [module docs](self).
pub fn resolve_rampart_dir(inputs: &DirInputs) -> RampartDir {
    let target_dir = inputs.current_exe.as_deref().and_then(target_dir_of_exe);
    rampart_dir_candidates(inputs, target_dir.as_deref()).into_iter().next().unwrap_or_else(|| RampartDir {
        path: std::env::temp_dir().join(RAMPART_SUBDIR),
        source: RampartDirSource::TempDir,
    })
}

/// Every rampart directory the rules in the [module docs](self) allow, in order: the
/// recorder writes into the first ([`resolve_rampart_dir`]); a reader (`cargo rampart-report`,
/// which knows the workspace root and the cargo target dir from `cargo metadata`) looks in
/// each, since a run may have been recorded under any of them (nextest older than 0.9.130
/// gives no workspace root, plain `cargo test` neither).
pub fn rampart_dir_candidates(inputs: &DirInputs, target_dir: Option<&Path>) -> Vec<RampartDir> {
    let mut dirs = Vec::new();
    if let Some(dir) = &inputs.rampart_dir {
        let path = if dir.is_absolute() {
            dir.clone()
        } else {
            let base = inputs.workspace_root.as_ref().or(inputs.current_dir.as_ref());
            base.map_or_else(|| dir.clone(), |b| b.join(dir))
        };
        dirs.push(RampartDir { path, source: RampartDirSource::Env });
    }
    if let Some(root) = &inputs.workspace_root {
        dirs.push(RampartDir {
            path: root.join("target").join(RAMPART_SUBDIR),
            source: RampartDirSource::WorkspaceRoot,
        });
    }
    if let Some(target) = target_dir {
        dirs.push(RampartDir { path: target.join(RAMPART_SUBDIR), source: RampartDirSource::TargetDir });
    }
    let mut seen = std::collections::HashSet::new();
    dirs.retain(|d| seen.insert(d.path.clone()));
    dirs
}

/// The cargo target directory that holds `exe`: its nearest ancestor with a `CACHEDIR.TAG`.
pub fn target_dir_of_exe(exe: &Path) -> Option<PathBuf> {
    exe.ancestors().skip(1).find(|dir| dir.join("CACHEDIR.TAG").is_file()).map(Path::to_path_buf)
}

/// Whether `exe` looks like a test binary built by cargo (it sits in a `deps` directory).
pub fn is_cargo_test_binary(exe: &Path) -> bool {
    exe.parent().and_then(Path::file_name).is_some_and(|name| name == "deps")
}

/// The directory of one run: `<rampart dir>/runs/<sanitized run id>`.
pub fn run_dir(rampart_dir: &Path, run_id: &str) -> PathBuf {
    rampart_dir.join(RUNS_SUBDIR).join(sanitize_component(run_id, MAX_SLUG_BYTES))
}

/// The canonical key of an attempt within a run: `<binary id>$<test name>[@stress-<i>]#<attempt>`.
///
/// The same shape as nextest's `NEXTEST_ATTEMPT_ID` without the run id, with the attempt
/// always present.
pub fn attempt_key(identity: &AttemptIdentity) -> String {
    let mut key = String::new();
    key.push_str(identity.binary_id.as_deref().unwrap_or(""));
    key.push('$');
    key.push_str(&identity.test_name);
    if let Some(stress) = identity.stress_index {
        key.push_str(&format!("@stress-{stress}"));
    }
    key.push_str(&format!("#{}", identity.attempt));
    key
}

/// The sidecar file name of an attempt: a readable slug of [`attempt_key`] plus a hash of the
/// exact key, e.g. `demo.agent_injection.summarise_document.trial_03_a1.5f1c0e0b2d9a4e77.jsonl`.
///
/// Safe for any binary id and test name: only `[A-Za-z0-9._-]`, no leading dot, no path
/// separators, at most ~120 bytes, never a Windows device name; distinct keys get distinct
/// names (the hash covers the exact key).
pub fn sidecar_file_name(identity: &AttemptIdentity) -> String {
    let key = attempt_key(identity);
    let mut readable = String::new();
    if let Some(binary_id) = &identity.binary_id {
        readable.push_str(binary_id);
        readable.push('.');
    }
    readable.push_str(&identity.test_name);
    if let Some(stress) = identity.stress_index {
        readable.push_str(&format!("_s{stress}"));
    }
    readable.push_str(&format!("_a{}", identity.attempt));
    format!(
        "{}.{:016x}.{FILE_EXTENSION}",
        sanitize_component(&readable, MAX_SLUG_BYTES),
        fnv1a64(key.as_bytes())
    )
}

/// Makes a string safe as one path component on Linux, macOS and Windows.
///
/// `::` becomes `.`; every byte outside `[A-Za-z0-9._-]` becomes `_`; leading dots are
/// replaced; the result is cut to `max_bytes` and is never empty nor a Windows device name.
pub fn sanitize_component(text: &str, max_bytes: usize) -> String {
    let text = text.replace("::", ".");
    let mut out: String = text
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
        .collect();
    // Every leading dot, not just the first: `...` must not become `_..`, then `_`.
    let n_leading_dots = out.bytes().take_while(|&b| b == b'.').count();
    out.replace_range(..n_leading_dots, &"_".repeat(n_leading_dots));
    out.truncate(max_bytes);
    while out.ends_with('.') {
        out.pop();
    }
    if out.is_empty() {
        out.push('_');
    }
    let stem = out.split('.').next().unwrap_or("").to_ascii_uppercase();
    let reserved = matches!(stem.as_str(), "CON" | "PRN" | "AUX" | "NUL")
        || (stem.len() == 4
            && (stem.starts_with("COM") || stem.starts_with("LPT"))
            && stem.as_bytes()[3].is_ascii_digit());
    if reserved {
        out.insert(0, '_');
    }
    out
}

/// 64-bit FNV-1a: stable across platforms and Rust versions, unlike `DefaultHasher`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sidecar::Harness;

    fn identity(
        binary_id: Option<&str>,
        test_name: &str,
        stress: Option<u32>,
        attempt: u32,
    ) -> AttemptIdentity {
        AttemptIdentity {
            harness: Harness::Nextest,
            run_id: "r".into(),
            binary_id: binary_id.map(str::to_owned),
            test_name: test_name.into(),
            attempt,
            total_attempts: 3,
            stress_index: stress,
            stress_total: None,
            profile: None,
            nextest_version: None,
            attempt_id: None,
        }
    }

    #[test]
    fn file_names_are_readable_and_distinct() {
        let a = sidecar_file_name(&identity(Some("demo::agent"), "injection::doc::trial_03", None, 1));
        assert!(a.starts_with("demo.agent.injection.doc.trial_03_a1."), "{a}");
        assert!(a.ends_with(".jsonl"));
        let b = sidecar_file_name(&identity(Some("demo::agent"), "injection::doc::trial_03", None, 2));
        let c = sidecar_file_name(&identity(Some("demo::agent"), "injection::doc::trial_03", Some(0), 1));
        // Same slug after sanitizing, different keys.
        let d = sidecar_file_name(&identity(Some("demo::agent"), "injection::doc::trial/03", None, 1));
        let e = sidecar_file_name(&identity(Some("demo::agent"), "injection::doc::trial\\03", None, 1));
        let names = [&a, &b, &c, &d, &e];
        for (i, x) in names.iter().enumerate() {
            for y in &names[i + 1..] {
                assert_ne!(x, y);
            }
        }
    }

    #[test]
    fn hostile_names_are_safe() {
        for name in [
            "../../etc/passwd",
            "..",
            ".",
            "",
            "CON",
            "con.txt",
            "a/b\\c:d*e?f\"g<h>i|j",
            "\u{0}\u{7}",
            "名前::テスト",
            &"x".repeat(5000),
        ] {
            for binary in [None, Some(".."), Some("nul")] {
                let file = sidecar_file_name(&identity(binary, name, None, 1));
                assert!(file.len() <= 140, "{file}");
                assert!(!file.starts_with('.'), "{file}");
                assert!(file.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b)), "{file}");
                let stem = file.split('.').next().unwrap().to_ascii_uppercase();
                assert!(!["CON", "PRN", "AUX", "NUL"].contains(&stem.as_str()), "{file}");
                assert_eq!(Path::new(&file).components().count(), 1);
            }
        }
        assert_eq!(sanitize_component("CON", 10), "_CON");
        assert_eq!(sanitize_component("lpt1.x", 10), "_lpt1.x");
        assert_eq!(sanitize_component("...", 10), "___");
    }

    #[test]
    fn dir_rules_in_order() {
        let mut inputs = DirInputs {
            rampart_dir: Some("custom".into()),
            workspace_root: Some("/ws".into()),
            current_exe: None,
            current_dir: Some("/cwd".into()),
        };
        assert_eq!(resolve_rampart_dir(&inputs).path, PathBuf::from("/ws/custom"));
        inputs.rampart_dir = Some("/abs".into());
        assert_eq!(resolve_rampart_dir(&inputs).path, PathBuf::from("/abs"));
        inputs.rampart_dir = None;
        let found = resolve_rampart_dir(&inputs);
        assert_eq!(
            (found.path, found.source),
            (PathBuf::from("/ws/target/rampart"), RampartDirSource::WorkspaceRoot)
        );
        inputs.workspace_root = None;
        assert_eq!(resolve_rampart_dir(&inputs).source, RampartDirSource::TempDir);
    }

    #[test]
    fn target_dir_from_exe() {
        let tmp = tempfile::tempdir().unwrap();
        let target = tmp.path().join("tgt");
        std::fs::create_dir_all(target.join("x86_64-unknown-linux-gnu/debug/deps")).unwrap();
        std::fs::write(target.join("CACHEDIR.TAG"), "Signature: 8a477f597d28d172789f06886806bc55").unwrap();
        let exe = target.join("x86_64-unknown-linux-gnu/debug/deps/agent-0123");
        assert_eq!(target_dir_of_exe(&exe), Some(target.clone()));
        assert!(is_cargo_test_binary(&exe));
        assert!(!is_cargo_test_binary(&target.join("debug/agent")));
    }
}
