#[rampart::test(harm = "")]
fn empty_harm() {}

fn main() {}
