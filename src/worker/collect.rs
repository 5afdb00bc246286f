//! The one place a parallel run's step reports are assembled, from the units' batch reports,
//! for every transport (threads natively, Web Workers in the page).

use std::collections::VecDeque;

use web_time::Instant;

use super::protocol::UnitBatch;
use crate::config::TrainConfig;
use crate::data::Sampler;
use crate::step::{StepReport, UnitPhases};

/// Collects each unit's [`UnitBatch`] and gives a [`StepReport`] as soon as every unit has
/// finished a batch, in batch order. A report's `seconds` is the time since the step before it
/// completed (the pipeline's throughput), counted from [`Collector::start`].
pub struct Collector {
    config: TrainConfig,
    names: Vec<String>,
    sampler: Sampler,
    first_step: usize,
    images_seen: usize,
    /// Per batch from `emitted` on, each unit's report once it has come.
    rows: VecDeque<Vec<Option<UnitBatch>>>,
    emitted: usize,
    started: Instant,
    last: f64,
}

impl Collector {
    /// For a run of a trainer at `first_step` with `images_seen` images behind it, whose units
    /// are `names` (bottom to top) and whose sample order is `sampler`.
    pub fn new(config: &TrainConfig, names: Vec<String>, sampler: Sampler, first_step: usize, images_seen: usize) -> Self {
        Self {
            config: config.clone(),
            names,
            sampler,
            first_step,
            images_seen,
            rows: VecDeque::new(),
            emitted: 0,
            started: Instant::now(),
            last: 0.0,
        }
    }

    /// Start the clock (when every unit is ready).
    pub fn start(&mut self) {
        self.started = Instant::now();
        self.last = 0.0;
    }

    /// Seconds since [`Collector::start`] until the last completed step.
    pub fn seconds(&self) -> f64 {
        self.last
    }

    /// Take one unit's report; returns the steps it completes (none, one or several).
    pub fn add(&mut self, r: UnitBatch) -> Vec<StepReport> {
        let units = self.names.len();
        if r.unit < units && r.batch >= self.emitted {
            let (at, unit) = (r.batch - self.emitted, r.unit);
            if self.rows.len() <= at {
                self.rows.resize(at + 1, vec![None; units]);
            }
            self.rows[at][unit] = Some(r);
        }
        let mut out = Vec::new();
        // Rows of the batches not yet complete, from batch `emitted` on.
        while self.rows.front().is_some_and(|row| row.iter().all(Option::is_some)) {
            let row: Vec<UnitBatch> = self.rows.pop_front().expect("a complete row").into_iter().map(|r| r.expect("complete")).collect();
            out.push(self.report(self.emitted, &row));
            self.emitted += 1;
        }
        out
    }

    fn report(&mut self, b: usize, row: &[UnitBatch]) -> StepReport {
        let at = self.started.elapsed().as_secs_f64();
        let seconds = at - self.last;
        self.last = at;
        let cfg = &self.config;
        let step = self.first_step + b + 1;
        StepReport {
            step,
            losses: row.iter().map(|u| u.loss).collect(),
            units: self.names.clone(),
            lr: crate::optim::learning_rate(cfg, step - 1),
            seconds,
            images_per_sec: cfg.batch as f64 / seconds.max(1e-9),
            images_seen: self.images_seen + (b + 1) * cfg.batch,
            epoch: self.sampler.epochs_after(step),
            data_wait_seconds: 0.0,
            phases: row
                .iter()
                .map(|u| UnitPhases { forward_seconds: u.forward_seconds, backward_seconds: u.backward_seconds, update_seconds: u.update_seconds, peak_bytes: None })
                .collect(),
            peak_bytes: None,
        }
    }
}
