//! Decoders (projection heads) placed above a stage or a local unit.

use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::arch::BlockKind;
use super::backbone::{global_pool, Stage};
use super::blocks::Block;

/// Decoder placed above each local unit (the LoCo paper's decoder ablation).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum DecoderKind {
    /// Global average pool + 2-layer MLP (the paper's GIM baseline).
    Mlp,
    /// One residual conv block with downsampling, then pool + 2-layer MLP (LoCo's choice).
    ConvMlp,
}

/// Optional residual conv block, global average pool, 2-layer MLP to the embedding.
#[derive(Module, Debug)]
pub struct Decoder {
    pub block: Option<Block>,
    pub fc1: Linear,
    pub fc2: Linear,
}

/// Hidden width of the MLP: the input width, capped to keep PResNet-50's 4096-d head sane.
pub const MAX_HIDDEN: usize = 2048;

impl Decoder {
    pub fn new(kind: DecoderKind, block_kind: BlockKind, channels: usize, proj_dim: usize, device: &Device) -> Self {
        let block = (kind == DecoderKind::ConvMlp).then(|| Stage::decoder_block(block_kind, channels, device));
        let hidden = channels.min(MAX_HIDDEN);
        Self {
            block,
            fc1: LinearConfig::new(channels, hidden).init(device),
            fc2: LinearConfig::new(hidden, proj_dim).init(device),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = match &self.block {
            Some(b) => b.forward(x),
            None => x,
        };
        self.fc2.forward(relu(self.fc1.forward(global_pool(x))))
    }
}
