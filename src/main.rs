/// mimalloc: a scan allocates heavily (parse trees, models) and mimalloc runs it markedly faster
/// than glibc's allocator. It is built with `no_thp` (Cargo.toml): with transparent huge pages,
/// a short-lived process touching a little of each 2 MiB page had twice the peak RSS.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    oidc_lint::cli::main()
}
