//! Greedy InfoMax: one module per stage, each with its own decoder and loss; every module's
//! input is the detached output of the one below, so no gradient crosses a module boundary.
//! `module_stages` > 1 makes coarser modules (the control of issue 24: fewer modules should
//! lose less to end-to-end training, as in supervised greedy learning).

use super::plan::{head_for, LocalUnit, Method, Plan};
use crate::config::{MethodKind};
use crate::error::{Error, Result};
use crate::model::{ArchSpec, DecoderSpec};

pub struct Gim {
    pub decoder: DecoderSpec,
    /// Consecutive stages per module (the last module takes what is left).
    pub module_stages: usize,
}

impl Method for Gim {
    fn kind(&self) -> MethodKind {
        MethodKind::Gim
    }
    fn label(&self) -> String {
        match self.module_stages {
            1 => format!("{}({})", self.kind(), self.decoder),
            m => format!("{}({m} stages, {})", self.kind(), self.decoder),
        }
    }
    fn plan(&self, spec: &ArchSpec) -> Result<Plan> {
        let (s, m) = (spec.stages.len(), self.module_stages);
        if m == 0 || m > s {
            return Err(Error::Config(format!("module_stages {m} must be between 1 and the {s} stages of {}", spec.arch)));
        }
        let units: Vec<LocalUnit> = (0..s).step_by(m).map(|k| LocalUnit::whole(k..(k + m).min(s))).collect();
        Ok(Plan { heads: units.iter().map(|u| head_for(spec, u.top_stage(), self.decoder)).collect(), units, copies: vec![] })
    }
}
