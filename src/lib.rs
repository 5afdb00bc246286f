//! LoCo Lab: SimCLR, Greedy InfoMax and LoCo (local contrastive learning) side by side on burn.
//!
//! Imports run one way, down the floors (`python3 scripts/imports.py` lists any that do not):
//! [`error`], [`device`], [`cadence`] -> [`data`], [`model`], [`loss`] -> [`config`] -> [`optim`] ->
//! [`checkpoint`] (snapshots: records, not trainers) -> [`method`] (units, plans, the engine) ->
//! [`worker`] (the parallel-unit protocol), [`parallel`] (its threads) -> [`train`] ->
//! [`eval`], [`bench`] -> [`results`] (results as data), [`experiment`], [`report`], [`run`],
//! [`recipe`]. The CLI
//! (`src/main.rs`) and the browser binding ([`web`]) are thin doors into [`train::Trainer`].
// The threaded page build (nightly, scripts/build-web.sh) reports an out-of-memory abort on a
// thread of rayon's pool before it traps (src/web/panic.rs): std's hook for it is unstable.
#![cfg_attr(all(target_arch = "wasm32", feature = "web-threads"), feature(alloc_error_hook))]

pub mod bench;
pub mod cadence;
pub mod checkpoint;
pub mod config;
pub mod data;
pub mod device;
pub mod error;
pub mod eval;
#[cfg(not(target_arch = "wasm32"))]
pub mod experiment;
pub mod human;
pub mod loss;
pub mod memory;
pub mod method;
pub mod model;
pub mod optim;
#[cfg(not(target_arch = "wasm32"))]
pub mod recipe;
#[cfg(not(target_arch = "wasm32"))]
pub mod parallel;
#[cfg(not(target_arch = "wasm32"))]
pub mod report;
pub mod results;
pub mod selfcheck;
#[cfg(not(target_arch = "wasm32"))]
pub mod run;
pub mod step;
pub mod train;
#[cfg(target_arch = "wasm32")]
pub mod web;
pub mod worker;

pub use burn;

/// The git commit this build came from (`build.rs`; `+dirty` with uncommitted source changes).
pub const COMMIT: &str = env!("LOCOLAB_COMMIT");
pub use config::{Arch, DecoderKind, MethodKind, OptimizerKind, Overrides, SharingMode, TrainConfig};
pub use error::{Error, Result};
pub use train::{StepReport, Trainer, UnitPhases};
