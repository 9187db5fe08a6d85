//! The vision pipeline's memory, stage by stage, as the Worker's wasm linear memory would hold
//! it, measured natively in seconds instead of a wasm build and a workerd run.
//!
//! Rust's std allocates on wasm32 with dlmalloc, which grows the linear memory 64 KiB pages at
//! a time and never gives a page back: the memory's size is the heap's high-water mark plus
//! whatever dlmalloc could not reuse (holes between live blocks). This runs the same dlmalloc
//! over a simulated linear memory (one reserved region grown page by page), so it prints both
//! the live heap and the pages grown, as `npm run bench:worker` reads them in workerd (which
//! adds the module's static data and stack, ~1-2 MiB, to the heap shown here).
//!
//! It mirrors the Worker: model files read into the heap then loaded, tract's wasm choices of
//! convolution kernels (set below), the photo's bytes dropped once decoded. tract's hash maps
//! are seeded at random natively (not in wasm), which moves its allocations: the numbers vary
//! by a few MiB from run to run, so run it a few times.
//!
//!   cargo run --release --example vision_memory -- PHOTO...
//!   DETECTION_SIZE=2560 cargo run --release --example vision_memory -- PHOTO...   # as the Worker's variable

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};

use dlmalloc::{Allocator, Dlmalloc};
use finishline::vision::Pipeline;

/// A wasm linear memory: one region reserved up front (untouched pages cost nothing), of
/// which `grown` bytes have been handed to dlmalloc, as `memory.grow` would.
struct LinearMemory;
const RESERVED: usize = 4 << 30;
const PAGE: usize = 64 * 1024;
static BASE: AtomicUsize = AtomicUsize::new(0);
static GROWN: AtomicUsize = AtomicUsize::new(0);

unsafe impl Allocator for LinearMemory {
    fn alloc(&self, size: usize) -> (*mut u8, usize, u32) {
        if BASE.load(Relaxed) == 0 {
            let region = unsafe { System.alloc_zeroed(Layout::from_size_align(RESERVED, PAGE).unwrap()) };
            BASE.store(region as usize, Relaxed);
        }
        let size = size.div_ceil(PAGE) * PAGE;
        let start = GROWN.fetch_add(size, Relaxed);
        assert!(start + size <= RESERVED, "simulated linear memory exhausted");
        ((BASE.load(Relaxed) + start) as *mut u8, size, 0)
    }
    fn remap(&self, _: *mut u8, _: usize, _: usize, _: bool) -> *mut u8 {
        std::ptr::null_mut()
    }
    fn free_part(&self, _: *mut u8, _: usize, _: usize) -> bool {
        false
    }
    fn free(&self, _: *mut u8, _: usize) -> bool {
        false
    }
    fn can_release_part(&self, _: u32) -> bool {
        false
    }
    fn allocates_zeros(&self) -> bool {
        true
    }
    fn page_size(&self) -> usize {
        PAGE
    }
}

/// dlmalloc over the linear memory, counting live bytes and their peak on the way.
struct WasmLikeHeap {
    lock: AtomicBool,
    heap: UnsafeCell<Dlmalloc<LinearMemory>>,
}
unsafe impl Sync for WasmLikeHeap {}
static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

impl WasmLikeHeap {
    fn with<T>(&self, f: impl FnOnce(&mut Dlmalloc<LinearMemory>) -> T) -> T {
        while self.lock.swap(true, Acquire) {
            std::hint::spin_loop();
        }
        let out = f(unsafe { &mut *self.heap.get() });
        self.lock.store(false, Release);
        out
    }
    fn count(&self, grown: usize, shrunk: usize) {
        let live = LIVE.fetch_add(grown, Relaxed) + grown - shrunk;
        LIVE.fetch_sub(shrunk, Relaxed);
        PEAK.fetch_max(live, Relaxed);
    }
}

unsafe impl GlobalAlloc for WasmLikeHeap {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size(), 0);
        self.with(|h| unsafe { h.malloc(layout.size(), layout.align()) })
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        self.count(layout.size(), 0);
        self.with(|h| unsafe { h.calloc(layout.size(), layout.align()) })
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        self.count(0, layout.size());
        self.with(|h| unsafe { h.free(ptr, layout.size(), layout.align()) })
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        self.count(new_size, layout.size());
        self.with(|h| unsafe { h.realloc(ptr, layout.size(), layout.align(), new_size) })
    }
}

#[global_allocator]
static HEAP: WasmLikeHeap = WasmLikeHeap {
    lock: AtomicBool::new(false),
    heap: UnsafeCell::new(Dlmalloc::new_with_allocator(LinearMemory)),
};

const MB: f64 = 1024.0 * 1024.0;

/// Runs `f`, printing the live heap's peak during it and after it, and the memory grown.
fn stage<T>(name: &str, f: impl FnOnce() -> T) -> T {
    let before = LIVE.load(Relaxed);
    PEAK.store(before, Relaxed);
    let out = f();
    let (peak, after) = (PEAK.load(Relaxed), LIVE.load(Relaxed));
    println!(
        "  {name:<10} live peak {:6.1} MiB (+{:5.1}), live after {:6.1} MiB, memory {:6.1} MiB",
        peak as f64 / MB,
        (peak - before) as f64 / MB,
        after as f64 / MB,
        GROWN.load(Relaxed) as f64 / MB,
    );
    out
}

/// The convolution kernels tract picks in wasm (tract-core's conv.rs): no direct spatial
/// convolution (x86/arm only), the blocked one on, lazy im2col from 1 MiB of scratch.
const WASM_KNOBS: [(&str, &str); 3] = [
    ("TRACT_DISABLE_DIRECT_SPATIAL", "1"),
    ("TRACT_ENABLE_BLOCKED_CONV", "1"),
    ("TRACT_LAZY_IM2COL_MAX_EAGER_BYTES", "1048576"),
];

fn main() {
    for (knob, value) in WASM_KNOBS {
        // Single-threaded so far: nothing else reads the environment meanwhile.
        unsafe { std::env::set_var(knob, value) };
    }
    let files: Vec<String> = std::env::args().skip(1).collect();
    let pipeline = stage("models", || {
        let det = finishline::vision::DETECTION_MODEL.to_vec();
        let rec = finishline::vision::RECOGNITION_MODEL.to_vec();
        let pipeline = Pipeline::load(&det, &rec).expect("models");
        match std::env::var("DETECTION_SIZE") {
            Ok(pixels) => pipeline.with_detection_size(pixels.parse().expect("a number")).expect("in range"),
            Err(_) => pipeline,
        }
    });
    for file in files {
        println!("{file}");
        let bytes = stage("read file", || std::fs::read(&file).expect("readable"));
        let photo = stage("decode", || pipeline.decode(&bytes).expect("decodes"));
        drop(bytes);
        let regions = stage("detection", || pipeline.detect(&photo).expect("detects"));
        let mut detections = stage("ocr", || pipeline.read(&photo, &regions).expect("reads"));
        if let Some(closer) = stage("closer", || pipeline.closer_regions(&photo, &detections).expect("detects")) {
            detections = stage("closer ocr", || pipeline.read(&photo, &closer).expect("reads"));
        }
        let n = detections.len();
        stage("color", || pipeline.color(&photo, detections));
        println!("  {} regions, {n} numbers", regions.len());
    }
}
