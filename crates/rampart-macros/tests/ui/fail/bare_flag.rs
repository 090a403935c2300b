#[rampart::test(trials)]
fn trials_without_a_value() {}

fn main() {}
