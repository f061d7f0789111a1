use clap::Parser;

fn main() -> std::process::ExitCode {
    oidc_lint::cli::run(oidc_lint::cli::Cli::parse())
}
