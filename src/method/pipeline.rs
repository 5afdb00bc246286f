//! Local units as independent workers: the pipelined schedule of GIM and LoCo.
//!
//! Each unit owns its stages (the stem too, for the bottom unit) and its decoder, with its own
//! optimizer, and runs on its own worker (an OS thread natively, a Web Worker in the page). Unit
//! `k` hands the detached output of the stage unit `k+1` reads to that unit and goes on with the
//! next batch, so unit `k` works on batch `t` while unit `k+1` works on batch `t-1`.
//!
//! **GIM** shares nothing between units: a unit's input for batch `t` is the output of the
//! unit below *before* that unit's update for `t` (as in the sequential engine), so the
//! pipelined run gives exactly the parameters of the sequential one.
//!
//! **LoCo** shares one stage between neighbours: the lower unit holds a copy of its top stage,
//! the upper unit (the stage's owner) the stage itself. Both copies apply the same update, the
//! sum of both units' gradients, with the same optimizer state, so they stay identical. The
//! schedule differs from the sequential one in one way: update `i+1` of a shared stage sums the
//! lower unit's gradient on batch `i` and the upper unit's on batch `i-1`, both taken at the
//! same weights (after update `i`); the sequential engine sums both units' gradients on the same
//! batch. So the lower unit sees the shared stage one update behind the upper unit. At the start
//! of a run the first update has only the lower unit's gradient, at its end the last only the
//! upper unit's; a run split into several calls differs from one call at each split (GIM does
//! not). The copy's BatchNorm running statistics come from the lower unit's batches and are
//! not kept: the owner's stage, with its own statistics, is what the network keeps.
//!
//! The worker is a state machine driven by its transport in this order, per batch:
//! [`UnitWorker::forward`] (send the returned activation up), [`UnitWorker::backward`] (send
//! its shared-gradient messages down and up), [`UnitWorker::settle_top`] with the message from
//! the unit above, [`UnitWorker::settle_bottom`] with the message from the unit below; an owner
//! of a shared bottom stage first calls `settle_bottom` once before its first batch. Messages
//! are plain `f32` values ([`Activation`], [`SharedGrads`]), so threads and Web Workers carry
//! them alike (and, later, a transport between devices or machines).

use burn::module::ParamId;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use serde::{Deserialize, Serialize};
use web_time::Instant;

use super::grads::{grad_values, move_grad, param_ids, param_shapes, put_values, remove_grad};
use super::{LocalUnit, Plan, TopStage};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::loss::nt_xent;
use crate::model::{Decoder, Network, Stage, Stem};

/// How a plan's units connect when they run as workers.
#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    /// Per unit: the stage of the unit below it whose output is its input (`None`: the stem).
    pub input_stage: Vec<Option<usize>>,
    /// Per unit: whether its bottom stage is also the top stage of the unit below (it owns it).
    pub shares_bottom: Vec<bool>,
    /// Per unit: whether its top stage is owned by the unit above (it holds a copy).
    pub shares_top: Vec<bool>,
    /// Per stage: the unit whose copy the network keeps.
    pub stage_owner: Vec<usize>,
}

