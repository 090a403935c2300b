use rampart::{ObservabilityLevel, SafetyResult};

#[rampart::test]
fn refuses() {
    rampart::assert_safe!(SafetyResult::safe("refused", ObservabilityLevel::ResponseOnly));
}

mod nested {
    #[rampart::test]
    fn returns_a_result() -> Result<(), String> {
        Ok(())
    }
}

fn main() {}
