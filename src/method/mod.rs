//! How a batch of two views becomes losses and parameter updates.
//!
//! Every method is a list of [`LocalUnit`]s over one [`Network`]: SimCLR is one unit spanning
//! every stage, GIM one unit per stage, LoCo units of two stages overlapping by one. The shared
//! engine ([`Plan::begin`], [`Plan::next_unit`]) runs them unit by unit (forward, loss, backward,
//! drop the graph) and hands each parameter's gradient to the optimizer as soon as no later unit
//! adds to it, so peak memory is set by the largest unit (activations and gradients), not the
//! whole network.

pub mod catalogue;
pub mod engine;
pub mod gim;
pub mod grads;
pub mod loco;
pub mod plan;
pub mod units;
pub mod simclr;

use crate::config::{MethodKind, TrainConfig};
use crate::error::Result;
use crate::model::{ArchSpec, DecoderSpec};

pub use catalogue::{catalogue, info, MethodInfo};
pub use engine::{diverged, StepRun, UnitStep, UnitUpdate};
pub use plan::{HeadSpec, LocalUnit, Method, Plan, TopStage};
pub use grads::{flat_params, grad_abs_sum, grad_values, param_ids, param_shapes, remove_grad};
pub use units::{Wiring, UnitNet};

pub use gim::Gim;
pub use loco::Loco;
pub use simclr::Simclr;

/// The method a config names, with its knobs.
pub fn method_for(cfg: &TrainConfig) -> Box<dyn Method> {
    match cfg.method {
        MethodKind::Simclr => Box::new(Simclr),
        MethodKind::Gim => Box::new(Gim { decoder: decoder_spec(cfg), module_stages: cfg.module_stages }),
        MethodKind::Loco => Box::new(Loco { sharing: cfg.sharing, decoder: decoder_spec(cfg) }),
    }
}

/// The plan of the method a config names (an error when its knobs do not fit the architecture).
pub fn plan_for(cfg: &TrainConfig, spec: &ArchSpec) -> Result<Plan> {
    method_for(cfg).plan(spec)
}

/// What a config makes, derived once: the architecture's shapes and the method's plan over
/// them; the wiring (how the units connect when each runs on its own) on request, since not
/// every plan has one (LoCo's soft sharing).
#[derive(Clone, Debug)]
pub struct Blueprint {
    pub spec: ArchSpec,
    pub plan: Plan,
}

impl Blueprint {
    pub fn of(cfg: &TrainConfig) -> Result<Self> {
        let spec = cfg.arch_spec()?;
        let plan = plan_for(cfg, &spec)?;
        Ok(Self { spec, plan })
    }

    /// How the units connect when each runs on its own ([`Plan::wiring`]), or why they cannot.
    pub fn wiring(&self) -> Result<Wiring> {
        self.plan.wiring(self.spec.stages.len())
    }
}

/// Check that a config's method fits its architecture (knob ranges: [`TrainConfig::validate`]).
pub fn check(cfg: &TrainConfig) -> Result<()> {
    cfg.validate()?;
    Blueprint::of(cfg).map(|_| ())
}

/// Check that a config's method can run with its units in parallel ([`Plan::wiring`]).
pub fn check_parallel(cfg: &TrainConfig) -> Result<()> {
    Blueprint::of(cfg)?.wiring().map(|_| ())
}

/// A config's method label, e.g. `gim(conv-mlp)`.
pub fn label(cfg: &TrainConfig) -> String {
    method_for(cfg).label()
}

/// The local decoders a config asks for (GIM and LoCo).
pub fn decoder_spec(cfg: &TrainConfig) -> DecoderSpec {
    DecoderSpec::new(cfg.decoder, cfg.decoder_depth)
}
