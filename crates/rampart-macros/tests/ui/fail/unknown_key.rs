#[rampart::test(harms = "jailbreak")]
fn misspelled_harm() {}

fn main() {}
