//! `cargo rampart-report`; see the library docs for flags and exit codes.

fn main() -> std::process::ExitCode {
    let code = cargo_rampart_report::main_with_args(std::env::args_os());
    std::process::ExitCode::from(u8::try_from(code).unwrap_or(1))
}
