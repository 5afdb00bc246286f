//! One unit of a parallel run: its modules, optimizer and the protocol's state machine.

use burn::module::ParamId;
use burn::optim::{GradientsParams, ModuleOptimizer, MultiGradientsParams};
use burn::prelude::*;
use web_time::Instant;

use super::protocol::{Activation, Incoming, Need, Outgoing, SharedGrads, UnitBatch};
use crate::checkpoint::{load_optimizer_record, load_record};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::method::grads::{flat_params, grad_values, move_grad, param_ids, param_shapes, put_values, remove_grad};
use crate::method::{diverged, Blueprint, LocalUnit, Plan, Wiring, TopStage, UnitNet};
use crate::model::Network;

/// Where a unit is in the protocol (see [`crate::worker`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// The owner of a shared bottom stage, before its first batch: needs the unit below's
    /// gradient on that unit's first batch.
    Prime,
    Input,
    Upper,
    Lower,
    Done,
}

/// One unit of a plan running on its own: its modules, its optimizer, its part of the wiring.
pub struct UnitWorker {
    pub unit: usize,
    /// The unit's name in messages (`res2+res3`).
    name: String,
    local: LocalUnit,
    config: TrainConfig,
    /// Position within `local.stages` of the stage the unit above reads.
    act_at: Option<usize>,
    net: UnitNet,
    optim: ModuleOptimizer,
    device: Device,
    /// Bottom stage's parameters, when it is shared with the unit below (this unit owns it).
    bottom: Option<Vec<(ParamId, Vec<usize>)>>,
    /// Top stage's parameters, when it is shared with the unit above (this unit holds a copy).
    top: Option<Vec<(ParamId, Vec<usize>)>>,
    first_step: usize,
    /// Batches whose backward pass has run.
    done: usize,
    loss: Option<Tensor<1>>,
    forward_seconds: f64,
    held_top: Option<GradientsParams>,
    held_bottom: Option<GradientsParams>,
    /// Seconds spent in `settle_*` since the last report (added to the next report's update
    /// time).
    settle_seconds: f64,
    /// This unit's gradient on its last batch for the stage it owns and shares with the unit
    /// below, held until the next message from below says whether that unit runs another
    /// batch (then it needs this) or has ended.
    to_lower: Option<SharedGrads>,
    phase: Phase,
    /// The running batch's report, sent once its top stage is settled.
    report: Option<UnitBatch>,
    /// The owned bottom stage's values before its last (owner-only) update, to compare with the
    /// lower unit's copy after the same number of updates.
    bottom_before_last: Option<Vec<Tensor<1>>>,
}

/// A finished unit's modules and optimizer as burn's records (what a Web Worker hands back).
pub struct UnitRecord {
    pub model: Vec<u8>,
    pub optim: Vec<u8>,
}

/// Each unit's modules and optimizer from its [`UnitRecord`], checked against `net`'s units
/// under `plan` (unit order).
pub fn load_units(records: Vec<UnitRecord>, net: &Network, plan: &Plan, config: &TrainConfig) -> Result<Vec<(UnitNet, ModuleOptimizer)>> {
    records
        .into_iter()
        .enumerate()
        .map(|(j, r)| {
            let bad = |what: &str, e: String| Error::Checkpoint(format!("unit {j}'s {what} from its worker: {e}"));
            let net = load_record(UnitNet::of(net, plan, j), r.model).map_err(|e| bad("weights", e))?;
            let optim = load_optimizer_record(config, r.optim).map_err(|e| bad("optimizer state", e))?;
            Ok((net, optim))
        })
        .collect()
}

