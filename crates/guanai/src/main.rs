// glibc's allocator fragments badly under the many small allocations of bulk imports;
// mimalloc keeps both time and peak memory down (see docs/BENCHMARKS.md). Its `override`
// feature also serves C's malloc, so SQLite's page cache allocates from it too (with
// glibc, a large page cache spent a quarter of an import in malloc's free lists).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    guanai::cli::main()
}
