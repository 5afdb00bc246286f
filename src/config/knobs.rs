//! The knob table: one line per knob, and everything derived from it.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::arch::Arch;
use crate::model::decoder::DecoderKind;
use super::values::{KnobValue, LrScaling, MethodKind, OptimizerKind, SharingMode};

pub mod limits {
    pub const BATCH: (usize, usize) = (2, 4096);
    pub const TEMPERATURE: (f64, f64) = (1e-3, 10.0);
    pub const LR: (f64, f64) = (1e-7, 10.0);
    pub const INPUT: (usize, usize) = (16, 512);
    pub const DECODER_DEPTH: (usize, usize) = (1, 4);
}

impl Default for TrainConfig {
    fn default() -> Self {
        Self::preset("cifar").expect("the cifar preset exists")
    }
}

/// Linear warm-up length for a run of `steps`: 5% of it, at most 10 steps.
pub fn default_warmup(steps: usize) -> usize {
    (steps / 20).min(10)
}

/// The preset a door starts from when the user names none.
pub const DEFAULT_PRESET: &str = "cifar";

/// Declares the training knobs once: each knob's name (the config field, the experiment-file
/// key, the page's setting and URL key), its type and default (the `cifar` preset's value), its
/// flag, how the page offers it, its limits and its help. From it come [`TrainConfig`] and its
/// base preset, [`Overrides`] (every door's "only what the user set", with the CLI's flags
/// derived from it), the merge over a preset ([`TrainConfig::preset_with`]), the range checks
/// of [`TrainConfig::validate`] and [`KNOBS`] (the table the page builds its settings from).
/// Adding a knob is one line here.
macro_rules! knobs {
    ($( $(#[doc = $doc:literal])* $(#[serde($($serde:tt)*)])* $name:ident : $ty:ty = $default:expr,
        flag $flag:literal $(alias $alias:literal)?, page $page:expr, range $range:expr; )*) => {
        /// One training run, end to end. Every field has a default (the `cifar` preset); the
        /// fields are the knob table's ([`KNOBS`]).
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct TrainConfig {
            $(
                $(#[doc = $doc])*
                $(#[serde($($serde)*)])*
                pub $name: $ty,
            )*
        }

        impl TrainConfig {
            /// Every knob at its declared default: the `cifar` preset.
            pub(super) fn base() -> Self {
                TrainConfig { $( $name: $default, )* }
            }

            /// Every knob with a range inside it ([`Knob::range`]).
            pub(super) fn check_ranges(&self) -> Result<()> {
                $(
                    // Typed: with another `PartialOrd<_> for f64` in the build (turso_core's, under
                    // the `persistence` feature) `None` alone would not infer.
                    let range: Option<(f64, f64)> = $range;
                    if let (Some((lo, hi)), Some(v)) = (range, KnobValue::number(&self.$name)) {
                        if !v.is_finite() || v < lo || v > hi {
                            return Err(Error::Config(format!(concat!(stringify!($name), " must be in [{}, {}], got {}"), lo, hi, v)));
                        }
                    }
                )*
                Ok(())
            }
        }

        /// Knobs a door may set over a preset; `None` keeps the preset's value. Unknown keys
        /// are errors. Declared once, in the knob table ([`KNOBS`]).
        #[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
        #[cfg_attr(feature = "cli", derive(clap::Args))]
        #[serde(default, deny_unknown_fields)]
        pub struct Overrides {
            $(
                $(#[doc = $doc])*
                #[cfg_attr(feature = "cli", arg(long = $flag $(, alias = $alias)?))]
                pub $name: Option<<$ty as KnobValue>::Given>,
            )*
        }

        /// Every training knob, in declaration order.
        pub const KNOBS: &[Knob] = &[$(
            Knob {
                name: stringify!($name),
                flag: $flag,
                kind: <$ty as KnobValue>::KIND,
                values: <$ty as KnobValue>::VALUES,
                page: $page,
                range: $range,
                help: concat!($($doc, "\n"),*),
            },
        )*];

        impl Overrides {
            /// `base` with every knob this sets.
            pub(super) fn over(&self, base: TrainConfig) -> TrainConfig {
                TrainConfig { $( $name: match self.$name.clone() { Some(v) => KnobValue::given(v), None => base.$name }, )* }
            }
        }
    };
}

/// One training knob as [`KNOBS`] lists it (the page reads the table through `knobs()`).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct Knob {
    /// The config field, experiment-file key, page setting and URL key.
    pub name: &'static str,
    /// The command-line flag (`--<flag>`).
    pub flag: &'static str,
    /// `integer`, `number`, `choice` or `text` ([`KnobValue::KIND`]).
    pub kind: &'static str,
    /// The names a `choice` knob accepts.
    pub values: &'static [&'static str],
    /// How the page offers it as a setting (`None`: it does not).
    pub page: Option<PageControl>,
    /// The bounds [`TrainConfig::validate`] checks (numbers only).
    pub range: Option<(f64, f64)>,
    /// What it does (the flag's help).
    pub help: &'static str,
}

/// A knob's control on the page: its label and, for a drop-down, the offered `(value, text)`
/// pairs (a URL may still set any value the knob accepts).
#[derive(Clone, Copy, Debug, Serialize)]
pub struct PageControl {
    pub label: &'static str,
    pub options: &'static [(&'static str, &'static str)],
}

const fn on_page(label: &'static str) -> Option<PageControl> {
    Some(PageControl { label, options: &[] })
}
const fn choose(label: &'static str, options: &'static [(&'static str, &'static str)]) -> Option<PageControl> {
    Some(PageControl { label, options })
}
const OFF: Option<PageControl> = None;
const fn lim(l: (f64, f64)) -> Option<(f64, f64)> {
    Some(l)
}
const fn ulim(l: (usize, usize)) -> Option<(f64, f64)> {
    Some((l.0 as f64, l.1 as f64))
}

knobs! {
    /// Backbone: presnet50, resnet50, presnet-cifar or presnet-tiny.
    arch: Arch = Arch::PresnetCifar, flag "arch", page OFF, range None;
    /// simclr, gim or loco.
    method: MethodKind = MethodKind::Loco, flag "method", page OFF, range None;
    /// LoCo sharing: hard, upper-only, soft:<coef> or blocks:<n>.
    sharing: SharingMode = SharingMode::Hard, flag "sharing",
        page choose("LoCo sharing", &[("hard", "hard (LoCo)"), ("upper-only", "upper unit only"), ("soft:0.001", "soft, L2 1e-3"), ("blocks:1", "first block of next stage")]),
        range None;
    /// Decoder above each local unit of GIM and LoCo: mlp or conv-mlp (the top unit always
    /// uses the MLP head, as SimCLR does).
    decoder: DecoderKind = DecoderKind::ConvMlp, flag "decoder",
        page choose("Decoder", &[("conv-mlp", "conv block + MLP (LoCo)"), ("mlp", "MLP only (GIM)")]), range None;
    /// GIM and LoCo: residual conv blocks in each conv-mlp decoder, 1-4 (1: LoCo's; 2-4: the
    /// paper's deeper decoders). Must stay 1 with the mlp decoder.
    decoder_depth: usize = 1, flag "decoder-depth", page OFF, range ulim(limits::DECODER_DEPTH);
    /// Residual blocks in every stage, widths unchanged (default: the architecture's own: 1 on
    /// presnet-tiny, 2 on presnet-cifar, 3-6 on the 224 networks). Deeper stages are what LoCo's
    /// overlap shares.
    #[serde(skip_serializing_if = "Option::is_none")]
    blocks: Option<usize> = None, flag "blocks",
        page on_page("Blocks per stage"), range ulim(crate::model::arch::BLOCKS);
    /// Input side in pixels (crops are resized to it); default: the arch's own (32 or 224).
    input: usize = 32, flag "input", page OFF, range ulim(limits::INPUT);
    /// Images per batch (each gives two views, so 2 x batch samples per step).
    batch: usize = 128, flag "batch", page on_page("Batch"), range ulim(limits::BATCH);
    /// Peak learning rate (at batch 256 when lr_scaling is not none: TrainConfig::peak_lr is
    /// what a step uses).
    lr: f64 = 1e-3, flag "lr", page on_page("Learning rate"), range lim(limits::LR);
    /// How the learning rate follows the batch: none, linear (lr x batch/256) or sqrt.
    lr_scaling: LrScaling = LrScaling::None, flag "lr-scaling", page OFF, range None;
    /// Contrastive temperature.
    temperature: f64 = 0.5, flag "temperature", page on_page("Temperature"), range lim(limits::TEMPERATURE);
    /// Seed of the initial weights, sample order and augmentation.
    seed: u64 = 0, flag "seed", page on_page("Seed"), range Some((0.0, u64::MAX as f64));
    /// Planned steps (the cosine schedule's length).
    steps: usize = 500, flag "steps", page OFF, range Some((1.0, 1e12));
    /// Warm-up steps; default 5% of the steps, at most 10 (the paper preset: 10 epochs).
    warmup_steps: usize = default_warmup(500), flag "warmup-steps" alias "warmup", page OFF, range None;
    /// Warm-up in epochs, used with --epochs when no warm-up steps are given (the paper: 10).
    #[serde(skip_serializing_if = "Option::is_none")]
    warmup_epochs: Option<f64> = None, flag "warmup-epochs", page OFF, range Some((0.0, 1e6));
    /// adam, sgd (with momentum) or lars.
    optimizer: OptimizerKind = OptimizerKind::Adam, flag "optimizer", page OFF, range None;
    /// Momentum of sgd and lars (SimCLR, LoCo: 0.9).
    momentum: f64 = 0.9, flag "momentum", page OFF, range Some((0.0, 0.999));
    /// Weight decay.
    weight_decay: f64 = 1e-6, flag "weight-decay", page OFF, range Some((0.0, 1.0));
    /// Output size of every projection head (SimCLR: 128).
    proj_dim: usize = 128, flag "proj-dim", page OFF, range Some((1.0, 65536.0));
    /// GIM: consecutive stages per gradient-isolated module (1: one module per stage, as the
    /// paper's GIM; 2 on a six-stage net: three modules of two stages).
    module_stages: usize = 1, flag "module-stages", page OFF, range Some((1.0, 64.0));
}
