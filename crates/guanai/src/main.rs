// glibc's allocator fragments badly under the many small allocations of bulk imports;
// mimalloc keeps both time and peak memory down (see docs/BENCHMARKS.md). Its `override`
// feature also serves C's malloc, so SQLite's page cache allocates from it too (with
// glibc, a large page cache spent a quarter of an import in malloc's free lists).
// `no_thp`: mimalloc would ask for transparent huge pages, and a 2 MiB page partly used
// counts whole: 45 MB of a city import's peak memory (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    guanai::cli::main()
}
