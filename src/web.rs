//! The browser binding (wasm32 only): a thin wasm-bindgen door into the same [`Trainer`] the
//! CLI drives. Every read-back is async (WebGPU cannot read synchronously); bad input from JS
//! rejects the promise with a readable message, and a panic hook logs anything unexpected.

use std::sync::Arc;

use burn::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::checkpoint::{self, Contents};
use crate::config::{Overrides, TrainConfig, PRESETS};
use crate::data::augment::to_rgba;
use crate::data::cifar::{self, load_archive_from};
use crate::data::Splits;
use crate::device::{Backend, BrowserPref};
use crate::error::Error;
use crate::eval::{evaluate_async, EvalOptions};
use crate::worker::{Activation, Collector, Incoming, Need, Outgoing, SharedGrads, UnitBatch, UnitRecord, UnitWorker};
use crate::train::Trainer;

// Every allocation of the module is counted, so the page can show each method's measured step
// peak on the CPU path (the same counting allocator as `locolab bench`).
#[global_allocator]
static ALLOC: crate::memory::Counting = crate::memory::Counting;

/// The preset the page starts from.
const PAGE_PRESET: &str = "browser";

fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

thread_local! {
    /// The message of the last panic on this thread, for [`take_panic`].
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Log panics to the console (with a stack) and keep the message: a panic aborts the wasm
/// instance, and the worker asks [`take_panic`] why, reports it and is replaced by the page.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "panic".into()),
        };
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        #[cfg(feature = "web-threads")]
        pool::announce(&format!("{msg}{at}"));
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
        console_error_panic_hook::hook(info);
    }));
    // An allocation that fails aborts without a panic: on a thread of the pool, say so first.
    #[cfg(feature = "web-threads")]
    std::alloc::set_alloc_error_hook(|layout| {
        let text = format!("out of memory: an allocation of {} bytes failed", layout.size());
        pool::announce(&text);
        web_sys::console::error_1(&JsValue::from_str(&text));
    });
    // cubecl reports what goes wrong on the GPU (a kernel WebGPU refused, a lost device) through
    // `log` only (tracel-ai/cubecl#1641): send warnings and errors to the console.
    if log::set_logger(&ConsoleLog).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// `log` records to the browser console (warnings and errors).
struct ConsoleLog;

impl log::Log for ConsoleLog {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = JsValue::from_str(&format!("[{}] {}", record.target(), record.args()));
        match record.level() {
            log::Level::Error => web_sys::console::error_1(&text),
            _ => web_sys::console::warn_1(&text),
        }
    }
    fn flush(&self) {}
}

/// The last panic's message, once (`undefined` if none happened since the last call). After a
/// panic the module's state is not trustworthy: the worker that hosts it must be replaced.
#[wasm_bindgen(js_name = takePanic)]
pub fn take_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

/// A panic (or an out-of-memory abort) on a thread of rayon's pool traps that thread's Web
/// Worker only: the trainer's worker, waiting for the pool to finish its op, would wait forever
/// and the page would hang. So the pool's threads announce it on a `BroadcastChannel` the page
/// listens on (its name from [`set_panic_channel`]); the page then replaces the trainer's worker
/// as after any panic. The panic hook and the allocation-error hook are process-wide (set once
/// by [`start`]), and the channel's name sits in shared memory, so every thread sees both.
#[cfg(feature = "web-threads")]
mod pool {
    use std::sync::Mutex;

    use wasm_bindgen::prelude::*;

    pub static CHANNEL: Mutex<Option<String>> = Mutex::new(None);

    #[wasm_bindgen(inline_js = "export function post_to_channel(name, message) { const c = new BroadcastChannel(name); c.postMessage(message); c.close(); }")]
    extern "C" {
        #[wasm_bindgen(catch)]
        fn post_to_channel(name: &str, message: &str) -> Result<(), JsValue>;
    }

