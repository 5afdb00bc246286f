//! `locolab compare` as an experiment: every method trained with several seeds under one
//! budget, a kNN monitor on a fixed bank during training (solo-learn's online kNN), a
//! random-init baseline through the same evaluation, and resumable runs.
//!
//! Layout of an experiment directory:
//! ```text
//! experiment.json                  the spec (what --resume continues)
//! <method>/seed-<s>/checkpoints/   periodic checkpoints (crate::checkpoint)
//! <method>/seed-<s>/metrics.jsonl  one line per step (StepReport)
//! <method>/seed-<s>/monitor.jsonl  one line per kNN monitor point
//! <method>/seed-<s>/final/         weights-only checkpoint of the finished run
//! <method>/seed-<s>/result.json    the finished run (written last: its presence means done)
//! random-init/seed-<s>/result.json the untrained encoder through the same evaluation
//! results.json, results.md, *.svg  the aggregate (crate::report)
//! ```

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use burn::prelude::*;

use crate::checkpoint::{self, Contents};
use crate::config::MethodKind;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::eval::{evaluate, EvalOptions};
use crate::run::{append_line, read_jsonl, Run, Sink};
use crate::train::{StepReport, Trainer};

const MONITOR: &str = "monitor.jsonl";

pub use crate::results::{ExperimentSpec, MonitorPoint, RunResult, Trained, RANDOM_INIT};

/// Where one run of `spec` lives under `out`.
fn run_dir(spec: &ExperimentSpec, out: &Path, method: Option<MethodKind>, seed_index: usize) -> PathBuf {
    let m = method.map_or(RANDOM_INIT.to_string(), |m| m.to_string());
    out.join(m).join(format!("seed-{}", spec.base.seed + seed_index as u64))
}

/// What the experiment reports as it goes (the CLI prints it).
#[derive(Clone, Debug)]
pub enum Event {
    Started { run: String, from_step: usize, steps: usize },
    Step { run: String, report: StepReport },
    Monitor { run: String, point: MonitorPoint },
    Finished { run: String, result: RunResult },
}

/// One unit of work: a (method, seed) run or a random-init evaluation.
#[derive(Clone, Copy, Debug)]
struct Task {
    method: Option<MethodKind>,
    seed_index: usize,
}

/// Run (or continue) every unfinished run of `spec` under `out`, `jobs` at a time (each with
/// `workers` loader threads: [`Trainer::set_loader_workers`]), and return
/// every run's result (methods in spec order, then random-init; seeds ascending).
pub fn run(
    spec: &ExperimentSpec,
    out: &Path,
    data: Arc<Splits>,
    device: &Device,
    jobs: usize,
    workers: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<Vec<RunResult>> {
    spec.validate()?;
    if data.train.len() < spec.base.batch {
        return Err(Error::Config(format!("batch {} is larger than the {} training images", spec.base.batch, data.train.len())));
    }
    // Seed-major order: an experiment stopped early has every method for its first seeds.
    // Within a seed the costliest method starts first, so parallel jobs finish together.
    let mut by_cost = spec.methods.clone();
    by_cost.sort_by_key(|m| match m {
        MethodKind::Loco => 0,
        MethodKind::Gim => 1,
        MethodKind::Simclr => 2,
    });
    let mut tasks = Vec::new();
    for s in 0..spec.seeds {
        for &m in &by_cost {
            tasks.push(Task { method: Some(m), seed_index: s });
        }
        tasks.push(Task { method: None, seed_index: s });
    }
    let queue = Mutex::new(tasks.clone().into_iter().rev().collect::<Vec<_>>());
    let first_error: Mutex<Option<Error>> = Mutex::new(None);
    std::thread::scope(|scope| {
        for _ in 0..jobs.max(1) {
            scope.spawn(|| loop {
                if first_error.lock().expect("lock").is_some() {
                    return;
                }
                let Some(task) = queue.lock().expect("lock").pop() else { return };
                let r = match task.method {
                    Some(m) => run_one(spec, out, m, task.seed_index, data.clone(), device, workers, on_event).map(|_| ()),
                    None => random_init(spec, out, task.seed_index, data.clone(), device, on_event).map(|_| ()),
                };
                if let Err(e) = r {
                    first_error.lock().expect("lock").get_or_insert(e);
                    return;
                }
            });
        }
    });
    if let Some(e) = first_error.into_inner().expect("lock") {
        return Err(e);
    }
    let (done, missing) = collect(spec, out);
    match missing.first() {
        Some(m) => Err(Error::Checkpoint(format!("{m} has no result.json after its run"))),
        None => Ok(done),
    }
}

/// The finished runs of an experiment (methods in spec order, then random-init; seeds
/// ascending) and the directories of the unfinished ones.
pub fn collect(spec: &ExperimentSpec, out: &Path) -> (Vec<RunResult>, Vec<String>) {
    let (mut done, mut missing) = (Vec::new(), Vec::new());
    let methods = spec.methods.iter().map(|&m| Some(m)).chain(std::iter::once(None));
    for m in methods {
        for s in 0..spec.seeds {
            let dir = run_dir(spec, out, m, s);
            match read_result(&dir) {
                Ok(r) => done.push(r),
                Err(_) => missing.push(dir.display().to_string()),
            }
        }
    }
    (done, missing)
}

/// Read `experiment.json` of an experiment directory.
pub fn read_spec(out: &Path) -> Result<ExperimentSpec> {
    let path = out.join("experiment.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {} (is this an experiment directory?)", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| Error::Config(format!("{}: {e}", path.display())))
}

/// Write `experiment.json`, refusing to mix two different experiments in one directory (the
/// same experiment started again by another binary is not refused: its file is kept).
pub fn write_spec(spec: &ExperimentSpec, out: &Path) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    let path = out.join("experiment.json");
    if path.exists() {
        let old = read_spec(out)?;
        if !old.same_experiment(spec) {
            return Err(Error::Config(format!(
                "{} already holds another experiment; continue it with --resume or choose another --out",
                path.display()
            )));
        }
        return Ok(());
    }
    checkpoint::write_atomic(&path, serde_json::to_string_pretty(spec).expect("spec serialises").as_bytes())
}

