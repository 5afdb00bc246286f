//! Greedy InfoMax: one module per stage, each with its own decoder and loss; every module's
//! input is the detached output of the one below, so no gradient crosses a stage boundary.

use super::{head_for, LocalUnit, Method, Plan};
use crate::config::{DecoderKind, MethodKind};
use crate::error::Result;
use crate::model::ArchSpec;

pub struct Gim {
    pub decoder: DecoderKind,
}

impl Method for Gim {
    fn kind(&self) -> MethodKind {
        MethodKind::Gim
    }
    fn label(&self) -> String {
        format!("{}({})", self.kind(), self.decoder)
    }
    fn plan(&self, spec: &ArchSpec) -> Result<Plan> {
        let s = spec.stages.len();
        Ok(Plan {
            units: (0..s).map(|k| LocalUnit::whole(k..k + 1)).collect(),
            heads: (0..s).map(|k| head_for(spec, k, self.decoder)).collect(),
            copies: vec![],
        })
    }
}
