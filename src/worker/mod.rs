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
//! **The protocol lives here, once.** A [`UnitWorker`] is a state machine: [`UnitWorker::need`]
//! says which message it waits for ([`Need`]), [`UnitWorker::give`] takes it and returns what to
//! send ([`Outgoing`]). Per batch it needs its input (the views, or the activation of the unit
//! below), runs forward, backward and its own update, sends the activation and its gradient for
//! a shared top stage on, settles that stage with the unit above's gradient, and reports the
//! batch; an owner of a shared bottom stage then settles it with the unit below's gradient on
//! that unit's next batch, and only then sends the unit below its own gradient for the stage
//! (which that unit needs only if it runs another batch). An owner of a shared bottom stage
//! first needs one message before its first batch. The messages it can settle without (the
//! first batch's top, the last batch's bottom) it never asks for.
//!
//! **A run has no length fixed in advance.** The feed gives the bottom unit views and, when the
//! run is to end, [`Incoming::End`]; each unit, once done, passes `End` to the unit above. What
//! depends on whether a batch was the last — whether the unit below needs this unit's gradient
//! on it, whether an owner waits for the unit below's next gradient — waits for the next
//! message from below: the next batch's input or gradient, or `End`. So a transport can keep
//! its units running for as long as it likes (the page keeps them warm across its chunks of
//! steps) and end the run only when it needs the weights: a run ended after `n` batches is the
//! same as one told `n` at the start.
//!
//! A transport (OS threads in [`crate::parallel`], Web Workers in `www/unit-worker.js`)
//! only answers `need()` and delivers `give()`'s messages; [`Collector`] turns the units'
//! reports into [`crate::step::StepReport`]s. Messages are plain `f32` values ([`Activation`],
//! [`SharedGrads`]), so threads and Web Workers carry them alike (and, later, a transport
//! between devices or machines).


mod collect;
mod unit;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

pub use collect::Collector;
pub use unit::{load_units, UnitRecord, UnitWorker};

/// The message a unit waits for next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Need {
    /// Its input for the next batch (the views for the bottom unit, the activation of the unit
    /// below otherwise), or the end of the run ([`Incoming::End`]).
    Input,
    /// The unit above's gradient for the stage they share.
    FromUpper,
    /// The unit below's gradient for the stage they share (on its next batch), or the end of
    /// the run ([`Incoming::End`]: the unit below has no next batch).
    FromLower,
    /// Nothing: the run has ended ([`UnitWorker::finish`]).
    Done,
}

/// A message for a unit (what [`UnitWorker::need`] asked for).
#[derive(Debug)]
pub enum Incoming {
    Input(Activation),
    FromUpper(SharedGrads),
    FromLower(SharedGrads),
    /// No more batches: from the feed (bottom unit) after the last views it gives, and from the
    /// unit below once that unit is done ([`Outgoing::End`]).
    End,
}

impl Incoming {
    /// Whether this message is one `need` waits for.
    fn answers(&self, need: Need) -> bool {
        match self {
            Incoming::Input(_) => need == Need::Input,
            Incoming::FromUpper(_) => need == Need::FromUpper,
            Incoming::FromLower(_) => need == Need::FromLower,
            Incoming::End => matches!(need, Need::Input | Need::FromLower),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Incoming::Input(_) => "an input",
            Incoming::FromUpper(_) => "a gradient from the unit above",
            Incoming::FromLower(_) => "a gradient from the unit below",
            Incoming::End => "the end of the run",
        }
    }
}

/// A message a unit sends, and where to.
#[derive(Debug)]
pub enum Outgoing {
    /// The activation the unit above reads (its [`Incoming::Input`]).
    Activation(Activation),
    /// This unit's gradient for the stage it shares with the unit above (its [`Incoming::FromLower`]).
    ToUpper(SharedGrads),
    /// This unit's gradient for the stage it shares with the unit below (its [`Incoming::FromUpper`]).
    ToLower(SharedGrads),
    /// A batch is done in this unit (for the [`Collector`]).
    Report(UnitBatch),
    /// This unit has ended its run: the unit above's [`Incoming::End`] (dropped at the top).
    End,
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


