#[rampart::test(trials = "10")]
fn quoted_trials() {}

fn main() {}
