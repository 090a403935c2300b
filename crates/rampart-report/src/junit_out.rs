//! JUnit with safety verdicts: `<out>/junit.xml`, for CI test-report UIs (GitLab, Jenkins,
//! Codecov, GitHub test-report actions).
//!
//! nextest's own JUnit says whether each test *process* passed; this file says whether each
//! rampart test was *safe*. It holds one `<testcase>` per trial group and one per standalone
//! rampart test (ordinary tests are left to nextest's file), built with `quick-junit`.
//!
//! # Mapping
//!
//! | rampart | JUnit |
//! |---|---|
//! | trial group PASSED | success |
//! | trial group FAILED (an UNSAFE trial, or a pass rate below the threshold) | `<failure type="rampart.group_failed">` |
//! | standalone SAFE | success |
//! | standalone UNSAFE, also when a retry hid it (nextest passed it as flaky) | `<failure type="rampart.unsafe">` (`rampart.unsafe_retried_away`) |
//! | standalone ERROR (the harness or evaluator could not assess) | `<error type="rampart.error">` |
//! | standalone test whose counted attempt was killed (abort, timeout, leak, start failure, or a body that never ended), whatever it recorded | `<error type="rampart.killed">`, with nextest's outcome and what was recorded before |
//! | standalone UNDETERMINED, or no result | `<skipped>`: not assessed, neither a pass nor a failure |
//!
//! The failure or error `message` is one line of evidence: the result summary plus the first
//! evaluator evidence string or tool call. The description lists every non-SAFE trial.
//!
//! - Suites: one per harm category (`rampart: <category>`, `rampart: uncategorized` without
//!   one), sorted by name; counts and times are set on every suite and on the root.
//! - `classname` is the nextest binary id (`rampart` when unknown); `name` is the trial
//!   group's base name or the standalone test's name (`@stress-<i>` appended for a stress
//!   iteration). Names are unique across the whole file, because GitLab keeps only the first
//!   of duplicates: a repeated name gets ` [<binary id>]`, then ` (2)`, ` (3)`...
//! - Properties on every testcase: `kind` (`trial_group` or `standalone`), `verdict`,
//!   `harm_category`, `safe`, `total`, `unsafe`, `errors`, `undetermined`, `no_result`,
//!   `killed`, `pass_rate`, `attack_success_rate` (UNSAFE / (SAFE + UNSAFE + UNDETERMINED)
//!   trials, computed by [`crate::aggregate`]; `n/a` when nothing was assessed), and for trial
//!   groups `threshold`, `wilson_95_lower`, `wilson_95_upper`, `evidence`, `trials_needed` (when
//!   inconclusive), `sources`,
//!   `unsafe_on_retried_attempt`; for standalone tests `counted_attempt`, `outcome` (nextest's,
//!   of the last attempt) and `unsafe_retried_attempts` when a retry hid an UNSAFE attempt. A
//!   standalone test counts as one trial.
//! - `time` is the sum of the nextest attempt times of the test's executions.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use camino::Utf8PathBuf;
use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};

use crate::aggregate::attack_success_rate;
use crate::report::{GroupVerdict, TestExecution, TestRunReport, TrialClass, TrialGroup};
use crate::sanitize::inert_text;
use crate::sink::{ReportSink, SinkError};
use crate::view::{ReportView, UNCATEGORIZED, describe_result, evidence_words, killed_words, test_label};
use crate::write::ReportDir;

/// File name of the JUnit under the output directory.
pub const JUNIT_FILE: &str = "junit.xml";

/// The `<testsuites name>`.
pub const REPORT_NAME: &str = "rampart";

/// Bound on a failure message, in characters.
const MAX_MESSAGE_CHARS: usize = 1000;
/// Non-SAFE trials listed in a group's failure description.
const MAX_DESCRIBED_TRIALS: usize = 50;

/// Writes `<out>/junit.xml` (replaced atomically).
#[derive(Clone, Debug)]
pub struct JunitSink {
    out: ReportDir,
}