    /// Tells the page, when called on a thread of the pool (the trainer's own thread reports
    /// its panics in its answer).
    pub fn announce(message: &str) {
        if rayon::current_thread_index().is_none() {
            return;
        }
        // `try_lock`: never wait inside a panic; a poisoned lock still holds the name.
        let name = match CHANNEL.try_lock() {
            Ok(n) => n.clone(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().clone(),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(name) = name {
            let _ = post_to_channel(&name, message);
        }
    }
}

/// The `BroadcastChannel` on which the threads of rayon's pool announce a panic or an
/// out-of-memory abort before they trap (the threaded build; elsewhere a no-op).
#[wasm_bindgen(js_name = setPanicChannel)]
pub fn set_panic_channel(name: String) {
    #[cfg(feature = "web-threads")]
    {
        *pool::CHANNEL.lock().unwrap_or_else(|e| e.into_inner()) = Some(name);
    }
    #[cfg(not(feature = "web-threads"))]
    let _ = name;
}

/// Panic on purpose on a thread of rayon's pool (the threaded build; elsewhere on this thread),
/// so tests can check that the page survives what would otherwise hang it.
#[wasm_bindgen(js_name = debugPanicInPool)]
pub fn debug_panic_in_pool(message: String) {
    #[cfg(feature = "web-threads")]
    rayon::scope(|s| s.spawn(move |_| panic!("{message}")));
    #[cfg(not(feature = "web-threads"))]
    panic!("{message}");
}

/// Panic on purpose, so tests can check that the page survives a panic in the module.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: String) {
    panic!("{message}");
}

/// The page's config: `{preset?, ...knobs}` with only what the user set (null = the preset's
/// value), merged over the preset once, by the same [`TrainConfig::preset_with`] as the CLI.
fn parse_config(config: JsValue) -> Result<TrainConfig, JsError> {
    let mut given = serde_json::Value::Object(Default::default());
    if !config.is_undefined() && !config.is_null() {
        given = serde_wasm_bindgen::from_value(config).map_err(|e| js_err(Error::Config(e.to_string())))?;
    }
    let obj = given.as_object_mut().ok_or_else(|| js_err(Error::Config("config must be an object".into())))?;
    let preset = match obj.remove("preset") {
        None | Some(serde_json::Value::Null) => PAGE_PRESET.to_string(),
        Some(serde_json::Value::String(p)) => p,
        Some(other) => return Err(js_err(Error::Config(format!("preset must be a name, got {other}")))),
    };
    obj.retain(|_, v| !v.is_null());
    let o: Overrides = serde_json::from_value(given).map_err(|e| js_err(Error::Config(format!("bad config: {e}"))))?;
    TrainConfig::preset_with(&preset, &o).map_err(js_err)
}

/// Settings from the page's URL, `[[key, text], ...]` (`preset` among them or not): every
/// knob checked on its own, bad ones dropped with a warning. Returns `{preset, overrides,
/// warnings}`; `overrides` always validates over `preset`.
#[wasm_bindgen(js_name = lenientSettings)]
pub fn lenient_settings(pairs: JsValue) -> Result<JsValue, JsError> {
    let pairs: Vec<(String, String)> =
        serde_wasm_bindgen::from_value(pairs).map_err(|e| js_err(Error::Config(format!("settings must be [key, text] pairs: {e}"))))?;
    let preset = pairs.iter().find(|(k, _)| k == "preset").map(|(_, v)| v.as_str());
    let rest: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != "preset").cloned().collect();
    to_js(&Overrides::lenient(preset, PAGE_PRESET, &rest))
}

/// The page's backend (`{backend, note}`) for a preference (`auto`, `webgpu`, `cpu`) and the
/// facts the worker gathered about the WebGPU adapter (`{present, is_fallback, vendor,
/// architecture, description}`): `auto` avoids software adapters ([`crate::device::browser_backend`]).
#[wasm_bindgen(js_name = browserBackend)]
pub fn browser_backend(pref: String, adapter: JsValue) -> Result<JsValue, JsError> {
    let facts: crate::device::AdapterFacts = serde_wasm_bindgen::from_value(adapter).map_err(|e| js_err(Error::Device(format!("bad adapter facts: {e}"))))?;
    to_js(&crate::device::browser_backend(pref.parse().map_err(js_err)?, &facts))
}

/// Check a config without building anything; resolves to the normalised config.
#[wasm_bindgen(js_name = validateConfig)]
pub fn validate_config(config: JsValue) -> Result<JsValue, JsError> {
    to_js(&parse_config(config)?)
}

/// Every method, in the order the page lists them: `[{kind, title, summary, details,
/// end_to_end, paper_saving_presnet50}]` ([`crate::method::MethodInfo`]).
#[wasm_bindgen]
pub fn methods() -> Result<JsValue, JsError> {
    to_js(&crate::method::catalogue())
}

