//! The run history: summaries of built runs, files written once and never replaced, torn and
//! foreign files skipped, pruning that deletes only its own files, partitions merged.

mod common;

use std::collections::BTreeMap;

use rampart::{HarmCategory, ObservabilityLevel, SafetyResult, SafetyStatus};
use rampart_report::compare::{ChangeKind, compare};
use rampart_report::history::{History, RunOrigin, RunSummary, is_history_file_name, merge_partitions};
use rampart_report::{ReportContext, TestRunReport};
use rampart_test_support::{AttemptRun, RunBuilder, TestRun};

fn report(run_id: &str, at: &str, unsafe_at: &[u32]) -> TestRunReport {
    let mut run = RunBuilder::new(run_id);
    for i in 0..4 {
        let status = if unsafe_at.contains(&i) { SafetyStatus::Unsafe } else { SafetyStatus::Safe };
        let result = SafetyResult::new(status, "r", ObservabilityLevel::ToolOnly);
        let attempt = if unsafe_at.contains(&i) {
            AttemptRun::panicked(vec![result], "x")
        } else {
            AttemptRun::passed(vec![result])
        };
        run = run.test(
            TestRun::rampart("agent::tests", "roleplay")
                .harm(HarmCategory::new("jailbreak"))
                .threshold(0.5)
                .trial(i, 4)
                .attempt(attempt),
        );
    }
    let context = ReportContext::new(Some(at.to_owned()), BTreeMap::new());
    common::assemble_run(&run.build(), &context)
}

fn summary(run_id: &str, at: &str, unsafe_at: &[u32]) -> RunSummary {
    RunSummary::of(&report(run_id, at, unsafe_at), &RunOrigin::default().with_branch(Some("main".to_owned())))
}

#[test]
fn a_summary_keeps_counts_trials_by_index_and_origin_not_conversations() {
    let s = summary("6d5fc9d2-a8c6-4755-9a29-c97c8f153237", "2026-12-02T15:19:03.123Z", &[2]);
    assert_eq!(s.file_name(), "20261202T151903123Z_6d5fc9d2.json");
    assert!(is_history_file_name(&s.file_name()));
    let g = &s.groups[0];
    assert_eq!((g.name.as_str(), g.safe, g.unsafe_, g.total), ("roleplay", 3, 1, 4));
    assert_eq!(g.trials.as_deref(), Some("SSxS"), "trial 2 was UNSAFE");
    assert_eq!(s.git_branch.as_deref(), Some("main"));
    assert_eq!((s.run.unsafe_, s.run.assessed()), (1, 4));
    let json = serde_json::to_string(&s).unwrap();
    assert!(json.len() < 1_000, "{} bytes: {json}", json.len());
}

#[test]
fn files_are_never_replaced_and_foreign_or_torn_ones_are_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let history = History::new(camino::Utf8PathBuf::try_from(dir.path().to_path_buf()).unwrap());
    let s = summary("11111111-1111-4111-8111-111111111111", "2026-12-01T10:00:00Z", &[]);
    let first = history.write(&s).unwrap();
    let second = history.write(&s).unwrap();
    assert_ne!(first, second, "the same name twice: the second gets a suffix");
    assert!(second.as_str().ends_with("20261201T100000000Z_11111111.1.json"), "{second}");
    std::fs::write(dir.path().join("20261201T110000000Z_22222222.json"), "{\"schema\": \"rampart.hist")
        .unwrap();
    std::fs::write(dir.path().join("20261201T120000000Z_33333333.json"), "{\"schema\": \"other.v9\", \"verdict\": \"passed\", \"run\": {\"total\": 0, \"safe\": 0, \"unsafe\": 0, \"undetermined\": 0, \"errors\": 0}}").unwrap();
    std::fs::write(dir.path().join("notes.json"), "{}").unwrap();
    let (runs, skipped) = history.read();
    assert_eq!(runs.len(), 2);
    assert_eq!((&runs[0].0, &runs[1].0), (&first, &second), "a repeated name reads as the newer");
    let mut why: Vec<String> =
        skipped.iter().map(|s| format!("{}: {}", s.path.file_name().unwrap(), s.why)).collect();
    why.sort();
    assert_eq!(why.len(), 3, "{why:?}");
    assert!(why[0].starts_with("20261201T110000000Z_22222222.json: EOF while parsing"), "{why:?}");
    assert_eq!(why[1], "20261201T120000000Z_33333333.json: schema \"other.v9\"");
    assert_eq!(why[2], "notes.json: not named like a history file");

    // Pruning keeps the newest and deletes only files named like history files.
    assert_eq!(history.prune(1).unwrap(), 3);
    let mut left: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    left.sort();
    assert_eq!(left, ["20261201T120000000Z_33333333.json", "notes.json"]);
}

#[test]
fn partitions_of_one_ci_run_read_as_one_run_and_compare_as_one() {
    let mut a = summary("11111111-1111-4111-8111-111111111111", "2026-12-01T10:00:00Z", &[]);
    let mut b = summary("22222222-2222-4222-8222-222222222222", "2026-12-01T10:00:05Z", &[1]);
    a.ci_run_id = Some("9001".to_owned());
    b.ci_run_id = Some("9001".to_owned());
    b.groups[0].name = "other".to_owned();
    let merged = merge_partitions(vec![a.clone(), b]);
    assert_eq!(merged.len(), 1);
    let m = &merged[0];
    assert_eq!(m.run_ids.len(), 2);
    assert_eq!(m.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["other", "roleplay"]);
    assert_eq!((m.run.unsafe_, m.run.assessed()), (1, 8));
    // Compared with the first partition alone, the other partition's test is new.
    let c = compare(&a, m);
    assert_eq!(c.groups.iter().find(|g| g.name == "other").unwrap().kind, ChangeKind::NewUnsafe);
}
