//! Shared by the browser tests and the benchmark (included with `#[path]`): report builders
//! and a small WebDriver client.
#![allow(dead_code, reason = "each includer uses a different part")]

pub mod reports;
pub mod webdriver;