/// rayon's pool of Web Workers (`await initThreadPool(n)`, once, before any training): the
/// threaded build only (feature `web-threads`).
#[cfg(feature = "web-threads")]
pub use wasm_bindgen_rayon::init_thread_pool;

/// The threads this module's CPU kernels use: rayon's pool in the threaded build, 1 otherwise.
#[wasm_bindgen(js_name = threadCount)]
pub fn thread_count() -> usize {
    #[cfg(feature = "web-threads")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "web-threads"))]
    1
}

/// How the page and the figures show the random-init baseline: `{title, colour}`.
#[wasm_bindgen(js_name = randomInitStyle)]
pub fn random_init_style() -> Result<JsValue, JsError> {
    use crate::method::catalogue::{RANDOM_INIT_COLOUR, RANDOM_INIT_TITLE};
    to_js(&std::collections::BTreeMap::from([("title", RANDOM_INIT_TITLE), ("colour", RANDOM_INIT_COLOUR)]))
}

/// The named presets, `{name: config}`.
#[wasm_bindgen]
pub fn presets() -> Result<JsValue, JsError> {
    let map: std::collections::BTreeMap<&str, TrainConfig> =
        PRESETS.iter().map(|p| (*p, TrainConfig::preset(p).expect("listed presets exist"))).collect();
    to_js(&map)
}

/// The knob table (`[{name, flag, kind, values, page: {label, options} | null, range, help}]`,
/// [`crate::config::KNOBS`]): the page builds a control for every knob with a `page`.
#[wasm_bindgen]
pub fn knobs() -> Result<JsValue, JsError> {
    to_js(&crate::config::KNOBS)
}

/// A comparison's `results.json` (its text), summarised as every table shows it:
/// `{stages, spec, rows: [{label, kind, title, colour, seeds, steps, images_seen, knn_mean,
/// knn_std, linear_mean, linear_std, first_seed, first_knn}], pairs: [{label, first, second,
/// titles, colour, seeds, knn, linear}]}` ([`crate::results::Summary`], the paired differences
/// at the last stage: [`crate::results::PairedFinal`], each `{n, mean, std, se, t, significant}`).
#[wasm_bindgen]
pub fn summarise(results: String) -> Result<JsValue, JsError> {
    let report: crate::results::ExperimentReport =
        serde_json::from_str(&results).map_err(|e| js_err(Error::Config(format!("results.json: {e}"))))?;
    #[derive(serde::Serialize)]
    struct Page<'a> {
        #[serde(flatten)]
        summary: crate::results::Summary,
        spec: &'a crate::results::ExperimentSpec,
        pairs: Vec<crate::results::PairedFinal>,
    }
    to_js(&Page { summary: report.summary(), spec: &report.spec, pairs: report.paired_final() })
}

/// CIFAR-10 from the page: the official `.tar.gz` archive as `train` (then `test` is ignored),
/// or two files of concatenated binary records.
fn parse_data(train: &[u8], test: &[u8]) -> Result<Splits, Error> {
    if train.starts_with(&[0x1f, 0x8b]) {
        return load_archive_from(train, "the archive");
    }
    Splits::new(cifar::from_bytes(train, "the train file")?, cifar::from_bytes(test, "the test file")?)
}

/// The browser's WebGPU device, initialised once per thread: burn's wgpu runtime can be set up
/// only once, so every Lab on this thread shares the first answer (device or reason).
#[cfg(feature = "webgpu")]
pub async fn webgpu_device() -> Result<Device, String> {
    thread_local! {
        static WEBGPU: std::cell::RefCell<Option<Result<Device, String>>> = const { std::cell::RefCell::new(None) };
    }
    if let Some(known) = WEBGPU.with(|c| c.borrow().clone()) {
        return known;
    }
    let got = Device::wgpu_options().init_async().await.map_err(|e| format!("WebGPU unavailable: {e:?}"));
    WEBGPU.with(|c| *c.borrow_mut() = Some(got.clone()));
    got
}

