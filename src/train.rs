//! The backend-generic trainer that the CLI and the browser both drive: `step()` returns a
//! report, `run(n)` loops. One step = sample a batch, two augmented views, then unit by unit:
//! forward/loss/backward, a finite-loss check, and the optimizer update of every parameter whose
//! gradient is complete (see [`crate::method::Plan::next_unit`]).

use std::sync::Arc;

use burn::optim::{ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use web_time::Instant;

use crate::checkpoint::{Contents, Snapshot};
use crate::config::TrainConfig;
use crate::data::augment::{Augment, Views};
use crate::data::{Loader, Splits};
use crate::error::{Error, Result};
use crate::memory::MemoryProbe;
use crate::method::{diverged, Blueprint, Plan, StepRun, UnitNet, UnitStep, Wiring};
use crate::worker::{load_units, Collector, UnitRecord, UnitWorker};
use crate::model::{seeded, ArchSpec, Network};
pub use crate::step::{StepReport, UnitPhases};

/// What [`Trainer::run_parallel`] did.
#[derive(Clone, Debug)]
pub struct ParallelRun {
    pub reports: Vec<StepReport>,
    /// Wall time of the whole run (pipeline fill and drain included).
    pub seconds: f64,
    /// Largest |difference| between the two copies of a shared stage after the same number of
    /// updates (0: they stayed equal).
    pub copy_gap: f32,
}

pub struct Trainer {
    config: TrainConfig,
    bp: Blueprint,
    net: Network,
    optim: ModuleOptimizer,
    device: Device,
    data: Arc<Splits>,
    loader: Loader,
    step: usize,
    images_seen: usize,
    probe: Option<&'static dyn MemoryProbe>,
}

/// A step in progress: the engine's state, when it started, its learning rate, the losses so far.
struct Pending {
    run: StepRun,
    started: Instant,
    lr: f64,
    losses: Vec<f32>,
    phases: Vec<UnitPhases>,
    /// Live bytes when the step started (with a memory probe).
    base: usize,
    data_wait_seconds: f64,
}

impl Trainer {
    /// A fresh, seeded trainer. `device` may be any backend; autodiff is enabled on it here.
    pub fn new(config: TrainConfig, data: Arc<Splits>, device: &Device) -> Result<Self> {
        Self::assemble(config, data, device, |plan, spec, cfg, device| Ok(seeded(device, cfg.seed, || plan.build(spec, cfg.proj_dim, device))))
    }

    /// The trainer a snapshot holds, continuing from its step. A weights-only snapshot gets a
    /// fresh optimizer ([`Snapshot::resumable`] says so). No network is initialised only to be
    /// overwritten: the snapshot's weights load into an uninitialised (lazy) one.
    pub fn from_snapshot(snap: &Snapshot, data: Arc<Splits>, device: &Device) -> Result<Self> {
        let mut t = Self::assemble(snap.config.clone(), data, device, |plan, spec, cfg, device| {
            snap.load_network(plan.build(spec, cfg.proj_dim, device))
        })
        .map_err(|e| match e {
            Error::Config(why) => Error::Checkpoint(format!("{}: its config cannot train here: {why}", snap.at(crate::checkpoint::STATE))),
            other => other,
        })?;
        if let Some(optim) = snap.load_optimizer()? {
            t.optim = optim;
        }
        t.step = snap.step;
        t.images_seen = snap.images_seen;
        Ok(t)
    }

    /// A trainer from a checkpoint folder, a run directory (its newest sound checkpoint) or a
    /// bundle file ([`crate::checkpoint::load`]).
    #[cfg(not(target_arch = "wasm32"))]
    pub fn load(path: &std::path::Path, data: Arc<Splits>, device: &Device) -> Result<Loaded> {
        let (dir, snap) = crate::checkpoint::load(path)?;
        Ok(Loaded { trainer: Self::from_snapshot(&snap, data, device)?, dir, resumable: snap.resumable() })
    }

    fn assemble(
        config: TrainConfig,
        data: Arc<Splits>,
        device: &Device,
        network: impl FnOnce(&Plan, &ArchSpec, &TrainConfig, &Device) -> Result<Network>,
    ) -> Result<Self> {
        config.validate()?;
        if data.train.len() < config.batch {
            return Err(Error::Config(format!(
                "batch {} is larger than the {} training images",
                config.batch,
                data.train.len()
            )));
        }
        let device = device.clone().autodiff();
        let bp = Blueprint::of(&config)?;
        let net = network(&bp.plan, &bp.spec, &config, &device)?;
        let loader = Loader::new(data.clone(), Augment::for_data(config.input, &data.train), config.seed, config.batch);
        Ok(Self {
            optim: crate::optim::build(&config),
            loader,
            config,
            bp,
            net,
            device,
            data,
            step: 0,
            images_seen: 0,
            probe: None,
        })
    }

    /// This trainer's state as a [`Snapshot`] (what a checkpoint holds). Reads every tensor
    /// back synchronously: on the browser's WebGPU device that is not allowed (the page saves
    /// on the CPU path only).
    pub fn snapshot(&self, contents: Contents) -> Result<Snapshot> {
        let ck = |what: &str, e: burn::store::RecordError| Error::Checkpoint(format!("cannot encode the {what}: {e:?}"));
        // `valid` first: burn keeps the last BatchNorm running-statistics update pending (per
        // thread) until the next read, and a record holds only committed values; `valid` commits
        // it, so the checkpoint has the statistics evaluation would use.
        let model = self.net.valid().into_record().into_bytes().map_err(|e| ck("model", e))?.to_vec();
        let optim = match contents {
            Contents::Full => Some(self.optim.into_bytes().map_err(|e| ck("optimizer state", e))?.to_vec()),
            Contents::WeightsOnly => None,
        };
        Ok(Snapshot::new(self.config.clone(), self.step, self.images_seen, model, optim))
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }
    pub fn spec(&self) -> &ArchSpec {
        &self.bp.spec
    }
    pub fn plan(&self) -> &Plan {
        &self.bp.plan
    }
    /// How this trainer's units connect when each runs on its own, or why they cannot.
    pub fn wiring(&self) -> Result<Wiring> {
        self.bp.wiring()
    }
    /// The network (training mode; see [`Trainer::eval_network`]).
    pub fn network(&self) -> &Network {
        &self.net
    }
    /// The network, to change by hand (fault injection in tests).
    pub fn network_mut(&mut self) -> &mut Network {
        &mut self.net
    }

    /// Measure each step's peak memory, per unit, with `probe` (a counting allocator natively
    /// and in the page's CPU path): reported in [`StepReport::peak_bytes`] and [`UnitPhases`].
    pub fn measure_memory(&mut self, probe: &'static dyn MemoryProbe) {
        self.probe = Some(probe);
    }

    pub fn step_count(&self) -> usize {
        self.step
    }
    pub fn device(&self) -> &Device {
        &self.device
    }
    pub fn data(&self) -> &Arc<Splits> {
        &self.data
    }

    /// Augment batches on `workers` threads ahead of the step (native; 0: on the training
    /// thread). The batches stay the same for any count ([`crate::data::loader`]).
    pub fn set_loader_workers(&mut self, workers: usize) {
        self.loader.set_workers(workers);
    }

    /// The sample order and augmentation of this run.
    pub fn loader(&self) -> &Loader {
        &self.loader
    }

    /// Unit names in loss order, e.g. `res2+res3`.
    pub fn unit_names(&self) -> Vec<String> {
        self.bp.plan.unit_names(&self.bp.spec)
    }

    /// The two augmented views of step `step`'s batch (0-based; deterministic in seed and step).
    pub fn batch_views(&self, step: usize) -> Views {
        self.loader.views(step)
    }

    fn launch(&mut self) -> Pending {
        let base = self.probe.map_or(0, |p| {
            p.reset_peak();
            p.current()
        });
        let started = Instant::now();
        let (views, data_wait_seconds) = self.loader.next(self.step);
        let run = self.bp.plan.begin(&self.net, views.into_tensor(&self.device));
        Pending { run, started, lr: crate::optim::learning_rate(&self.config, self.step), losses: Vec::new(), phases: Vec::new(), base, data_wait_seconds }
    }

    fn next_unit(&self, p: &mut Pending) -> Option<UnitStep> {
        self.bp.plan.next_unit(&mut p.run, &self.net, self.config.temperature)
    }

    /// Apply one unit's complete gradients once its loss is known to be finite.
    fn apply(&mut self, p: &mut Pending, unit: UnitStep, loss: Vec<f32>) -> Result<()> {
        let l = loss.first().copied().unwrap_or(f32::NAN);
        if !l.is_finite() {
            let names = self.unit_names();
            let i = unit.unit;
            let kept = if i == 0 {
                "its update was not applied, so the model is as it was before this step".to_string()
            } else {
                format!(
                    "the units below it ({}) had finite losses and were updated; its own update and those above it were not applied",
                    names[..i].join(", ")
                )
            };
            return Err(diverged(&self.config, i, &names[i], l, self.step + 1, &kept));
        }
        // Shared parameters (LoCo's shared stage) arrive in several containers: the optimizer
        // sums them into one update.
        let started = Instant::now();
        let grads = unit.ready.into_iter().map(|g| (g, self.device.clone())).collect();
        self.net = self.optim.step_multi(p.lr, self.net.clone(), MultiGradientsParams { grads });
        p.losses.push(l);
        let update_seconds = started.elapsed().as_secs_f64();
        let peak_bytes = self.probe.map(|probe| {
            let peak = probe.peak().saturating_sub(p.base) as u64;
            probe.reset_peak();
            peak
        });
        p.phases.push(UnitPhases { forward_seconds: unit.forward_seconds, backward_seconds: unit.backward_seconds, update_seconds, peak_bytes });
        Ok(())
    }

    fn finish(&mut self, p: Pending) -> StepReport {
        self.step += 1;
        self.images_seen += self.config.batch;
        let seconds = p.started.elapsed().as_secs_f64();
        StepReport {
            step: self.step,
            losses: p.losses,
            units: self.unit_names(),
            lr: p.lr,
            seconds,
            images_per_sec: self.config.batch as f64 / seconds.max(1e-9),
            images_seen: self.images_seen,
            epoch: self.loader.sampler().epochs_after(self.step),
            data_wait_seconds: p.data_wait_seconds,
            peak_bytes: p.phases.iter().filter_map(|u| u.peak_bytes).max(),
            phases: p.phases,
        }
    }

    /// A file of a streamed dataset that failed to decode, as an error (before any update).
    fn check_data(&self) -> Result<()> {
        match self.data.train.stream_error() {
            Some(e) => Err(Error::Data(e)),
            None => Ok(()),
        }
    }

    /// One training step (synchronous read-back of each unit's loss).
    pub fn step(&mut self) -> Result<StepReport> {
        // Natively on the first thread of rayon's pool; the page's worker runs its steps inside a
        // `rayon::scope` of its own (src/web/lab.rs).
        #[cfg(not(target_arch = "wasm32"))]
        return crate::parallel::on_pool_thread(|| self.step_here());
        #[cfg(target_arch = "wasm32")]
        self.step_here()
    }

    fn step_here(&mut self) -> Result<StepReport> {
        let mut p = self.launch();
        self.check_data()?;
        while let Some(u) = self.next_unit(&mut p) {
            let loss = crate::device::floats(u.loss.clone().try_into_data())?;
            self.apply(&mut p, u, loss)?;
        }
        Ok(self.finish(p))
    }

    /// One training step with async read-backs (WebGPU cannot read synchronously).
    pub async fn step_async(&mut self) -> Result<StepReport> {
        let mut p = self.launch();
        self.check_data()?;
        while let Some(u) = self.next_unit(&mut p) {
            let loss = crate::device::floats(u.loss.clone().into_data_async().await)?;
            self.apply(&mut p, u, loss)?;
        }
        Ok(self.finish(p))
    }

    /// Run `n` steps, calling `on_step` after each.
    pub fn run(&mut self, n: usize, mut on_step: impl FnMut(&StepReport)) -> Result<Vec<StepReport>> {
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            let r = self.step()?;
            on_step(&r);
            out.push(r);
        }
        Ok(out)
    }

    /// Run `n` steps with every local unit on its own thread (GIM and LoCo; SimCLR is one
    /// unit), calling `on_step` as each step completes in every unit. GIM's parameters come out
    /// exactly as [`Trainer::run`]'s; LoCo's shared stages follow the pipelined schedule
    /// ([`crate::worker`]). A step's `seconds` is the time since the step before it completed
    /// (the pipeline's throughput). On error the trainer is left as before the call.
    #[cfg(not(target_arch = "wasm32"))]
    pub fn run_parallel(&mut self, n: usize, mut on_step: impl FnMut(&StepReport)) -> Result<ParallelRun> {
        let workers = self.unit_workers()?;
        let mut collect = self.collector();
        let first = self.step;
        let loader = &self.loader;
        let views = |b: usize| loader.views(first + b);
        let mut reports = Vec::with_capacity(n);
        collect.start();
        let out = crate::parallel::run(workers, n, &views, |r| {
            for step in collect.add(r) {
                on_step(&step);
                reports.push(step);
            }
        })?;
        self.check_data()?;
        self.adopt_units(out.parts, n)?;
        Ok(ParallelRun { reports, seconds: collect.seconds(), copy_gap: out.copy_gap })
    }

    /// One [`UnitWorker`] per unit of this trainer's plan, from its current state, for a run
    /// from its current step (or why its method cannot run that way).
    pub fn unit_workers(&self) -> Result<Vec<UnitWorker>> {
        let wiring = self.bp.wiring()?;
        Ok((0..self.bp.plan.units.len())
            .map(|j| UnitWorker::new(&self.bp, &wiring, j, UnitNet::of(&self.net, &self.bp.plan, j), self.optim.clone(), &self.config, &self.device, self.step))
            .collect())
    }

    /// The collector of a parallel run from this trainer's current step.
    pub fn collector(&self) -> Collector {
        Collector::new(&self.config, self.unit_names(), self.loader.sampler().clone(), self.step, self.images_seen)
    }

    /// Take the outcome of a parallel run of `steps` steps (each unit's modules and optimizer,
    /// unit order) as this trainer's network, optimizer and counters: every module and every
    /// parameter's optimizer state from the unit that owns it.
    pub fn adopt_units(&mut self, parts: Vec<(UnitNet, ModuleOptimizer)>, steps: usize) -> Result<()> {
        let wiring = self.bp.wiring()?;
        if parts.len() != self.bp.plan.units.len() {
            return Err(Error::Config(format!("a parallel run returned {} units; this plan has {}", parts.len(), self.bp.plan.units.len())));
        }
        let (net, optim) = crate::method::units::merge(&self.bp.plan, &wiring, &self.config, parts)?;
        self.net = net;
        self.optim = optim;
        self.step += steps;
        self.images_seen += steps * self.config.batch;
        Ok(())
    }

    /// [`Trainer::adopt_units`] from the records each unit's worker handed back
    /// ([`UnitWorker::finish_record`]; the page's Web Workers), checked against this plan.
    pub fn adopt_unit_records(&mut self, records: Vec<UnitRecord>, steps: usize) -> Result<()> {
        let parts = load_units(records, &self.net, &self.bp.plan, &self.config)?;
        self.adopt_units(parts, steps)
    }

    /// The network in evaluation mode (BatchNorm uses running statistics, no autodiff).
    pub fn eval_network(&self) -> Network {
        self.net.valid()
    }

    pub fn images_seen(&self) -> usize {
        self.images_seen
    }
}

/// A trainer loaded from disk ([`Trainer::load`]).
#[cfg(not(target_arch = "wasm32"))]
pub struct Loaded {
    pub trainer: Trainer,
    /// The checkpoint folder (or bundle file) that was read.
    pub dir: std::path::PathBuf,
    /// False for weights-only checkpoints: training from it would restart the optimizer.
    pub resumable: bool,
}
