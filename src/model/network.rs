//! The network every method trains: the encoder (stem and stages) plus the method's own parts.

use burn::prelude::*;

use crate::model::backbone::{global_pool, Stage, Stem};
use crate::model::decoder::Decoder;

/// The encoder plus every method-specific part (decoders, soft-sharing copies).
#[derive(Module, Debug)]
pub struct Network {
    pub stem: Stem,
    pub stages: Vec<Stage>,
    /// One decoder per loss, in unit order.
    pub heads: Vec<Decoder>,
    /// LoCo soft sharing: the lower unit's own copy of each shared stage.
    pub copies: Vec<Stage>,
}

impl Network {
    /// Frozen features: stem, every stage, global average pool ([N, C] per stage).
    pub fn features(&self, x: Tensor<4>) -> Vec<Tensor<2>> {
        let mut x = self.stem.forward(x);
        let mut out = Vec::with_capacity(self.stages.len());
        for s in &self.stages {
            x = s.forward(x);
            out.push(global_pool(x.clone()));
        }
        out
    }
}
