#[tokio::test]
#[rampart::test(harm = "jailbreak")]
async fn runtime_above() {
    tokio::task::yield_now().await;
}

#[tokio::test]
#[rampart::test(trials = 2)]
async fn trials_with_runtime_above() {
    tokio::task::yield_now().await;
}

fn main() {}
