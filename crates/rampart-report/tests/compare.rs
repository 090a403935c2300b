//! A run against a baseline: identities stable across run ids, retries and stress counts, and
//! each kind of change labelled, on runs built with the test-support builders.

mod common;

use std::collections::BTreeMap;

use rampart::{EvalOutcome, EvalResult, HarmCategory, ObservabilityLevel, SafetyResult, SafetyStatus, Turn};
use rampart_report::compare::{
    ChangeKind, Comparison, GroupChange, Significance, compare_reports as compare,
};
use rampart_report::{ReportContext, TestRunReport};
use rampart_test_support::{AttemptRun, RunBuilder, TestRun};

fn report(run: RunBuilder) -> TestRunReport {
    let context = ReportContext::new(Some("2026-06-01T00:00:05.000Z".to_owned()), BTreeMap::new());
    common::assemble_run(&run.build(), &context)
}

fn result(status: SafetyStatus) -> SafetyResult {
    SafetyResult::new(status, format!("{} result", status.as_str()), ObservabilityLevel::ToolOnly)
}

fn attempt(status: SafetyStatus) -> AttemptRun {
    if status == SafetyStatus::Safe {
        AttemptRun::passed(vec![result(status)])
    } else {
        AttemptRun::panicked(vec![result(status)], "not SAFE")
    }
}

/// `n` trial clones of `name`, the trials in `unsafe_at` UNSAFE.
fn clones(mut run: RunBuilder, name: &str, n: u32, unsafe_at: &[u32]) -> RunBuilder {
    for i in 0..n {
        let status = if unsafe_at.contains(&i) { SafetyStatus::Unsafe } else { SafetyStatus::Safe };
        run = run.test(
            TestRun::rampart("agent::tests", name)
                .harm(HarmCategory::new("jailbreak"))
                .threshold(0.5)
                .trial(i, n)
                .attempt(attempt(status)),
        );
    }
    run
}

/// `n` stress iterations of `name` (not paired across runs), the first `n_unsafe` UNSAFE.
fn stressed(mut run: RunBuilder, name: &str, n: u32, n_unsafe: u32) -> RunBuilder {
    for i in 0..n {
        let status = if i < n_unsafe { SafetyStatus::Unsafe } else { SafetyStatus::Safe };
        run = run.test(
            TestRun::rampart("agent::tests", name)
                .harm(HarmCategory::new("data_leakage"))
                .threshold(0.5)
                .stress(i, Some(n))
                .attempt(attempt(status)),
        );
    }
    run
}

fn change<'a>(c: &'a Comparison, name: &str) -> &'a GroupChange {
    c.groups.iter().find(|g| g.name == name).unwrap_or_else(|| panic!("no {name}: {:#?}", c.groups))
}

#[test]
fn identities_ignore_run_ids_retries_and_stress_counts() {
    // The same suite twice: another run id; a retried standalone test; 3 stress iterations
    // against 5; clones run once and retried.
    let first = {
        let run = clones(RunBuilder::new("11111111-1111-4111-8111-111111111111"), "roleplay", 4, &[]);
        let run = stressed(run, "canary", 3, 0);
        run.test(
            TestRun::rampart("agent::tests", "standalone")
                .harm(HarmCategory::new("jailbreak"))
                .attempt(attempt(SafetyStatus::Safe)),
        )
    };
    let second = {
        let mut run = RunBuilder::new("22222222-2222-4222-8222-222222222222");
        for i in 0..4 {
            run = run.test(
                TestRun::rampart("agent::tests", "roleplay")
                    .harm(HarmCategory::new("jailbreak"))
                    .threshold(0.5)
                    .trial(i, 4)
                    .attempts([attempt(SafetyStatus::Error), attempt(SafetyStatus::Safe)]),
            );
        }
        let run = stressed(run, "canary", 5, 0);
        run.test(
            TestRun::rampart("agent::tests", "standalone")
                .harm(HarmCategory::new("jailbreak"))
                .attempts([attempt(SafetyStatus::Error), attempt(SafetyStatus::Safe)]),
        )
    };
    let c = compare(&report(first), &report(second));
    let identities: Vec<(Option<&str>, &str, ChangeKind)> =
        c.groups.iter().map(|g| (g.binary_id.as_deref(), g.name.as_str(), g.kind)).collect();
    assert_eq!(
        identities,
        [
            (Some("agent::tests"), "canary", ChangeKind::Passing),
            (Some("agent::tests"), "roleplay", ChangeKind::Passing),
            (Some("agent::tests"), "standalone", ChangeKind::Passing),
        ]
    );
    assert_eq!(change(&c, "canary").current.as_ref().map(|t| t.total), Some(5));
    assert!(c.groups.iter().all(|g| g.significance == Significance::WithinNoise));
    assert_eq!(c.verdict_line(), "NO REGRESSION against the baseline");
}

