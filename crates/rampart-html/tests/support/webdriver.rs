//! The headless-Chromium launcher now lives in `rampart_test_support::chromium`; this name is
//! kept for the `load_100k` benchmark, which includes this directory.

#[allow(unused_imports, reason = "the browser tests import the support crate directly")]
pub use rampart_test_support::chromium::Browser;
