//! How a batch of two views becomes losses and parameter updates.
//!
//! Every method is a list of [`LocalUnit`]s over one [`Network`]: SimCLR is one unit spanning
//! every stage, GIM one unit per stage, LoCo units of two stages overlapping by one. The shared
//! engine ([`Plan::begin`], [`Plan::next_unit`]) runs them unit by unit (forward, loss, backward,
//! drop the graph) and hands each parameter's gradient to the optimizer as soon as no later unit
//! adds to it, so peak memory is set by the largest unit (activations and gradients), not the
//! whole network.

pub mod engine;
pub mod gim;
pub mod grads;
pub mod loco;
pub mod simclr;

use std::ops::Range;

use burn::prelude::*;

use crate::config::{DecoderKind, MethodKind, TrainConfig};
use crate::model::{ArchSpec, BlockKind, Decoder, Network, Stage, Stem};

pub use engine::{StepRun, UnitStep, UnitUpdate};
pub use grads::{flat_params, grad_abs_sum, param_ids, remove_grad};

pub use gim::Gim;
pub use loco::Loco;
pub use simclr::Simclr;

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

    /// Unit names in loss order, e.g. `res2+res3` (LoCo) or `res5+res6[:1]` (`blocks:1`).
    pub fn unit_names(&self, spec: &ArchSpec) -> Vec<String> {
        self.units
            .iter()
            .map(|u| {
                let names: Vec<&str> = u.stages.clone().map(|s| spec.stages[s].name.as_str()).collect();
                let mut n = names.join("+");
                if let Some(b) = u.top_blocks {
                    n += &format!("[:{b}]");
                }
                n
            })
            .collect()
    }
}

