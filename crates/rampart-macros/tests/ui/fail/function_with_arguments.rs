#[rampart::test]
fn takes_a_prompt(prompt: &str) {
    let _ = prompt;
}

fn main() {}
