#[rampart::test(harm = "prompt_injection")]
fn well_known_harm() {}

#[rampart::test(harm = "custom_product_risk", threshold = 0.9, trials = 4)]
fn team_defined_harm() {}

fn main() {
    team_defined_harm();
}
