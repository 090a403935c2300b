#[rampart::test]
struct NotATest;

fn main() {}
