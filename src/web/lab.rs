//! One trainer in the page ([`Lab`]) and the long-run panel's evaluation of a committed
//! checkpoint.

use std::sync::Arc;

use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::checkpoint::{self, Contents};
use crate::data::augment::to_rgba;
use crate::device::Backend;
use crate::error::Error;
use crate::eval::{evaluate_async, EvalOptions};
use crate::worker::{Activation, UnitRecord};
use crate::train::Trainer;

use super::backend::pick_device;
use super::unit::{activation_js, StepCollector};
use super::common::*;

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

    /// How this trainer's units run in parallel, one Web Worker each: `{units, shares_top,
    /// shares_bottom}` (per unit: whether it shares its top / bottom stage with a neighbour).
    /// CPU path only (the workers' steps and the bundle they start from read back
    /// synchronously); refused for LoCo's soft sharing.
    #[wasm_bindgen(js_name = parallelPlan)]
    pub fn parallel_plan(&self) -> Result<JsValue, JsError> {
        if self.backend != Backend::Cpu {
            return Err(js_err(Error::Config("units in parallel run on the CPU path (one Web Worker per unit); this trainer is on WebGPU".into())));
        }
        let t = &self.trainer;
        let s = t.wiring().map_err(js_err)?;
        #[derive(Serialize)]
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
