//! The hot path allocates nothing: region reads and writes served through
//! [`DeviceServer`] (the guard's fast path, one socket read and one write
//! per access) are counted by a counting global allocator over 2000
//! accesses, client included (a raw client on stack buffers, see
//! `common/raw.rs`). Alone in its test binary so no other test allocates
//! while it counts.

use std::alloc::{GlobalAlloc, Layout, System};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicU64, Ordering};

use pcidev_host::DeviceServer;
use pcidev_host::toy::{self, TOY_ID, reg};
use pcidev_runtime::COMMAND_MEMORY_SPACE;

#[path = "common/raw.rs"]
mod raw;
use raw::RawClient;

/// Counts every allocation (and reallocation) in the process.
struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees, passed on.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees, passed on.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the caller's guarantees, passed on.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's guarantees, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Accesses counted: half writes of SCRATCH, half reads of it back.
const ACCESSES: u64 = 2000;

#[test]
fn region_accesses_allocate_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hot.sock");
    let server = DeviceServer::bind(&path).unwrap();
    let thread = std::thread::spawn(move || {
        let mut model = toy::model();
        server.serve(&mut model).map(|d| d.stats)
    });
    let mut client = RawClient::new(UnixStream::connect(&path).unwrap());
    client.write(7, 0x04, &COMMAND_MEMORY_SPACE.to_le_bytes());
    assert_eq!(client.read32(0, reg::ID), TOY_ID);
    // Warm up: whatever the connection sets up once is not per access.
    for i in 0..100u32 {
        client.write(0, reg::SCRATCH, &i.to_le_bytes());
        assert_eq!(client.read32(0, reg::SCRATCH), i);
    }
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for i in 0..(ACCESSES / 2) as u32 {
        let v = i.wrapping_mul(0x9e37_79b9);
        client.write(0, reg::SCRATCH, &v.to_le_bytes());
        assert_eq!(client.read32(0, reg::SCRATCH), v);
    }
    let counted = ALLOCATIONS.load(Ordering::SeqCst) - before;
    eprintln!(
        "{counted} allocations over {ACCESSES} region accesses ({:.2} per access)",
        counted as f64 / ACCESSES as f64
    );
    // For the record (no assertion: wall time swings with load): the
    // round trip per access, median of 5 batches of 400 reads.
    let mut batches: Vec<u128> = (0..5)
        .map(|_| {
            let start = std::time::Instant::now();
            for _ in 0..400 {
                std::hint::black_box(client.read32(0, reg::SCRATCH));
            }
            start.elapsed().as_nanos() / 400
        })
        .collect();
    batches.sort_unstable();
    eprintln!(
        "read round trip through the served path: median {} ns, min {} ns (5 batches of 400)",
        batches[2], batches[0]
    );
    drop(client.into_stream());
    let stats = thread.join().unwrap().unwrap();
    assert_eq!(stats.bar_accesses, 1 + 2 * 100 + ACCESSES + 5 * 400);
    assert_eq!(
        counted, 0,
        "{counted} allocations over {ACCESSES} region accesses"
    );
}
