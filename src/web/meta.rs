//! What the core says about itself to the page: the methods, presets and knobs, the checks
//! of a config and of the URL's settings, the backend choice, and results summarised.

use wasm_bindgen::prelude::*;

use crate::config::{Overrides, TrainConfig, PRESETS};
use crate::error::Error;

use super::common::*;

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

/// The colours of a method's `n` units in its loss chart, bottom unit first (the SVG figures'
/// colours).
#[wasm_bindgen(js_name = unitColours)]
pub fn unit_colours(n: usize) -> Vec<String> {
    (0..n).map(|u| crate::method::catalogue::unit_colour(u, n)).collect()
}

/// The kNN monitor's and evaluation's neighbourhood (`k`).
#[wasm_bindgen(js_name = knnK)]
pub fn knn_k() -> usize {
    crate::eval::KNN_K
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

/// The page's cadence ([`crate::cadence::Cadence`], the one `locolab compare` follows): the kNN
/// monitor at step 0, every `monitorEvery` steps and at the schedule's `end` (the config's
/// `steps`); an autosave every `autosaveEvery` steps (0: off) and at the end. The worker asks it
/// after every round of steps, and for the length of a parallel chunk.
#[wasm_bindgen(js_name = Cadence)]
pub struct PageCadence(crate::cadence::Cadence);

#[wasm_bindgen(js_class = Cadence)]
impl PageCadence {
    #[wasm_bindgen(constructor)]
    pub fn new(monitor_every: u32, autosave_every: u32, end: u32) -> PageCadence {
        PageCadence(crate::cadence::Cadence::monitored(monitor_every as usize, autosave_every as usize, end as usize))
    }

    /// What falls due once the trainers reach `step`: `{monitor, save}`.
    pub fn due(&self, step: u32) -> Result<JsValue, JsError> {
        to_js(&self.0.due(step as usize))
    }

    /// Steps to run from `at` without stopping, at most `max`: up to the next point.
    pub fn stretch(&self, at: u32, max: u32) -> u32 {
        self.0.stretch(at as usize, max as usize) as u32
    }

    /// The monitor points from step 0 up to `last`.
    #[wasm_bindgen(js_name = monitorSteps)]
    pub fn monitor_steps(&self, last: u32) -> Vec<u32> {
        self.0.monitor_steps(last as usize).into_iter().map(|s| s as u32).collect()
    }
}
