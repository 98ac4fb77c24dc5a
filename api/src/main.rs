//! The `rapport` binary. All logic lives in the library so that tests start
//! the same application in-process; this shim only runs it.

fn main() -> std::process::ExitCode {
    limit_malloc_arenas();
    api::cli::main()
}

/// Caps glibc's malloc at one arena per core. By default glibc gives busy
/// threads arenas of their own, up to eight per core, and keeps what they
/// free; the SQLite connections each run on a thread, so the server's
/// resident memory grew with the pool (BENCHMARKS.md, round 3). Runs before
/// any thread exists, as `mallopt` requires.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn limit_malloc_arenas() {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` only changes allocator parameters; it is called once,
    // from the main thread, before any other thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn limit_malloc_arenas() {}
