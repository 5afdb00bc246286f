//! The unit-by-unit step runner shared by every method: forward, loss, backward and release of
//! one unit at a time, handing each parameter's gradient to the optimizer as soon as no later
//! unit adds to it (see [`Plan::next_unit`]).

use burn::module::ParamId;
use burn::optim::GradientsParams;
use burn::prelude::*;
use web_time::Instant;

use super::grads::{flat_params, move_grad, param_ids, remove_grad};
use super::plan::{LocalUnit, Plan, TopStage};
use crate::config::TrainConfig;
use crate::error::Error;
use crate::loss::nt_xent;
use crate::model::cpu::Tape;
use crate::model::{Decoder, Network, Stage};

/// What one unit's loss contributes to a training step.
pub struct UnitUpdate {
    /// The loss value (detached from the graph).
    pub loss: Tensor<1>,
    /// Gradients for exactly the parameters this unit's loss updates.
    pub grads: GradientsParams,
    /// Wall time of the forward pass (stages, decoder, loss) and of the backward pass. Exact on
    /// the CPU backend, which runs each op to completion; on a GPU it is the time to enqueue.
    pub forward_seconds: f64,
    pub backward_seconds: f64,
}

impl Plan {
    /// Run every unit on `views` ([2N, 3, H, W], on an autodiff device) and return each unit's
    /// loss and raw gradients, without updating anything (for inspecting gradient flow).
    pub fn unit_updates(&self, net: &Network, views: Tensor<4>, temperature: f64) -> Vec<UnitUpdate> {
        self.unit_updates_of(self.begin(net, views), net, temperature)
    }

    /// [`Plan::unit_updates`] of a step begun with [`Plan::begin`] (and perhaps
    /// [`StepRun::without_replay`]).
    pub fn unit_updates_of(&self, mut run: StepRun, net: &Network, temperature: f64) -> Vec<UnitUpdate> {
        (0..self.units.len()).map(|u| self.forward_backward(&mut run, net, u, temperature)).collect()
    }

    /// Start a training step on `views`. Drive it with [`Plan::next_unit`], applying each unit's
    /// ready gradients before asking for the next unit.
    pub fn begin(&self, net: &Network, views: Tensor<4>) -> StepRun {
        let stages = net.stages.len();
        let mut last_reader = vec![None; stages];
        for (u, unit) in self.units.iter().enumerate() {
            if unit.stages.start > 0 {
                last_reader[unit.stages.start - 1] = Some(u);
            }
        }
        // The last unit whose loss reaches each module: its gradient is complete after that unit.
        let mut release: Vec<Vec<(ParamId, usize)>> = vec![Vec::new(); self.units.len()];
        let last_with = |f: &dyn Fn(&LocalUnit) -> bool| self.units.iter().rposition(f);
        if let Some(u) = last_with(&|x| x.stages.start == 0) {
            release[u].extend(param_ids(&net.stem));
        }
        for (s, stage) in net.stages.iter().enumerate() {
            if let Some(u) = last_with(&|x| x.stages.contains(&s)) {
                release[u].extend(param_ids(stage));
            }
        }
        for (u, head) in net.heads.iter().enumerate() {
            release[u].extend(param_ids(head));
        }
        for (c, copy) in net.copies.iter().enumerate() {
            if let Some(u) = last_with(&|x| matches!(x.top, TopStage::Copy { copy, .. } if copy == c)) {
                release[u].extend(param_ids(copy));
            }
        }
        // The units that run each stage with its own weights: the first records the stage's
        // forward pass, the others replay it (LoCo's shared stage; see `Tape`).
        let runners = (0..stages).map(|s| (0..self.units.len()).filter(|&u| self.units[u].runs_own(s)).collect()).collect();
        StepRun {
            next: 0,
            last_reader,
            cache: vec![None; stages],
            runners,
            tapes: (0..stages).map(|_| None).collect(),
            replay: true,
            replayed: 0,
            stem_input: Some(views),
            held: (0..self.units.len()).map(|_| Vec::new()).collect(),
            release,
        }
    }

