//! Measured memory: a counting global allocator (bytes held now and the peak since the last
//! reset; a binary opts in with `#[global_allocator]`), the process's resident set (Linux), and
//! the [`MemoryProbe`] trait over both that `locolab bench` reads around a training step.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

pub struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::Relaxed);
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            let now = CURRENT.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(now, Ordering::Relaxed);
        }
        p
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                let now = CURRENT.fetch_add(new_size - layout.size(), Ordering::Relaxed) + new_size - layout.size();
                PEAK.fetch_max(now, Ordering::Relaxed);
            } else {
                CURRENT.fetch_sub(layout.size() - new_size, Ordering::Relaxed);
            }
        }
        p
    }
}

/// Bytes allocated and not yet freed.
pub fn current() -> usize {
    CURRENT.load(Ordering::Relaxed)
}

/// Highest `current()` since the last [`reset_peak`].
pub fn peak() -> usize {
    PEAK.load(Ordering::Relaxed)
}

/// Start a new peak window at the current level.
pub fn reset_peak() {
    PEAK.store(current(), Ordering::Relaxed);
}

/// Reads and resets peak memory (bytes) around a step.
pub trait MemoryProbe {
    fn current(&self) -> usize;
    fn reset_peak(&self);
    fn peak(&self) -> usize;
}

/// The probe a name selects: `alloc` ([`AllocProbe`]) or `rss` ([`RssProbe`]).
pub fn probe(name: &str) -> crate::Result<&'static dyn MemoryProbe> {
    match name {
        "alloc" => Ok(&AllocProbe),
        "rss" if RssProbe::available() => Ok(&RssProbe),
        "rss" => Err(crate::Error::Config("--memory rss needs Linux /proc/self/status and /proc/self/clear_refs".into())),
        other => Err(crate::Error::Config(format!("unknown memory probe '{other}'; expected alloc or rss"))),
    }
}

/// [`MemoryProbe`] over this allocator (for a binary that installs it with
/// `#[global_allocator] static A: locolab::memory::Counting = locolab::memory::Counting;`).
pub struct AllocProbe;

impl MemoryProbe for AllocProbe {
    fn current(&self) -> usize {
        current()
    }
    fn reset_peak(&self) {
        reset_peak()
    }
    fn peak(&self) -> usize {
        peak()
    }
}

/// [`MemoryProbe`] over the process's resident set (Linux `/proc/self/status`):
/// `VmRSS` now, and `VmHWM`, the peak, which writing `5` to `/proc/self/clear_refs` resets.
/// Coarser than [`AllocProbe`] (the C allocator may keep freed pages), but it sees every
/// allocation in the process, so it measures another program's step the same way
/// (`bench/pytorch/compare.py` reads both sides with it).
pub struct RssProbe;

impl RssProbe {
    fn status_kib(field: &str) -> usize {
        let text = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        text.lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':')?.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or(0)
    }

    /// Whether this system exposes the resident set and lets us reset its peak.
    pub fn available() -> bool {
        Self::status_kib("VmHWM") > 0 && std::fs::OpenOptions::new().write(true).open("/proc/self/clear_refs").is_ok()
    }
}

impl MemoryProbe for RssProbe {
    fn current(&self) -> usize {
        Self::status_kib("VmRSS") * 1024
    }
    fn reset_peak(&self) {
        let _ = std::fs::write("/proc/self/clear_refs", "5");
    }
    fn peak(&self) -> usize {
        Self::status_kib("VmHWM") * 1024
    }
}
