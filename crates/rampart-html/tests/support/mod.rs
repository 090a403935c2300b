//! Shared by the browser tests and the benchmark (included with `#[path]`): reports built
//! from `rampart-test-support`'s runs, and the browser (`rampart_test_support::chromium`).
#![allow(dead_code, reason = "each includer uses a different part")]

pub mod reports;
pub mod webdriver;
