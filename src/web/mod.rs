//! The browser binding (wasm32 only): a thin wasm-bindgen door into the same [`Trainer`] the
//! CLI drives. Every read-back is async (WebGPU cannot read synchronously); bad input from JS
//! rejects the promise with a readable message, and a panic hook logs anything unexpected.
//!
//! One file per job: [`common`] (config and data from JS, errors), [`panic`] (panics and the
//! pool's alarm), [`meta`] (what the core says about itself: methods, presets, knobs, checks,
//! summaries), [`backend`] (WebGPU or the CPU, and the self-check), [`lab`] (one trainer: step,
//! evaluate, save, restore), [`unit`] (one local unit of a parallel run in its own Web Worker).

mod backend;
mod common;
mod lab;
mod meta;
mod panic;
mod unit;

#[cfg(feature = "webgpu")]
pub use backend::*;
pub use lab::*;
pub use meta::*;
pub use panic::*;
pub use unit::*;

// Every allocation of the module is counted, so the page can show each method's measured step
// peak on the CPU path (the same counting allocator as `locolab bench`).
#[global_allocator]
static ALLOC: crate::memory::Counting = crate::memory::Counting;
