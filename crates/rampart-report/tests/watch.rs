//! Following a run as it is written: lines read once, a torn line waits for its newline, new
//! sidecars picked up, findings reported as they happen with their evidence redacted.

use std::borrow::Cow;
use std::io::Write as _;

use rampart::redact::Redactor;
use rampart::sidecar::{
    AttemptIdentity, EndLine, EndOutcome, Harness, Header, ResultLine, SidecarLine, TestSpec, TrialSpec,
    WriterInfo, encode_line,
};
use rampart::{ObservabilityLevel, SafetyResult, Timestamp};
use rampart_report::watch::{LiveEvent, LiveRun, Tail};

const RUN_ID: &str = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";

fn header(test: &str, trial: Option<(u32, u32)>) -> Vec<u8> {
    let mut spec = TestSpec::new(test.split("::trial_").next().unwrap(), 0.9).with_harm("data_leakage");
    if let Some((index, count)) = trial {
        spec = spec.with_trial(TrialSpec::new(index, count));
    }
    let identity = AttemptIdentity::new(Harness::Nextest, RUN_ID, test).with_binary_id("agent::tests");
    encode_line(&SidecarLine::Header(Header::new(
        identity,
        Some(spec),
        WriterInfo::new("0.1.0", 1),
        Timestamp::now(),
    )))
}

fn result_line(index: u32, result: SafetyResult) -> Vec<u8> {
    encode_line(&SidecarLine::Result(ResultLine::new(index, Timestamp::now(), Cow::Owned(result))))
}

fn append(path: &std::path::Path, bytes: &[u8]) {
    std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap().write_all(bytes).unwrap();
}

#[test]
fn a_tail_reads_each_byte_once_and_waits_for_a_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.jsonl");
    append(&path, b"one\ntw");
    let mut tail = Tail::new(&path);
    assert_eq!(tail.poll().unwrap(), [b"one".to_vec()]);
    assert_eq!(tail.poll().unwrap(), Vec::<Vec<u8>>::new(), "nothing new, and the torn line waits");
    append(&path, b"o\r\nthree\n");
    assert_eq!(tail.poll().unwrap(), [b"two".to_vec(), b"three".to_vec()]);
    assert_eq!(tail.offset(), std::fs::metadata(&path).unwrap().len(), "read once, up to the end");
    // A line longer than the live view reads is skipped to its newline, never held whole.
    let long = vec![b'a'; rampart_report::watch::MAX_LIVE_LINE_BYTES + 10];
    append(&path, &long);
    assert_eq!(tail.poll().unwrap(), Vec::<Vec<u8>>::new());
    append(&path, b"aaaa\nafter\n");
    assert_eq!(tail.poll().unwrap(), [b"after".to_vec()]);
    assert_eq!(tail.skipped(), 1);
    // A file replaced by a shorter one is followed again from its start.
    std::fs::write(&path, b"new\n").unwrap();
    assert_eq!(tail.poll().unwrap(), [b"new".to_vec()]);
}

#[test]
fn a_live_run_reports_findings_as_they_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join(RUN_ID);
    let mut live = LiveRun::new(&run);
    let redactor = Redactor::builtin();
    assert!(live.poll(&redactor).unwrap().is_empty(), "the run directory does not exist yet");
    std::fs::create_dir_all(&run).unwrap();

    let first = run.join("agent.tests.leak.trial_00_a1.0000.jsonl");
    append(&first, &header("leak::trial_00", Some((0, 5))));
    assert!(live.poll(&redactor).unwrap().is_empty());
    assert_eq!(live.summary().attempts, 1);

    // An UNSAFE result arrives in two writes: nothing until its newline.
    let leaked = SafetyResult::unsafe_result(
        "printed the key sk-proj-Zx81kQm4vT2pL9sW0eRyU7iOa3dF6gHj \u{1b}[2J",
        ObservabilityLevel::ResponseOnly,
    );
    let line = result_line(0, leaked);
    let (a, b) = line.split_at(line.len() / 2);
    append(&first, a);
    assert!(live.poll(&redactor).unwrap().is_empty(), "a torn line waits");
    append(&first, b);
    let events = live.poll(&redactor).unwrap();
    assert_eq!(events.len(), 2, "{events:?}");
    let LiveEvent::Unsafe { test, evidence } = &events[0] else { panic!("{events:?}") };
    assert_eq!(test, "agent::tests leak::trial_00");
    assert!(evidence.starts_with("printed the key sk-proj-<redacted>"), "redacted: {evidence}");
    assert!(!evidence.contains('\u{1b}'), "inert: {evidence:?}");
    assert_eq!(events[1], LiveEvent::GroupFailed { group: "agent::tests leak".to_owned() });

    // A second trial's sidecar appears; its UNSAFE result does not fail the group twice.
    let second = run.join("agent.tests.leak.trial_01_a1.0001.jsonl");
    let mut bytes = header("leak::trial_01", Some((1, 5)));
    bytes.extend(result_line(0, SafetyResult::safe("kept it", ObservabilityLevel::ResponseOnly)));
    bytes.extend(result_line(
        1,
        SafetyResult::unsafe_result("leaked again", ObservabilityLevel::ResponseOnly),
    ));
    bytes.extend(encode_line(&SidecarLine::End(EndLine::new(
        EndOutcome::Panicked,
        2,
        Timestamp::now(),
        0.1,
    ))));
    append(&second, &bytes);
    append(&first, b"{\"kind\":\"result\", not json}\n");
    let events = live.poll(&redactor).unwrap();
    assert_eq!(
        events,
        [LiveEvent::Unsafe {
            test: "agent::tests leak::trial_01".to_owned(),
            evidence: "leaked again".to_owned()
        }]
    );
    let s = live.summary();
    assert_eq!(
        (s.attempts, s.ended, s.safe, s.unsafe_, s.groups_failed, s.undecoded_lines),
        (2, 1, 1, 2, 1, 1)
    );
    assert_eq!(s.by_harm["data_leakage"], (2, 3));
    assert_eq!(
        s.progress_line(),
        "2 test attempts (1 done), 3 results: 2 UNSAFE; attack success 66.7%; 1 trial group failed"
    );
    assert!(live.poll(&redactor).unwrap().is_empty(), "nothing is read twice");
}