/// Pick the device: WebGPU when asked for (or `auto`) and an adapter answers, else the CPU;
/// with the backend it is and why.
async fn pick_device(pref: &str) -> Result<(Device, Backend, String), JsError> {
    let pref: BrowserPref = pref.parse().map_err(js_err)?;
    #[allow(unused_mut)]
    let mut why = String::from("this build has no WebGPU support (built without the `webgpu` feature)");
    #[cfg(feature = "webgpu")]
    if pref != BrowserPref::Cpu {
        match webgpu_device().await {
            Ok(device) => return Ok((device, Backend::Webgpu, "WebGPU adapter found".into())),
            Err(e) => why = e,
        }
    }
    match pref {
        BrowserPref::Cpu => why = "CPU requested".into(),
        BrowserPref::Webgpu => return Err(js_err(Error::Device(why))),
        BrowserPref::Auto => {}
    }
    Ok((Device::flex(), Backend::Cpu, why))
}

// The self-check's tolerance; the e2e test lowers it to see a failure on a sound adapter.
#[cfg(feature = "webgpu")]
thread_local! {
    static SELF_CHECK_TOLERANCE: std::cell::Cell<f32> = const { std::cell::Cell::new(crate::selfcheck::TOLERANCE) };
}

/// Before training on WebGPU (`pref` auto or webgpu): two steps of `config` from the same
/// weights on WebGPU and on the CPU ([`crate::selfcheck`]). Resolves to
/// `{backend, note}`: where to train (`cpu` when `auto` chose WebGPU and the losses disagree)
/// and what the check found.
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = webgpuSelfCheck)]
pub async fn webgpu_self_check(config: JsValue, pref: String, train: Vec<u8>, test: Vec<u8>) -> Result<JsValue, JsError> {
    let pref: BrowserPref = pref.parse().map_err(js_err)?;
    let cfg = parse_config(config)?;
    fits_in_tab(&cfg)?;
    let data = Arc::new(parse_data(&train, &test).map_err(js_err)?);
    let gpu = webgpu_device().await.map_err(|e| js_err(Error::Device(e)))?;
    let difference = crate::selfcheck::loss_difference(&cfg, data, &Device::flex(), &gpu).await.map_err(js_err)?;
    to_js(&crate::selfcheck::verdict(pref, difference, SELF_CHECK_TOLERANCE.with(|t| t.get())))
}

/// For the e2e test: the self-check's tolerance (a negative one fails every check).
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = debugSelfCheckTolerance)]
pub fn debug_self_check_tolerance(tolerance: f32) {
    SELF_CHECK_TOLERANCE.with(|t| t.set(tolerance));
}

/// Refuse a config whose step would not fit in a tab, before anything is built.
fn fits_in_tab(cfg: &TrainConfig) -> Result<(), JsError> {
    crate::memory::check_fits_here(cfg, 1).map_err(js_err)
}

fn new_trainer(cfg: TrainConfig, data: Arc<Splits>, device: &Device, backend: Backend) -> Result<Trainer, JsError> {
    Ok(measured(Trainer::new(cfg, data, device).map_err(js_err)?, backend))
}

/// A page trainer (new or restored) measures each step's memory on the CPU path. On WebGPU a
/// step's tensors live in GPU buffers, which burn 0.22.1 does not count; the wasm heap's peak
/// would say nothing about them.
fn measured(mut trainer: Trainer, backend: Backend) -> Trainer {
    if backend == Backend::Cpu {
        trainer.measure_memory(&crate::memory::AllocProbe);
    }
    trainer
}

/// Evaluate a weights-only checkpoint folder fetched as its two files (`state.json`'s text
/// and `model.bpk`; `name` names the folder in messages): kNN of every stage on the first
/// `n_train` training / `n_test` test images (all when undefined: the numbers `locolab eval`
/// gives), as [`Lab::evaluate`]. Nothing is kept:
/// the long-run panel evaluates the committed checkpoints without touching the page's trainers.
#[wasm_bindgen(js_name = evaluateCheckpoint)]
pub async fn evaluate_checkpoint(
    state: String,
    model: Vec<u8>,
    name: String,
    backend: String,
    train: Vec<u8>,
    test: Vec<u8>,
    n_train: Option<u32>,
    n_test: Option<u32>,
) -> Result<JsValue, JsError> {
    let files = std::collections::BTreeMap::from([(checkpoint::MODEL.to_string(), model)]);
    let snap = checkpoint::from_files(&state, files, &name).map_err(js_err)?;
    let data = parse_data(&train, &test).map_err(js_err)?;
    let (device, _, _) = pick_device(&backend).await?;
    let trainer = Trainer::from_snapshot(&snap, Arc::new(data), &device).map_err(js_err)?;
    let opts = EvalOptions { every_stage: true, linear: false, train_images: n_train.map(|n| n as usize), test_images: n_test.map(|n| n as usize), converged: false, predictions: false };
    to_js(&evaluate_async(&trainer, &opts).await.map_err(js_err)?)
}

