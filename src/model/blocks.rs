//! Residual blocks (basic and bottleneck) built from conv + BatchNorm pairs.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use burn::tensor::ops::ConvOptions;

use super::arch::{BlockSpec, ConvShape};
use super::cpu::{batch_norm, batch_norm_relu, conv_bn, Tape};

/// A bias-free convolution followed by BatchNorm.
#[derive(Module, Debug)]
pub struct ConvBn {
    pub conv: Conv2d,
    pub bn: BatchNorm,
}

impl ConvBn {
    pub fn new(c: ConvShape, device: &Device) -> Self {
        let ConvShape { kernel, cin, cout, stride, groups } = c;
        let conv = Conv2dConfig::new([cin, cout], [kernel, kernel])
            .with_stride([stride, stride])
            .with_padding(PaddingConfig2d::Explicit(kernel / 2, kernel / 2, kernel / 2, kernel / 2))
            .with_groups(groups)
            .with_bias(false)
            .init(device);
        Self { conv, bn: BatchNormConfig::new(cout).init(device) }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_taped(x, false, None)
    }

    /// `relu(self.forward(x))`, as one BatchNorm+ReLU op where the CPU kernels run.
    pub fn forward_relu(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_taped(x, true, None)
    }

    /// `forward` (`relu`: `forward_relu`), recording into `tape` or replaying from it.
    pub fn forward_taped(&self, x: Tensor<4>, relu: bool, tape: Option<&mut Tape>) -> Tensor<4> {
        // The model's conv (src/model/cpu: a faster backward on the CPU) with `Conv2d`'s
        // weight and options; `new` makes every conv bias-free with explicit padding.
        let c = &self.conv;
        match (&c.bias, &c.padding) {
            (None, PaddingConfig2d::Explicit(top, left, bottom, right)) => {
                let options = ConvOptions::new_with_padding(c.stride, [(*top, *bottom), (*left, *right)], c.dilation, c.groups);
                conv_bn(x, c.weight.val(), options, &self.bn, relu, tape)
            }
            _ if relu => batch_norm_relu(&self.bn, c.forward(x)),
            _ => batch_norm(&self.bn, c.forward(x)),
        }
    }
}

/// A residual block: convs with ReLU between, a projection shortcut when the shape changes.
#[derive(Module, Debug)]
pub struct Block {
    pub convs: Vec<ConvBn>,
    pub shortcut: Option<ConvBn>,
}

impl Block {
    pub fn new(s: BlockSpec, device: &Device) -> Self {
        Self {
            convs: s.convs().into_iter().map(|c| ConvBn::new(c, device)).collect(),
            shortcut: s.shortcut().map(|c| ConvBn::new(c, device)),
        }
    }

    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        self.forward_taped(x, None)
    }

    /// `forward`, recording its conv + BatchNorm pairs into `tape` or replaying them from it.
    pub fn forward_taped(&self, x: Tensor<4>, mut tape: Option<&mut Tape>) -> Tensor<4> {
        let identity = match &self.shortcut {
            Some(proj) => proj.forward_taped(x.clone(), false, tape.as_deref_mut()),
            None => x.clone(),
        };
        let last = self.convs.len() - 1;
        let mut h = x;
        for (i, c) in self.convs.iter().enumerate() {
            h = c.forward_taped(h, i < last, tape.as_deref_mut());
        }
        relu(h + identity)
    }
}
