//! Two-sample statistics for comparing a run with a baseline: exact tests on counts, the
//! interval of a difference in rates, and a multiple-comparison correction.
//!
//! - **Fisher's exact test**, one-sided: is the new run's rate lower (or higher) than the
//!   baseline's? Chosen over Boschloo's test because it is exact, deterministic and cheap (a
//!   sum of hypergeometric terms, no search over a nuisance parameter, so 10,000 groups cost
//!   nothing), and because it is conservative: in a CI gate a false "regression" costs a team
//!   a blocked merge, so the test that errs toward "within noise" is the one to gate on. It
//!   matches R's `fisher.test` and SciPy's `fisher_exact`.
//! - **McNemar's exact test**, for trials paired across the runs (the same trial index of the
//!   same test in both, when the index is the trial's seed): a binomial test on the trials
//!   whose outcome changed.
//! - **Newcombe's hybrid score interval** (his method 10) of a difference of two proportions,
//!   built from the two Wilson intervals: it stays inside [−1, 1] and behaves at 0 and n,
//!   where the Wald interval collapses.
//! - **Holm–Bonferroni**: the p-values of many groups adjusted so that the chance of calling
//!   any unchanged group a regression stays at most α (family-wise), uniformly more powerful
//!   than Bonferroni and valid under any dependence between groups.
//!
//! Checked against values computed independently with SciPy and statsmodels
//! (`fixtures/compare/reference.json`).

use crate::aggregate::{Z_95, wilson_interval};
use crate::report::Interval;

/// `ln Γ(x)` for `x > 0`: Lanczos' approximation (g = 7, 9 terms), relative error about
/// 1e-15, with the reflection formula below 0.5.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = COEFFICIENTS[0];
    for (i, c) in COEFFICIENTS.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

/// `ln C(n, k)`.
fn ln_choose(n: u64, k: u64) -> f64 {
    ln_gamma(n as f64 + 1.0) - ln_gamma(k as f64 + 1.0) - ln_gamma((n - k) as f64 + 1.0)
}

/// The sum of `exp(terms)`, computed stably.
fn sum_exp(terms: impl Iterator<Item = f64> + Clone) -> f64 {
    let max = terms.clone().fold(f64::NEG_INFINITY, f64::max);
    if max == f64::NEG_INFINITY {
        return 0.0;
    }
    max.exp() * terms.map(|t| (t - max).exp()).sum::<f64>()
}

/// Which way a one-sided test looks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// The second sample's rate is lower than the first's.
    Lower,
    /// The second sample's rate is higher than the first's.
    Higher,
}

/// Fisher's exact test, one-sided, of `x2` successes in `n2` against `x1` in `n1`: the
/// probability, with the margins fixed, of a second-sample count at least as far in `tail`'s
/// direction as `x2` (a hypergeometric tail). 1 when either sample is empty.
pub fn fisher_exact(x1: u64, n1: u64, x2: u64, n2: u64, tail: Tail) -> f64 {
    let (x1, x2) = (x1.min(n1), x2.min(n2));
    if n1 == 0 || n2 == 0 {
        return 1.0;
    }
    let n = n1 + n2;
    let k = x1 + x2; // successes in both
    let lo = k.saturating_sub(n1);
    let hi = k.min(n2);
    let ln_total = ln_choose(n, n2);
    let term = move |x: u64| ln_choose(k, x) + ln_choose(n - k, n2 - x) - ln_total;
    let p = match tail {
        Tail::Lower => sum_exp((lo..=x2).map(term)),
        Tail::Higher => sum_exp((x2..=hi).map(term)),
    };
    p.clamp(0.0, 1.0)
}

/// McNemar's exact test, one-sided: of the `changed` pairs whose outcome differs between the
/// runs, `worse` went the way `tail` looks for; the probability of at least that many under no
/// change (`Binomial(changed, 1/2)`). 1 without changed pairs.
pub fn mcnemar_exact(worse: u64, changed: u64) -> f64 {
    let worse = worse.min(changed);
    if changed == 0 {
        return 1.0;
    }
    let ln_half = -(changed as f64) * std::f64::consts::LN_2;
    sum_exp((worse..=changed).map(|x| ln_choose(changed, x) + ln_half)).clamp(0.0, 1.0)
}