impl JunitSink {
    /// A sink writing under `out_dir`.
    pub fn new(out_dir: impl Into<Utf8PathBuf>) -> JunitSink {
        JunitSink { out: ReportDir::new(out_dir) }
    }

    /// Writes the file and returns its path.
    pub fn write(&self, report: &TestRunReport) -> Result<Utf8PathBuf, SinkError> {
        let xml = junit_report(report).to_string().map_err(|e| SinkError::Other(Box::new(e)))?;
        self.out.write(JUNIT_FILE, xml.as_bytes())
    }
}

impl ReportSink for JunitSink {
    fn emit(&self, report: &TestRunReport) -> Result<(), SinkError> {
        self.write(report).map(|_| ())
    }
}

fn bounded(text: String) -> String {
    if text.chars().count() <= MAX_MESSAGE_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_MESSAGE_CHARS - 1).collect();
    cut.push('…');
    cut
}

fn rate(rate: Option<f64>) -> String {
    rate.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.4}"))
}

/// Unique names across the report (see the module docs).
#[derive(Default)]
struct Names {
    taken: HashSet<String>,
}

impl Names {
    fn claim(&mut self, name: &str, binary_id: Option<&str>) -> String {
        let mut candidate = name.to_owned();
        if self.taken.contains(&candidate)
            && let Some(binary) = binary_id
        {
            candidate = format!("{name} [{binary}]");
        }
        let base = candidate.clone();
        let mut n = 2;
        while self.taken.contains(&candidate) {
            candidate = format!("{base} ({n})");
            n += 1;
        }
        self.taken.insert(candidate.clone());
        candidate
    }
}

fn execution_time(test: &TestExecution) -> Duration {
    let seconds: f64 = test.attempts.iter().filter_map(|a| a.duration_seconds).sum();
    Duration::try_from_secs_f64(seconds).unwrap_or_default()
}

/// Builds the JUnit report (see the module docs for the mapping).
pub fn junit_report(report: &TestRunReport) -> Report {
    let index = ReportView::new(report);
    let mut names = Names::default();
    let mut suites: BTreeMap<String, (TestSuite, Duration)> = BTreeMap::new();
    let mut add = |harm: Option<&str>, case: TestCase| {
        let category = harm.unwrap_or(UNCATEGORIZED);
        let (suite, time) = suites
            .entry(category.to_owned())
            .or_insert_with(|| (TestSuite::new(inert_text(&format!("rampart: {category}"))), Duration::ZERO));
        *time += case.time.unwrap_or_default();
        suite.add_test_case(case);
    };

    for group in &report.trial_groups {
        let time =
            group.trials.iter().filter_map(|t| index.execution_of_trial(group, t)).map(execution_time).sum();
        let case = group_case(group, &index, names.claim(&group.name, group.binary_id.as_deref()), time);
        add(group.harm_category.as_deref(), case);
    }
    for test in index.standalone_tests() {
        let name = test_label(None, &test.test_name, test.stress_index);
        let case = standalone_case(test, &index, names.claim(&name, test.binary_id.as_deref()));
        add(index.harm_of_test(test), case);
    }

    let mut junit = Report::new(REPORT_NAME);
    let mut total = Duration::ZERO;
    for (_, (mut suite, time)) in suites {
        suite.set_time(time);
        total += time;
        junit.add_test_suite(suite);
    }
    // One testcase per gate of the `[gate]` policy, in a suite of their own.
    if !report.gates.is_empty() {
        let mut suite = TestSuite::new("rampart: gates");
        for gate in &report.gates {
            let status = if gate.passed {
                TestCaseStatus::success()
            } else {
                failure(NonSuccessKind::Failure, "rampart.gate_failed", gate.reason.clone(), None)
            };
            let mut case = base_case(
                format!("{} {}", gate.scope, gate.gate),
                Some("rampart.gates"),
                status,
                Duration::ZERO,
            );
            let mut properties = vec![
                Property::new("kind", "gate"),
                Property::new("scope", inert_text(&gate.scope)),
                Property::new("gate", gate.gate.as_str()),
                Property::new("limit", format!("{}", gate.limit)),
                Property::new("n", gate.n.to_string()),
            ];
            if let Some(measured) = gate.measured {
                properties.push(Property::new("measured", format!("{measured:.4}")));
            }
            case.add_properties(properties);
            suite.add_test_case(case);
        }
        junit.add_test_suite(suite);
    }
    junit.set_time(total);
    junit
}

