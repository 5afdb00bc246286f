//! LoCo: units of two consecutive stages overlapping by one (unit k = {stage k, stage k+1}).
//! A unit's input is detached, but the shared stage k+1 also serves unit k: the "gradient
//! bridge" through which upper units give feedback to lower ones (paper, Sec. 3).

use super::plan::{head_for, LocalUnit, Method, Plan, TopStage};
use crate::config::{MethodKind, SharingMode};
use crate::error::{Error, Result};
use crate::model::{ArchSpec, DecoderSpec};

pub struct Loco {
    pub sharing: SharingMode,
    pub decoder: DecoderSpec,
}

impl Method for Loco {
    fn kind(&self) -> MethodKind {
        MethodKind::Loco
    }

    fn label(&self) -> String {
        format!("{}({}, {})", self.kind(), self.sharing, self.decoder)
    }

    fn plan(&self, spec: &ArchSpec) -> Result<Plan> {
        let s = spec.stages.len();
        if s < 2 {
            return Err(Error::Config(format!("LoCo needs at least two stages; {} has {s}", spec.arch)));
        }
        if let SharingMode::Blocks(n) = self.sharing {
            let min_blocks = spec.stages.iter().map(|s| s.blocks).min().unwrap_or(0);
            if n > min_blocks {
                return Err(Error::Config(format!(
                    "sharing blocks:{n} exceeds the {min_blocks} blocks of the smallest stage of {}",
                    spec.arch
                )));
            }
        }
        let mut copies = Vec::new();
        let units = (0..s - 1)
            .map(|k| {
                let top = k + 1;
                let last = top == s - 1; // the top stage of the last unit is shared with no one
                let use_top = match self.sharing {
                    _ if last => TopStage::Whole,
                    SharingMode::Hard => TopStage::Whole,
                    SharingMode::UpperOnly => TopStage::ReadOnly,
                    SharingMode::Soft { l2 } => {
                        copies.push(top);
                        TopStage::Copy { copy: copies.len() - 1, l2 }
                    }
                    // The paper's ablation shares the first n blocks; the last unit keeps its whole top stage.
                    SharingMode::Blocks(n) => TopStage::FirstBlocks(n),
                };
                LocalUnit { stages: k..k + 2, top: use_top }
            })
            .collect();
        Ok(Plan { units, heads: (1..s).map(|top| head_for(spec, top, self.decoder)).collect(), copies })
    }
}
