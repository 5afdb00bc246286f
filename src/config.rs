//! Every experiment knob in one serde struct, with named presets and the limits that the
//! CLI, the page and the tests all read from here (one source of truth).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
pub use crate::model::arch::Arch;
pub use crate::model::decoder::DecoderKind;

/// How LoCo's overlapping stage is shared between two units (the LoCo paper's sharing
/// ablation: Xiong, Ren, Urtasun, NeurIPS 2020).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum SharingMode {
    /// One shared stage updated by both units' gradients (LoCo).
    Hard,
    /// The shared stage is updated by the upper unit's gradient only.
    UpperOnly,
    /// Separate copies tied by `l2 * ||copy - shared||^2`.
    Soft { l2: f64 },
    /// A unit is one stage plus the first `n` blocks of the next.
    Blocks(usize),
}

/// The three training methods.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum MethodKind {
    Simclr,
    Gim,
    Loco,
}

impl MethodKind {
    /// Every method, in the order tables and figures list them.
    pub const ALL: [MethodKind; 3] = [MethodKind::Simclr, MethodKind::Gim, MethodKind::Loco];
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum OptimizerKind {
    Adam,
    /// SGD with momentum 0.9.
    Sgd,
    /// SGD with momentum and LARS layer-wise trust ratios (the paper's ImageNet recipe).
    Lars,
}

/// How the learning rate follows the batch: `lr` is the rate at batch 256, and a step uses
/// `lr x batch/256` (linear: Goyal et al. 2017, SimCLR and LoCo with LARS), `lr x sqrt(batch/256)`
/// (SimCLR's alternative for small batches), or `lr` whatever the batch (none: our Adam presets).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum LrScaling {
    #[default]
    None,
    Linear,
    Sqrt,
}

/// Display, FromStr and serde-as-text for a fieldless enum (the names are the only spelling
/// every door accepts), and its [`KnobValue`] (a `choice`).
macro_rules! string_enum {
    ($ty:ty, $what:literal, [$($variant:expr => $name:literal),+ $(,)?]) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let s = match self { $(v if *v == $variant => $name,)+ _ => unreachable!() };
                f.write_str(s)
            }
        }
        impl std::str::FromStr for $ty {
            type Err = $crate::error::Error;
            fn from_str(s: &str) -> $crate::error::Result<Self> {
                match s.trim().to_ascii_lowercase().as_str() {
                    $($name => Ok($variant),)+
                    other => Err($crate::error::Error::Config(format!(
                        concat!("unknown ", $what, " '{}'; expected one of: {}"),
                        other,
                        [$($name),+].join(", ")
                    ))),
                }
            }
        }
        impl TryFrom<String> for $ty {
            type Error = $crate::error::Error;
            fn try_from(s: String) -> $crate::error::Result<Self> { s.parse() }
        }
        impl From<$ty> for String {
            fn from(v: $ty) -> String { v.to_string() }
        }
        impl $crate::config::KnobValue for $ty {
            type Given = $ty;
            const KIND: &'static str = "choice";
            const VALUES: &'static [&'static str] = &[$($name),+];
            fn given(v: $ty) -> $ty { v }
        }
    };
}

string_enum!(Arch, "arch", [Arch::Presnet50 => "presnet50", Arch::Resnet50 => "resnet50",
    Arch::PresnetCifar => "presnet-cifar", Arch::PresnetTiny => "presnet-tiny"]);
// (Arch and DecoderKind are defined with the model they describe; their string forms live
// here with every other knob's.)
string_enum!(DecoderKind, "decoder", [DecoderKind::Mlp => "mlp", DecoderKind::ConvMlp => "conv-mlp"]);
string_enum!(MethodKind, "method", [MethodKind::Simclr => "simclr", MethodKind::Gim => "gim", MethodKind::Loco => "loco"]);
string_enum!(OptimizerKind, "optimizer", [OptimizerKind::Adam => "adam", OptimizerKind::Sgd => "sgd", OptimizerKind::Lars => "lars"]);
string_enum!(LrScaling, "lr_scaling", [LrScaling::None => "none", LrScaling::Linear => "linear", LrScaling::Sqrt => "sqrt"]);

impl fmt::Display for SharingMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SharingMode::Hard => f.write_str("hard"),
            SharingMode::UpperOnly => f.write_str("upper-only"),
            SharingMode::Soft { l2 } => write!(f, "soft:{l2}"),
            SharingMode::Blocks(n) => write!(f, "blocks:{n}"),
        }
    }
}

impl FromStr for SharingMode {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        let s = s.trim().to_ascii_lowercase();
        let bad = || {
            Error::Config(format!(
                "unknown sharing mode '{s}'; expected hard, upper-only, soft:<coef> (e.g. soft:1e-3) or blocks:<n> (e.g. blocks:1)"
            ))
        };
        match s.as_str() {
            "hard" => Ok(SharingMode::Hard),
            "upper-only" => Ok(SharingMode::UpperOnly),
            _ => {
                let (kind, arg) = s.split_once(':').ok_or_else(bad)?;
                match kind {
                    "soft" => {
                        let l2: f64 = arg.parse().map_err(|_| bad())?;
                        if !(l2.is_finite() && l2 >= 0.0) {
                            return Err(Error::Config(format!("soft sharing coefficient must be finite and >= 0, got {arg}")));
                        }
                        Ok(SharingMode::Soft { l2 })
                    }
                    "blocks" => {
                        let n: usize = arg.parse().map_err(|_| bad())?;
                        if n == 0 {
                            return Err(Error::Config("blocks:<n> needs n >= 1 (n = 0 is GIM with a deeper decoder)".into()));
                        }
                        Ok(SharingMode::Blocks(n))
                    }
                    _ => Err(bad()),
                }
            }
        }
    }
}
impl TryFrom<String> for SharingMode {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        s.parse()
    }
}
impl From<SharingMode> for String {
    fn from(v: SharingMode) -> String {
        v.to_string()
    }
}

