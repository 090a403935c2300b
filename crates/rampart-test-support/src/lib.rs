//! Test fixtures for rampart's own tests, in the spirit of nextest's `fixture-data` crate: one
//! place that knows how to make the inputs the report reads, so tests state what they mean
//! instead of hand-writing JSON Lines and XML.
//!
//! - [`SidecarBuilder`]: the sidecar of one test attempt, through rampart's real sidecar
//!   writer ([`rampart::sidecar::encode_line`]), with torn tails and raw lines for the
//!   malformed cases; named and placed as the recorder would ([`rampart::location`]).
//! - [`JunitBuilder`]: nextest-shaped JUnit XML through quick-junit (passes, failures,
//!   flaky and retried attempts, aborts, timeouts, leaks, skips, stress suffixes).
//! - [`run`]: a whole run (tests and their attempts) turned into both, in memory
//!   ([`RunFiles`]) or on disk; [`demo_like_run`] is the demo-shaped run the tests share.
//! - [`expected`]: the typed model of `fixtures/demo/expected.json`.
//! - `chromium` (feature `chromium`): the one headless-Chromium launcher (chromedriver,
//!   flags, screenshots, skip-or-fail policy).
//!
//! It depends on `rampart` and never on `rampart-report`, whose own tests use it.

pub mod demo;
pub mod expected;
pub mod junit;
pub mod run;
pub mod sidecar;

#[cfg(feature = "chromium")]
pub mod chromium;

pub use demo::{DEMO_RUN_ID, demo_like_run, demo_like_tests};
pub use expected::Expected;
pub use junit::{JunitAttempt, JunitBuilder, JunitCase, JunitOutcome};
pub use run::{AttemptRun, RunBuilder, RunFiles, TestRun, WrittenRun};
pub use sidecar::SidecarBuilder;
