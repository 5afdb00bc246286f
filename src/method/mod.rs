//! How a batch of two views becomes losses and parameter updates.
//!
//! Every method is a list of [`LocalUnit`]s over one [`Network`]: SimCLR is one unit spanning
//! every stage, GIM one unit per stage, LoCo units of two stages overlapping by one. The shared
//! engine ([`Plan::unit_updates`]) runs them unit by unit (forward, loss, backward, drop the
//! graph) so peak memory is set by the largest unit, not the whole network.

pub mod gim;
pub mod loco;
pub mod simclr;

use std::ops::Range;

use burn::module::{ModuleVisitor, Param, ParamId};
use burn::optim::GradientsParams;
use burn::prelude::*;

use crate::config::{DecoderKind, MethodKind, TrainConfig};
use crate::loss::nt_xent;
use crate::model::{global_pool, ArchSpec, BlockKind, Decoder, Stage, Stem};

pub use gim::Gim;
pub use loco::Loco;
pub use simclr::Simclr;

/// The encoder plus every method-specific part (decoders, soft-sharing copies).
#[derive(Module, Debug)]
pub struct Network {
    pub stem: Stem,
    pub stages: Vec<Stage>,
    /// One decoder per loss, in unit order.
    pub heads: Vec<Decoder>,
    /// LoCo soft sharing: the lower unit's own copy of each shared stage.
    pub copies: Vec<Stage>,
}

impl Network {
    /// Frozen features: stem, every stage, global average pool ([N, C] per stage).
    pub fn features(&self, x: Tensor<4>) -> Vec<Tensor<2>> {
        let mut x = self.stem.forward(x);
        let mut out = Vec::with_capacity(self.stages.len());
        for s in &self.stages {
            x = s.forward(x);
            out.push(global_pool(x.clone()));
        }
        out
    }
}

/// One local unit: the stages it runs, the decoder on top, and what its loss may update.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalUnit {
    /// Stages run by this unit; its input is the detached output of stage `stages.start - 1`
    /// (or the stem, which belongs to the unit that starts at stage 0).
    pub stages: Range<usize>,
    /// Run only the first `n` blocks of the top stage (LoCo `blocks:<n>`).
    pub top_blocks: Option<usize>,
    /// Run `copies[i]` instead of the top stage (LoCo soft sharing), tied by `soft_l2`.
    pub top_copy: Option<usize>,
    pub soft_l2: f64,
    /// False when the top stage is shared and updated by the upper unit only.
    pub updates_top: bool,
}

impl LocalUnit {
    pub fn top(&self) -> usize {
        self.stages.end - 1
    }
}

/// Shape of one decoder.
#[derive(Clone, Copy, Debug)]
pub struct HeadSpec {
    pub kind: DecoderKind,
    pub block: BlockKind,
    pub channels: usize,
}

/// A method made concrete for one architecture: units, their decoders and copies.
#[derive(Clone, Debug)]
pub struct Plan {
    pub units: Vec<LocalUnit>,
    pub heads: Vec<HeadSpec>,
    /// Stage index copied for each soft-sharing copy.
    pub copies: Vec<usize>,
}

/// What one unit's loss contributes to a training step.
pub struct UnitUpdate {
    /// The loss value (detached from the graph).
    pub loss: Tensor<1>,
    /// Gradients for exactly the parameters this unit's loss updates.
    pub grads: GradientsParams,
}

/// A training method: how an architecture is cut into local units.
pub trait Method {
    fn plan(&self, spec: &ArchSpec) -> Plan;
}

/// The method a config names.
pub fn plan_for(cfg: &TrainConfig, spec: &ArchSpec) -> Plan {
    match cfg.method {
        MethodKind::Simclr => Simclr.plan(spec),
        MethodKind::Gim => Gim { decoder: cfg.decoder }.plan(spec),
        MethodKind::Loco => Loco { sharing: cfg.sharing, decoder: cfg.decoder }.plan(spec),
    }
}

/// Decoder for a unit whose top is stage `top`: the MLP head on the last stage (as SimCLR's),
/// `kind` elsewhere.
pub(crate) fn head_for(spec: &ArchSpec, top: usize, kind: DecoderKind) -> HeadSpec {
    let st = &spec.stages[top];
    let last = top + 1 == spec.stages.len();
    HeadSpec { kind: if last { DecoderKind::Mlp } else { kind }, block: st.kind, channels: st.out }
}

impl Plan {
    pub fn build(&self, spec: &ArchSpec, proj_dim: usize, device: &Device) -> Network {
        Network {
            stem: Stem::new(spec, device),
            stages: (0..spec.stages.len()).map(|i| Stage::new(spec, i, device)).collect(),
            heads: self.heads.iter().map(|h| Decoder::new(h.kind, h.block, h.channels, proj_dim, device)).collect(),
            copies: self.copies.iter().map(|&i| Stage::new(spec, i, device)).collect(),
        }
    }

