//! `#[rampart::test]` compile errors and accepted forms (trybuild; cases in `tests/ui/`).
//!
//! These live in the macros crate so trybuild builds only `rampart` and tokio, not the
//! recording crate's heavier dev-dependencies. Regenerate the expected `.stderr` files with
//! `TRYBUILD=overwrite` and review them.

/// Bad arguments are compile errors pointing at the argument; the accepted forms compile.
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/fail/*.rs");
    cases.pass("tests/ui/pass/*.rs");
}