#[test]
fn thirty_of_thirty_to_twenty_is_a_regression_nine_to_seven_of_ten_is_noise() {
    let before = stressed(
        stressed(RunBuilder::new("11111111-1111-4111-8111-111111111111"), "big", 30, 0),
        "small",
        10,
        1,
    );
    let after = stressed(
        stressed(RunBuilder::new("22222222-2222-4222-8222-222222222222"), "big", 30, 10),
        "small",
        10,
        3,
    );
    let c = compare(&report(before), &report(after));
    let big = change(&c, "big");
    assert_eq!(
        (big.kind, big.significance, big.test.as_deref()),
        (ChangeKind::NewUnsafe, Significance::SignificantRegression, Some("fisher"))
    );
    // Fisher, one-sided, 30/30 → 20/30: 0.000398507 (fixtures/compare/reference.json, SciPy);
    // two groups compared: Holm doubles the smaller p.
    let p = big.p_regression.unwrap();
    assert!((p - 2.0 * 0.000_398_506_565_705_069_45).abs() < 1e-12, "{p}");
    let small = change(&c, "small");
    assert_eq!((small.kind, small.significance), (ChangeKind::StillFailing, Significance::WithinNoise));
    assert!((small.pass_rate_change.unwrap() + 0.2).abs() < 1e-12);
    // 9/10 → 7/10: 0.291021672 (the reference table), the larger p of two: Holm keeps it.
    assert!((small.p_regression.unwrap() - 0.291_021_671_826_625_4).abs() < 1e-12, "{small:?}");
    assert!(
        c.verdict_line().starts_with(
            "REGRESSED against the baseline: 1 new UNSAFE finding, 1 trial group or test significantly worse"
        ),
        "{}",
        c.verdict_line()
    );
}

#[test]
fn paired_clones_use_mcnemar_and_unpaired_fall_back_to_fisher() {
    let before = clones(RunBuilder::new("11111111-1111-4111-8111-111111111111"), "roleplay", 12, &[]);
    let after = clones(
        RunBuilder::new("22222222-2222-4222-8222-222222222222"),
        "roleplay",
        12,
        &[0, 1, 2, 3, 4, 5, 6, 7],
    );
    let c = compare(&report(before.clone()), &report(after));
    let g = change(&c, "roleplay");
    // 8 trials went from SAFE to UNSAFE, none back: p = 2^-8 = 0.0039.
    assert_eq!(g.test.as_deref(), Some("mcnemar"));
    assert!((g.p_regression.unwrap() - 0.5f64.powi(8)).abs() < 1e-12);
    assert_eq!(g.significance, Significance::SignificantRegression);
    // Another trial count: the trials do not pair up.
    let other = clones(RunBuilder::new("33333333-3333-4333-8333-333333333333"), "roleplay", 10, &[0]);
    let c = compare(&report(before), &report(other));
    assert_eq!(change(&c, "roleplay").test.as_deref(), Some("fisher"));
}

#[test]
fn fixed_new_removed_and_evaluator_changes_are_named() {
    let judged = |status: SafetyStatus, evaluator: &str| {
        let outcome =
            if status == SafetyStatus::Unsafe { EvalOutcome::Detected } else { EvalOutcome::NotDetected };
        SafetyResult::new(status, "judged", ObservabilityLevel::ToolOnly)
            .with_turn(Turn::exchange("p", "r").with_eval(EvalResult::new(outcome).with_evaluator(evaluator)))
    };
    let standalone = |name: &str, status: SafetyStatus, evaluator: &str| {
        let run = AttemptRun::passed(vec![judged(status, evaluator)]);
        TestRun::rampart("agent::tests", name).harm(HarmCategory::new("jailbreak")).attempt(run)
    };
    let before = RunBuilder::new("11111111-1111-4111-8111-111111111111")
        .test(standalone("was_unsafe", SafetyStatus::Unsafe, "judge@1"))
        .test(standalone("dropped", SafetyStatus::Safe, "judge@1"))
        .test(standalone("rejudged", SafetyStatus::Safe, "judge@1"));
    let after = RunBuilder::new("22222222-2222-4222-8222-222222222222")
        .test(standalone("was_unsafe", SafetyStatus::Safe, "judge@1"))
        .test(standalone("added", SafetyStatus::Safe, "judge@1"))
        .test(standalone("rejudged", SafetyStatus::Safe, "judge@2"));
    let c = compare(&report(before), &report(after));
    assert_eq!(change(&c, "was_unsafe").kind, ChangeKind::Fixed);
    assert_eq!(change(&c, "dropped").kind, ChangeKind::Removed);
    assert_eq!(change(&c, "added").kind, ChangeKind::New);
    let rejudged = change(&c, "rejudged");
    let evaluators = rejudged.evaluators_changed.as_ref().expect("the judge changed");
    assert_eq!(
        (evaluators.baseline.as_slice(), evaluators.current.as_slice()),
        (&["judge@1".to_owned()][..], &["judge@2".to_owned()][..])
    );
    assert!(
        rampart_report::compare::change_words(rejudged).ends_with("; judged by judge@1 before, judge@2 now")
    );
    assert_eq!(c.verdict_line(), "NO REGRESSION against the baseline (1 test fixed)");
}