impl Plan {
    /// How the units connect as workers, or why this plan cannot run that way.
    pub fn schedule(&self, stages: usize) -> Result<Schedule> {
        if !self.copies.is_empty() {
            return Err(Error::Config(
                "parallel units do not support LoCo's soft sharing: each lower unit trains its own copy tied to the stage by an \
                 L2 term, which needs both weights every step; use sharing hard, upper-only or blocks:<n>"
                    .into(),
            ));
        }
        let n = self.units.len();
        if self.units.first().map(|u| u.stages.start) != Some(0) {
            return Err(Error::Config("the bottom unit must start at the stem".into()));
        }
        let mut input_stage = vec![None; n];
        for j in 1..n {
            let s = self.units[j].stages.start - 1;
            let below = &self.units[j - 1];
            let full = s != below.top_stage() || matches!(below.top, TopStage::Whole | TopStage::ReadOnly);
            if !below.stages.contains(&s) || !full {
                return Err(Error::Config(format!("unit {j} reads stage {s}, which the unit below it does not compute in full")));
            }
            input_stage[j] = Some(s);
        }
        let mut stage_owner = vec![usize::MAX; stages];
        for s in 0..stages {
            let holders: Vec<usize> = (0..n).filter(|&u| self.units[u].stages.contains(&s)).collect();
            match holders[..] {
                [u] => stage_owner[s] = u,
                [lo, hi] if hi == lo + 1 && self.units[lo].top_stage() == s && self.units[hi].stages.start == s => stage_owner[s] = hi,
                [] => return Err(Error::Config(format!("no unit trains stage {s}"))),
                _ => return Err(Error::Config(format!("stage {s} is shared by units {holders:?}; parallel units share a stage between two neighbours only"))),
            }
        }
        let shares_bottom = (0..n).map(|j| j > 0 && self.units[j - 1].stages.contains(&self.units[j].stages.start)).collect();
        let shares_top = (0..n).map(|j| j + 1 < n && self.units[j + 1].stages.contains(&self.units[j].top_stage())).collect();
        Ok(Schedule { input_stage, shares_bottom, shares_top, stage_owner })
    }
}

/// One unit's modules: the stem (bottom unit only), its stages bottom to top, its decoder.
#[derive(Module, Debug)]
pub struct UnitNet {
    pub stem: Option<Stem>,
    pub stages: Vec<Stage>,
    pub head: Decoder,
}

impl UnitNet {
    /// Unit `u`'s modules, copied out of `net` (parameter ids are kept, so gradients, optimizer
    /// state and the merge back into a [`Network`] line up).
    pub fn of(net: &Network, plan: &Plan, u: usize) -> Self {
        let unit = &plan.units[u];
        Self {
            stem: (unit.stages.start == 0).then(|| net.stem.clone()),
            stages: unit.stages.clone().map(|s| net.stages[s].clone()).collect(),
            head: net.heads[u].clone(),
        }
        .private()
    }

    /// The same modules with BatchNorm running statistics of their own. burn's `RunningState`
    /// is shared by every clone of a module and keeps one pending update per thread, averaged
    /// with the others' at the next read: a unit on its own thread must neither share it with
    /// the other copy of a shared stage nor leave a pending update of a thread that has ended.
    /// `valid` commits the pending updates into a fresh state; `train` turns autodiff back on.
    /// Call it on the worker's thread when the worker finishes.
    pub fn private(self) -> Self {
        self.valid().train()
    }
}

/// Put each worker's owned modules back into a network: the stem from the bottom unit, each
/// stage from its owner, each decoder from its unit.
pub fn merge_units(plan: &Plan, schedule: &Schedule, units: Vec<UnitNet>) -> Network {
    let mut stem = None;
    let mut stages: Vec<Option<Stage>> = (0..schedule.stage_owner.len()).map(|_| None).collect();
    let mut heads = Vec::with_capacity(units.len());
    for (u, unit) in units.into_iter().enumerate() {
        if unit.stem.is_some() {
            stem = unit.stem;
        }
        for (s, stage) in plan.units[u].stages.clone().zip(unit.stages) {
            if schedule.stage_owner[s] == u {
                stages[s] = Some(stage);
            }
        }
        heads.push(unit.head);
    }
    Network {
        stem: stem.expect("the bottom unit holds the stem"),
        stages: stages.into_iter().map(|s| s.expect("every stage has an owner")).collect(),
        heads,
        copies: Vec::new(),
    }
}

