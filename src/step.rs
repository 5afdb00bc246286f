//! What one training step did: the report every door shows, logs and plots.

use serde::{Deserialize, Serialize};

/// What one training step did.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StepReport {
    /// 1-based count of steps completed.
    pub step: usize,
    /// One loss per local unit (SimCLR: one), bottom to top.
    pub losses: Vec<f32>,
    /// Names of the units, e.g. `res2` (GIM) or `res2+res3` (LoCo).
    pub units: Vec<String>,
    pub lr: f64,
    pub seconds: f64,
    pub images_per_sec: f64,
    /// Images seen so far (the shared x-axis of the comparison plot).
    pub images_seen: usize,
    /// Epochs completed after this step (images seen / training images).
    #[serde(default)]
    pub epoch: f64,
    /// Seconds the step waited for its batch of views (0 when the loader kept up).
    #[serde(default)]
    pub data_wait_seconds: f64,
    /// Where the step's time went, per unit (bottom to top).
    pub phases: Vec<UnitPhases>,
    /// Peak memory of the step above what was live when it started (bytes), when the trainer
    /// measures memory ([`crate::train::Trainer::measure_memory`]).
    #[serde(default)]
    pub peak_bytes: Option<u64>,
}

/// Wall time of one unit's parts of a step (see [`crate::method::UnitUpdate`] for what the
/// times mean on a GPU).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct UnitPhases {
    pub forward_seconds: f64,
    pub backward_seconds: f64,
    /// The optimizer update of the parameters this unit completed.
    pub update_seconds: f64,
    /// Peak memory while this unit ran (forward, backward, update), above what was live when
    /// the step started; the unit with the largest sets the step's peak.
    #[serde(default)]
    pub peak_bytes: Option<u64>,
}