impl Lab {
    /// `n` steps. In the threaded build, CPU steps run on a thread of rayon's pool, so that the
    /// step's parallel regions (every conv and BatchNorm pass, flex's large element-wise ops)
    /// are forked from inside the pool: called from this worker, outside the pool, each region
    /// was injected into the pool and put this worker to sleep until it finished, a round trip
    /// through `Atomics.wait`/`notify` per region (docs/BENCHMARKS.md "The page on two threads").
    async fn steps(&mut self, n: usize) -> Result<Vec<crate::step::StepReport>, JsError> {
        #[cfg(feature = "web-threads")]
        if self.backend == Backend::Cpu {
            let trainer = &mut self.trainer;
            return rayon::scope(|_| (0..n).map(|_| trainer.step()).collect::<crate::Result<Vec<_>>>()).map_err(js_err);
        }
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.trainer.step_async().await.map_err(js_err)?);
        }
        Ok(out)
    }
}

/// One trainer in the page: a method, its model and optimizer, and the data it sees.
#[wasm_bindgen]
pub struct Lab {
    trainer: Trainer,
    backend: Backend,
    backend_note: String,
}

#[wasm_bindgen]
impl Lab {
    /// `await Lab.create(config, backend, trainBytes, testBytes)`; backend is auto, webgpu or cpu;
    /// `trainBytes` may be the official `.tar.gz` archive (then `testBytes` is ignored).
    pub async fn create(config: JsValue, backend: String, train: Vec<u8>, test: Vec<u8>) -> Result<Lab, JsError> {
        let cfg = parse_config(config)?;
        fits_in_tab(&cfg)?;
        let data = parse_data(&train, &test).map_err(js_err)?;
        let (device, backend, backend_note) = pick_device(&backend).await?;
        let trainer = new_trainer(cfg, Arc::new(data), &device, backend)?;
        Ok(Lab { trainer, backend, backend_note })
    }

    /// A Lab from a checkpoint bundle (the file [`Lab::save`] makes; `name` names it in
    /// messages), continuing from its step. Refused, before anything is built, when it is not a
    /// LoCo Lab checkpoint, is damaged, holds another network than `page_config`'s (the page
    /// trains one architecture) or would not fit in a tab.
    pub async fn restore(
        bytes: Vec<u8>,
        name: String,
        page_config: JsValue,
        backend: String,
        train: Vec<u8>,
        test: Vec<u8>,
    ) -> Result<Lab, JsError> {
        let page = parse_config(page_config)?;
        let snap = checkpoint::read_bundle(&bytes, &name).map_err(js_err)?;
        let got = &snap.config;
        if (got.arch, got.input) != (page.arch, page.input) {
            return Err(js_err(Error::Checkpoint(format!(
                "{name} holds a {} network at {} px; this page trains {} at {} px (choose its preset first)",
                got.arch, got.input, page.arch, page.input
            ))));
        }
        fits_in_tab(got)?;
        let data = parse_data(&train, &test).map_err(js_err)?;
        let (device, backend, backend_note) = pick_device(&backend).await?;
        let trainer = Trainer::from_snapshot(&snap, Arc::new(data), &device).map_err(js_err)?;
        Ok(Lab { trainer: measured(trainer, backend), backend, backend_note })
    }

    /// This trainer's checkpoint as one file (a tar of `state.json`, `model.bpk`, `optim.bpk`,
    /// the same files as a native checkpoint folder): [`Lab::restore`] continues from it, and
    /// `locolab eval --checkpoint file.tar` reads it. On the CPU backend only: burn 0.22.1 reads
    /// a record's tensors back synchronously, which a browser's WebGPU device forbids.
    pub fn save(&self) -> Result<Vec<u8>, JsError> {
        if self.backend != Backend::Cpu {
            return Err(js_err(Error::Checkpoint(
                "saving needs the CPU backend: burn 0.22.1 reads the weights back synchronously, which WebGPU in a browser forbids".into(),
            )));
        }
        self.trainer.snapshot(Contents::Full).and_then(|s| s.to_bundle()).map_err(js_err)
    }

