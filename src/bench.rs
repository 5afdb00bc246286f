//! `locolab bench`: per method, the measured peak memory of a training step and throughput.
//! Memory comes from a probe the caller supplies (the CLI's counting allocator on the CPU).

use std::sync::Arc;

use burn::prelude::*;
use serde::Serialize;

use crate::config::{MethodKind, TrainConfig};
use crate::data::Splits;
use crate::error::Result;
use crate::memory::MemoryProbe;
use crate::train::{Trainer, UnitPhases};

#[derive(Clone, Debug, Serialize)]
pub struct BenchRow {
    pub kind: MethodKind,
    /// The method's label with its knobs, e.g. `loco(hard, conv-mlp)`.
    pub method: String,
    pub units: usize,
    /// Bytes held at the step's peak above the resting state before it (weights, optimizer
    /// state and data excluded): activations, graphs, gradients and workspace.
    pub step_peak_bytes: usize,
    /// SimCLR's step peak divided by this method's (the paper's "memory saving").
    pub saving_vs_simclr: Option<f64>,
    pub images_per_sec: f64,
    pub median_step_seconds: f64,
    /// The untimed warm-up step: on a GPU backend it compiles (and autotunes) every kernel the
    /// method uses, which costs minutes where a step costs milliseconds.
    pub first_step_seconds: f64,
    /// Unit names and, per unit, the median forward / backward / update time over the steps.
    pub unit_names: Vec<String>,
    pub phases: Vec<UnitPhases>,
    /// Median of the step time outside the units (batch sampling, augmentation, read-back).
    pub other_seconds: f64,
    /// GPU backends: bytes the device's memory pool holds after the measured steps, emptied
    /// before the method (cubecl's statistics: weights, optimizer state and the pool's
    /// high-water mark over the steps, an upper bound of their peak in use). `None` on the CPU.
    pub device_reserved_bytes: Option<u64>,
}

/// Bench each method on `cfg`'s architecture: one warm-up step, then `steps` measured steps
/// (peak = the largest over them, throughput = the median). `done` sees each row as its method
/// finishes, so a caller stopped halfway still has the finished ones.
pub fn bench(
    cfg: &TrainConfig,
    methods: &[MethodKind],
    steps: usize,
    data: Arc<Splits>,
    device: &Device,
    probe: &'static dyn MemoryProbe,
    mut done: impl FnMut(&BenchRow),
) -> Result<Vec<BenchRow>> {
    let mut rows: Vec<BenchRow> = Vec::new();
    for &method in methods {
        let c = TrainConfig { method, ..cfg.clone() };
        let label = crate::method::label(&c);
        device.memory_cleanup();
        let mut t = Trainer::new(c, data.clone(), device)?;
        t.measure_memory(probe);
        let started = std::time::Instant::now();
        t.step()?; // warm-up: optimizer state exists from here on
        let first_step_seconds = started.elapsed().as_secs_f64();
        let reports = t.run(steps.max(1), |_| {})?;
        let peak = reports.iter().filter_map(|r| r.peak_bytes).max().unwrap_or(0) as usize;
        let med = median(reports.iter().map(|r| r.seconds).collect());
        let phase = |u: usize, f: fn(&UnitPhases) -> f64| median(reports.iter().map(|r| f(&r.phases[u])).collect());
        let phases = (0..t.plan().units.len())
            .map(|u| UnitPhases {
                forward_seconds: phase(u, |p| p.forward_seconds),
                backward_seconds: phase(u, |p| p.backward_seconds),
                update_seconds: phase(u, |p| p.update_seconds),
                peak_bytes: reports.iter().filter_map(|r| r.phases[u].peak_bytes).max(),
            })
            .collect();
        let other = median(reports.iter().map(|r| r.seconds - r.phases.iter().map(|p| p.forward_seconds + p.backward_seconds + p.update_seconds).sum::<f64>()).collect());
        let device_reserved_bytes = device.memory_pool_usage().map(|u| u.bytes_reserved);
        rows.push(BenchRow {
            kind: method,
            method: label,
            units: t.plan().units.len(),
            step_peak_bytes: peak,
            saving_vs_simclr: None,
            images_per_sec: cfg.batch as f64 / med,
            median_step_seconds: med,
            first_step_seconds,
            unit_names: t.unit_names(),
            phases,
            other_seconds: other,
            device_reserved_bytes,
        });
        done(rows.last().expect("just pushed"));
    }
    if let Some(simclr) = rows.iter().find(|r| r.kind == MethodKind::Simclr).map(|r| r.step_peak_bytes) {
        for r in &mut rows {
            r.saving_vs_simclr = Some(simclr as f64 / r.step_peak_bytes.max(1) as f64);
        }
    }
    Ok(rows)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Per method, where a step's time goes: each unit's median forward, backward and update (ms).
pub fn phases_markdown(rows: &[BenchRow]) -> String {
    let mut s = String::new();
    for r in rows {
        s += &format!("\n{}: median step {:.1} ms\n\n| unit | forward ms | backward ms | update ms | peak memory |\n|---|---|---|---|---|\n", r.method, r.median_step_seconds * 1e3);
        let mut total = UnitPhases::default();
        for (name, p) in r.unit_names.iter().zip(&r.phases) {
            let peak = p.peak_bytes.map_or("-".to_string(), crate::human::bytes);
            s += &format!("| {name} | {:.1} | {:.1} | {:.1} | {peak} |\n", p.forward_seconds * 1e3, p.backward_seconds * 1e3, p.update_seconds * 1e3);
            total.forward_seconds += p.forward_seconds;
            total.backward_seconds += p.backward_seconds;
            total.update_seconds += p.update_seconds;
        }
        s += &format!(
            "| **all** | {:.1} | {:.1} | {:.1} | {} |\n\nrest of the step (batch sampling, augmentation, upload): {:.1} ms\n",
            total.forward_seconds * 1e3,
            total.backward_seconds * 1e3,
            total.update_seconds * 1e3,
            crate::human::bytes(r.step_peak_bytes as u64),
            r.other_seconds * 1e3
        );
    }
    s
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
            crate::human::bytes(r.step_peak_bytes as u64),
            r.saving_vs_simclr.map_or("-".into(), |v| format!("{v:.2}x")),
            r.images_per_sec,
            r.median_step_seconds
        );
    }
    let reserved: Vec<String> = rows.iter().filter_map(|r| r.device_reserved_bytes.map(|b| format!("{} {}", r.method, crate::human::bytes(b)))).collect();
    if !reserved.is_empty() {
        s += &format!("\nGPU memory pool after the steps (weights, optimizer state, the steps' high-water mark): {}\n", reserved.join(", "));
    }
    s
}

