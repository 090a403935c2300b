//! End-to-end tests of `cargo-rampart-report`: real `cargo nextest run` on one shared temp
//! workspace, then the real binary; plus fixture JUnit ingest and diagnostics snapshots.

mod demo;
mod diagnostics;
mod diff;
mod docs;
mod durability;
mod fixtures;
mod gates;
mod hostile;
mod outputs;
mod quickstart;
mod redaction;
mod scenarios;
mod support;
mod trust;
mod watch;
