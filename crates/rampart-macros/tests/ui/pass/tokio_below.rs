#[rampart::test(harm = "jailbreak")]
#[tokio::test]
async fn runtime_below() {
    tokio::task::yield_now().await;
}

#[rampart::test(trials = 3)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trials_with_runtime_below() {
    tokio::task::yield_now().await;
}

fn main() {}
