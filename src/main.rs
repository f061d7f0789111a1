use clap::Parser;

/// mimalloc: the scan is allocation-heavy (parse trees, models), and mimalloc made a whole run
/// about 30 % faster than glibc's allocator on the benchmark tree (see bench/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A short-lived CLI wants memory back at once: commit arena memory on demand and purge freed
/// pages without delay (mimalloc's defaults keep them for a long-running server), so peak RSS
/// follows the live heap. Option indices from mimalloc v3's `include/mimalloc.h`.
fn tune_allocator() {
    const ARENA_EAGER_COMMIT: libmimalloc_sys::mi_option_t = 4;
    const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;
    // SAFETY: plain option setters, called before any other thread exists.
    unsafe {
        libmimalloc_sys::mi_option_set(ARENA_EAGER_COMMIT, 0);
        libmimalloc_sys::mi_option_set(PURGE_DELAY, 0);
    }
}

fn main() -> std::process::ExitCode {
    tune_allocator();
    oidc_lint::cli::run(oidc_lint::cli::Cli::parse())
}
