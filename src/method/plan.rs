//! The vocabulary every method speaks: a [`Plan`] of [`LocalUnit`]s with their decoders, and
//! the [`Method`] trait that cuts an architecture into one.

use std::ops::Range;

use burn::prelude::*;

use crate::config::MethodKind;
use crate::error::Result;
use crate::model::arch::{ArchSpec, BlockKind};
use crate::model::backbone::{Stage, Stem};
use crate::model::decoder::{Decoder, DecoderSpec};
use crate::model::network::Network;

/// One local unit: the stages it runs, the decoder on top, and what its loss may update.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalUnit {
    /// Stages run by this unit; its input is the detached output of stage `stages.start - 1`
    /// (or the stem, which belongs to the unit that starts at stage 0).
    pub stages: Range<usize>,
    /// How the unit uses its top stage (LoCo's sharing modes; [`TopStage::Whole`] elsewhere).
    pub top: TopStage,
}

/// What a unit does with its top stage. One value per LoCo sharing mode, so a unit cannot be
/// both a copy and a block prefix, or carry a soft coefficient without a copy.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TopStage {
    /// Runs and trains the whole stage (SimCLR, GIM, LoCo's hard sharing).
    Whole,
    /// Runs the whole stage but leaves its update to the unit above (LoCo `upper-only`).
    ReadOnly,
    /// Runs and trains `copies[copy]` in its place, tied to the stage by
    /// `l2 * ||copy - stage||^2` (LoCo `soft:<l2>`).
    Copy { copy: usize, l2: f64 },
    /// Runs and trains only the first `n` blocks of the stage (LoCo `blocks:<n>`).
    FirstBlocks(usize),
}

impl LocalUnit {
    /// A unit that runs and trains `stages` whole.
    pub fn whole(stages: Range<usize>) -> Self {
        Self { stages, top: TopStage::Whole }
    }

    pub fn top_stage(&self) -> usize {
        self.stages.end - 1
    }

    /// Whether this unit runs stage `s` with the stage's own weights (not a soft-sharing copy).
    pub fn runs_own(&self, s: usize) -> bool {
        self.stages.contains(&s) && !(s == self.top_stage() && matches!(self.top, TopStage::Copy { .. }))
    }

    /// Whether this unit's loss updates the (main copy of the) top stage.
    pub fn updates_top(&self) -> bool {
        !matches!(self.top, TopStage::ReadOnly)
    }
}

/// Shape of one decoder.
#[derive(Clone, Copy, Debug)]
pub struct HeadSpec {
    pub decoder: DecoderSpec,
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

/// A training method: its name, its label with its knobs, and how it cuts an architecture
/// into local units.
pub trait Method {
    fn kind(&self) -> MethodKind;
    /// A short label with the method's own knobs, e.g. `loco(hard, conv-mlp)`.
    fn label(&self) -> String;
    /// The units for `spec`, or why this method's knobs do not fit it.
    fn plan(&self, spec: &ArchSpec) -> Result<Plan>;
}

/// Decoder for a unit whose top is stage `top`: the MLP head on the last stage (as SimCLR's),
/// `decoder` elsewhere.
pub(crate) fn head_for(spec: &ArchSpec, top: usize, decoder: DecoderSpec) -> HeadSpec {
    let st = &spec.stages[top];
    let last = top + 1 == spec.stages.len();
    HeadSpec { decoder: if last { DecoderSpec::MLP } else { decoder }, block: st.kind, channels: st.out }
}

impl Plan {
    pub fn build(&self, spec: &ArchSpec, proj_dim: usize, device: &Device) -> Network {
        Network {
            stem: Stem::new(spec, device),
            stages: (0..spec.stages.len()).map(|i| Stage::new(spec, i, device)).collect(),
            heads: self.heads.iter().map(|h| Decoder::new(h.decoder, h.block, h.channels, proj_dim, device)).collect(),
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
                if let TopStage::FirstBlocks(b) = u.top {
                    n += &format!("[:{b}]");
                }
                n
            })
            .collect()
    }
}

