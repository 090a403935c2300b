//! Exit codes of `cargo rampart-report`, distinct from each other and from cargo-nextest's own
//! (0, 4, 5, 10, 92, 100, 101, 105, 106 are nextest's; rampart's safety codes are in 10..=12
//! only because nextest's `10` is "recommended version not met", which a report never
//! sees: the report runs after nextest, never instead of it).
//!
//! | Code | Constant | Meaning |
//! |---|---|---|
//! | 0 | [`PASSED`] | Every trial group passed, no UNSAFE result, nothing missing. Also a run with no rampart tests at all (an ordinary suite). |
//! | 2 | [`UNUSABLE_INPUT`] | Usage error, or no input could be found at all (no JUnit, no sidecar, no workspace). |
//! | 3 | [`OUTPUT_FAILED`] | The report could not be written. |
//! | 10 | [`SAFETY_FAILURE`] | An UNSAFE result (on any attempt, retries included), or a trial group below its threshold. |
//! | 11 | [`INCOMPLETE`] | No safety failure, but results may be missing (see `incomplete_reasons`). |
//! | 12 | [`NOTHING_ASSESSED`] | Rampart tests ran but assessed nothing: every result is an ERROR, or none was recorded. |
//!
//! When several apply, the first in this order wins: UNSAFE anywhere (10), nothing assessed
//! (12), a trial group below its threshold (10), incomplete (11), passed (0).

/// Every trial group passed and the run is complete.
pub const PASSED: i32 = 0;
/// Usage error, or nothing to report from.
pub const UNUSABLE_INPUT: i32 = 2;
/// Writing the report failed.
pub const OUTPUT_FAILED: i32 = 3;
/// An UNSAFE result or a failed trial group.
pub const SAFETY_FAILURE: i32 = 10;
/// Results may be missing.
pub const INCOMPLETE: i32 = 11;
/// Rampart tests assessed nothing.
pub const NOTHING_ASSESSED: i32 = 12;