    /// Run every unit on `views` ([2N, 3, H, W], on an autodiff device): forward, loss,
    /// backward and release of the unit's graph, one unit at a time.
    pub fn unit_updates(&self, net: &Network, views: Tensor<4>, temperature: f64) -> Vec<UnitUpdate> {
        let stages = net.stages.len();
        // Last unit that reads the output of stage s as its input, to free it after.
        let mut last_reader = vec![None; stages];
        for (u, unit) in self.units.iter().enumerate() {
            if unit.stages.start > 0 {
                last_reader[unit.stages.start - 1] = Some(u);
            }
        }
        let mut cache: Vec<Option<Tensor<4>>> = vec![None; stages];
        let mut stem_input = Some(views);
        let mut out = Vec::with_capacity(self.units.len());
        for (u, unit) in self.units.iter().enumerate() {
            let start = unit.stages.start;
            let mut x = if start == 0 {
                net.stem.forward(stem_input.take().expect("only one unit starts at the stem"))
            } else {
                let input = if last_reader[start - 1] == Some(u) { cache[start - 1].take() } else { cache[start - 1].clone() };
                // Gradient isolation: a unit's input carries no graph from the units below.
                input.expect("a unit's input stage was computed by a unit below it").detach()
            };
            for s in unit.stages.clone() {
                let top = s == unit.top();
                let stage = match unit.top_copy {
                    Some(c) if top => &net.copies[c],
                    _ => &net.stages[s],
                };
                x = match unit.top_blocks {
                    Some(n) if top => stage.forward_blocks(x, n),
                    _ => stage.forward(x),
                };
                let full_main = !top || (unit.top_blocks.is_none() && unit.top_copy.is_none());
                if full_main && last_reader[s].is_some_and(|r| r > u) && cache[s].is_none() {
                    cache[s] = Some(x.clone().detach());
                }
            }
            let mut loss = nt_xent(net.heads[u].forward(x), temperature);
            if let Some(c) = unit.top_copy {
                loss = loss + soft_penalty(&net.copies[c], &net.stages[unit.top()]) * unit.soft_l2;
            }
            let mut grads = loss.backward();
            let mut params = GradientsParams::from_module(&mut grads, net);
            if !unit.updates_top {
                for (id, rank) in param_ids(&net.stages[unit.top()]) {
                    remove_grad(&mut params, id, rank);
                }
            }
            out.push(UnitUpdate { loss: loss.detach().without_autodiff(), grads: params });
        }
        out
    }
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

struct FlatParams(Vec<Tensor<1>>);
impl ModuleVisitor for FlatParams {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let v = param.val();
        if v.is_require_grad() {
            self.0.push(v.flatten(0, D - 1));
        }
    }
}

/// Every trainable float parameter of a module, flattened, in visiting order.
pub fn flat_params<M: Module>(m: &M) -> Vec<Tensor<1>> {
    let mut v = FlatParams(Vec::new());
    m.visit(&mut v);
    v.0
}

struct Ids(Vec<(ParamId, usize)>);
impl ModuleVisitor for Ids {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push((param.id, D));
    }
}

/// The ids and ranks of a module's float parameters (burn's gradient container is typed by
/// rank: reading an id at the wrong rank panics).
pub fn param_ids<M: Module>(m: &M) -> Vec<(ParamId, usize)> {
    let mut v = Ids(Vec::new());
    m.visit(&mut v);
    v.0
}

/// Drop one parameter's gradient; returns `|grad|` summed, if it had one.
pub fn remove_grad(g: &mut GradientsParams, id: ParamId, rank: usize) -> Option<Tensor<1>> {
    match rank {
        1 => g.remove::<1>(id).map(|t| t.abs().sum()),
        2 => g.remove::<2>(id).map(|t| t.abs().sum()),
        4 => g.remove::<4>(id).map(|t| t.abs().sum()),
        r => unreachable!("no rank-{r} parameters in these networks"),
    }
}

/// `sum |grad|` of one parameter's gradient, if it has one.
pub fn grad_abs_sum(g: &GradientsParams, id: ParamId, rank: usize) -> Option<Tensor<1>> {
    match rank {
        1 => g.get::<1>(id).map(|t| t.abs().sum()),
        2 => g.get::<2>(id).map(|t| t.abs().sum()),
        4 => g.get::<4>(id).map(|t| t.abs().sum()),
        r => unreachable!("no rank-{r} parameters in these networks"),
    }
}
