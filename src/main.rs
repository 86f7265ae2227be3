//! `digistore24-mcp`: a thin shell over the library; see `cli.rs`.

fn main() -> std::process::ExitCode {
    digistore24_mcp::cli::main()
}