    /// Run the next unit of `run` (forward, loss, backward, release of its graph) and hand back
    /// every gradient that is now complete: this unit's, plus what units below it left for
    /// parameters it shares with them (LoCo's shared stage). Gradients for parameters a later
    /// unit also trains are held in `run` until then, so a step never holds more than a unit's
    /// (and a shared stage's) gradients, and the update equals one update with the summed
    /// gradients of all units. `None` when every unit has run.
    pub fn next_unit(&self, run: &mut StepRun, net: &Network, temperature: f64) -> Option<UnitStep> {
        let u = run.next;
        if u == self.units.len() {
            return None;
        }
        let UnitUpdate { loss, mut grads, forward_seconds, backward_seconds } = self.forward_backward(run, net, u, temperature);
        for v in u + 1..self.units.len() {
            let mut later = GradientsParams::new();
            for &(id, rank) in &run.release[v] {
                move_grad(&mut grads, &mut later, id, rank);
            }
            if !later.is_empty() {
                run.held[v].push(later);
            }
        }
        let mut ready = std::mem::take(&mut run.held[u]);
        ready.push(grads);
        Some(UnitStep { unit: u, loss, ready, forward_seconds, backward_seconds })
    }

    fn forward_backward(&self, run: &mut StepRun, net: &Network, u: usize, temperature: f64) -> UnitUpdate {
        let started = Instant::now();
        let unit = &self.units[u];
        run.next = u + 1;
        let start = unit.stages.start;
        let x = if start == 0 {
            net.stem.forward(run.stem_input.take().expect("only one unit starts at the stem"))
        } else {
            let input = if run.last_reader[start - 1] == Some(u) { run.cache[start - 1].take() } else { run.cache[start - 1].clone() };
            // Gradient isolation: a unit's input carries no graph from the units below.
            input.expect("a unit's input stage was computed by a unit below it").detach()
        };
        for s in unit.stages.clone().filter(|&s| unit.runs_own(s)) {
            match &mut run.tapes[s] {
                Some(tape) => tape.rewind(),
                None if run.replay && run.runners[s].last().is_some_and(|&last| last > u) => run.tapes[s] = Some(Tape::recording()),
                None => {}
            }
        }
        let (cache, last_reader) = (&mut run.cache, &run.last_reader);
        let copy = match unit.top {
            TopStage::Copy { copy, .. } => Some(&net.copies[copy]),
            _ => None,
        };
        let mut loss = unit.forward(x, |s| &net.stages[s], copy, &net.heads[u], temperature, &mut run.tapes, |s, x| {
            if last_reader[s].is_some_and(|r| r > u) && cache[s].is_none() {
                cache[s] = Some(x.clone().detach());
            }
        });
        for s in unit.stages.clone() {
            if run.runners[s].last() == Some(&u) {
                run.replayed += run.tapes[s].take().map_or(0, |t| t.replayed());
            }
        }
        if let TopStage::Copy { copy, l2 } = unit.top {
            loss = loss + soft_penalty(&net.copies[copy], &net.stages[unit.top_stage()]) * l2;
        }
        let forward_seconds = started.elapsed().as_secs_f64();
        let started = Instant::now();
        let mut grads = loss.backward();
        let mut params = GradientsParams::from_module(&mut grads, net);
        if !unit.updates_top() {
            for (id, rank) in param_ids(&net.stages[unit.top_stage()]) {
                remove_grad(&mut params, id, rank);
            }
        }
        drop(grads);
        let backward_seconds = started.elapsed().as_secs_f64();
        UnitUpdate { loss: loss.detach().without_autodiff(), grads: params, forward_seconds, backward_seconds }
    }
}


