//! Greedy InfoMax: one module per stage, each with its own decoder and loss; every module's
//! input is the detached output of the one below, so no gradient crosses a stage boundary.

use super::{head_for, LocalUnit, Method, Plan};
use crate::config::DecoderKind;
use crate::model::ArchSpec;

pub struct Gim {
    pub decoder: DecoderKind,
}

impl Method for Gim {
    fn plan(&self, spec: &ArchSpec) -> Plan {
        let s = spec.stages.len();
        Plan {
            units: (0..s)
                .map(|k| LocalUnit { stages: k..k + 1, top_blocks: None, top_copy: None, soft_l2: 0.0, updates_top: true })
                .collect(),
            heads: (0..s).map(|k| head_for(spec, k, self.decoder)).collect(),
            copies: vec![],
        }
    }
}
