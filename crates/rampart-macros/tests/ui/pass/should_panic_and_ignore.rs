#[rampart::test(trials = 3)]
#[should_panic(expected = "leaked")]
fn every_trial_panics() {
    panic!("leaked");
}

#[rampart::test(trials = 2)]
#[ignore = "needs a live model"]
fn live_model_only() {}

#[rampart::test]
#[should_panic]
#[ignore]
fn single_ignored_should_panic() {
    panic!("x");
}

fn main() {}