fn base_case(name: String, classname: Option<&str>, status: TestCaseStatus, time: Duration) -> TestCase {
    let mut case = TestCase::new(inert_text(&name), status);
    case.set_classname(inert_text(classname.unwrap_or(REPORT_NAME)));
    case.set_time(time);
    case
}

/// GitLab (and other JUnit readers) link a testcase to its source through `file` and `line`
/// attributes: set from where the test function is defined, when the report knows.
fn locate(case: &mut TestCase, location: Option<&rampart::sidecar::SourceLocation>) {
    if let Some(location) = location {
        case.extra.insert("file".into(), inert_text(&location.file).into());
        case.extra.insert("line".into(), location.line.to_string().into());
    }
}

fn failure(kind: NonSuccessKind, ty: &str, message: String, description: Option<String>) -> TestCaseStatus {
    let mut status = TestCaseStatus::non_success(kind);
    status.set_type(ty);
    status.set_message(inert_text(&bounded(message)));
    if let Some(description) = description {
        status.set_description(inert_text(&description));
    }
    status
}

fn group_case(group: &TrialGroup, index: &ReportView<'_>, name: String, time: Duration) -> TestCase {
    let status = match group.verdict {
        GroupVerdict::Passed => TestCaseStatus::success(),
        GroupVerdict::Failed => {
            let mut message = format!(
                "FAILED: {}, pass rate {:.0}% (threshold {:.0}%), {}",
                group.detail,
                group.pass_rate * 100.0,
                group.threshold * 100.0,
                evidence_words(group)
            );
            if group.unsafe_on_retried_attempt {
                message.push_str("; UNSAFE on a retried attempt (nextest may call it flaky)");
            }
            if let Some(result) = index.group_evidence(group) {
                message.push_str("; ");
                message.push_str(&describe_result(result));
            }
            let mut lines = Vec::new();
            for trial in group.trials.iter().filter(|t| t.class != TrialClass::Safe) {
                if lines.len() == MAX_DESCRIBED_TRIALS {
                    lines.push("…".to_owned());
                    break;
                }
                let class = trial.class.as_str().to_uppercase();
                let evidence = index.trial_evidence(group, trial).map(describe_result);
                let evidence = match (trial.killed, evidence) {
                    (Some(outcome), evidence) => {
                        let n = index.results_of_trial(group, trial).iter().filter(|r| !r.superseded).count();
                        let killed = killed_words(outcome, n as u64);
                        evidence.map_or(killed.clone(), |e| format!("{killed}; {e}"))
                    }
                    (None, Some(evidence)) => evidence,
                    (None, None) => "no result recorded".to_owned(),
                };
                lines.push(format!("{} [{class}]: {evidence}", trial.test_name));
            }
            failure(NonSuccessKind::Failure, "rampart.group_failed", message, Some(lines.join("\n")))
        }
    };
    let mut case = base_case(name, group.binary_id.as_deref(), status, time);
    locate(&mut case, group.location.as_ref());
    let mut properties = vec![
        Property::new("kind", "trial_group"),
        Property::new("verdict", group.verdict.as_str()),
        Property::new("harm_category", inert_text(group.harm_category.as_deref().unwrap_or(UNCATEGORIZED))),
        Property::new("safe", group.safe.to_string()),
        Property::new("total", group.total.to_string()),
        Property::new("unsafe", group.unsafe_.to_string()),
        Property::new("errors", group.errors.to_string()),
        Property::new("undetermined", group.undetermined.to_string()),
        Property::new("no_result", group.no_result.to_string()),
        Property::new("killed", group.killed.to_string()),
        Property::new("pass_rate", format!("{:.4}", group.pass_rate)),
        Property::new("attack_success_rate", rate(group.attack_success_rate)),
        Property::new("threshold", format!("{}", group.threshold)),
    ];
    if let Some(wilson) = group.wilson_95 {
        properties.push(Property::new("wilson_95_lower", format!("{:.4}", wilson.lower)));
        properties.push(Property::new("wilson_95_upper", format!("{:.4}", wilson.upper)));
    }
    properties.push(Property::new("evidence", group.evidence.as_str()));
    if let Some(n) = group.trials_needed {
        properties.push(Property::new("trials_needed", n.to_string()));
    }
    let sources: Vec<&str> = group.sources.iter().map(|s| s.as_str()).collect();
    properties.push(Property::new("sources", sources.join(",")));
    properties.push(Property::new("unsafe_on_retried_attempt", group.unsafe_on_retried_attempt.to_string()));
    case.add_properties(properties);
    case
}

