//! What several of rampart-report's test files do: read a built run into the report.

use rampart_report::{ReportContext, ReportInputs, TestRunReport, assemble, parse_junit, parse_sidecar};
use rampart_test_support::RunFiles;

/// The report of `files` (sidecars and `junit.xml`, which must read without a problem) under
/// `context`.
pub fn assemble_run(files: &RunFiles, context: &ReportContext) -> TestRunReport {
    let mut inputs = ReportInputs::default();
    for (path, bytes) in &files.sidecars {
        let (loaded, problems) = parse_sidecar(path.as_str(), bytes);
        assert!(problems.is_empty(), "{path}: {problems:?}");
        inputs.sidecars.extend(loaded);
    }
    let (run, problems) = parse_junit("junit.xml", files.junit_xml.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    inputs.junit.extend(run);
    inputs.junit_files.push("junit.xml".to_owned());
    assemble(inputs, context).report
}
