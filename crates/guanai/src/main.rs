// glibc's allocator fragments badly under the many small allocations of bulk imports;
// mimalloc keeps both time and peak memory down (see docs/BENCHMARKS.md). Its `override`
// feature also serves C's malloc, so SQLite's page cache allocates from it too (with
// glibc, a large page cache spent a quarter of an import in malloc's free lists).
// `no_thp`: mimalloc would ask for transparent huge pages, and a 2 MiB page partly used
// counts whole: 45 MB of a city import's peak memory (docs/BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_e`, the same in v2 and v3).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system at once. With mimalloc's default (a second's delay,
/// and purging only when the allocator is next busy) sixteen photos uploaded at once left
/// the server at 245 MB until the next burst, and each burst raised it further; at once,
/// the peak is 153 MB and the server returns to about 56 MB (docs/BENCHMARKS.md, claims).
/// `MIMALLOC_PURGE_DELAY` in the environment still decides where it is set.
fn give_back_freed_memory_at_once() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: called first in `main`, before any other thread exists; the option is an
    // integer that mimalloc reads on its next purge. Its default (1,000 ms in v3, 10 ms in
    // v2) is checked first, against an option list that has moved.
    unsafe {
        if matches!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), 10 | 1000) {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

fn main() -> std::process::ExitCode {
    give_back_freed_memory_at_once();
    guanai::cli::main()
}
