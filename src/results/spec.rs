//! What an experiment is (its spec) and what its runs wrote (their results).

use serde::{Deserialize, Serialize};

use crate::cadence::Cadence;
use crate::config::{MethodKind, TrainConfig};
use crate::error::{Error, Result};
use crate::eval::StageAccuracy;

/// The label of the random-init baseline in every table and figure.
pub const RANDOM_INIT: &str = "random-init";

/// Everything that defines an experiment; saved as `experiment.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// The shared config; `method` and `seed` are set per run (seed + 0, 1, ...).
    pub base: TrainConfig,
    pub methods: Vec<MethodKind>,
    pub seeds: usize,
    /// kNN monitor every this many steps (and at step 0 and the end); 0: only at the ends.
    pub eval_every: usize,
    /// Monitor bank: this many training images, queries: this many test images, each spread
    /// evenly over its split (`ImageSet::spread`: every class in proportion).
    pub monitor_train: usize,
    pub monitor_test: usize,
    /// Periodic checkpoint every this many steps (and at the end).
    pub checkpoint_every: usize,
    /// The final evaluation also runs the converged probe and kNN at k = 20
    /// ([`crate::eval::EvalOptions::converged`]); off in experiments written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub converged_probe: bool,
    /// The git commit of the binary that started the experiment ([`crate::COMMIT`]): what to
    /// build to replay it. Not part of what the experiment is ([`Self::same_experiment`]);
    /// absent in experiments started before it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl ExperimentSpec {
    /// Steps for `epochs` passes over `train_images` at the base batch (rounded up).
    pub fn steps_for_epochs(epochs: f64, train_images: usize, batch: usize) -> Result<usize> {
        Ok(crate::config::epoch_steps(crate::config::check_epochs(epochs)?, train_images, batch))
    }

    pub fn validate(&self) -> Result<()> {
        if self.methods.is_empty() {
            return Err(Error::Config("--methods names no method".into()));
        }
        for &m in &self.methods {
            crate::method::check(&self.config(m, 0))?;
        }
        if self.seeds == 0 {
            return Err(Error::Config("--seeds must be >= 1".into()));
        }
        if self.monitor_train == 0 || self.monitor_test == 0 {
            return Err(Error::Config("the kNN monitor needs at least one train and one test image".into()));
        }
        if self.checkpoint_every == 0 {
            return Err(Error::Config("--checkpoint-every must be >= 1".into()));
        }
        Ok(())
    }

    /// When the run of `cfg` (one of this spec's) evaluates and checkpoints.
    pub fn cadence(&self, cfg: &TrainConfig) -> Cadence {
        Cadence::monitored(self.eval_every, self.checkpoint_every, cfg.steps)
    }

    /// Whether `other` describes the same runs: every field but the commit that started it.
    pub fn same_experiment(&self, other: &Self) -> bool {
        self.without_commit() == other.without_commit()
    }

    /// This spec with no commit: what a recipe file describes ([`crate::recipe::Recipe::spec`]).
    pub fn without_commit(&self) -> Self {
        Self { commit: None, ..self.clone() }
    }

    /// The knobs that say what a method is, which experiments joined in one report may differ
    /// in ([`Self::pairs_with`]): the method and its own knobs.
    pub const TREATMENT_KNOBS: &'static [&'static str] = &["method", "sharing", "decoder", "decoder_depth", "module_stages"];

    /// Whether the runs of `other` pair seed for seed with this experiment's (the same network,
    /// input, batch, schedule, optimiser, seeds and monitor: a seed gives the same initial
    /// encoder and the same batches), so that one report may compare them: only the methods
    /// and their own knobs ([`Self::TREATMENT_KNOBS`]) may differ. `Err` names the first
    /// setting that differs, with both values.
    pub fn pairs_with(&self, other: &Self) -> std::result::Result<(), String> {
        let knobs = |c: &TrainConfig| match serde_json::to_value(c).expect("a config serialises") {
            serde_json::Value::Object(mut m) => {
                m.retain(|k, _| !Self::TREATMENT_KNOBS.contains(&k.as_str()));
                m
            }
            _ => unreachable!("a config is an object"),
        };
        let (a, b) = (knobs(&self.base), knobs(&other.base));
        for (k, v) in &a {
            if b.get(k) != Some(v) {
                return Err(format!("{k} is {v} in one and {} in the other", b.get(k).map_or("absent".into(), |w| w.to_string())));
            }
        }
        let settings = [
            ("seeds", self.seeds, other.seeds),
            ("eval_every", self.eval_every, other.eval_every),
            ("monitor_train", self.monitor_train, other.monitor_train),
            ("monitor_test", self.monitor_test, other.monitor_test),
        ];
        match settings.iter().find(|(_, x, y)| x != y) {
            Some((k, x, y)) => Err(format!("{k} is {x} in one and {y} in the other")),
            None => Ok(()),
        }
    }

    /// The config of one run.
    pub fn config(&self, method: MethodKind, seed_index: usize) -> TrainConfig {
        TrainConfig { method, seed: self.base.seed + seed_index as u64, ..self.base.clone() }
    }
}

