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

/// A decoder's shape: its kind and, for `conv-mlp`, its depth in residual conv blocks before
/// the pool (1: LoCo's decoder; more: the paper's deeper-decoder ablation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DecoderSpec {
    pub kind: DecoderKind,
    pub depth: usize,
}

impl DecoderSpec {
    /// The pool + MLP head every method puts on the network's last stage.
    pub const MLP: DecoderSpec = DecoderSpec { kind: DecoderKind::Mlp, depth: 0 };

    pub fn new(kind: DecoderKind, depth: usize) -> Self {
        match kind {
            DecoderKind::Mlp => Self::MLP,
            DecoderKind::ConvMlp => DecoderSpec { kind, depth },
        }
    }
}

/// `mlp`, `conv-mlp` (one block) or `conv-mlp x2` (two blocks): the form method labels use.
impl std::fmt::Display for DecoderSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match (self.kind, self.depth) {
            (DecoderKind::ConvMlp, d) if d != 1 => write!(f, "{} x{d}", self.kind),
            (kind, _) => write!(f, "{kind}"),
        }
    }
}

/// Residual conv blocks (the first downsamples), global average pool, 2-layer MLP to the
/// embedding.
#[derive(Module, Debug)]
pub struct Decoder {
    pub block: Option<Block>,
    pub fc1: Linear,
    pub fc2: Linear,
    /// Blocks after the first (`depth` > 1), at the first's resolution. A field of their own, so
    /// records saved before the depth knob existed load unchanged.
    pub deeper: Vec<Block>,
}

/// Hidden width of the MLP: the input width, capped to keep PResNet-50's 4096-d head sane.
pub const MAX_HIDDEN: usize = 2048;

impl Decoder {
    pub fn new(spec: DecoderSpec, block_kind: BlockKind, channels: usize, proj_dim: usize, device: &Device) -> Self {
        let conv = spec.kind == DecoderKind::ConvMlp && spec.depth > 0;
        let block = conv.then(|| Stage::decoder_block(block_kind, channels, 2, device));
        let deeper = if conv { (1..spec.depth).map(|_| Stage::decoder_block(block_kind, channels, 1, device)).collect() } else { vec![] };
        let hidden = channels.min(MAX_HIDDEN);
        Self {
            block,
            fc1: LinearConfig::new(channels, hidden).init(device),
            fc2: LinearConfig::new(hidden, proj_dim).init(device),
            deeper,
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        let x = match &self.block {
            Some(b) => b.forward(x),
            None => x,
        };
        let x = self.deeper.iter().fold(x, |x, b| b.forward(x));
        self.fc2.forward(relu(self.fc1.forward(global_pool(x))))
    }
}
