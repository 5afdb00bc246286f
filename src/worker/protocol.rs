//! The messages between units, as data (both targets): what a unit waits for ([`Need`]), what
//! it receives ([`Incoming`]) and sends ([`Outgoing`]), and the batch every unit draws.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

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
    pub(super) fn answers(&self, need: Need) -> bool {
        match self {
            Incoming::Input(_) => need == Need::Input,
            Incoming::FromUpper(_) => need == Need::FromUpper,
            Incoming::FromLower(_) => need == Need::FromLower,
            Incoming::End => matches!(need, Need::Input | Need::FromLower),
        }
    }

    pub(super) fn kind(&self) -> &'static str {
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


