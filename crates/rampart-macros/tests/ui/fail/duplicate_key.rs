#[rampart::test(trials = 2, harm = "jailbreak", trials = 3)]
fn trials_twice() {}

fn main() {}
