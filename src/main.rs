//! `digistore24-mcp`: a thin shell over the library; see `cli.rs`.

// mimalloc: allocation was a quarter of the server's CPU under load with
// glibc's allocator (bench/RESULTS.md); mimalloc's thread-local heaps cut it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    digistore24_mcp::cli::main()
}
