//! Every experiment knob in one serde struct, with named presets and the limits that the
//! CLI, the page and the tests all read from here (one source of truth).
//!
//! [`values`]: the types of the knobs that are words (methods, sharing modes, optimizers...) and
//! their string forms; [`knobs`]: the knob table itself, from which [`TrainConfig`],
//! [`Overrides`] and [`KNOBS`] come; [`presets`]: the named presets and the checks of a config;
//! [`lenient`]: settings from untrusted text (the page's URL), each checked on its own.

mod knobs;
mod lenient;
mod presets;
mod values;

pub use crate::model::arch::Arch;
pub use crate::model::decoder::DecoderKind;
pub use knobs::*;
pub use lenient::*;
pub use presets::*;
pub use values::*;
