//! The `rapport` binary. All logic lives in the library so that tests start
//! the same application in-process; this shim only runs it.

fn main() -> std::process::ExitCode {
    tune_malloc();
    api::cli::main()
}

/// Keeps glibc's malloc from holding on to memory the server no longer uses.
///
/// By default glibc gives busy threads arenas of their own, up to eight per
/// core, each keeping what its threads free; the SQLite connections each run
/// on a thread, so resident memory grew with the pool. And once a large block
/// (a big response body) is freed, glibc raises its mmap threshold so later
/// large blocks come from the arenas, where they fragment. One arena per core
/// and a fixed 128 KiB threshold (large blocks are always mapped and given
/// back when freed) keep the peak flat (BENCHMARKS.md, round 3). Runs before
/// any thread exists, as `mallopt` requires.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn tune_malloc() {
    const LARGE_BLOCK: libc::c_int = 128 * 1024;
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
    // SAFETY: `mallopt` only changes allocator parameters; it is called from
    // the main thread before any other thread is started.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, arenas);
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE_BLOCK);
        libc::mallopt(libc::M_TRIM_THRESHOLD, LARGE_BLOCK);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn tune_malloc() {}