fn standalone_case(test: &TestExecution, index: &ReportView<'_>, name: String) -> TestCase {
    let safety = test.safety.as_ref().expect("a standalone rampart test has a safety outcome");
    let evidence = index.test_evidence(test).map(describe_result);
    let status = match safety.class {
        TrialClass::Error if safety.killed.is_some() => {
            let outcome = safety.killed.expect("matched");
            let n_counted = index.counted_results_of_test(test).count() as u64;
            let mut message = format!("killed: {}", killed_words(outcome, n_counted));
            let recorded: Vec<String> =
                index.counted_results_of_test(test).map(|r| r.status.as_str().to_uppercase()).collect();
            if !recorded.is_empty() {
                message.push_str(&format!(" ({})", recorded.join(", ")));
            }
            if let Some(evidence) = &evidence {
                message.push_str("; ");
                message.push_str(evidence);
            }
            failure(NonSuccessKind::Error, "rampart.killed", message, None)
        }
        TrialClass::Safe => TestCaseStatus::success(),
        TrialClass::Unsafe => {
            let (ty, mut message) = if safety.unsafe_retried_attempts.is_empty() {
                ("rampart.unsafe", "UNSAFE".to_owned())
            } else {
                let attempts: Vec<String> =
                    safety.unsafe_retried_attempts.iter().map(ToString::to_string).collect();
                (
                    "rampart.unsafe_retried_away",
                    format!(
                        "UNSAFE on attempt {}, retried away (nextest reported it {})",
                        attempts.join(", "),
                        if test.flaky { "flaky" } else { "passing on a later attempt" }
                    ),
                )
            };
            if let Some(evidence) = &evidence {
                message.push_str(": ");
                message.push_str(evidence);
            }
            failure(NonSuccessKind::Failure, ty, message, None)
        }
        TrialClass::Error => failure(
            NonSuccessKind::Error,
            "rampart.error",
            evidence.unwrap_or_else(|| "ERROR".to_owned()),
            None,
        ),
        TrialClass::Undetermined | TrialClass::NoResult => {
            let mut status = TestCaseStatus::skipped();
            status.set_type(if safety.class == TrialClass::NoResult {
                "rampart.no_result"
            } else {
                "rampart.undetermined"
            });
            status.set_message(inert_text(&bounded(
                evidence.unwrap_or_else(|| "no result recorded: not assessed".to_owned()),
            )));
            status
        }
    };
    let mut case = base_case(name, test.binary_id.as_deref(), status, execution_time(test));
    locate(&mut case, test.location.as_ref());
    let one = |class: TrialClass| u64::from(safety.class == class);
    case.add_properties([
        Property::new("kind", "standalone"),
        Property::new("verdict", safety.class.as_str().to_uppercase()),
        Property::new("harm_category", inert_text(index.harm_of_test(test).unwrap_or(UNCATEGORIZED))),
        Property::new("safe", one(TrialClass::Safe).to_string()),
        Property::new("total", "1"),
        Property::new("unsafe", one(TrialClass::Unsafe).to_string()),
        Property::new("errors", one(TrialClass::Error).to_string()),
        Property::new("undetermined", one(TrialClass::Undetermined).to_string()),
        Property::new("no_result", one(TrialClass::NoResult).to_string()),
        Property::new("killed", u64::from(safety.killed.is_some()).to_string()),
        Property::new("pass_rate", format!("{:.4}", one(TrialClass::Safe) as f64)),
        Property::new(
            "attack_success_rate",
            rate(attack_success_rate(
                one(TrialClass::Safe),
                one(TrialClass::Unsafe),
                one(TrialClass::Undetermined),
            )),
        ),
        Property::new("outcome", test.outcome.as_str()),
    ]);
    if let Some(counted) = safety.counted_attempt {
        case.add_property(Property::new("counted_attempt", counted.to_string()));
    }
    if !safety.unsafe_retried_attempts.is_empty() {
        let attempts: Vec<String> = safety.unsafe_retried_attempts.iter().map(ToString::to_string).collect();
        case.add_property(Property::new("unsafe_retried_attempts", attempts.join(",")));
    }
    case
}

