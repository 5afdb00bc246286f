//! LoCo: units of two consecutive stages overlapping by one (unit k = {stage k, stage k+1}).
//! A unit's input is detached, but the shared stage k+1 also serves unit k: the "gradient
//! bridge" through which upper units give feedback to lower ones (paper, Sec. 3).

use super::{head_for, LocalUnit, Method, Plan};
use crate::config::{DecoderKind, SharingMode};
use crate::model::ArchSpec;

pub struct Loco {
    pub sharing: SharingMode,
    pub decoder: DecoderKind,
}

impl Method for Loco {
    fn plan(&self, spec: &ArchSpec) -> Plan {
        let s = spec.stages.len();
        assert!(s >= 2, "LoCo needs at least two stages");
        let mut copies = Vec::new();
        let units = (0..s - 1)
            .map(|k| {
                let top = k + 1;
                let last = top == s - 1; // the top stage of the last unit is shared with no one
                let mut unit = LocalUnit { stages: k..k + 2, top_blocks: None, top_copy: None, soft_l2: 0.0, updates_top: true };
                match self.sharing {
                    SharingMode::Hard => {}
                    SharingMode::UpperOnly => unit.updates_top = last,
                    SharingMode::Soft { l2 } if !last => {
                        unit.top_copy = Some(copies.len());
                        unit.soft_l2 = l2;
                        copies.push(top);
                    }
                    SharingMode::Soft { .. } => {}
                    // The paper's ablation shares the first n blocks; the last unit keeps its whole top stage.
                    SharingMode::Blocks(n) if !last => unit.top_blocks = Some(n.min(spec.stages[top].blocks)),
                    SharingMode::Blocks(_) => {}
                }
                unit
            })
            .collect();
        Plan { units, heads: (1..s).map(|top| head_for(spec, top, self.decoder)).collect(), copies }
    }
}
