//! Experiment files: everything a run or a comparison needs (preset, knobs, data, budget,
//! methods, seeds, evaluation) in one TOML file to commit and send. `locolab train --config FILE`
//! and `locolab compare --config FILE` read it, flags override it, and the run directory keeps
//! the resolved file (`experiment.toml`: every knob explicit, the budget in steps, the data as an
//! absolute path), so `--config RUN_DIR/experiment.toml` runs the same thing again.
//!
//! The keys are flat: the file's own (below) and every training knob under its config name
//! ([`Overrides`], the names `experiment.json` and `config.json` use). A key nobody knows is a
//! one-line error naming it, the file, and the nearest known key. A relative `data` path is
//! relative to the file's folder.
//!
//! ```toml
//! preset = "cifar-scale"
//! data = "../../shared/data/cifar10-jpeg/cifar10-jpeg.tar.xz"
//! epochs = 10
//! methods = ["simclr", "gim", "loco"]
//! seeds = 3
//! batch = 128
//! ```

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::config::{MethodKind, Overrides, TrainConfig, DEFAULT_PRESET};
use crate::error::{Error, Result};
use crate::experiment::ExperimentSpec;

/// The file's own keys, besides the training knobs.
const OWN_KEYS: [&str; 10] =
    ["preset", "data", "epochs", "methods", "seeds", "eval_every", "monitor_train", "monitor_test", "checkpoint_every", "converged_probe"];

/// Defaults of a comparison's settings the file (and the flags) leave unset.
pub const DEFAULT_SEEDS: usize = 1;
pub const DEFAULT_MONITOR_TRAIN: usize = 2000;
pub const DEFAULT_MONITOR_TEST: usize = 1000;
pub const DEFAULT_CHECKPOINT_EVERY: usize = 50;

/// One experiment file, or the flags of one command read as one: every field optional.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Recipe {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preset: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<PathBuf>,
    /// Passes over the training images (instead of `steps`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub epochs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub methods: Option<Vec<MethodKind>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seeds: Option<usize>,
    /// kNN monitor every this many steps [default: 10 points per run].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub eval_every: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_train: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub monitor_test: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checkpoint_every: Option<usize>,
    /// The final evaluation also runs the converged probe (and kNN at k = 20).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub converged_probe: Option<bool>,
    /// The training knobs over the preset.
    #[serde(flatten)]
    pub knobs: Overrides,
}