/// Limits checked by [`TrainConfig::validate`]; the page reads them to bound its inputs.
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
            fn base() -> Self {
                TrainConfig { $( $name: $default, )* }
            }

            /// Every knob with a range inside it ([`Knob::range`]).
            fn check_ranges(&self) -> Result<()> {
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
            fn over(&self, base: TrainConfig) -> TrainConfig {
                TrainConfig { $( $name: match self.$name.clone() { Some(v) => KnobValue::given(v), None => base.$name }, )* }
            }
        }
    };
}

/// What a knob's type says about it: what a door gives for it (an optional knob is given as
/// its value), its kind for the page's control, its valid names (choices), and its value as a
/// number for the range check.
pub trait KnobValue: Sized {
    type Given;
    /// `integer`, `number`, `choice` (one of [`KnobValue::VALUES`]) or `text`.
    const KIND: &'static str;
    const VALUES: &'static [&'static str] = &[];
    fn given(v: Self::Given) -> Self;
    fn number(&self) -> Option<f64> {
        None
    }
}

macro_rules! numeric_knob {
    ($($ty:ty => $kind:literal),*) => {$(
        impl KnobValue for $ty {
            type Given = $ty;
            const KIND: &'static str = $kind;
            fn given(v: $ty) -> $ty { v }
            fn number(&self) -> Option<f64> { Some(*self as f64) }
        }
    )*};
}
numeric_knob!(usize => "integer", u64 => "integer", f64 => "number");

impl<T: KnobValue<Given = T>> KnobValue for Option<T> {
    type Given = T;
    const KIND: &'static str = T::KIND;
    const VALUES: &'static [&'static str] = T::VALUES;
    fn given(v: T) -> Self {
        Some(v)
    }
    fn number(&self) -> Option<f64> {
        self.as_ref().and_then(T::number)
    }
}

impl KnobValue for SharingMode {
    type Given = SharingMode;
    const KIND: &'static str = "text";
    fn given(v: Self) -> Self {
        v
    }
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

/// Knobs read from untrusted text (the page's URL), each checked on its own: a bad one is
/// dropped with a warning that names it and why, and the rest still apply.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Lenient {
    pub preset: String,
    pub overrides: Overrides,
    pub warnings: Vec<String>,
}

impl Overrides {
    /// Parse `key=value` pairs (values as text, as in a URL) over `preset` (`default_preset`
    /// when absent or unknown). Unknown keys, unparsable values, values out of range and a
    /// combination that does not validate become warnings; the result always validates.
    pub fn lenient(preset: Option<&str>, default_preset: &str, pairs: &[(String, String)]) -> Lenient {
        let mut warnings = Vec::new();
        let preset = match preset {
            Some(p) if TrainConfig::preset(p).is_ok() => p.to_string(),
            Some(p) => {
                warnings.push(format!("unknown preset '{}' ignored; using '{default_preset}'", clip(p)));
                default_preset.to_string()
            }
            None => default_preset.to_string(),
        };
        let mut known = serde_json::Map::new();
        for (i, (key, text)) in pairs.iter().enumerate() {
            let ignored = |why: String| format!("{}={} ignored: {why}", clip(key), clip(text));
            // A key given twice (`?batch=8&batch=16`): the last one counts, as in a form.
            if pairs[i + 1..].iter().any(|(k, _)| k == key) {
                warnings.push(ignored(format!("{} is given again later", clip(key))));
                continue;
            }
            // A number (or true/false/null) when the text is one, else the text as a string.
            let value = serde_json::from_str::<serde_json::Value>(text)
                .ok()
                .filter(|v| !v.is_object() && !v.is_array() && !v.is_string())
                .unwrap_or_else(|| serde_json::Value::String(text.clone()));
            let one = serde_json::Value::Object([(key.clone(), value.clone())].into_iter().collect());
            let single: Overrides = match serde_json::from_value(one) {
                Ok(o) => o,
                Err(e) if e.to_string().starts_with("unknown field") => {
                    warnings.push(format!("unknown setting '{}' ignored", clip(key)));
                    continue;
                }
                Err(e) => {
                    warnings.push(ignored(first_clause(&e.to_string())));
                    continue;
                }
            };
            match TrainConfig::preset_with(&preset, &single) {
                Ok(_) => {
                    known.insert(key.clone(), value);
                }
                Err(e) => warnings.push(ignored(bare(e))),
            }
        }
        let overrides: Overrides = serde_json::from_value(serde_json::Value::Object(known)).unwrap_or_default();
        if let Err(e) = TrainConfig::preset_with(&preset, &overrides) {
            warnings.push(format!("these settings do not fit together ({}); using the '{preset}' preset", bare(e)));
            return Lenient { preset, overrides: Overrides::default(), warnings };
        }
        Lenient { preset, overrides, warnings }
    }
}

/// A config error's message without the "invalid configuration: " its Display adds.
fn bare(e: Error) -> String {
    match e {
        Error::Config(m) => m,
        other => other.to_string(),
    }
}

/// At most 40 characters of untrusted text, for messages.
fn clip(s: &str) -> String {
    if s.chars().count() <= 40 {
        s.to_string()
    } else {
        s.chars().take(40).collect::<String>() + "..."
    }
}

/// A serde message without its "at line 1 column 9" tail.
fn first_clause(msg: &str) -> String {
    let msg = msg.split(" at line ").next().unwrap_or(msg);
    msg.strip_prefix("invalid configuration: ").unwrap_or(msg).to_string()
}

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
