//! The memory allocator: jemalloc, with background threads that give freed pages back.
//!
//! Measured at 100k objects (`bench/startup.sh`): glibc malloc kept about 700 bytes per object
//! more than the heap held, since start-up interleaves short-lived parse buffers with the
//! index's long-lived nodes; mimalloc kept more still. jemalloc returns the pages freed after
//! start-up within its decay time (10 s), and started faster than either.

use tracing::warn;

#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Without background threads jemalloc purges only while the process allocates, and an idle
/// server never would.
pub fn purge_in_background() {
    if let Err(e) = tikv_jemalloc_ctl::background_thread::write(true) {
        warn!(error = %e, "jemalloc background threads are off; freed memory stays mapped until the next allocations");
    }
}
