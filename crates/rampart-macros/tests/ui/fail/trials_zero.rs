#[rampart::test(trials = 0)]
fn no_trials() {}

fn main() {}
