//! SimCLR: one projection head on the last stage, backprop end to end.

use super::{head_for, LocalUnit, Method, Plan};
use crate::config::DecoderKind;
use crate::model::ArchSpec;

pub struct Simclr;

impl Method for Simclr {
    fn plan(&self, spec: &ArchSpec) -> Plan {
        let s = spec.stages.len();
        Plan {
            units: vec![LocalUnit { stages: 0..s, top_blocks: None, top_copy: None, soft_l2: 0.0, updates_top: true }],
            heads: vec![head_for(spec, s - 1, DecoderKind::Mlp)],
            copies: vec![],
        }
    }
}