/// Newcombe's hybrid score interval (method 10) of `x2/n2 − x1/n1` at 95%, from the two
/// Wilson intervals; `None` when a sample is empty.
pub fn newcombe_difference(x1: u64, n1: u64, x2: u64, n2: u64) -> Option<Interval> {
    let w1 = wilson_interval(x1, n1, Z_95)?;
    let w2 = wilson_interval(x2, n2, Z_95)?;
    let p1 = x1.min(n1) as f64 / n1 as f64;
    let p2 = x2.min(n2) as f64 / n2 as f64;
    let d = p2 - p1;
    let lower = d - ((p2 - w2.lower).powi(2) + (w1.upper - p1).powi(2)).sqrt();
    let upper = d + ((w2.upper - p2).powi(2) + (p1 - w1.lower).powi(2)).sqrt();
    Some(Interval { lower: lower.max(-1.0), upper: upper.min(1.0) })
}

/// Holm–Bonferroni adjusted p-values, in the input's order: sorted ascending, the i-th
/// (from 0) of `m` becomes `max over j ≤ i of min(1, (m − j) · p_j)`.
pub fn holm(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p_values[a].total_cmp(&p_values[b]).then(a.cmp(&b)));
    let mut adjusted = vec![0.0; m];
    let mut running = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        let value = ((m - rank) as f64 * p_values[i]).min(1.0);
        running = running.max(value);
        adjusted[i] = running;
    }
    adjusted
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn ln_gamma_matches_factorials() {
        let mut factorial = 1.0f64;
        for n in 1..=20u32 {
            factorial *= f64::from(n);
            let got = ln_gamma(f64::from(n) + 1.0);
            assert!((got - factorial.ln()).abs() < 1e-12 * factorial.ln().max(1.0), "{n}! {got}");
        }
        // Γ(1/2) = √π.
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-14);
    }

    #[test]
    fn fisher_on_a_hand_computed_table() {
        // 3 of 3 before, 0 of 3 after: P(0 successes in the second row | margins) = C(3,0)C(3,3)/C(6,3)
        // = 1/20.
        assert!((fisher_exact(3, 3, 0, 3, Tail::Lower) - 0.05).abs() < 1e-12);
        assert!((fisher_exact(3, 3, 0, 3, Tail::Higher) - 1.0).abs() < 1e-12);
        assert_eq!(fisher_exact(0, 0, 1, 1, Tail::Lower), 1.0);
    }

    #[test]
    fn holm_on_a_hand_computed_list() {
        // Sorted 0.01, 0.02, 0.04 with m = 3: 0.03, max(0.03, 0.04) = 0.04, max(0.04, 0.04) = 0.04.
        let adjusted = holm(&[0.04, 0.01, 0.02]);
        for (got, want) in adjusted.iter().zip([0.04, 0.03, 0.04]) {
            assert!((got - want).abs() < 1e-12, "{adjusted:?}");
        }
        assert!(holm(&[]).is_empty());
    }

    /// Every value of `fixtures/compare/reference.json` (SciPy and statsmodels), to 1e-9.
    #[test]
    fn matches_the_scipy_and_statsmodels_reference_table() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/compare/reference.json");
        let reference: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let close = |got: f64, want: &serde_json::Value, what: String| {
            let want = want.as_f64().unwrap();
            assert!((got - want).abs() < 1e-9, "{what}: {got} vs reference {want}");
        };
        let tables = reference["tables"].as_array().unwrap();
        assert!(tables.len() >= 20);
        for t in tables {
            let n = |k: &str| t[k].as_u64().unwrap();
            let (x1, n1, x2, n2) = (n("x1"), n("n1"), n("x2"), n("n2"));
            let case = format!("{x1}/{n1} -> {x2}/{n2}");
            close(fisher_exact(x1, n1, x2, n2, Tail::Lower), &t["fisher_lower"], format!("{case} lower"));
            close(fisher_exact(x1, n1, x2, n2, Tail::Higher), &t["fisher_higher"], format!("{case} higher"));
            let interval = newcombe_difference(x1, n1, x2, n2).unwrap();
            close(interval.lower, &t["newcombe"][0], format!("{case} Newcombe lower"));
            close(interval.upper, &t["newcombe"][1], format!("{case} Newcombe upper"));
        }
        for m in reference["mcnemar"].as_array().unwrap() {
            let (worse, changed) = (m["worse"].as_u64().unwrap(), m["changed"].as_u64().unwrap());
            close(mcnemar_exact(worse, changed), &m["p"], format!("McNemar {worse} of {changed}"));
        }
        for h in reference["holm"].as_array().unwrap() {
            let p: Vec<f64> = h["p"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
            for (i, got) in holm(&p).into_iter().enumerate() {
                close(got, &h["adjusted"][i], format!("Holm {p:?} [{i}]"));
            }
        }
    }

    proptest! {
        #[test]
        fn fisher_p_is_a_probability_and_monotone(n1 in 1u64..60, n2 in 1u64..60, x1f in 0.0f64..=1.0, x2f in 0.0f64..=1.0) {
            let x1 = (x1f * n1 as f64).round() as u64;
            let x2 = (x2f * n2 as f64).round() as u64;
            let lower = fisher_exact(x1, n1, x2, n2, Tail::Lower);
            let higher = fisher_exact(x1, n1, x2, n2, Tail::Higher);
            prop_assert!((0.0..=1.0).contains(&lower) && (0.0..=1.0).contains(&higher));
            // The two tails share the observed table's own probability: they sum to at least 1.
            prop_assert!(lower + higher >= 1.0 - 1e-9);
            // One fewer success in the second sample is more evidence of a lower rate.
            if x2 > 0 {
                prop_assert!(fisher_exact(x1, n1, x2 - 1, n2, Tail::Lower) <= lower + 1e-12);
            }
            // Swapping the samples swaps the tails.
            prop_assert!((fisher_exact(x2, n2, x1, n1, Tail::Higher) - lower).abs() < 1e-9);
        }

        #[test]
        fn newcombe_contains_the_difference(n1 in 1u64..200, n2 in 1u64..200, x1f in 0.0f64..=1.0, x2f in 0.0f64..=1.0) {
            let x1 = (x1f * n1 as f64).round() as u64;
            let x2 = (x2f * n2 as f64).round() as u64;
            let d = x2 as f64 / n2 as f64 - x1 as f64 / n1 as f64;
            let i = newcombe_difference(x1, n1, x2, n2).unwrap();
            prop_assert!(-1.0 <= i.lower && i.lower <= d + 1e-12 && d - 1e-12 <= i.upper && i.upper <= 1.0);
            // Symmetric: swapping the samples negates the interval.
            let j = newcombe_difference(x2, n2, x1, n1).unwrap();
            prop_assert!((i.lower + j.upper).abs() < 1e-12 && (i.upper + j.lower).abs() < 1e-12);
        }

        #[test]
        fn holm_never_lowers_a_p_value_and_keeps_the_order(ps in proptest::collection::vec(0.0f64..=1.0, 0..30)) {
            let adjusted = holm(&ps);
            for (p, a) in ps.iter().zip(&adjusted) {
                prop_assert!(a >= p && *a <= 1.0);
            }
            for i in 0..ps.len() {
                for j in 0..ps.len() {
                    if ps[i] < ps[j] {
                        prop_assert!(adjusted[i] <= adjusted[j]);
                    }
                }
            }
        }

        #[test]
        fn mcnemar_is_a_probability_and_monotone(changed in 0u64..80, worse_f in 0.0f64..=1.0) {
            let worse = (worse_f * changed as f64).round() as u64;
            let p = mcnemar_exact(worse, changed);
            prop_assert!((0.0..=1.0).contains(&p));
            if worse < changed {
                prop_assert!(mcnemar_exact(worse + 1, changed) <= p);
            }
        }
    }
}
