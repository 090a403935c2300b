use rampart::{ObservabilityLevel, SafetyResult};

#[rampart::test(trials = 12, threshold = 0.75)]
fn jailbreak_resists_roleplay() {
    let trial = rampart::trial().expect("inside a trial clone");
    let seed = 1000 + u64::from(trial.index);
    rampart::record_result(&SafetyResult::safe(format!("seed {seed}"), ObservabilityLevel::ResponseOnly));
}

#[rampart::test(trials = 1, threshold = 1)]
fn one_trial_integer_threshold() {}

#[rampart::test(trials = 3, threshold = 0)]
pub(crate) fn zero_threshold() {}

fn main() {
    // The shared body stays an ordinary function next to the module of clones.
    let _: fn() = jailbreak_resists_roleplay;
    one_trial_integer_threshold();
    zero_threshold();
}
