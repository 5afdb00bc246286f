//! SimCLR: one projection head on the last stage, backprop end to end.

use super::plan::{head_for, LocalUnit, Method, Plan};
use crate::config::MethodKind;
use crate::error::Result;
use crate::model::{ArchSpec, DecoderSpec};

pub struct Simclr;

impl Method for Simclr {
    fn kind(&self) -> MethodKind {
        MethodKind::Simclr
    }
    fn label(&self) -> String {
        self.kind().to_string()
    }
    fn plan(&self, spec: &ArchSpec) -> Result<Plan> {
        let s = spec.stages.len();
        Ok(Plan { units: vec![LocalUnit::whole(0..s)], heads: vec![head_for(spec, s - 1, DecoderSpec::MLP)], copies: vec![] })
    }
}
