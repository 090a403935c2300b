//! End-to-end tests of `cargo-rampart-report`.
