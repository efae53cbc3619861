//! What the C library's allocator keeps of freed memory.
//!
//! glibc keeps what a program frees for its next allocations: a tray
//! process that took a burst (a flood of large events, a login image to
//! decode) would stay at that peak all day. So the tray process sets it up
//! to give memory back as it is freed ([`give_back_freed_memory`]), and
//! after a burst gives back what is still kept between live blocks
//! ([`trim`]). Elsewhere (another C library, Windows) both do nothing.

/// Set the allocator up to give memory back as it is freed: blocks from
/// 128 KiB get a mapping of their own, unmapped when freed, at a fixed
/// threshold (glibc otherwise raises it up to 32 MiB as large blocks are
/// freed, and keeps those in its heap); a free end of the heap goes back
/// from 128 KiB; all threads share two arenas rather than one each. Call
/// first, before any thread starts.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // glibc's <malloc.h>.
        const M_TRIM_THRESHOLD: c_int = -1;
        const M_MMAP_THRESHOLD: c_int = -3;
        const M_ARENA_MAX: c_int = -8;
        // SAFETY: mallopt only sets the allocator's parameters, and is
        // called before any other thread exists.
        unsafe {
            mallopt(M_MMAP_THRESHOLD, 128 * 1024);
            mallopt(M_TRIM_THRESHOLD, 128 * 1024);
            mallopt(M_ARENA_MAX, 2);
        }
    }
}

/// Give back the free pages the allocator keeps between live blocks:
/// after a burst, not on every free (it walks the whole heap, about a
/// millisecond for tens of megabytes).
pub fn trim() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim is safe to call at any time from any thread.
    unsafe {
        malloc_trim(0);
    }
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
use std::ffi::c_int;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
extern "C" {
    fn mallopt(param: c_int, value: c_int) -> c_int;
    fn malloc_trim(pad: usize) -> c_int;
}
