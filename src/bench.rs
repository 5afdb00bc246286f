//! `locolab bench`: per method, the measured peak memory of a training step and throughput.
//! Memory comes from a probe the caller supplies (the CLI's counting allocator on the CPU).

use std::sync::Arc;

use burn::prelude::*;
use serde::Serialize;

use crate::config::{MethodKind, TrainConfig};
use crate::data::CifarSplits;
use crate::error::Result;
use crate::train::Trainer;

/// Reads and resets peak memory (bytes) around a step.
pub trait MemoryProbe {
    fn current(&self) -> usize;
    fn reset_peak(&self);
    fn peak(&self) -> usize;
}

#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub method: String,
    pub units: usize,
    /// Bytes held at the step's peak above the resting state before it (weights, optimizer
    /// state and data excluded): activations, graphs, gradients and workspace.
    pub step_peak_bytes: usize,
    /// SimCLR's step peak divided by this method's (the paper's "memory saving").
    pub saving_vs_simclr: Option<f64>,
    pub images_per_sec: f64,
    pub median_step_seconds: f64,
}

/// Bench each method on `cfg`'s architecture: one warm-up step, then `steps` measured steps
/// (peak = the largest over them, throughput = the median).
pub fn bench(cfg: &TrainConfig, methods: &[MethodKind], steps: usize, data: Arc<CifarSplits>, device: &Device, probe: &dyn MemoryProbe) -> Result<Vec<BenchRow>> {
    let mut rows: Vec<BenchRow> = Vec::new();
    for &method in methods {
        let c = TrainConfig { method, ..cfg.clone() };
        let label = c.method_label();
        let mut t = Trainer::new(c, data.clone(), device)?;
        t.step()?; // warm-up: optimizer state exists from here on
        let mut peak = 0;
        let mut secs = Vec::new();
        for _ in 0..steps.max(1) {
            let base = probe.current();
            probe.reset_peak();
            let r = t.step()?;
            peak = peak.max(probe.peak().saturating_sub(base));
            secs.push(r.seconds);
        }
        secs.sort_by(|a, b| a.total_cmp(b));
        let med = secs[secs.len() / 2];
        rows.push(BenchRow {
            method: label,
            units: t.plan.units.len(),
            step_peak_bytes: peak,
            saving_vs_simclr: None,
            images_per_sec: cfg.batch as f64 / med,
            median_step_seconds: med,
        });
    }
    if let Some(simclr) = rows.iter().find(|r| r.method == "simclr").map(|r| r.step_peak_bytes) {
        for r in &mut rows {
            r.saving_vs_simclr = Some(simclr as f64 / r.step_peak_bytes.max(1) as f64);
        }
    }
    Ok(rows)
}

pub fn markdown(cfg: &TrainConfig, rows: &[BenchRow]) -> String {
    let mut s = format!(
        "{} at {}x{}, batch {} (2 views each)\n\n| method | units | step peak memory | saving vs SimCLR | images/s | median s/step |\n|---|---|---|---|---|---|\n",
        cfg.arch, cfg.input, cfg.input, cfg.batch
    );
    for r in rows {
        s += &format!(
            "| {} | {} | {} | {} | {:.1} | {:.3} |\n",
            r.method,
            r.units,
            crate::model::inspect::human_bytes(r.step_peak_bytes),
            r.saving_vs_simclr.map_or("-".into(), |v| format!("{v:.2}x")),
            r.images_per_sec,
            r.median_step_seconds
        );
    }
    s
}