impl Recipe {
    /// Read an experiment file; a relative `data` path becomes relative to the file's folder.
    pub fn read(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(format!("cannot read experiment file {}", path.display()), e))?;
        let mut r = Self::parse(&text, &path.display().to_string())?;
        if let Some(d) = r.data.as_mut().filter(|d| d.is_relative()) {
            *d = path.parent().unwrap_or(Path::new(".")).join(&*d);
        }
        Ok(r)
    }

    /// Parse a file's text (`source` names it in errors).
    pub fn parse(text: &str, source: &str) -> Result<Self> {
        let table: toml::Table = text.parse().map_err(|e: toml::de::Error| Error::Config(format!("{source}: not TOML: {}", one_line(&e.to_string()))))?;
        let known = known_keys();
        for key in table.keys() {
            if !known.iter().any(|k| k == key) {
                let nearest = known.iter().min_by_key(|k| strsim::levenshtein(k, key)).expect("keys exist");
                return Err(Error::Config(format!("{source}: unknown key '{key}' (nearest known: '{nearest}')")));
            }
        }
        // Key by key first, so a bad value's message names its key.
        let value = serde_json::to_value(&table).map_err(|e| Error::Config(format!("{source}: {e}")))?;
        for (key, v) in value.as_object().expect("a table") {
            let one = serde_json::Value::Object([(key.clone(), v.clone())].into_iter().collect());
            if let Err(e) = serde_json::from_value::<Recipe>(one) {
                return Err(Error::Config(format!("{source}: {key}: {}", one_line(&e.to_string()))));
            }
        }
        serde_json::from_value(value).map_err(|e| Error::Config(format!("{source}: {}", one_line(&e.to_string()))))
    }

    /// `self` with every setting `top` sets taken from `top` (the flags over a file).
    pub fn under(self, top: Recipe) -> Recipe {
        let mut merged = serde_json::to_value(&self).expect("serialises");
        let over = serde_json::to_value(&top).expect("serialises");
        if let (Some(m), Some(o)) = (merged.as_object_mut(), over.as_object()) {
            for (k, v) in o.iter().filter(|(_, v)| !v.is_null()) {
                m.insert(k.clone(), v.clone());
            }
        }
        serde_json::from_value(merged).expect("a merge of two recipes is a recipe")
    }

    pub fn preset_name(&self) -> &str {
        self.preset.as_deref().unwrap_or(DEFAULT_PRESET)
    }

    /// The training config: the preset, the knobs, and the budget in steps (`epochs` of
    /// `train_images` when given; the images are only counted then).
    pub fn config(&self, train_images: impl FnOnce() -> Result<usize>) -> Result<TrainConfig> {
        match self.epochs {
            Some(e) => TrainConfig::preset_for_epochs(self.preset_name(), &self.knobs, e, train_images()?),
            None => TrainConfig::preset_with(self.preset_name(), &self.knobs),
        }
    }

    /// The preset and knobs without the budget (its steps need the data's size when it is in
    /// epochs): what `inspect` and `bench` read from a file.
    pub fn network_config(&self) -> Result<TrainConfig> {
        TrainConfig::preset_with(self.preset_name(), &Overrides { steps: None, ..self.knobs.clone() })
    }

    /// The comparison this recipe describes, over `base` (its resolved config). No commit:
    /// `compare` stamps the one it runs ([`ExperimentSpec::commit`]).
    pub fn spec(&self, base: TrainConfig) -> ExperimentSpec {
        ExperimentSpec {
            eval_every: self.eval_every.unwrap_or((base.steps / 10).max(1)),
            base,
            methods: self.methods.clone().unwrap_or_else(|| MethodKind::ALL.to_vec()),
            seeds: self.seeds.unwrap_or(DEFAULT_SEEDS),
            monitor_train: self.monitor_train.unwrap_or(DEFAULT_MONITOR_TRAIN),
            monitor_test: self.monitor_test.unwrap_or(DEFAULT_MONITOR_TEST),
            checkpoint_every: self.checkpoint_every.unwrap_or(DEFAULT_CHECKPOINT_EVERY),
            converged_probe: self.converged_probe.unwrap_or(false),
            commit: None,
        }
    }

    /// The file a run directory keeps: `preset`, every knob of `cfg` explicit (the budget in
    /// steps), the data as an absolute path, and the comparison's settings when there is one.
    pub fn resolved(preset: &str, cfg: &TrainConfig, data: &Path, spec: Option<&ExperimentSpec>) -> Recipe {
        let knobs: Overrides = serde_json::from_value(serde_json::to_value(cfg).expect("serialises")).expect("a config's keys are knobs");
        let data = std::fs::canonicalize(data).unwrap_or_else(|_| data.to_path_buf());
        let mut r = Recipe { preset: Some(preset.to_string()), data: Some(data), knobs, ..Recipe::default() };
        if let Some(s) = spec {
            r.knobs.method = None; // per run: `methods`
            r.methods = Some(s.methods.clone());
            r.seeds = Some(s.seeds);
            r.eval_every = Some(s.eval_every);
            r.monitor_train = Some(s.monitor_train);
            r.monitor_test = Some(s.monitor_test);
            r.checkpoint_every = Some(s.checkpoint_every);
            r.converged_probe = s.converged_probe.then_some(true);
        }
        r
    }

    /// TOML text, with a header saying what wrote it.
    pub fn to_toml(&self, header: &str) -> String {
        let mut value = serde_json::to_value(self).expect("serialises");
        if let Some(m) = value.as_object_mut() {
            m.retain(|_, v| !v.is_null()); // unset knobs (TOML has no null)
        }
        let mut table: toml::Table = serde_json::from_value(value).expect("a recipe is a TOML table");
        // What a reader looks for first, then the rest in name order.
        let mut text: String = header.lines().map(|l| format!("# {l}\n")).collect();
        for key in ["preset", "data", "epochs", "methods", "seeds"] {
            if let Some(v) = table.remove(key) {
                text += &toml::to_string(&toml::Table::from_iter([(key.to_string(), v)])).expect("serialises");
            }
        }
        text + &toml::to_string(&table).expect("serialises")
    }
}

/// Every key a file may hold: the file's own and the training knobs'.
pub fn known_keys() -> Vec<String> {
    let knobs = serde_json::to_value(Overrides::default()).expect("serialises");
    OWN_KEYS.iter().map(|k| k.to_string()).chain(knobs.as_object().expect("a struct").keys().cloned()).collect()
}

/// A message on one line, without the "invalid configuration: " an inner config error adds.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ").replace("invalid configuration: ", "")
}
