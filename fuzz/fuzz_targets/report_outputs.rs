//! Every output the report writes, on arbitrary input: 1–3 JUnit documents (split from the
//! input on a 0xFF byte) and the same bytes as a sidecar, assembled and written by every file
//! sink (`report.json` and its archive, `summary.md`, `junit.xml`, `index.html` and its data
//! files) into a fresh directory. Nothing appears outside that directory, and no output file
//! holds a raw ESC byte.
#![no_main]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use libfuzzer_sys::fuzz_target;
use rampart_report::{
    JsonFileSink, JunitSink, MarkdownSink, ReportContext, ReportDir, ReportInputs, assemble,
};

/// This process's scratch directory: on tmpfs when there is one (the report directory writer
/// syncs every file), holding a sentinel file and one report directory per input.
fn scratch() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let base = Path::new("/dev/shm");
        let base = if base.is_dir() { base.to_path_buf() } else { std::env::temp_dir() };
        let dir = base.join(format!("rampart-fuzz-report-outputs-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("outputs")).unwrap();
        std::fs::write(dir.join("sentinel"), b"untouched").unwrap();
        dir
    })
}

/// Every path under `root` but `skip`, with its size and mtime.
fn snapshot(root: &Path, skip: &Path) -> BTreeMap<PathBuf, (bool, u64, Option<std::time::SystemTime>)> {
    let mut entries = BTreeMap::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.starts_with(skip) {
                continue;
            }
            let meta = path.symlink_metadata().unwrap();
            if meta.is_dir() {
                pending.push(path.clone());
            }
            entries.insert(path, (meta.is_dir(), meta.len(), meta.modified().ok()));
        }
    }
    entries
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = path.symlink_metadata().unwrap();
            assert!(!meta.file_type().is_symlink(), "a sink wrote a symlink: {}", path.display());
            if meta.is_dir() {
                pending.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

fuzz_target!(|data: &[u8]| {
    static N: AtomicU64 = AtomicU64::new(0);
    let mut inputs = ReportInputs::default();
    for (i, part) in data.split(|&b| b == 0xFF).take(3).enumerate() {
        let (run, problems) = rampart_report::parse_junit(&format!("junit-{i}.xml"), part);
        inputs.junit.extend(run);
        inputs.problems.extend(problems);
    }
    let (sidecar, problems) = rampart_report::parse_sidecar("fuzz.jsonl", data);
    inputs.sidecars.extend(sidecar);
    inputs.problems.extend(problems);
    let context = ReportContext::new(Some("2026-06-01T00:00:00.000Z".to_owned()), Default::default());
    let report = assemble(inputs, &context).report;

    let root = scratch();
    // The report directory's parent changes when the directory is made: it is compared by its
    // entries (only the report directory), everything else by size and mtime.
    let outputs = root.join("outputs");
    let out = outputs.join(N.fetch_add(1, Ordering::Relaxed).to_string());
    let out_str = out.to_str().unwrap().to_owned();
    let before = snapshot(root, &outputs);
    ReportDir::new(out_str.clone()).create().expect("the report directory");
    JsonFileSink::new(out_str.clone()).write(&report).expect("report.json");
    MarkdownSink::new(out_str.clone()).with_step_summary(None).write(&report).expect("summary.md");
    JunitSink::new(out_str.clone()).write(&report).expect("junit.xml");
    rampart_html::HtmlSink::new(out_str).write(&report).expect("index.html");
    let after = snapshot(root, &outputs);
    assert_eq!(before, after, "a sink wrote outside its report directory");
    let beside: Vec<PathBuf> = std::fs::read_dir(&outputs).unwrap().map(|e| e.unwrap().path()).collect();
    assert_eq!(beside, [out.clone()], "a sink wrote beside its report directory");
    for file in files_under(&out) {
        let bytes = std::fs::read(&file).unwrap();
        if let Some(at) = bytes.iter().position(|&b| b == 0x1b) {
            let from = at.saturating_sub(60);
            panic!(
                "{} holds a raw ESC at byte {at}: {:?}",
                file.display(),
                String::from_utf8_lossy(&bytes[from..(at + 20).min(bytes.len())])
            );
        }
    }
    std::fs::remove_dir_all(&out).unwrap();
});
