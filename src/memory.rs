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

/// Tell glibc's allocator to keep the memory a program frees for its next allocations: no chunk
/// served by its own `mmap`, no trimming of the heap's top, and the heap grown 256 MiB at a
/// time. A training step frees and allocates the same large buffers (activations, im2col
/// columns, gemm's packing buffers) hundreds of times a step; by default glibc returns many of
/// them to the system, and every first write of a returned page is a page fault
/// (docs/BENCHMARKS.md "The step on the pool's first thread, taken"). The cost: the resident
/// set stays at its peak, which a training process reaches in its first step anyway (`locolab
/// bench --preset cifar-scale --blocks 2 --batch 128`: the process's peak resident set 5-10%
/// higher). Called once by the native CLI after parsing its arguments, except for `bench
/// --memory rss`, which measures the resident set as the C library's defaults leave it, as for
/// any other program; elsewhere (other C libraries, wasm) it does nothing.
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets the allocator's parameters, under glibc's own locks.
    unsafe {
        libc::mallopt(libc::M_MMAP_MAX, 0);
        libc::mallopt(libc::M_TRIM_THRESHOLD, i32::MAX);
        libc::mallopt(libc::M_TOP_PAD, 256 << 20);
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
pub trait MemoryProbe: Sync {
    fn current(&self) -> usize;
    fn reset_peak(&self);
    fn peak(&self) -> usize;
}

/// The probe a name selects: `alloc` ([`AllocProbe`]) or `rss` ([`RssProbe`]).
pub fn probe(name: &str) -> crate::error::Result<&'static dyn MemoryProbe> {
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

/// Bytes a training step of `cfg` is estimated to need at its peak: the largest unit's stored
/// activations for the step's 2 x batch samples, times [`ACTIVATION_FACTOR`], plus the
/// parameters with their gradients and Adam's two moments. A planning figure for refusing
/// configs that cannot fit (see [`check_fits`]), not a measurement: `locolab bench` measures.
pub fn estimate_step_bytes(cfg: &crate::config::TrainConfig) -> crate::error::Result<u64> {
    let (per_image, fixed) = step_cost(cfg)?;
    Ok(per_image * cfg.batch as u64 + fixed)
}

/// (bytes per image of the batch, bytes independent of the batch).
fn step_cost(cfg: &crate::config::TrainConfig) -> crate::error::Result<(u64, u64)> {
    let crate::method::Blueprint { spec, plan } = crate::method::Blueprint::of(cfg)?;
    let stats = crate::model::inspect::inspect(&spec);
    let unit_act = plan.units.iter().map(|u| u.stages.clone().map(|s| stats.stages[s].activation_bytes as u64).sum::<u64>()).max().unwrap_or(0);
    // Two views per image; parameters with their gradients and Adam's two moments.
    Ok(((ACTIVATION_FACTOR * 2.0 * unit_act as f64) as u64, 4 * 4 * stats.total_params as u64 + FIXED_BYTES))
}

/// Step peak per byte of the conv outputs `inspect` counts (BatchNorm and ReLU outputs,
/// shortcuts, backward temporaries come on top). `locolab bench` SimCLR peaks at batch 32 give
/// 3.1 (presnet50), 3.3 (presnet-cifar) and 3.7 (presnet-tiny); local methods measure lower.
/// Rounded up, so the estimate errs on the side of refusing (docs/page.md, "Memory limits").
pub const ACTIVATION_FACTOR: f64 = 3.5;

/// What a step holds whatever the network: the batch's pixels and views, the runtime's pools.
pub const FIXED_BYTES: u64 = 64 << 20;

/// How much memory a step may use where this build runs, and what that limit is.
pub fn budget() -> Option<(u64, String)> {
    if cfg!(target_arch = "wasm32") {
        // wasm32 addresses at most 4 GiB, and browsers cap a tab's module there or below.
        return Some((4 << 30, "a browser tab's 4 GiB wasm memory".into()));
    }
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kib: u64 = meminfo.lines().find_map(|l| l.strip_prefix("MemAvailable:")?.trim().strip_suffix("kB")?.trim().parse().ok())?;
    Some((kib * 1024, "this machine's available memory".into()))
}

/// Refuse a config whose estimated step peak would not fit in this build's [`budget`] when
/// `jobs` runs share it (both doors call this before building anything).
pub fn check_fits_here(cfg: &crate::config::TrainConfig, jobs: usize) -> crate::error::Result<()> {
    let Some((limit, what)) = budget() else { return Ok(()) };
    let what = if jobs > 1 { format!("{what} shared by {jobs} jobs") } else { what };
    check_fits(cfg, limit / jobs.max(1) as u64, &what)
}

/// Refuse a config whose estimated step peak exceeds `limit` bytes, with the largest batch
/// that would fit.
pub fn check_fits(cfg: &crate::config::TrainConfig, limit: u64, what: &str) -> crate::error::Result<()> {
    let (per_image, fixed) = step_cost(cfg)?;
    let need = per_image * cfg.batch as u64 + fixed;
    if need <= limit {
        return Ok(());
    }
    let largest = limit.saturating_sub(fixed) / per_image.max(1);
    let fits = (largest as usize >= crate::config::limits::BATCH.0).then_some(largest);
    let advice = match fits {
        Some(b) => format!("use batch {b} or less"),
        None => "no batch fits: use a smaller architecture or input".into(),
    };
    Err(crate::Error::Config(format!(
        "{} {} at {}x{}, batch {}: a training step needs about {} (estimated), more than {what} ({}); {advice}",
        cfg.method, cfg.arch, cfg.input, cfg.input, cfg.batch, crate::human::bytes(need), crate::human::bytes(limit)
    )))
}
