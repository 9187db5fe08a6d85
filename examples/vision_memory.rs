//! Native heap peaks of the vision pipeline, stage by stage: what wasm's linear memory must
//! hold (it never shrinks, so its size is the high-water mark of the heap, plus the
//! allocator's fragmentation). Counts every allocation through a wrapping global allocator.
//!
//!   cargo run --release --example vision_memory -- PHOTO...

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use finishline::vision::Pipeline;

struct Counting;
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let live = LIVE.fetch_add(layout.size(), Relaxed) + layout.size();
        PEAK.fetch_max(live, Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > layout.size() {
            let live = LIVE.fetch_add(new_size - layout.size(), Relaxed) + new_size - layout.size();
            PEAK.fetch_max(live, Relaxed);
        } else {
            LIVE.fetch_sub(layout.size() - new_size, Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const MB: f64 = 1024.0 * 1024.0;

/// Runs `f`, printing the heap's peak during it and what stays allocated after it.
fn stage<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    let (peak, after) = (PEAK.load(Relaxed), LIVE.load(Relaxed));
    println!(
        "  {name:<10} peak {:6.1} MiB (+{:5.1} over the {:5.1} MiB before), live after {:6.1} MiB",
        peak as f64 / MB,
        (peak - before) as f64 / MB,
        before as f64 / MB,
        after as f64 / MB
    );
    out
}

fn main() {
    let pipeline = stage("models", || Pipeline::embedded().expect("models"));
    for file in std::env::args().skip(1) {
        println!("{file}");
        let bytes = stage("read file", || std::fs::read(&file).expect("readable"));
        let photo = stage("decode", || pipeline.decode(&bytes).expect("decodes"));
        let regions = stage("detection", || pipeline.detect(&photo).expect("detects"));
        let detections = stage("ocr", || pipeline.read(&photo, &regions).expect("reads"));
        let n = detections.len();
        stage("color", || pipeline.color(&photo, detections));
        println!("  {} regions, {n} numbers", regions.len());
    }
}
