#[rampart::test(trials = 10, threshold = 1.5)]
fn threshold_above_one() {}

fn main() {}
