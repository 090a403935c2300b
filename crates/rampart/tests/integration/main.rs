//! End-to-end tests of the recording side: real nextest runs on temporary workspaces, the
//! demo suite, durability under SIGKILL, macro expansion errors, and format round trips.

mod demo;
mod durability;
mod macros;
mod nextest_identity;
mod redaction;
mod redaction_corpus;
mod roundtrip;
mod support;
