#[rampart::test(trials(3))]
fn trials_in_parentheses() {}

fn main() {}
