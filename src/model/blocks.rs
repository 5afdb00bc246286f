//! Residual blocks (basic and bottleneck) built from conv + BatchNorm pairs.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;

use super::arch::BlockKind;

/// A bias-free convolution followed by BatchNorm.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl ConvBn {
    pub fn new(cin: usize, cout: usize, kernel: usize, stride: usize, groups: usize, device: &Device) -> Self {
        let conv = Conv2dConfig::new([cin, cout], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(kernel / 2, kernel / 2, kernel / 2, kernel / 2))
            .with_groups(groups)
            .with_bias(false)
            .init(device);
        Self { conv, bn: BatchNormConfig::new(cout).init(device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.bn.forward(self.conv.forward(x))
    }
}

/// Shape of one residual block.
#[derive(Clone, Copy, Debug)]
pub struct BlockSpec {
    pub kind: BlockKind,
    pub cin: usize,
    pub width: usize,
    pub out: usize,
    pub stride: usize,
    pub groups: usize,
    pub last_groups: usize,
}

/// A residual block: convs with ReLU between, a projection shortcut when the shape changes.
#[derive(Module, Debug)]
pub struct Block {
    pub convs: Vec<ConvBn>,
    pub shortcut: Option<ConvBn>,
}

impl Block {
    pub fn new(s: BlockSpec, device: &Device) -> Self {
        let convs = match s.kind {
            BlockKind::Basic => vec![
                ConvBn::new(s.cin, s.width, 3, s.stride, s.groups, device),
                ConvBn::new(s.width, s.out, 3, 1, s.groups, device),
            ],
            BlockKind::Bottleneck => vec![
                ConvBn::new(s.cin, s.width, 1, 1, 1, device),
                ConvBn::new(s.width, s.width, 3, s.stride, s.groups, device),
                ConvBn::new(s.width, s.out, 1, 1, s.last_groups, device),
            ],
        };
        let shortcut = (s.cin != s.out || s.stride != 1).then(|| ConvBn::new(s.cin, s.out, 1, s.stride, 1, device));
        Self { convs, shortcut }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.shortcut {
            Some(proj) => proj.forward(x.clone()),
            None => x.clone(),
        };
        let last = self.convs.len() - 1;
        let mut h = x;
        for (i, c) in self.convs.iter().enumerate() {
            h = c.forward(h);
            if i < last {
                h = relu(h);
            }
        }
        relu(h + identity)
    }
}
