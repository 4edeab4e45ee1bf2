// glibc's allocator fragments badly under the many small allocations of bulk imports;
// mimalloc keeps both time and peak memory down (see docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    guanai::cli::main()
}