/// Sequential against parallel units for one method (`locolab bench --parallel-units`).
#[derive(Clone, Debug, Serialize)]
pub struct ParallelRow {
    pub method: String,
    pub units: usize,
    /// The sequential engine with burn's CPU kernels on every core (the default).
    pub sequential_images_per_sec: f64,
    /// Every unit on its own single-threaded worker: images over the wall time of one
    /// pipelined run of `steps` steps, pipeline fill and drain included.
    pub parallel_images_per_sec: f64,
    pub speedup: f64,
    /// Largest |difference| between the two copies of a shared stage (0: equal, as promised).
    pub copy_gap: f32,
    /// Threads the sequential engine's kernels used, and the cores the parallel run had.
    pub cores: usize,
}

/// Per method: `steps` sequential steps (after one warm-up) against one parallel run of
/// `steps` steps (after a warm-up run of one step), from the same seeded start.
#[cfg(not(target_arch = "wasm32"))]
pub fn bench_parallel(cfg: &TrainConfig, methods: &[MethodKind], steps: usize, data: Arc<Splits>, device: &Device) -> Result<Vec<ParallelRow>> {
    let steps = steps.max(2);
    let mut rows = Vec::new();
    for &method in methods {
        let c = TrainConfig { method, ..cfg.clone() };
        let mut seq = Trainer::new(c.clone(), data.clone(), device)?;
        seq.step()?;
        let started = web_time::Instant::now();
        seq.run(steps, |_| {})?;
        let seq_rate = (steps * c.batch) as f64 / started.elapsed().as_secs_f64();
        let mut par = Trainer::new(c.clone(), data.clone(), device)?;
        par.run_parallel(1, |_| {})?;
        let run = par.run_parallel(steps, |_| {})?;
        let par_rate = (steps * c.batch) as f64 / run.seconds;
        rows.push(ParallelRow {
            method: crate::method::label(&c),
            units: par.plan().units.len(),
            sequential_images_per_sec: seq_rate,
            parallel_images_per_sec: par_rate,
            speedup: par_rate / seq_rate,
            copy_gap: run.copy_gap,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        });
    }
    Ok(rows)
}

pub fn parallel_markdown(cfg: &TrainConfig, rows: &[ParallelRow]) -> String {
    let cores = rows.first().map_or(1, |r| r.cores);
    let mut s = format!(
        "{} at {}x{}, batch {}, {cores} cores: sequential (kernels on every core) vs every unit on its own single-threaded worker\n\n| method | units | sequential images/s | parallel images/s | speedup | shared copies max abs diff |\n|---|---|---|---|---|---|\n",
        cfg.arch, cfg.input, cfg.input, cfg.batch
    );
    for r in rows {
        s += &format!(
            "| {} | {} | {:.1} | {:.1} | {:.2}x | {} |\n",
            r.method, r.units, r.sequential_images_per_sec, r.parallel_images_per_sec, r.speedup, r.copy_gap
        );
    }
    s
}

/// What `locolab bench --loader-only` measured: the input pipeline alone.
#[derive(Clone, Debug, Serialize)]
pub struct LoaderRow {
    pub input: usize,
    pub batch: usize,
    pub workers: usize,
    /// Whether images were decoded from their files at every read.
    pub streamed: bool,
    pub batches: usize,
    /// Images per second, each decoded (when streamed) and augmented into two views.
    pub images_per_sec: f64,
}

/// Time `batches` two-view batches through the loader with `workers` threads, as the trainer
/// consumes them, one after another: the steady state, after the queue filled during warm-up
/// has been drained (`2 * workers + 3` batches, more than the queue holds).
pub fn bench_loader(data: Arc<Splits>, input: usize, batch: usize, workers: usize, batches: usize) -> LoaderRow {
    use crate::data::{Augment, Loader};
    let streamed = data.train.is_streamed();
    let mut loader = Loader::new(data.clone(), Augment::for_data(input, &data.train), 0, batch);
    loader.set_workers(workers);
    let warmup = 2 * workers + 3;
    for step in 0..warmup {
        let _ = loader.next(step);
    }
    let started = web_time::Instant::now();
    for step in warmup..warmup + batches {
        let _ = loader.next(step);
    }
    let seconds = started.elapsed().as_secs_f64();
    LoaderRow { input, batch, workers, streamed, batches, images_per_sec: (batches * batch) as f64 / seconds.max(1e-9) }
}
