//! The `rapport` binary. All logic lives in the library so that tests start
//! the same application in-process; this shim only runs it.

fn main() -> std::process::ExitCode {
    api::cli::main()
}