#[cfg(test)]
mod tests {
    use std::collections::{HashMap, HashSet};

    use quick_junit::{Report, TestCaseStatus};

    use super::*;
    use crate::markdown::fixtures::demo_report;

    fn property<'a>(case: &'a quick_junit::TestCase, name: &str) -> Option<&'a str> {
        case.properties.iter().find(|p| p.name.as_str() == name).map(|p| p.value.as_str())
    }

    fn round_trip(report: &TestRunReport) -> Report {
        let xml = junit_report(report).to_string().unwrap();
        Report::deserialize_from_str(&xml).unwrap_or_else(|e| panic!("{e}\n{xml}"))
    }

    #[test]
    fn demo_junit_parses_back_with_verdicts() {
        let report = demo_report();
        let junit = round_trip(&report);
        // 2 trial groups + 5 standalone rampart tests; the ordinary test is left out.
        assert_eq!(junit.tests, 7);
        assert_eq!(junit.failures, 4, "roleplay group, leaked key, refund, retried-away injection");
        assert_eq!(junit.errors, 1, "endpoint down");
        assert_eq!(junit.skipped, 1, "undetermined");
        assert!(junit.time.is_some());
        let suite_names: Vec<&str> = junit.test_suites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            suite_names,
            [
                "rampart: data_leakage",
                "rampart: excessive_agency",
                "rampart: jailbreak",
                "rampart: policy_violation",
                "rampart: prompt_injection"
            ]
        );
        let mut cases = HashMap::new();
        for suite in &junit.test_suites {
            assert_eq!(suite.tests, suite.test_cases.len());
            assert!(suite.time.is_some());
            for case in &suite.test_cases {
                assert_eq!(case.classname.as_ref().map(|c| c.as_str()), Some("rampart-demo"));
                assert!(case.time.is_some(), "{:?}", case.name);
                assert!(
                    cases.insert(case.name.as_str().to_owned(), case.clone()).is_none(),
                    "duplicate {:?}",
                    case.name
                );
            }
        }
        let roleplay = &cases["jailbreak::roleplay"];
        match &roleplay.status {
            TestCaseStatus::NonSuccess {
                kind: NonSuccessKind::Failure, message, ty, description, ..
            } => {
                let message = message.as_ref().unwrap().as_str();
                assert!(message.starts_with("FAILED: 2/4 safe"), "{message}");
                assert!(message.contains("adopted the persona"), "{message}");
                assert_eq!(ty.as_ref().unwrap().as_str(), "rampart.group_failed");
                let description = description.as_ref().unwrap().as_str();
                assert!(
                    description.contains("trial_02 [UNSAFE]") && description.contains("trial_03 [ERROR]")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(property(roleplay, "pass_rate"), Some("0.5000"));
        assert_eq!(property(roleplay, "attack_success_rate"), Some("0.3333"));
        assert_eq!(property(roleplay, "threshold"), Some("0.75"));
        assert_eq!(property(roleplay, "harm_category"), Some("jailbreak"));
        assert_eq!(property(roleplay, "safe"), Some("2"));
        assert_eq!(property(roleplay, "total"), Some("4"));
        assert!(
            property(roleplay, "wilson_95_lower").is_some()
                && property(roleplay, "wilson_95_upper").is_some()
        );
        assert_eq!(cases["team::handoff_keeps_policy"].status, TestCaseStatus::success());
        assert_eq!(property(&cases["team::handoff_keeps_policy"], "sources"), Some("stress"));

        let retried = &cases["injection::retry_flips"];
        match &retried.status {
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, ty, .. } => {
                assert_eq!(ty.as_ref().unwrap().as_str(), "rampart.unsafe_retried_away");
                assert!(message.as_ref().unwrap().as_str().starts_with("UNSAFE on attempt 1, retried away"));
            }
            other => panic!("{other:?}"),
        }
        match &cases["tools::refund_needs_approval"].status {
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Failure, message, .. } => {
                assert!(message.as_ref().unwrap().as_str().contains(r#"tool call: refund({"amount":900})"#));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            cases["tools::endpoint_down"].status,
            TestCaseStatus::NonSuccess { kind: NonSuccessKind::Error, .. }
        ));
        assert!(matches!(cases["tools::delete_is_confirmed"].status, TestCaseStatus::Skipped { .. }));
        assert_eq!(property(&cases["leakage::system_prompt_stays_secret"], "kind"), Some("standalone"));
        assert_eq!(
            property(&cases["leakage::system_prompt_stays_secret"], "attack_success_rate"),
            Some("1.0000")
        );
        assert_eq!(property(&cases["tools::endpoint_down"], "attack_success_rate"), Some("n/a"));
    }

    #[test]
    fn duplicate_names_are_made_unique() {
        let mut report = demo_report();
        // The same standalone test in two runs, and the same group name in another binary.
        let mut again = report.tests.iter().find(|t| t.test_name == "tools::endpoint_down").unwrap().clone();
        again.run_id = Some("another-run".to_owned());
        report.tests.push(again.clone());
        again.run_id = Some("third-run".to_owned());
        report.tests.push(again);
        let mut other_binary = report.trial_groups[0].clone();
        other_binary.binary_id = Some("other-binary".to_owned());
        report.trial_groups.push(other_binary);
        let junit = round_trip(&report);
        let names: Vec<String> = junit
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .map(|c| c.name.as_str().to_owned())
            .collect();
        let unique: HashSet<&String> = names.iter().collect();
        assert_eq!(unique.len(), names.len(), "{names:#?}");
        assert!(names.contains(&"tools::endpoint_down [rampart-demo]".to_owned()), "{names:#?}");
        assert!(names.contains(&"tools::endpoint_down [rampart-demo] (2)".to_owned()), "{names:#?}");
        assert!(names.contains(&"jailbreak::roleplay [other-binary]".to_owned()), "{names:#?}");
        assert_eq!(junit.tests, 10);
    }

    #[test]
    fn hostile_text_stays_well_formed_xml() {
        let mut report = demo_report();
        for result in &mut report.results {
            result.result.summary =
                "</failure><script>alert(1)</script>\u{1b}[31m\0 ]]> &amp; \"q\"".to_owned();
        }
        let junit = round_trip(&report);
        let case = junit
            .test_suites
            .iter()
            .flat_map(|s| &s.test_cases)
            .find(|c| c.name.as_str() == "tools::endpoint_down")
            .unwrap();
        match &case.status {
            TestCaseStatus::NonSuccess { message, .. } => {
                let message = message.as_ref().unwrap().as_str();
                assert!(message.contains("</failure><script>alert(1)</script>"), "{message}");
                assert!(!message.contains('\u{1b}') && !message.contains('\0'), "{message:?}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sink_writes_junit_xml() {
        let dir = tempfile::tempdir().unwrap();
        let out = Utf8PathBuf::try_from(dir.path().join("out")).unwrap();
        let path = JunitSink::new(out.clone()).write(&demo_report()).unwrap();
        assert_eq!(path, out.join("junit.xml"));
        let text = fs_err::read_to_string(&path).unwrap();
        assert!(text.starts_with("<?xml"));
        assert!(
            text.contains(r#"<testsuites name="rampart" tests="7" skipped="1" failures="4" errors="1""#),
            "{text}"
        );
    }
}
