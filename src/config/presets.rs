//! The named presets, and the checks and derived values of a config.

use crate::error::{Error, Result};
use super::knobs::{default_warmup, Overrides, TrainConfig};
use super::values::{LrScaling, OptimizerKind};
use crate::model::arch::Arch;
use crate::model::decoder::DecoderKind;

/// Names accepted by [`TrainConfig::preset`].
pub const PRESETS: [&str; 5] = ["cifar", "browser", "imagenet", "paper", "cifar-scale"];

/// ImageNet's training images: the `paper` preset's steps are 100 epochs of them.
pub const IMAGENET_TRAIN_IMAGES: usize = 1_281_167;

impl TrainConfig {
    /// Named presets: `cifar` (presnet-cifar, native runs), `browser` (presnet-tiny, the page's
    /// default), `imagenet` (presnet50 at 224, Adam at a batch that fits a workstation),
    /// `paper` (the LoCo paper's ImageNet recipe: presnet50 at 224, batch 4096, LARS at
    /// 0.3 x batch/256, 10 warm-up epochs of 100, temperature 0.1) and `cifar-scale` (the
    /// recipe of our CIFAR-10 comparison, docs/results/cifar50k: presnet-tiny, batch 128, Adam
    /// 1e-3, 10 epochs of the 50k images). docs/results.md "Reproduce the paper" says where they differ.
    pub fn preset(name: &str) -> Result<Self> {
        let base = Self::base();
        match name {
            "cifar" => Ok(base),
            "browser" => Ok(TrainConfig { arch: Arch::PresnetTiny, batch: 32, steps: 300, warmup_steps: default_warmup(300), ..base }),
            "imagenet" => Ok(TrainConfig {
                arch: Arch::Presnet50,
                input: 224,
                batch: 32,
                temperature: 0.1,
                ..base
            }),
            "paper" => {
                let steps = epoch_steps(100.0, IMAGENET_TRAIN_IMAGES, 4096);
                Ok(TrainConfig {
                    arch: Arch::Presnet50,
                    input: 224,
                    batch: 4096,
                    optimizer: OptimizerKind::Lars,
                    lr: 0.3,
                    lr_scaling: LrScaling::Linear,
                    weight_decay: 1e-6,
                    temperature: 0.1,
                    steps,
                    warmup_epochs: Some(10.0),
                    warmup_steps: epoch_steps(10.0, IMAGENET_TRAIN_IMAGES, 4096),
                    ..base
                })
            }
            "cifar-scale" => Ok(TrainConfig {
                arch: Arch::PresnetTiny,
                steps: epoch_steps(10.0, 50_000, 128),
                warmup_steps: 10,
                ..base
            }),
            other => Err(Error::Config(format!("unknown preset '{other}'; expected one of: {}", PRESETS.join(", ")))),
        }
    }

    /// The one way both doors build a config: a named preset, then the knobs the user set.
    /// Changing the architecture moves the input to its native size and changing `steps`
    /// re-derives the warm-up ([`default_warmup`]) unless those are set too.
    pub fn preset_with(name: &str, o: &Overrides) -> Result<Self> {
        let p = Self::preset(name)?;
        // Two knobs follow others unless set too: the input the architecture's own size, the
        // warm-up the number of steps.
        let input = if o.arch.is_some() { o.arch.map(Arch::native_input) } else { None };
        let warmup = if o.steps.is_some() { o.steps.map(default_warmup) } else { None };
        let cfg = Overrides { input: o.input.or(input), warmup_steps: o.warmup_steps.or(warmup), ..o.clone() }.over(p);
        cfg.validate()?;
        Ok(cfg)
    }

    /// A preset and the user's knobs, sized by epochs: `epochs` passes over `train_images`
    /// (steps rounded up), with the warm-up in epochs too when the config counts it so
    /// (`warmup_epochs`) and the user set no warm-up steps.
    pub fn preset_for_epochs(name: &str, o: &Overrides, epochs: f64, train_images: usize) -> Result<Self> {
        if o.steps.is_some() {
            return Err(Error::Config("give --steps or --epochs, not both".into()));
        }
        check_epochs(epochs)?;
        let c = Self::preset_with(name, o)?;
        let warmup = o.warmup_steps.or(c.warmup_epochs.map(|w| epoch_steps(w, train_images, c.batch)));
        Self::preset_with(name, &Overrides { steps: Some(epoch_steps(epochs, train_images, c.batch)), warmup_steps: warmup, ..o.clone() })
    }

    /// The learning rate at the top of the schedule: `lr` scaled to this batch by `lr_scaling`.
    pub fn peak_lr(&self) -> f64 {
        let ratio = self.batch as f64 / 256.0;
        match self.lr_scaling {
            LrScaling::None => self.lr,
            LrScaling::Linear => self.lr * ratio,
            LrScaling::Sqrt => self.lr * ratio.sqrt(),
        }
    }

    /// Parse a JSON config (from the page or a file); unknown keys and bad values are errors.
    pub fn from_json(json: &str) -> Result<Self> {
        let cfg: TrainConfig = serde_json::from_str(json).map_err(|e| Error::Config(format!("bad config: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Check every knob against [`limits`], with a message a user can act on.
    pub fn validate(&self) -> Result<()> {
        self.check_ranges()?;
        if self.decoder == DecoderKind::Mlp && self.decoder_depth != 1 {
            return Err(Error::Config(format!("decoder_depth {} needs the conv-mlp decoder (the mlp decoder has no conv blocks)", self.decoder_depth)));
        }
        // The architecture must accept the input size; whether the method's own knobs fit it
        // (LoCo's blocks:<n>) is the method's check: crate::method::check.
        self.arch_spec()?;
        Ok(())
    }

    /// The network this config trains: its architecture at its input, with `blocks` per stage.
    pub fn arch_spec(&self) -> Result<crate::model::ArchSpec> {
        crate::model::ArchSpec::with_blocks(self.arch, self.input, self.blocks)
    }
}

/// An `--epochs` budget must be a positive number (every door checks it here).
pub fn check_epochs(epochs: f64) -> Result<f64> {
    if epochs.is_finite() && epochs > 0.0 {
        Ok(epochs)
    } else {
        Err(Error::Config(format!("--epochs must be a positive number, got {epochs}")))
    }
}

/// Steps for `epochs` passes over `train_images` at `batch` (rounded up; at least one): the one
/// rule `--epochs`, the presets and warm-up in epochs share.
pub fn epoch_steps(epochs: f64, train_images: usize, batch: usize) -> usize {
    ((epochs * train_images as f64) / batch.max(1) as f64).ceil().max(1.0) as usize
}