impl LocalUnit {
    /// This unit's forward pass from its input (the stem's output for the bottom unit, the
    /// detached output of the stage below it otherwise): its stages bottom to top (`stage(s)`:
    /// stage `s` of the network), the top one as [`TopStage`] says (`copy`: the soft-sharing
    /// copy that runs in its place), then its decoder and NT-Xent; `each(s, &x)` sees the output
    /// of every stage that ran whole, for the units above. `tapes[s]`, where there is one, records
    /// stage `s`'s forward pass or replays it (see [`Tape`]; a parallel unit passes none). The one
    /// forward pass of a unit: the engine's and a parallel unit's (`crate::worker`), so GIM's
    /// "parallel equals sequential" rests on one function.
    #[allow(clippy::too_many_arguments)]
    pub fn forward<'a>(
        &self,
        mut x: Tensor<4>,
        stage: impl Fn(usize) -> &'a Stage,
        copy: Option<&'a Stage>,
        head: &Decoder,
        temperature: f64,
        tapes: &mut [Option<Tape>],
        mut each: impl FnMut(usize, &Tensor<4>),
    ) -> Tensor<1> {
        for s in self.stages.clone() {
            let top = if s == self.top_stage() { self.top } else { TopStage::Whole };
            let tape = tapes.get_mut(s).and_then(Option::as_mut);
            x = match top {
                TopStage::Whole | TopStage::ReadOnly => {
                    let y = stage(s).forward_taped(x, stage(s).blocks.len(), tape);
                    each(s, &y);
                    y
                }
                TopStage::Copy { .. } => copy.expect("a soft-sharing unit runs its copy").forward(x),
                TopStage::FirstBlocks(n) => stage(s).forward_taped(x, n, tape),
            };
        }
        nt_xent(head.forward(x), temperature)
    }
}

/// The state of one training step between units (see [`Plan::begin`]).
pub struct StepRun {
    next: usize,
    /// Last unit that reads the output of stage s as its input, to free it after.
    last_reader: Vec<Option<usize>>,
    /// Detached stage outputs that a later unit takes as its input.
    cache: Vec<Option<Tensor<4>>>,
    stem_input: Option<Tensor<4>>,
    /// `held[v]`: gradients from units below v for parameters whose last unit is v.
    held: Vec<Vec<GradientsParams>>,
    /// `release[v]`: the parameters whose gradient is complete once unit v has run.
    release: Vec<Vec<(ParamId, usize)>>,
    /// `runners[s]`: the units that run stage s with its own weights, bottom to top.
    runners: Vec<Vec<usize>>,
    /// `tapes[s]`: stage s's forward pass as its first runner computed it, until its last
    /// runner has replayed it.
    tapes: Vec<Option<Tape>>,
    replay: bool,
    replayed: usize,
}

impl StepRun {
    /// Compute a stage that several units run once per unit instead of replaying the first
    /// unit's forward pass: the reference the replay is tested against (`tests/replay.rs`).
    pub fn without_replay(mut self) -> Self {
        self.replay = false;
        self
    }

    /// How many conv + BatchNorm pairs this step has replayed so far.
    pub fn replayed_pairs(&self) -> usize {
        self.replayed
    }
}

/// One unit of a training step, ready to be applied.
pub struct UnitStep {
    pub unit: usize,
    /// The unit's loss (detached). Check it before applying `ready`.
    pub loss: Tensor<1>,
    /// Complete gradients, possibly split over several containers that the optimizer sums
    /// (`MultiGradientsParams`): every parameter whose last contributing unit is this one.
    pub ready: Vec<GradientsParams>,
    pub forward_seconds: f64,
    pub backward_seconds: f64,
}

/// The one message for a unit whose loss is not finite (the engine's and a parallel unit's):
/// which unit, at which step, what `kept` of the model, and what to change.
pub fn diverged(cfg: &TrainConfig, unit: usize, name: &str, loss: f32, step: usize, kept: &str) -> Error {
    Error::Diverged(format!(
        "unit {unit} ({name}) has loss {loss} at step {step}: {kept}. Lower the learning rate (now {}) or raise the temperature (now {}).",
        cfg.peak_lr(),
        cfg.temperature
    ))
}

/// `sum ||a - b||^2` over the trainable parameters of two modules of the same shape.
pub fn soft_penalty(a: &Stage, b: &Stage) -> Tensor<1> {
    let (pa, pb) = (flat_params(a), flat_params(b));
    let mut total: Option<Tensor<1>> = None;
    for (x, y) in pa.into_iter().zip(pb) {
        let d = (x - y).powi_scalar(2).sum();
        total = Some(match total {
            Some(t) => t + d,
            None => d,
        });
    }
    total.expect("a stage has parameters")
}

