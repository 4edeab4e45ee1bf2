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

/// How long mimalloc keeps freed memory before it gives it back to the system, in ms.
const PURGE_DELAY_MS: std::ffi::c_long = 10;

/// Freed memory goes back to the system after 10 ms. With mimalloc v3's default (1 s, and
/// only when the allocator is next busy) sixteen photos uploaded at once took the server
/// to 273 MB and left about 200 MB held until the next burst, which raised it further;
/// with 10 ms the peak is 160–173 MB. At once (0) costs a page fault for every page of a
/// buffer allocated again: a quarter of the renewals' rate and 20 % more time per photo
/// (docs/BENCHMARKS.md, claims, seventh session). `MIMALLOC_PURGE_DELAY` in the
/// environment still decides where it is set.
fn purge_freed_memory_soon() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
        return;
    }
    // SAFETY: called first in `main`, before any other thread exists; the option is an
    // integer that mimalloc reads on its next purge. Its default (1,000 ms in v3, 10 ms in
    // v2) is checked first, against an option list that has moved.
    unsafe {
        if matches!(libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY), 10 | 1000) {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS);
        }
    }
}

fn main() -> std::process::ExitCode {
    purge_freed_memory_soon();
    guanai::cli::main()
}