    /// Start over with a new config, keeping the data and the device.
    pub fn reset(&mut self, config: JsValue) -> Result<(), JsError> {
        let cfg = parse_config(config)?;
        fits_in_tab(&cfg)?;
        let device = self.trainer.device().clone();
        self.trainer = new_trainer(cfg, self.trainer.data().clone(), &device, self.backend)?;
        Ok(())
    }

    /// One step; resolves to `{step, losses, units, lr, seconds, images_per_sec, images_seen,
    /// phases, peak_bytes}` (`peak_bytes` and each phase's on the CPU backend only).
    pub async fn step(&mut self) -> Result<JsValue, JsError> {
        to_js(&self.steps(1).await?.pop())
    }

    /// `n` steps; resolves to the array of reports.
    pub async fn train(&mut self, n: u32) -> Result<JsValue, JsError> {
        to_js(&self.steps(n as usize).await?)
    }

    /// kNN (k = 200, t = 0.1) top-1 (%) of every stage's frozen features, using the first
    /// `n_train` training images as the memory bank and the first `n_test` test images; resolves
    /// to `[{stage, knn}, ...]`, lowest stage first (the same evaluation as `locolab eval`).
    pub async fn evaluate(&self, n_train: u32, n_test: u32) -> Result<JsValue, JsError> {
        let opts = EvalOptions { every_stage: true, linear: false, train_images: Some(n_train as usize), test_images: Some(n_test as usize), converged: false, predictions: false };
        to_js(&evaluate_async(&self.trainer, &opts).await.map_err(js_err)?)
    }

    /// The two augmented views of the first `count` images of the batch `ahead` steps after
    /// the trainer's (0: the current batch; a warm parallel run is ahead of its trainer), as
    /// `{side, views: [[rgba1, rgba2], ...]}` (RGBA bytes, ready for ImageData).
    pub fn views(&self, count: u32, ahead: u32) -> Result<JsValue, JsError> {
        let v = self.trainer.batch_views(self.trainer.step_count() + ahead as usize);
        let plane = 3 * v.side * v.side;
        let views: Vec<[Vec<u8>; 2]> = (0..(count as usize).min(v.n))
            .map(|i| {
                let view = |j: usize| to_rgba(&v.data[j * plane..(j + 1) * plane], v.side);
                [view(i), view(v.n + i)]
            })
            .collect();
        #[derive(Serialize)]
        struct Out {
            side: usize,
            views: Vec<[Vec<u8>; 2]>,
        }
        to_js(&Out { side: v.side, views })
    }

    /// How this trainer's units run in parallel, one Web Worker each: `{units, sharesTop,
    /// sharesBottom}` (per unit: whether it shares its top / bottom stage with a neighbour).
    /// CPU path only (the workers' steps and the bundle they start from read back
    /// synchronously); refused for LoCo's soft sharing.
    #[wasm_bindgen(js_name = parallelPlan)]
    pub fn parallel_plan(&self) -> Result<JsValue, JsError> {
        if self.backend != Backend::Cpu {
            return Err(js_err(Error::Config("units in parallel run on the CPU path (one Web Worker per unit); this trainer is on WebGPU".into())));
        }
        let t = &self.trainer;
        let s = t.plan().schedule(t.spec().stages.len()).map_err(js_err)?;
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct P {
            units: usize,
            shares_top: Vec<bool>,
            shares_bottom: Vec<bool>,
        }
        to_js(&P { units: t.plan().units.len(), shares_top: s.shares_top, shares_bottom: s.shares_bottom })
    }

    /// The views of step `stepCount + ahead`, `{values: Float32Array, shape}`: the bottom
    /// unit's input in a parallel run.
    #[wasm_bindgen(js_name = viewsAhead)]
    pub fn views_ahead(&self, ahead: u32) -> Result<JsValue, JsError> {
        let v = self.trainer.batch_views(self.trainer.step_count() + ahead as usize);
        activation_js(Activation::from(v))
    }