impl UnitWorker {
    /// Unit `u` of `plan`, with its modules cloned from `net` and `optim`'s state (only this
    /// unit's parameters are ever stepped), for a run starting at trainer step `first_step`
    /// (the learning-rate schedule) and ending with [`Incoming::End`]. `device` is an autodiff
    /// device.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        bp: &Blueprint,
        wiring: &Wiring,
        u: usize,
        net: UnitNet,
        optim: ModuleOptimizer,
        config: &TrainConfig,
        device: &Device,
        first_step: usize,
    ) -> Self {
        let plan = &bp.plan;
        let local = plan.units[u].clone();
        let act_at = plan.units.get(u + 1).map(|_| wiring.input_stage[u + 1].expect("a unit above reads a stage") - local.stages.start);
        let bottom = wiring.shares_bottom[u].then(|| param_shapes(&net.stages[0]));
        let top = wiring.shares_top[u].then(|| param_shapes(net.stages.last().expect("a unit has stages")));
        Self {
            unit: u,
            name: plan.unit_names(&bp.spec).swap_remove(u),
            local,
            config: config.clone(),
            act_at,
            net,
            optim,
            device: device.clone(),
            bottom,
            top,
            first_step,
            done: 0,
            loss: None,
            forward_seconds: 0.0,
            held_top: None,
            held_bottom: None,
            settle_seconds: 0.0,
            to_lower: None,
            phase: if wiring.shares_bottom[u] {
                Phase::Prime
            } else {
                Phase::Input
            },
            report: None,
            bottom_before_last: None,
        }
    }

    /// The message this unit waits for next.
    pub fn need(&self) -> Need {
        match self.phase {
            Phase::Input => Need::Input,
            Phase::Upper => Need::FromUpper,
            Phase::Prime | Phase::Lower => Need::FromLower,
            Phase::Done => Need::Done,
        }
    }

    /// Take the message [`UnitWorker::need`] asked for, calling `send` with each message to
    /// send as soon as it is ready (the activation before the backward pass, so the unit above
    /// starts at once). An error (a non-finite loss, a message out of turn or of the wrong
    /// shape, a failed send) stops the unit with the running batch's update unapplied.
    pub fn give(&mut self, msg: Incoming, send: &mut dyn FnMut(Outgoing) -> Result<()>) -> Result<()> {
        let need = self.need();
        if !msg.answers(need) {
            return Err(Error::Config(format!("unit {} waits for {need:?}, not {}", self.unit, msg.kind())));
        }
        match msg {
            Incoming::FromLower(g) if self.phase == Phase::Prime => {
                self.settle_bottom(Some(g), self.done)?;
                self.phase = Phase::Input;
            }
            Incoming::Input(a) => {
                let x = a.into_tensor(&self.device.clone().inner());
                if let Some(act) = self.forward(x) {
                    send(Outgoing::Activation(act))?;
                }
                let (report, to_upper, to_lower) = self.backward()?;
                self.report = Some(report);
                if let Some(g) = to_upper {
                    send(Outgoing::ToUpper(g))?;
                }
                self.to_lower = to_lower;
                if self.top.is_some() {
                    if self.done == 1 {
                        // The unit above has run no batch yet: nothing to wait for.
                        self.settle_top(None)?;
                    } else {
                        self.phase = Phase::Upper;
                        return Ok(());
                    }
                }
                self.after_top(send)?;
            }
            Incoming::FromUpper(g) => {
                self.settle_top(Some(g))?;
                self.after_top(send)?;
            }
            Incoming::FromLower(g) => {
                // The unit below runs another batch: it needs our gradient on this one.
                if let Some(mine) = self.to_lower.take() {
                    send(Outgoing::ToLower(mine))?;
                }
                self.settle_bottom(Some(g), self.done)?;
                self.phase = Phase::Input;
            }
            Incoming::End => {
                if self.phase == Phase::Lower {
                    // The unit below has ended: the owned stage's last update has our gradient
                    // only, at our last batch's learning rate.
                    self.to_lower = None;
                    self.bottom_before_last = Some(flat_params(&self.net.stages[0]));
                    self.settle_bottom(None, self.done - 1)?;
                }
                self.phase = Phase::Done;
                send(Outgoing::End)?;
            }
        }
        Ok(())
    }

    /// After the top stage is settled the batch is reported (its loss and times; the update of
    /// an owned bottom stage, still to come, counts in the next batch's update time). Then the
    /// owned bottom stage waits for the unit below to say whether it runs another batch (its
    /// gradient on it, or the end); a unit without one is ready for its next input.
    fn after_top(&mut self, send: &mut dyn FnMut(Outgoing) -> Result<()>) -> Result<()> {
        let mut report = self.report.take().expect("a batch is running");
        report.update_seconds += std::mem::take(&mut self.settle_seconds);
        self.phase = if self.bottom.is_some() { Phase::Lower } else { Phase::Input };
        send(Outgoing::Report(report))
    }

    /// Whether this unit's top stage is shared with the unit above (it holds a copy).
    pub fn shares_top(&self) -> bool {
        self.top.is_some()
    }

    /// Forward pass on this batch's input (the views for the bottom unit, the activation from
    /// the unit below otherwise); returns the detached activation for the unit above.
    fn forward(&mut self, input: Tensor<4>) -> Option<Activation> {
        let started = Instant::now();
        let x = match &self.net.stem {
            Some(stem) => stem.forward(input),
            None => input,
        };
        let mut act = None;
        let (start, act_at) = (self.local.stages.start, self.act_at);
        let stages = &self.net.stages;
        self.loss = Some(self.local.forward(x, |s| &stages[s - start], None, &self.net.head, self.config.temperature, &mut [], |s, x| {
            if act_at == Some(s - start) {
                act = Some(Activation::of(x.clone().detach()));
            }
        }));
        self.forward_seconds = started.elapsed().as_secs_f64();
        act
    }

    fn lr(&self, batch: usize) -> f64 {
        crate::optim::learning_rate(&self.config, self.first_step + batch)
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
    fn backward(&mut self) -> Result<(UnitBatch, Option<SharedGrads>, Option<SharedGrads>)> {
        let started = Instant::now();
        let loss = self.loss.take().expect("forward before backward");
        let value = crate::device::floats(loss.clone().detach().without_autodiff().try_into_data())?.first().copied().unwrap_or(f32::NAN);
        let batch = self.done;
        if !value.is_finite() {
            let kept = "no update of this run of units in parallel is kept: the model is as it was before the run";
            return Err(diverged(&self.config, self.unit, &self.name, value, self.first_step + batch + 1, kept));
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
        if matches!(self.local.top, TopStage::ReadOnly) {
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
        Ok((report, to_upper, to_lower))
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
    fn settle_top(&mut self, from_upper: Option<SharedGrads>) -> Result<()> {
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
    /// before the first) plus the unit below's on the batch after it (`None`: it has no more),
    /// at the learning rate of batch `lr_batch`. Only for a unit whose bottom stage is shared.
    fn settle_bottom(&mut self, from_lower: Option<SharedGrads>, lr_batch: usize) -> Result<()> {
        let started = Instant::now();
        let params = self.bottom.clone().expect("settle_bottom on a unit whose bottom stage is not shared");
        let theirs = self.received(from_lower, &params)?;
        let mine = self.held_bottom.take().unwrap_or_default();
        // Same learning rate as the lower unit applies to its copy: that of its batch `done`
        // (after our last batch, when it has none: that of our last).
        self.apply(self.lr(lr_batch), vec![theirs, mine]);
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

    /// Unit `u` of the trainer a snapshot holds (the page hands each Web Worker the bundle of
    /// its trainer's snapshot), for a run from its step.
    pub fn from_snapshot(snap: &crate::checkpoint::Snapshot, u: usize, device: &Device) -> Result<Self> {
        let cfg = &snap.config;
        let bp = Blueprint::of(cfg)?;
        let wiring = bp.wiring()?;
        if u >= bp.plan.units.len() {
            return Err(Error::Config(format!("{}: unit {u} of a plan with {} units", snap.origin(), bp.plan.units.len())));
        }
        let device = device.clone().autodiff();
        let net = snap.load_network(bp.plan.build(&bp.spec, cfg.proj_dim, &device))?;
        let optim = snap.load_optimizer()?.ok_or_else(|| Error::Checkpoint(format!("{} holds no optimizer state", snap.origin())))?;
        Ok(Self::new(&bp, &wiring, u, UnitNet::of(&net, &bp.plan, u), optim, cfg, &device, snap.step))
    }

    /// The unit's modules and optimizer after its last batch, as burn's records (for
    /// [`load_units`]).
    pub fn finish_record(self) -> Result<UnitRecord> {
        let (net, optim) = self.finish();
        let ck = |e: &dyn std::fmt::Debug| Error::Checkpoint(format!("cannot encode a unit: {e:?}"));
        let model = net.into_record().into_bytes().map_err(|e| ck(&e))?.to_vec();
        let optim = optim.into_bytes().map_err(|e| ck(&e))?.to_vec();
        Ok(UnitRecord { model, optim })
    }

    /// The unit's modules and optimizer, after its last batch.
    pub fn finish(self) -> (UnitNet, ModuleOptimizer) {
        (self.net.private(), self.optim)
    }

    /// The top stage (a copy, when shared with the unit above).
    pub fn top_stage(&self) -> &crate::model::Stage {
        self.net.stages.last().expect("a unit has stages")
    }

    /// The owned bottom stage's values before its last update (when shared), for checking that
    /// the lower unit's copy, after the same number of updates, is equal.
    pub fn bottom_before_last(&self) -> Option<&[Tensor<1>]> {
        self.bottom_before_last.as_deref()
    }
}