fn read_result(dir: &Path) -> Result<RunResult> {
    let path = dir.join("result.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    serde_json::from_str(&text).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))
}

/// `result.json`, written last and atomically: its presence means the run is done.
fn write_result(dir: &Path, result: &RunResult) -> Result<()> {
    checkpoint::write_atomic(&dir.join("result.json"), serde_json::to_string_pretty(result).expect("serialises").as_bytes())
}

/// A finished run's evaluation: every stage, the full sets, the probes the spec asks for.
fn final_opts(spec: &ExperimentSpec) -> EvalOptions {
    EvalOptions { every_stage: true, converged: spec.converged_probe, ..EvalOptions::default() }
}

fn monitor_opts(spec: &ExperimentSpec) -> EvalOptions {
    EvalOptions { every_stage: true, linear: false, train_images: Some(spec.monitor_train), test_images: Some(spec.monitor_test), converged: false, predictions: false }
}

fn monitor(t: &Trainer, spec: &ExperimentSpec) -> Result<MonitorPoint> {
    let acc = evaluate(t, &monitor_opts(spec))?;
    Ok(MonitorPoint { step: t.step_count(), images_seen: t.images_seen(), knn: acc.iter().map(|a| a.knn).collect() })
}

/// Train one (method, seed) run to the end, from its last checkpoint if it has one.
fn run_one(
    spec: &ExperimentSpec,
    out: &Path,
    method: MethodKind,
    seed_index: usize,
    data: Arc<Splits>,
    device: &Device,
    workers: usize,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<RunResult> {
    let dir = run_dir(spec, out, Some(method), seed_index);
    if let Ok(r) = read_result(&dir) {
        return Ok(r);
    }
    let cfg = spec.config(method, seed_index);
    let name = format!("{} seed {}", crate::method::label(&cfg), cfg.seed);
    let mut run = Run::open(&dir, cfg.clone(), data, device, &[MONITOR])?;
    run.trainer.set_loader_workers(workers);
    if *run.trainer.config() != cfg {
        return Err(Error::Checkpoint(format!("{}: its config differs from {}", dir.display(), out.join("experiment.json").display())));
    }
    let monitor_log = dir.join(MONITOR);
    on_event(Event::Started { run: name.clone(), from_step: run.trainer.step_count(), steps: cfg.steps });
    struct Monitor<'a> {
        spec: &'a ExperimentSpec,
        log: PathBuf,
        name: String,
        on_event: &'a (dyn Fn(Event) + Sync),
    }
    impl Sink for Monitor<'_> {
        fn step(&mut self, report: &StepReport) -> Result<()> {
            (self.on_event)(Event::Step { run: self.name.clone(), report: report.clone() });
            Ok(())
        }
        fn monitor(&mut self, trainer: &Trainer) -> Result<()> {
            let p = monitor(trainer, self.spec)?;
            append_line(&self.log, &p)?;
            (self.on_event)(Event::Monitor { run: self.name.clone(), point: p });
            Ok(())
        }
    }
    let mut sink = Monitor { spec, log: monitor_log.clone(), name: name.clone(), on_event };
    run.train(&spec.cadence(&cfg), false, &mut sink)?;
    let t = &run.trainer;
    let accuracy = evaluate(t, &final_opts(spec))?;
    checkpoint::write_to(&t.snapshot(Contents::WeightsOnly)?, &dir.join("final"))?;
    let reports: Vec<StepReport> = read_jsonl(&run.metrics_path());
    let monitor_points: Vec<MonitorPoint> = read_jsonl(&monitor_log);
    let result = RunResult {
        method: crate::method::label(&cfg),
        trained: Some(Trained::Method(cfg.method)),
        seed: cfg.seed,
        steps: t.step_count(),
        images_seen: t.images_seen(),
        train_seconds: run.seconds_before,
        stages: t.spec().stage_names(),
        accuracy,
        units: t.unit_names(),
        loss_curve: loss_curve(&reports, &monitor_points),
        monitor: monitor_points,
        commit: Some(crate::COMMIT.to_string()),
    };
    write_result(dir.as_path(), &result)?;
    on_event(Event::Finished { run: name, result: result.clone() });
    Ok(result)
}