/// One kNN monitor point: top-1 (%) of every stage on the fixed bank.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonitorPoint {
    pub step: usize,
    pub images_seen: usize,
    pub knn: Vec<f64>,
}

/// One finished run (or the random-init baseline, with `steps` 0).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// `simclr`, `gim(conv-mlp)`, ..., or `random-init`.
    pub method: String,
    /// The method trained, as data (absent in results written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained: Option<Trained>,
    pub seed: u64,
    pub steps: usize,
    pub images_seen: usize,
    /// Training time summed over every session that worked on this run (evaluation excluded).
    pub train_seconds: f64,
    pub stages: Vec<String>,
    /// Final kNN (full bank) and linear probe, every stage.
    pub accuracy: Vec<StageAccuracy>,
    pub monitor: Vec<MonitorPoint>,
    pub units: Vec<String>,
    /// Mean loss of every unit over each monitor interval: `(last step of the interval, losses)`.
    pub loss_curve: Vec<(usize, Vec<f32>)>,
    /// The git commit of the binary that finished the run ([`crate::COMMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl RunResult {
    /// The method this run trained; `None` for the random-init baseline.
    pub fn kind(&self) -> Option<MethodKind> {
        match self.trained {
            Some(Trained::Method(k)) => Some(k),
            Some(Trained::RandomInit) => None,
            // Written before `trained` existed (the pinned binaries of docs/results/cifar50k):
            // the label starts with the method's name, and random-init names none.
            None => self.method.split('(').next().and_then(|m| m.parse().ok()),
        }
    }
}

/// What a run trained: a method, or nothing (the random-init baseline). Written as the
/// method's name or `random-init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Trained {
    Method(MethodKind),
    RandomInit,
}

impl TryFrom<String> for Trained {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        if s == RANDOM_INIT { Ok(Trained::RandomInit) } else { s.parse().map(Trained::Method) }
    }
}

impl From<Trained> for String {
    fn from(t: Trained) -> String {
        match t {
            Trained::Method(k) => k.to_string(),
            Trained::RandomInit => RANDOM_INIT.into(),
        }
    }
}


/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentReport {
    pub spec: ExperimentSpec,
    pub runs: Vec<RunResult>,
    /// The specs of other experiments whose runs this report compares with its own
    /// ([`Self::join`]); empty for one experiment's report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beside: Vec<ExperimentSpec>,
}

impl ExperimentReport {
    /// One experiment's report.
    pub fn new(spec: ExperimentSpec, runs: Vec<RunResult>) -> Self {
        Self { spec, runs, beside: Vec::new() }
    }

    /// This report and `other`'s runs in one, to compare methods of two experiments seed for
    /// seed (a control trained after the main comparison): refused unless the experiments pair
    /// ([`ExperimentSpec::pairs_with`]) and name their methods apart. `other`'s random-init
    /// runs are left out where this report has the seed's (the same untrained encoder).
    pub fn join(mut self, other: ExperimentReport, name: &str) -> Result<Self> {
        self.spec.pairs_with(&other.spec).map_err(|e| Error::Config(format!("{name} does not pair with this experiment: {e}")))?;
        for r in other.runs {
            let random = r.kind().is_none();
            match self.runs.iter().find(|s| s.method == r.method && s.seed == r.seed) {
                Some(_) if random => continue,
                Some(_) => {
                    return Err(Error::Config(format!("{name} has a run of {} seed {} as this experiment does: one report cannot tell them apart", r.method, r.seed)))
                }
                None => self.runs.push(r),
            }
        }
        self.beside.push(other.spec);
        self.beside.extend(other.beside);
        Ok(self)
    }
}