/// The network and optimizer after a parallel run, from each unit's modules and optimizer:
/// every module and every parameter's optimizer state from the unit that owns it.
pub fn merge(plan: &Plan, schedule: &Schedule, config: &TrainConfig, parts: Vec<(UnitNet, ModuleOptimizer)>) -> Result<(Network, ModuleOptimizer)> {
    let mut optims = Vec::with_capacity(parts.len());
    let mut nets = Vec::with_capacity(parts.len());
    for (j, (unit_net, optim)) in parts.into_iter().enumerate() {
        let ids = |m: Vec<(ParamId, usize)>| m.into_iter().map(|(id, _)| id.val());
        let mut owned: std::collections::HashSet<u64> = ids(param_ids(&unit_net.head)).collect();
        if let Some(stem) = &unit_net.stem {
            owned.extend(ids(param_ids(stem)));
        }
        for (s, stage) in plan.units[j].stages.clone().zip(&unit_net.stages) {
            if schedule.stage_owner[s] == j {
                owned.extend(ids(param_ids(stage)));
            }
        }
        optims.push((optim, owned));
        nets.push(unit_net);
    }
    Ok((merge_units(plan, schedule, nets), crate::optim::merge(config, optims)?))
}

/// A tensor between workers: shape and `f32` values (an activation, or a batch of views).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Activation {
    pub shape: [usize; 4],
    pub values: Vec<f32>,
}

impl Activation {
    pub fn of(t: Tensor<4>) -> Self {
        let shape = t.dims();
        Self { shape, values: t.into_data().convert::<f32>().try_into_vec::<f32>().expect("f32 activation") }
    }
    pub fn into_tensor(self, device: &Device) -> Tensor<4> {
        Tensor::from_data(TensorData::new(self.values, self.shape), device)
    }
}

impl From<crate::data::augment::Views> for Activation {
    /// A batch of views as the bottom unit's input ([2N, 3, side, side]).
    fn from(v: crate::data::augment::Views) -> Self {
        Self { shape: [2 * v.n, 3, v.side, v.side], values: v.data }
    }
}

/// One unit's gradient for a shared stage: per parameter of the stage (in visiting order, the
/// same in both copies) its values, or `None` where this unit's loss does not reach it
/// (LoCo `upper-only`, `blocks:<n>`).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct SharedGrads {
    pub parts: Vec<Option<Vec<f32>>>,
}

impl SharedGrads {
    /// All parameters' values back to back, and which parameters are present (the page's
    /// transferable form).
    pub fn flatten(&self) -> (Vec<f32>, Vec<u8>) {
        let mut values = Vec::new();
        let mut present = Vec::with_capacity(self.parts.len());
        for p in &self.parts {
            present.push(p.is_some() as u8);
            if let Some(v) = p {
                values.extend_from_slice(v);
            }
        }
        (values, present)
    }
}

/// What one unit did with one batch (times in seconds).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UnitBatch {
    pub unit: usize,
    /// Index of the batch within the run (0-based).
    pub batch: usize,
    pub loss: f32,
    pub forward_seconds: f64,
    pub backward_seconds: f64,
    pub update_seconds: f64,
}

/// The messages [`UnitWorker::backward`] produces for the neighbours.
pub struct Backward {
    pub report: UnitBatch,
    /// For the unit above: this unit's gradient for the stage it shares with it.
    pub to_upper: Option<SharedGrads>,
    /// For the unit below: this unit's gradient for the stage it shares with it.
    pub to_lower: Option<SharedGrads>,
}

/// One unit of a plan running on its own: its modules, its optimizer, its part of the schedule.
pub struct UnitWorker {
    pub unit: usize,
    spec: LocalUnit,
    config: TrainConfig,
    /// Position within `spec.stages` of the stage the unit above reads.
    act_at: Option<usize>,
    net: UnitNet,
    optim: ModuleOptimizer,
    device: Device,
    /// Bottom stage's parameters, when it is shared with the unit below (this unit owns it).
    bottom: Option<Vec<(ParamId, Vec<usize>)>>,
    /// Top stage's parameters, when it is shared with the unit above (this unit holds a copy).
    top: Option<Vec<(ParamId, Vec<usize>)>>,
    first_step: usize,
    steps: usize,
    /// Batches whose backward pass has run.
    done: usize,
    loss: Option<Tensor<1>>,
    forward_seconds: f64,
    held_top: Option<GradientsParams>,
    held_bottom: Option<GradientsParams>,
    /// Seconds spent in `settle_*` for the last batch (added to its update time).
    settle_seconds: f64,
}

