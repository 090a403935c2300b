//! JUnit ingest and merge: 1–3 JUnit documents (split from the input on a 0xFF byte) and the
//! same bytes as a sidecar, parsed and assembled into a report. Never panics; the report's
//! counts stay consistent.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rampart_report::{ReportContext, ReportInputs, assemble};

fuzz_target!(|data: &[u8]| {
    let mut inputs = ReportInputs::default();
    for (i, part) in data.split(|&b| b == 0xFF).take(3).enumerate() {
        let (run, problems) = rampart_report::parse_junit(&format!("junit-{i}.xml"), part);
        inputs.junit.extend(run);
        inputs.problems.extend(problems);
    }
    let (sidecar, problems) = rampart_report::parse_sidecar("fuzz.jsonl", data);
    inputs.sidecars.extend(sidecar);
    inputs.problems.extend(problems);
    let report = assemble(inputs, &ReportContext::new(None, Default::default())).report;
    assert_eq!(report.total_runs, report.passed + report.failed + report.undetermined + report.errors);
    assert_eq!(report.incomplete, !report.incomplete_reasons.is_empty());
    serde_json::to_vec(&report).expect("a report serializes");
});
