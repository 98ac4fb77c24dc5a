//! The `rapport` command line, built inside the `tests` package so that the
//! end-to-end tests that run the server as a process always find a fresh
//! binary (`CARGO_BIN_EXE_rapport-under-test`): cargo builds a package's own
//! binaries before its integration tests, but not other packages' binaries.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
