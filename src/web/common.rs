//! What every door of the binding shares: errors as JS errors, values as JS objects, the page's
//! config and data, and a trainer made for the page.

use std::sync::Arc;

use burn::prelude::*;
use serde::Serialize;
use wasm_bindgen::prelude::*;

use crate::config::{Overrides, TrainConfig};
use crate::data::cifar::{self, load_archive_from};
use crate::data::Splits;
use crate::device::Backend;
use crate::error::Error;
use crate::train::Trainer;

/// The preset the page starts from.
pub(super) const PAGE_PRESET: &str = "browser";

pub(super) fn js_err(e: impl std::fmt::Display) -> JsError {
    JsError::new(&e.to_string())
}

pub(super) fn to_js<T: Serialize>(v: &T) -> Result<JsValue, JsError> {
    v.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).map_err(js_err)
}

/// The page's config: `{preset?, ...knobs}` with only what the user set (null = the preset's
/// value), merged over the preset once, by the same [`TrainConfig::preset_with`] as the CLI.
pub(super) fn parse_config(config: JsValue) -> Result<TrainConfig, JsError> {
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

/// CIFAR-10 from the page: the official `.tar.gz` archive as `train` (then `test` is ignored),
/// or two files of concatenated binary records.
pub(super) fn parse_data(train: &[u8], test: &[u8]) -> Result<Splits, Error> {
    if train.starts_with(&[0x1f, 0x8b]) {
        return load_archive_from(train, "the archive");
    }
    Splits::new(cifar::from_bytes(train, "the train file")?, cifar::from_bytes(test, "the test file")?)
}

/// Refuse a config whose step would not fit in a tab, before anything is built.
pub(super) fn fits_in_tab(cfg: &TrainConfig) -> Result<(), JsError> {
    crate::memory::check_fits_here(cfg, 1).map_err(js_err)
}

pub(super) fn new_trainer(cfg: TrainConfig, data: Arc<Splits>, device: &Device, backend: Backend) -> Result<Trainer, JsError> {
    Ok(measured(Trainer::new(cfg, data, device).map_err(js_err)?, backend))
}

/// A page trainer (new or restored) measures each step's memory on the CPU path. On WebGPU a
/// step's tensors live in GPU buffers, which burn 0.22.1 does not count; the wasm heap's peak
/// would say nothing about them.
pub(super) fn measured(mut trainer: Trainer, backend: Backend) -> Trainer {
    if backend == Backend::Cpu {
        trainer.measure_memory(&crate::memory::AllocProbe);
    }
    trainer
}