impl UnitWorker {
    /// Unit `u` of `plan`, with its modules cloned from `net` and `optim`'s state (only this
    /// unit's parameters are ever stepped), for `steps` batches starting at trainer step
    /// `first_step` (the learning-rate schedule). `device` is an autodiff device.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        plan: &Plan,
        schedule: &Schedule,
        u: usize,
        net: UnitNet,
        optim: ModuleOptimizer,
        config: &TrainConfig,
        device: &Device,
        first_step: usize,
        steps: usize,
    ) -> Self {
        let spec = plan.units[u].clone();
        let act_at = plan.units.get(u + 1).map(|_| schedule.input_stage[u + 1].expect("a unit above reads a stage") - spec.stages.start);
        let bottom = schedule.shares_bottom[u].then(|| param_shapes(&net.stages[0]));
        let top = schedule.shares_top[u].then(|| param_shapes(net.stages.last().expect("a unit has stages")));
        Self {
            unit: u,
            spec,
            config: config.clone(),
            act_at,
            net,
            optim,
            device: device.clone(),
            bottom,
            top,
            first_step,
            steps,
            done: 0,
            loss: None,
            forward_seconds: 0.0,
            held_top: None,
            held_bottom: None,
            settle_seconds: 0.0,
        }
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether this unit's bottom stage is shared with the unit below (then it calls
    /// `settle_bottom` once before its first batch and after every batch).
    pub fn shares_bottom(&self) -> bool {
        self.bottom.is_some()
    }
    pub fn shares_top(&self) -> bool {
        self.top.is_some()
    }

    /// Forward pass on this batch's input (the views for the bottom unit, the activation from
    /// the unit below otherwise); returns the detached activation for the unit above.
    pub fn forward(&mut self, input: Tensor<4>) -> Option<Activation> {
        let started = Instant::now();
        let mut x = match &self.net.stem {
            Some(stem) => stem.forward(input),
            None => input,
        };
        let mut act = None;
        let last = self.net.stages.len() - 1;
        for (i, stage) in self.net.stages.iter().enumerate() {
            x = match (i == last).then_some(self.spec.top) {
                Some(TopStage::FirstBlocks(n)) => stage.forward_blocks(x, n),
                Some(TopStage::Copy { .. }) => unreachable!("refused by Plan::schedule"),
                _ => stage.forward(x),
            };
            if self.act_at == Some(i) {
                act = Some(Activation::of(x.clone().detach()));
            }
        }
        self.loss = Some(nt_xent(self.net.head.forward(x), self.config.temperature));
        self.forward_seconds = started.elapsed().as_secs_f64();
        act
    }

    fn lr(&self, batch: usize) -> f64 {
        crate::optim::learning_rate(&self.config, self.first_step + batch.min(self.steps.saturating_sub(1)))
    }

    fn apply(&mut self, lr: f64, grads: Vec<GradientsParams>) {
        let grads: Vec<_> = grads.into_iter().filter(|g| !g.is_empty()).map(|g| (g, self.device.clone())).collect();
        if !grads.is_empty() {
            self.net = self.optim.step_multi(lr, self.net.clone(), MultiGradientsParams { grads });
        }
    }

    /// Loss, backward pass and the update of every parameter this unit alone trains; returns
    /// the shared-stage gradients for the neighbours. An error (a non-finite loss) leaves this
    /// batch's update unapplied.
    pub fn backward(&mut self) -> Result<Backward> {
        let started = Instant::now();
        let loss = self.loss.take().expect("forward before backward");
        let value = crate::device::floats(loss.clone().detach().without_autodiff().try_into_data())?.first().copied().unwrap_or(f32::NAN);
        let batch = self.done;
        if !value.is_finite() {
            return Err(Error::Diverged(format!(
                "unit {} has loss {value} at step {}; lower the learning rate (now {}) or raise the temperature (now {})",
                self.unit,
                self.first_step + batch + 1,
                self.config.peak_lr(),
                self.config.temperature
            )));
        }
        let mut g = loss.backward();
        let mut own = GradientsParams::from_module(&mut g, &self.net);
        drop(g);
        // The shared stage's gradients move out of `own` into `held` (applied at settle time)
        // and are read once for the neighbour's message.
        let take = |own: &mut GradientsParams, params: &[(ParamId, Vec<usize>)]| {
            let mut held = GradientsParams::new();
            let parts = params
                .iter()
                .map(|(id, shape)| {
                    move_grad(own, &mut held, *id, shape.len());
                    grad_values(&held, *id, shape.len())
                })
                .collect();
            (held, SharedGrads { parts })
        };
        if matches!(self.spec.top, TopStage::ReadOnly) {
            // LoCo upper-only: the lower unit reads its top stage but does not train it.
            for (id, rank) in param_ids(self.net.stages.last().expect("a unit has stages")) {
                remove_grad(&mut own, id, rank);
            }
        }
        let to_upper = self.top.clone().map(|p| {
            let (held, msg) = take(&mut own, &p);
            self.held_top = Some(held);
            msg
        });
        let to_lower = self.bottom.clone().map(|p| {
            let (held, msg) = take(&mut own, &p);
            self.held_bottom = Some(held);
            msg
        });
        let backward_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        self.apply(self.lr(batch), vec![own]);
        self.done += 1;
        let report = UnitBatch {
            unit: self.unit,
            batch,
            loss: value,
            forward_seconds: self.forward_seconds,
            backward_seconds,
            update_seconds: started.elapsed().as_secs_f64(),
        };
        self.settle_seconds = 0.0;
        Ok(Backward { report, to_upper, to_lower })
    }

    fn received(&self, msg: Option<SharedGrads>, params: &[(ParamId, Vec<usize>)]) -> Result<GradientsParams> {
        let mut g = GradientsParams::new();
        let Some(msg) = msg else { return Ok(g) };
        if msg.parts.len() != params.len() {
            return Err(Error::Config(format!("unit {}: a shared-stage message has {} parameters, the stage {}", self.unit, msg.parts.len(), params.len())));
        }
        for ((id, shape), part) in params.iter().zip(msg.parts) {
            if let Some(v) = part {
                if v.len() != shape.iter().product::<usize>() {
                    return Err(Error::Config(format!("unit {}: a shared-stage gradient has {} values for a parameter of shape {shape:?}", self.unit, v.len())));
                }
                put_values(&mut g, *id, shape, v, &self.device.clone().inner());
            }
        }
        Ok(g)
    }

    /// Update the copy of the top stage with this unit's gradient on the batch just run plus
    /// the unit above's on the batch before (`None`: it has not run one yet). Only for a unit
    /// whose top stage is shared.
    pub fn settle_top(&mut self, from_upper: Option<SharedGrads>) -> Result<()> {
        let started = Instant::now();
        let params = self.top.clone().expect("settle_top on a unit whose top stage is not shared");
        let theirs = self.received(from_upper, &params)?;
        let mine = self.held_top.take().unwrap_or_default();
        // The update's index is this unit's batch, as for the owner (see settle_bottom).
        self.apply(self.lr(self.done - 1), vec![mine, theirs]);
        self.settle_seconds += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// Update the owned bottom stage with this unit's gradient on the batch just run (none
    /// before the first) plus the unit below's on the batch after it (`None`: it has no more).
    /// Only for a unit whose bottom stage is shared.
    pub fn settle_bottom(&mut self, from_lower: Option<SharedGrads>) -> Result<()> {
        let started = Instant::now();
        let params = self.bottom.clone().expect("settle_bottom on a unit whose bottom stage is not shared");
        let theirs = self.received(from_lower, &params)?;
        let mine = self.held_bottom.take().unwrap_or_default();
        // Same learning rate as the lower unit applies to its copy: that of its batch `done`.
        self.apply(self.lr(self.done), vec![theirs, mine]);
        self.settle_seconds += started.elapsed().as_secs_f64();
        Ok(())
    }

    /// A shared-stage message from its flat form ([`SharedGrads::flatten`]): the top stage's
    /// layout when `top`, the bottom stage's otherwise.
    pub fn unflatten(&self, top: bool, values: &[f32], present: &[u8]) -> Result<SharedGrads> {
        let params = if top { &self.top } else { &self.bottom };
        let params = params.as_ref().ok_or_else(|| Error::Config(format!("unit {} shares no {} stage", self.unit, if top { "top" } else { "bottom" })))?;
        if present.len() != params.len() {
            return Err(Error::Config(format!("unit {}: a shared-stage message names {} parameters, the stage has {}", self.unit, present.len(), params.len())));
        }
        let mut at = 0;
        let mut parts = Vec::with_capacity(params.len());
        for ((_, shape), &p) in params.iter().zip(present) {
            if p == 0 {
                parts.push(None);
                continue;
            }
            let n: usize = shape.iter().product();
            let v = values.get(at..at + n).ok_or_else(|| Error::Config(format!("unit {}: a shared-stage message is cut short", self.unit)))?;
            parts.push(Some(v.to_vec()));
            at += n;
        }
        if at != values.len() {
            return Err(Error::Config(format!("unit {}: a shared-stage message has {} values too many", self.unit, values.len() - at)));
        }
        Ok(SharedGrads { parts })
    }

    /// Seconds spent in `settle_*` since the last `backward`.
    pub fn settle_seconds(&self) -> f64 {
        self.settle_seconds
    }

    /// Unit `u` of the trainer a snapshot holds (the page hands each Web Worker the bundle of
    /// its trainer's snapshot), for `steps` batches from its step.
    pub fn from_snapshot(snap: &crate::checkpoint::Snapshot, u: usize, steps: usize, device: &Device) -> Result<Self> {
        let cfg = &snap.config;
        let spec = crate::model::ArchSpec::new(cfg.arch, cfg.input)?;
        let plan = super::plan_for(cfg, &spec)?;
        let schedule = plan.schedule(spec.stages.len())?;
        if u >= plan.units.len() {
            return Err(Error::Config(format!("{}: unit {u} of a plan with {} units", snap.origin(), plan.units.len())));
        }
        let device = device.clone().autodiff();
        let net = snap.load_network(plan.build(&spec, cfg.proj_dim, &device))?;
        let optim = snap.load_optimizer()?.ok_or_else(|| Error::Checkpoint(format!("{} holds no optimizer state", snap.origin())))?;
        Ok(Self::new(&plan, &schedule, u, UnitNet::of(&net, &plan, u), optim, cfg, &device, snap.step, steps))
    }

    /// The unit's modules and optimizer after its last batch, as bytes (burn's records) for
    /// [`crate::train::Trainer::units_from_bytes`].
    pub fn finish_bytes(self) -> Result<(Vec<u8>, Vec<u8>)> {
        let (net, optim) = self.finish();
        let ck = |e: &dyn std::fmt::Debug| Error::Checkpoint(format!("cannot encode a unit: {e:?}"));
        let model = net.into_record().into_bytes().map_err(|e| ck(&e))?.to_vec();
        let optim = optim.into_bytes().map_err(|e| ck(&e))?.to_vec();
        Ok((model, optim))
    }

    /// The unit's modules and optimizer, after its last batch.
    pub fn finish(self) -> (UnitNet, ModuleOptimizer) {
        (self.net.private(), self.optim)
    }

    /// The bottom stage (owned, when shared), for checking the copies stay equal.
    pub fn bottom_stage(&self) -> &Stage {
        &self.net.stages[0]
    }
}
