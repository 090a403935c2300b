const N: u32 = 5;

#[rampart::test(trials = N)]
fn trials_from_a_constant() {}

fn main() {}