/// Mean loss of every unit between consecutive monitor points (or 20 windows without any).
fn loss_curve(reports: &[StepReport], points: &[MonitorPoint]) -> Vec<(usize, Vec<f32>)> {
    let mut edges: Vec<usize> = points.iter().map(|p| p.step).filter(|&s| s > 0).collect();
    if edges.len() < 2 {
        let n = reports.len().max(1);
        edges = (1..=20).map(|i| (n * i).div_ceil(20)).collect();
        edges.dedup();
    }
    let mut out = Vec::new();
    let mut lo = 0;
    for &hi in &edges {
        let window: Vec<&StepReport> = reports.iter().filter(|r| r.step > lo && r.step <= hi).collect();
        if let Some(first) = window.first() {
            let n = first.losses.len();
            let mean = (0..n).map(|u| window.iter().map(|r| r.losses.get(u).copied().unwrap_or(f32::NAN)).sum::<f32>() / window.len() as f32);
            out.push((hi, mean.collect()));
        }
        lo = hi;
    }
    out
}

/// The untrained encoder of seed `s` (the same initialisation every method starts from)
/// through the final evaluation.
fn random_init(
    spec: &ExperimentSpec,
    out: &Path,
    seed_index: usize,
    data: Arc<Splits>,
    device: &Device,
    on_event: &(dyn Fn(Event) + Sync),
) -> Result<RunResult> {
    let dir = run_dir(spec, out, None, seed_index);
    if let Ok(r) = read_result(&dir) {
        return Ok(r);
    }
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    let cfg = spec.config(MethodKind::Simclr, seed_index);
    let name = format!("{RANDOM_INIT} seed {}", cfg.seed);
    on_event(Event::Started { run: name.clone(), from_step: 0, steps: 0 });
    let t = Trainer::new(cfg.clone(), data, device)?;
    let p = monitor(&t, spec)?;
    let result = RunResult {
        method: RANDOM_INIT.into(),
        trained: Some(Trained::RandomInit),
        seed: cfg.seed,
        steps: 0,
        images_seen: 0,
        train_seconds: 0.0,
        stages: t.spec().stage_names(),
        accuracy: evaluate(&t, &final_opts(spec))?,
        units: Vec::new(),
        loss_curve: Vec::new(),
        monitor: vec![p],
        commit: Some(crate::COMMIT.to_string()),
    };
    write_result(dir.as_path(), &result)?;
    on_event(Event::Finished { run: name, result: result.clone() });
    Ok(result)
}
