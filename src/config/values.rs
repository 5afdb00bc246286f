//! The knobs that are words: their types and string forms (one `string_enum!` line each).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::error::{Error, Result};
use crate::model::arch::Arch;
use crate::model::decoder::DecoderKind;


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
        impl KnobValue for $ty {
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
