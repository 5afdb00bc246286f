//! Backbones (PResNet, ResNet) with one stage abstraction: a stem, then named stages of blocks.

use burn::nn::pool::{MaxPool2d, MaxPool2dConfig};
use burn::nn::PaddingConfig2d;
use burn::prelude::*;

use super::arch::{ArchSpec, BlockKind, BlockSpec, ConvShape, Downsample, StageSpec};
use super::blocks::{Block, ConvBn};
use super::cpu::Tape;

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
        Self { conv: ConvBn::new(ConvShape { kernel: s.kernel, cin: 3, cout: s.channels, stride: s.stride, groups: 1 }, device), pool }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = self.conv.forward_relu(x);
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
        let blocks = spec.block_specs(index).into_iter().map(|b| Block::new(b, device)).collect();
        let resize_to = if spec.downsample == Downsample::Bilinear { st.size } else { 0 };
        Self { blocks, resize_to }
    }

    /// A decoder's conv block above a stage: one more block of the same kind (stride 2 for a
    /// decoder's first block, 1 for the blocks of a deeper decoder after it).
    pub fn decoder_block(kind: BlockKind, channels: usize, stride: usize, device: &Device) -> Block {
        let width = match kind {
            BlockKind::Basic => channels,
            BlockKind::Bottleneck => (channels / 4).max(1),
        };
        Block::new(BlockSpec { kind, cin: channels, width, out: channels, stride, groups: 1, last_groups: 1 }, device)
    }

    fn resize(&self, x: Tensor<4>) -> Tensor<4> {
        let [_, _, h, w] = x.dims();
        if self.resize_to == 0 || (h == self.resize_to && w == self.resize_to) {
            return x;
        }
        // PResNet downsamples by bilinear interpolation instead of strided convs.
        bilinear_resize(x, self.resize_to, self.resize_to)
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_blocks(x, self.blocks.len())
    }

    /// Forward through the first `n` blocks only (LoCo's `blocks:<n>` sharing).
    pub fn forward_blocks(&self, x: Tensor<4>, n: usize) -> Tensor<4> {
        self.forward_taped(x, n, None)
    }

    /// `forward_blocks(x, n)`, recording into `tape` or replaying from it (see [`Tape`]).
    pub fn forward_taped(&self, x: Tensor<4>, n: usize, mut tape: Option<&mut Tape>) -> Tensor<4> {
        let mut x = match tape.as_deref_mut() {
            Some(t) => t.resize(x, |x| self.resize(x)),
            None => self.resize(x),
        };
        for b in self.blocks.iter().take(n) {
            x = b.forward_taped(x, tape.as_deref_mut());
        }
        x
    }
}

/// Global average pool: [N, C, H, W] -> [N, C].
pub fn global_pool(x: Tensor<4>) -> Tensor<2> {
    let [n, c, _, _] = x.dims();
    x.mean_dims(&[2, 3]).reshape([n, c])
}

/// Interpolation weights [out, inp] of 1-D bilinear resizing with half-pixel centres
/// (`align_corners = false`, as PyTorch and burn's `interpolate`).
pub fn bilinear_matrix(inp: usize, out: usize) -> Vec<f32> {
    let mut m = vec![0f32; out * inp];
    let scale = inp as f32 / out as f32;
    for o in 0..out {
        let src = ((o as f32 + 0.5) * scale - 0.5).max(0.0);
        let i0 = (src.floor() as usize).min(inp - 1);
        let i1 = (i0 + 1).min(inp - 1);
        let w1 = src - i0 as f32;
        m[o * inp + i0] += 1.0 - w1;
        m[o * inp + i1] += w1;
    }
    m
}

/// Bilinear resize of [N, C, H, W] to [N, C, h, w] as two matrix products with constant
/// interpolation matrices. burn 0.22.1 has no bilinear-interpolation backward on its CubeCL
/// (wgpu/WebGPU/CUDA) or ndarray backends; matmul's backward exists everywhere.
pub fn bilinear_resize(x: Tensor<4>, h: usize, w: usize) -> Tensor<4> {
    let [n, c, hi, wi] = x.dims();
    let device = x.device();
    let mat = |inp: usize, out: usize| {
        // [inp, out]: the transpose of the [out, inp] weights, ready to right-multiply.
        Tensor::<2>::from_data(TensorData::new(bilinear_matrix(inp, out), [out, inp]), &device).transpose()
    };
    let x = x.reshape([n * c * hi, wi]).matmul(mat(wi, w)); // resize width
    let x = x.reshape([n * c, hi, w]).swap_dims(1, 2).reshape([n * c * w, hi]).matmul(mat(hi, h)); // height
    x.reshape([n * c, w, h]).swap_dims(1, 2).reshape([n, c, h, w])
}
