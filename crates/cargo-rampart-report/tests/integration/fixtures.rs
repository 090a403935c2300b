//! Every JUnit file nextest 0.9.143 wrote in the shared fixtures ingests as a run without
//! sidecars, with the test counts of its `.summary.tsv`.

use std::path::PathBuf;

use camino::Utf8PathBuf;
use rampart_report::{AttemptOutcome, RunVerdict};
use rampart_report::{ReportContext, assemble, load_inputs};

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/nextest-0.9.143/junit")
}

#[test]
fn every_fixture_junit_ingests_with_matching_counts() {
    let dir = fixtures_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 19, "{files:?}");
    for file in files {
        let path = Utf8PathBuf::try_from(file.clone()).unwrap();
        let inputs = load_inputs(std::slice::from_ref(&path), &[], &[]);
        assert_eq!(inputs.junit.len(), 1, "{path}: {:?}", inputs.problems);
        let setup_failed = inputs.junit[0].setup_scripts.iter().any(|s| !s.passed);
        let report = assemble(inputs, &ReportContext::default()).report;
        assert_eq!(report.total_runs, 0);
        assert_eq!(report.incomplete, setup_failed, "{path}: {:?}", report.incomplete_reasons);
        // An ordinary suite (no rampart tests) is not a safety failure.
        let expected = if setup_failed { RunVerdict::Incomplete } else { RunVerdict::Passed };
        assert_eq!(report.verdict, expected, "{path}");

        let tsv = std::fs::read_to_string(file.with_extension("summary.tsv")).unwrap();
        let rows: Vec<Vec<&str>> = tsv.lines().skip(1).map(|l| l.split('\t').collect()).collect();
        let rows: Vec<_> = rows.into_iter().filter(|r| !r[0].starts_with("@setup-script:")).collect();
        assert_eq!(report.tests.len(), rows.len(), "{path}");
        for row in rows {
            let (suite, name, outcome, reruns) = (row[0], row[1], row[3], row[6]);
            let (binary, stress) = rampart_report::split_stress(suite);
            let test = report
                .tests
                .iter()
                .find(|t| {
                    t.binary_id.as_deref() == Some(binary) && t.test_name == name && t.stress_index == stress
                })
                .unwrap_or_else(|| panic!("{path}: no {suite} {name}"));
            let n_reruns: usize = reruns.rsplit_once('x').map_or(0, |(_, n)| n.parse().unwrap());
            let expected_attempts = if outcome == "skipped" { 0 } else { 1 + n_reruns };
            assert_eq!(test.attempts.len(), expected_attempts, "{path}: {name}");
            match outcome {
                "skipped" => assert_eq!(test.outcome, AttemptOutcome::Skip),
                "success" => assert_eq!(test.outcome, AttemptOutcome::Pass, "{path}: {name}"),
                _ => {
                    if !reruns.starts_with("flaky") {
                        assert_ne!(test.outcome, AttemptOutcome::Pass, "{path}: {name}");
                    }
                }
            }
        }
    }
}
