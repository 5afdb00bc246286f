//! Backbones (PResNet, ResNet) with one stage abstraction: a stem, then named stages of blocks.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::module::interpolate;
use burn::tensor::ops::{InterpolateMode, InterpolateOptions};

use super::arch::{ArchSpec, BlockKind, Downsample, StageSpec};
use super::blocks::{Block, BlockSpec, ConvBn};

#[derive(Module, Debug)]
pub struct Stem {
    pub conv: ConvBn,
    pub pool: Option<MaxPool2d>,
}

impl Stem {
    pub fn new(spec: &ArchSpec, device: &Device) -> Self {
        let s = &spec.stem;
        let pool = s.max_pool.then(|| {
            MaxPool2dConfig::new([3, 3]).with_strides([2, 2]).with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1)).init()
        });
        Self { conv: ConvBn::new(3, s.channels, s.kernel, s.stride, 1, device), pool }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = relu(self.conv.forward(x));
        match &self.pool {
            Some(p) => p.forward(x),
            None => x,
        }
    }
}

/// One stage (`res2`, `res3`, ...): optional bilinear resize, then residual blocks.
#[derive(Module, Debug)]
pub struct Stage {
    pub blocks: Vec<Block>,
    /// Bilinear target side (PResNet); 0 when the stage downsamples by stride.
    pub resize_to: usize,
}

impl Stage {
    pub fn new(spec: &ArchSpec, index: usize, device: &Device) -> Self {
        let st: &StageSpec = &spec.stages[index];
        let mut cin = spec.in_channels(index);
        let blocks = (0..st.blocks)
            .map(|b| {
                let block = Block::new(
                    BlockSpec {
                        kind: st.kind,
                        cin,
                        width: st.width,
                        out: st.out,
                        stride: if b == 0 { st.stride } else { 1 },
                        groups: st.groups,
                        last_groups: if st.grouped_last_1x1 && b > 0 { st.groups } else { 1 },
                    },
                    device,
                );
                cin = st.out;
                block
            })
            .collect();
        let resize_to = if spec.downsample == Downsample::Bilinear { st.size } else { 0 };
        Self { blocks, resize_to }
    }

    /// A decoder's conv block above a stage: one more block of the same kind with stride 2.
    pub fn decoder_block(kind: BlockKind, channels: usize, device: &Device) -> Block {
        let width = match kind {
            BlockKind::Basic => channels,
            BlockKind::Bottleneck => (channels / 4).max(1),
        };
        Block::new(BlockSpec { kind, cin: channels, width, out: channels, stride: 2, groups: 1, last_groups: 1 }, device)
    }

    fn resize(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        if self.resize_to == 0 || (h == self.resize_to && w == self.resize_to) {
            return x;
        }
        // PResNet downsamples by bilinear interpolation instead of strided convs.
        interpolate(
            x,
            InterpolateOptions::new(InterpolateMode::Bilinear)
                .with_align_corners(false)
                .with_output_size([self.resize_to, self.resize_to]),
        )
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_blocks(x, self.blocks.len())
    }

    /// Forward through the first `n` blocks only (LoCo's `blocks:<n>` sharing).
    pub fn forward_blocks(&self, x: Tensor<4>, n: usize) -> Tensor<4> {
        let mut x = self.resize(x);
        for b in self.blocks.iter().take(n) {
            x = b.forward(x);
        }
        x
    }
}

/// Global average pool: [N, C, H, W] -> [N, C].
pub fn global_pool(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.mean_dims(&[2, 3]).reshape([n, c])
}