    /// Take a parallel run of `steps` steps: per unit (unit order), the model and optimizer
    /// bytes its worker's `UnitRunner.finish()` gave. Nothing changes unless every unit loads.
    #[wasm_bindgen(js_name = adoptUnits)]
    pub fn adopt_units(&mut self, models: Vec<js_sys::Uint8Array>, optims: Vec<js_sys::Uint8Array>, steps: u32) -> Result<(), JsError> {
        let records = models.into_iter().zip(optims).map(|(m, o)| UnitRecord { model: m.to_vec(), optim: o.to_vec() }).collect();
        self.trainer.adopt_unit_records(records, steps as usize).map_err(js_err)
    }

    /// The collector of a parallel run from this trainer's step.
    pub fn collector(&self) -> StepCollector {
        StepCollector { inner: self.trainer.collector() }
    }

    #[wasm_bindgen(getter)]
    pub fn backend(&self) -> String {
        self.backend.to_string()
    }

    /// Why this backend was chosen (e.g. why WebGPU was not).
    #[wasm_bindgen(getter, js_name = backendNote)]
    pub fn backend_note(&self) -> String {
        self.backend_note.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn units(&self) -> Result<JsValue, JsError> {
        to_js(&self.trainer.unit_names())
    }

    #[wasm_bindgen(getter)]
    pub fn config(&self) -> Result<JsValue, JsError> {
        to_js(self.trainer.config())
    }

    #[wasm_bindgen(getter, js_name = stepCount)]
    pub fn step_count(&self) -> u32 {
        self.trainer.step_count() as u32
    }

    #[wasm_bindgen(getter, js_name = imagesSeen)]
    pub fn images_seen(&self) -> u32 {
        self.trainer.images_seen() as u32
    }
}

/// A plain JS object of `(key, value)` pairs (typed arrays stay typed arrays, which
/// serde-wasm-bindgen would turn into plain arrays).
fn object(pairs: &[(&str, JsValue)]) -> Result<JsValue, JsError> {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), v).map_err(|_| js_err("cannot build a message"))?;
    }
    Ok(o.into())
}

fn activation_js(a: Activation) -> Result<JsValue, JsError> {
    object(&[("values", js_sys::Float32Array::from(&a.values[..]).into()), ("shape", to_js(&a.shape)?)])
}

/// One local unit of a parallel run, in its own Web Worker: `www/unit-worker.js` answers
/// `need()` and delivers what `give*` sends; the protocol itself is [`crate::worker`]'s.
#[wasm_bindgen]
pub struct UnitRunner {
    worker: Option<UnitWorker>,
}

#[wasm_bindgen]
impl UnitRunner {
    /// Unit `unit` of the trainer in `bundle` (what `Lab.save()` gives), for a run from its
    /// step that lasts until the end arrives (`giveEnd`).
    pub fn create(bundle: Vec<u8>, unit: u32) -> Result<UnitRunner, JsError> {
        let snap = checkpoint::read_bundle(&bundle, "the parallel run's bundle").map_err(js_err)?;
        let w = UnitWorker::from_snapshot(&snap, unit as usize, &Device::flex()).map_err(js_err)?;
        Ok(UnitRunner { worker: Some(w) })
    }

    fn w(&mut self) -> Result<&mut UnitWorker, JsError> {
        self.worker.as_mut().ok_or_else(|| js_err("this unit has finished"))
    }

    /// What the unit waits for: `input` (views or the activation from below, or the end),
    /// `upper` / `lower` (a neighbour's shared-stage gradient; from below, or the end) or `done`.
    pub fn need(&self) -> String {
        match self.worker.as_ref().map_or(Need::Done, |w| w.need()) {
            Need::Input => "input",
            Need::FromUpper => "upper",
            Need::FromLower => "lower",
            Need::Done => "done",
        }
        .into()
    }

    /// Its input, `values` of `shape` ([2N, C, H, W]). `send(message)` is called with each
    /// message as soon as it is ready: `{to: 'upper' | 'lower' | 'page', kind: 'act' | 'grad' |
    /// 'report' | 'end', ...}` (`values` and `shape` or `present`, or `report`).
    #[wasm_bindgen(js_name = giveInput)]
    pub fn give_input(&mut self, values: Vec<f32>, shape: Vec<u32>, send: &js_sys::Function) -> Result<(), JsError> {
        let shape: [usize; 4] = match shape[..] {
            [a, b, c, d] if (a * b * c * d) as usize == values.len() => [a as usize, b as usize, c as usize, d as usize],
            _ => return Err(js_err(Error::Config(format!("an input of {} values does not have shape {shape:?}", values.len())))),
        };
        self.give(Incoming::Input(Activation { shape, values }), send)
    }

