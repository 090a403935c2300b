//! Browser tests of the HTML report: headless Chromium driven through chromedriver.
//!
//! Without Chromium they print a skip message (and fail when `CI` is set); see
//! `rampart_test_support::chromium::find`.

#[path = "../support/mod.rs"]
mod support;

mod demo;
mod gates;
mod interact;
mod readable;
mod scale;
mod split;
mod trends;
mod xss;

use std::path::PathBuf;

use rampart_html::{HtmlOptions, HtmlSink};
use rampart_report::TestRunReport;

/// Writes the report into a fresh temp dir and returns (dir guard, index.html path).
pub fn write_report(report: &TestRunReport, options: HtmlOptions) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let out = camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap();
    let written = HtmlSink::new(out).with_options(options).write(report).unwrap();
    (dir, written.index.into_std_path_buf())
}

/// `target/ci-artifacts/`, where CI keeps artifacts.
pub fn artifacts_dir() -> PathBuf {
    rampart_test_support::chromium::artifacts_dir_for(env!("CARGO_TARGET_TMPDIR"))
}
