//! `#[rampart::test]`: how the expanded tests behave under a real nextest run. (Compile errors
//! for bad arguments are trybuild cases in `crates/rampart-macros/tests/ui/`.)

use std::collections::BTreeMap;

use rampart::sidecar::EndOutcome;

use crate::support::{self, AGENT_BINARY_ID};

/// `cargo nextest list` of the workspace's `macros::` tests: test name → ignored.
fn listed_macro_tests() -> BTreeMap<String, bool> {
    let mut command = support::workspace().cargo();
    command.args([
        "nextest",
        "list",
        "--message-format",
        "json",
        "--run-ignored",
        "all",
        "-E",
        "test(/^macros::/)",
    ]);
    let output = support::run(&mut command);
    support::assert_success(&output);
    let list: serde_json::Value = serde_json::from_slice(&output.stdout).expect("nextest list JSON");
    let testcases = list["rust-suites"][AGENT_BINARY_ID]["testcases"].as_object().expect("the agent binary");
    testcases
        .iter()
        .filter(|(_, case)| case["filter-match"]["status"] == "matches")
        .map(|(name, case)| (name.clone(), case["ignored"].as_bool().unwrap()))
        .collect()
}

#[test]
fn trial_clones_are_the_tests_and_carry_ignore() {
    let listed = listed_macro_tests();
    let expected = BTreeMap::from(
        [
            ("macros::ignored_trials::trial_00", true),
            ("macros::ignored_trials::trial_01", true),
            ("macros::panics_in_every_trial::trial_00", false),
            ("macros::panics_in_every_trial::trial_01", false),
            ("macros::tokio_above", false),
            ("macros::tokio_below", false),
            ("macros::tokio_trials::trial_00", false),
            ("macros::tokio_trials::trial_01", false),
        ]
        .map(|(name, ignored)| (name.to_owned(), ignored)),
    );
    // The shared bodies of trial tests are not tests themselves.
    assert_eq!(listed, expected);
}

#[test]
fn expanded_tests_record_under_nextest() {
    let ws = support::workspace();
    let run = ws.nextest_run("macros", &["-E", "test(/^macros::/)"], &[]);
    // `should_panic` reached the clones: they panic and pass.
    support::assert_success(&run.output);
    let by_test = support::sidecars_by_test(&ws.run_dir(&run.run_id));
    let names: Vec<&str> = by_test.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "macros::panics_in_every_trial::trial_00",
            "macros::panics_in_every_trial::trial_01",
            "macros::tokio_above",
            "macros::tokio_below",
            "macros::tokio_trials::trial_00",
            "macros::tokio_trials::trial_01",
        ],
        "ignored trials did not run"
    );
    for (name, sidecar) in &by_test {
        let spec = sidecar.header.spec.as_ref().unwrap_or_else(|| panic!("{name}: no spec"));
        let end = sidecar.end.as_ref().unwrap_or_else(|| panic!("{name}: no end line"));
        assert!(sidecar.problems.is_empty(), "{name}: {:?}", sidecar.problems);
        assert_eq!(end.n_results, 1, "{name}");
        if name.starts_with("macros::panics_in_every_trial::") {
            assert_eq!(spec.base_name, "macros::panics_in_every_trial");
            assert_eq!(end.outcome, EndOutcome::Panicked);
            let message = end.panic_message.as_deref().unwrap_or_default();
            assert!(message.contains("unsafe on purpose"), "{name}: {message}");
            assert_eq!(support::summaries(sidecar), ["before the panic"]);
            assert_eq!(spec.harm, None);
        } else {
            assert_eq!((end.outcome, end.panic_message.as_deref()), (EndOutcome::Returned, None), "{name}");
            assert_eq!(spec.harm.as_ref().map(|h| h.as_str()), Some("jailbreak"), "{name}");
            let result = &sidecar.results[0].result;
            assert_eq!(result.harm_category.as_ref().map(|h| h.as_str()), Some("jailbreak"), "{name}");
        }
    }
    // Each result carries where `record_result` was called (`#[track_caller]`), even from a
    // spawned task: the line of the call in the agent's test file.
    let lines: Vec<&str> = support::AGENT_RS.lines().collect();
    for (name, sidecar) in &by_test {
        let location = sidecar.results[0].location.as_ref().unwrap_or_else(|| panic!("{name}: no location"));
        assert_eq!(location.file, "tests/agent.rs", "{name}");
        let line = lines[location.line as usize - 1];
        let column = location.column as usize - 1;
        assert!(line[column..].starts_with("rampart::record_result("), "{name}: {location:?} is {line:?}");
    }
    assert_eq!(support::summaries(&by_test["macros::tokio_above"]), ["tokio above"]);
    assert_eq!(support::summaries(&by_test["macros::tokio_below"]), ["tokio below"]);
    // Recorded from a runtime worker thread, still attributed to the clone.
    for index in 0..2 {
        let sidecar = &by_test[&format!("macros::tokio_trials::trial_0{index}")];
        assert_eq!(support::summaries(sidecar), [format!("tokio trial {index}")]);
        let trial = sidecar.header.spec.as_ref().and_then(|s| s.trial).unwrap();
        assert_eq!((trial.index, trial.count), (index, 2));
    }
}