    /// A neighbour's shared-stage gradient (`{values, present}` flattened): from the unit above
    /// when `fromUpper`, else from the unit below. `send` as for [`UnitRunner::give_input`].
    #[wasm_bindgen(js_name = giveGrad)]
    pub fn give_grad(&mut self, from_upper: bool, values: Vec<f32>, present: Vec<u8>, send: &js_sys::Function) -> Result<(), JsError> {
        let g = self.w()?.unflatten(from_upper, &values, &present).map_err(js_err)?;
        self.give(if from_upper { Incoming::FromUpper(g) } else { Incoming::FromLower(g) }, send)
    }

    /// The end of the run (from the feed, or the unit below's `{kind: 'end'}`), when `need()`
    /// is `input` or `lower`. `send` as for [`UnitRunner::give_input`]; the unit then passes
    /// the end on (`{to: 'upper', kind: 'end'}`) and is `done`.
    #[wasm_bindgen(js_name = giveEnd)]
    pub fn give_end(&mut self, send: &js_sys::Function) -> Result<(), JsError> {
        self.give(Incoming::End, send)
    }

    fn give(&mut self, msg: Incoming, send: &js_sys::Function) -> Result<(), JsError> {
        let mut out = |o: Outgoing| -> crate::Result<()> {
            let m = outgoing_js(o).map_err(|e| Error::Device(format!("cannot build a message: {e:?}")))?;
            send.call1(&JsValue::NULL, &m).map(|_| ()).map_err(|e| Error::Device(format!("a message could not be sent: {e:?}")))
        };
        self.w()?.give(msg, &mut out).map_err(js_err)
    }

    /// The unit's modules and optimizer after its last batch: `{model, optim}` (burn's records
    /// for `Lab.adoptUnits`).
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        let w = self.worker.take().ok_or_else(|| js_err("this unit has finished"))?;
        let r = w.finish_record().map_err(js_err)?;
        object(&[("model", js_sys::Uint8Array::from(&r.model[..]).into()), ("optim", js_sys::Uint8Array::from(&r.optim[..]).into())])
    }
}

/// A message of [`Outgoing`] as the page routes it.
fn outgoing_js(o: Outgoing) -> Result<JsValue, JsError> {
    let s = |v: &str| JsValue::from_str(v);
    match o {
        Outgoing::Activation(a) => {
            object(&[("to", s("upper")), ("kind", s("act")), ("values", js_sys::Float32Array::from(&a.values[..]).into()), ("shape", to_js(&a.shape)?)])
        }
        Outgoing::ToUpper(g) => shared_js("upper", &g),
        Outgoing::ToLower(g) => shared_js("lower", &g),
        Outgoing::Report(r) => object(&[("to", s("page")), ("kind", s("report")), ("report", to_js(&r)?)]),
        Outgoing::End => object(&[("to", s("upper")), ("kind", s("end"))]),
    }
}

fn shared_js(to: &str, g: &SharedGrads) -> Result<JsValue, JsError> {
    let (values, present) = g.flatten();
    object(&[
        ("to", JsValue::from_str(to)),
        ("kind", JsValue::from_str("grad")),
        ("values", js_sys::Float32Array::from(&values[..]).into()),
        ("present", js_sys::Uint8Array::from(&present[..]).into()),
    ])
}

/// The page's side of a parallel run: turns the units' reports into step reports
/// ([`crate::worker::Collector`]).
#[wasm_bindgen]
pub struct StepCollector {
    inner: Collector,
}

#[wasm_bindgen]
impl StepCollector {
    /// Start the clock (every unit is ready).
    pub fn start(&mut self) {
        self.inner.start();
    }

    /// One unit's report (as its worker sent it); returns the step reports it completes.
    pub fn add(&mut self, report: JsValue) -> Result<JsValue, JsError> {
        let r: UnitBatch = serde_wasm_bindgen::from_value(report).map_err(|e| js_err(Error::Config(format!("bad unit report: {e}"))))?;
        to_js(&self.inner.add(r))
    }

    /// Seconds from the start to the last completed step.
    #[wasm_bindgen(getter)]
    pub fn seconds(&self) -> f64 {
        self.inner.seconds()
    }
}
