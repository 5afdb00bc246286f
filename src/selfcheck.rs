//! Before a page trains on WebGPU: the same two steps, from the same weights and batches, on
//! the GPU and on the CPU, and their losses compared. cubecl drops a submission
//! whose kernel fails the adapter's validation and leaves stale memory in its output, logging
//! only (tracel-ai/cubecl#1641): a broken adapter gives wrong numbers, not an error. A page that
//! chose WebGPU on its own (`auto`) trains on the CPU when they disagree; `webgpu` forces it.

use std::sync::Arc;

use burn::prelude::*;

use crate::checkpoint::Contents;
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::device::{Backend, BrowserBackend, BrowserPref};
use crate::error::Result;
use crate::train::Trainer;

/// Steps compared: the first step's losses test the forward kernels, the second's the
/// backward and the optimizer's too (they depend on the first update). The check runs at the
/// trainer's own batch: the GPU compiles each kernel per shape on first use, so the kernels
/// the check compiles are the ones training then uses (on SwiftShader, a check at another
/// batch took longer than the first real step).
pub const STEPS: usize = 2;
/// Largest accepted difference of a loss, relative to max(|loss|, 1). WebGPU against the CPU
/// differs by about 1e-5 on SwiftShader and 5e-5 on lavapipe (presnet50) here.
pub const TOLERANCE: f32 = 1e-3;

/// `cfg`'s method on `reference` and on `candidate` from the same weights and batches, `STEPS`
/// steps: the largest loss difference, relative to max(|loss|, 1).
pub async fn loss_difference(cfg: &TrainConfig, data: Arc<Splits>, reference: &Device, candidate: &Device) -> Result<f32> {
    let mut a = Trainer::new(cfg.clone(), data.clone(), reference)?;
    let snap = a.snapshot(Contents::WeightsOnly)?;
    let mut b = Trainer::from_snapshot(&snap, data, candidate)?;
    let mut worst = 0f32;
    for _ in 0..STEPS {
        let (ra, rb) = (a.step_async().await?, b.step_async().await?);
        for (x, y) in ra.losses.iter().zip(&rb.losses) {
            let d = (x - y).abs() / x.abs().max(1.0);
            // A NaN on either side is a failure, whatever the tolerance.
            worst = if d.is_nan() { f32::INFINITY } else { worst.max(d) };
        }
    }
    Ok(worst)
}

/// Where to train after the check: WebGPU when the losses agree within `tolerance` or the user
/// forced it; the CPU when `auto` chose WebGPU and they disagree. The note says what was found.
pub fn verdict(pref: BrowserPref, difference: f32, tolerance: f32) -> BrowserBackend {
    if difference <= tolerance {
        return BrowserBackend { backend: Backend::Webgpu, note: format!("WebGPU self-check passed: losses within {difference:.1e} of the CPU's") };
    }
    let found = format!("WebGPU self-check failed: its losses differ from the CPU's by {difference:.1e} (tolerance {tolerance:.0e})");
    match pref {
        BrowserPref::Webgpu => BrowserBackend { backend: Backend::Webgpu, note: format!("{found}; training on WebGPU anyway, as requested") },
        _ => BrowserBackend { backend: Backend::Cpu, note: format!("{found}; training on the CPU (backend=webgpu forces WebGPU)") },
    }
}
