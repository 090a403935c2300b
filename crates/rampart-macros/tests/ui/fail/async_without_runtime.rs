#[rampart::test(harm = "jailbreak")]
async fn needs_a_runtime() {}

fn main() {}
