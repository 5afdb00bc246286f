//! Architecture specifications as plain data: the builder and `locolab inspect` read the same
//! description, so the table a user sees is the network that trains.

use serde::Serialize;

use crate::error::{Error, Result};

/// The backbones (string forms in `config`). Each is one row of [`ARCHS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Arch {
    /// The LoCo paper's PResNet-50: 6 stages x 3 blocks, bilinear downsampling 56->8.
    Presnet50,
    /// The standard ResNet-50 (v1.5: stride on the 3x3 conv).
    Resnet50,
    /// Reduced PResNet for 32x32 inputs (CIFAR stem, 6 stages).
    PresnetCifar,
    /// The browser default: 6 stages, few channels, one block per stage.
    PresnetTiny,
}

impl Arch {
    /// The input size the architecture was designed for.
    pub fn native_input(self) -> usize {
        row(self).native_input
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum BlockKind {
    /// Two 3x3 convs.
    Basic,
    /// 1x1 reduce, 3x3 (possibly grouped), 1x1 expand.
    Bottleneck,
}

/// How a stage reduces the spatial size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Downsample {
    /// ResNet: stride 2 on the first block's 3x3 conv (and its shortcut).
    Stride,
    /// PResNet: bilinear interpolation of the stage input to the stage's size.
    Bilinear,
}

/// One convolution (bias-free, padding `kernel / 2`, followed by BatchNorm).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvShape {
    pub kernel: usize,
    pub cin: usize,
    pub cout: usize,
    pub stride: usize,
    pub groups: usize,
}

/// Shape of one residual block: the builder and `inspect` both read its convs from here.
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

impl BlockSpec {
    /// The main path, in order (ReLU between them; ResNet v1.5 strides the 3x3 conv).
    pub fn convs(&self) -> Vec<ConvShape> {
        let c = |kernel, cin, cout, stride, groups| ConvShape { kernel, cin, cout, stride, groups };
        match self.kind {
            BlockKind::Basic => vec![c(3, self.cin, self.width, self.stride, self.groups), c(3, self.width, self.out, 1, self.groups)],
            BlockKind::Bottleneck => vec![
                c(1, self.cin, self.width, 1, 1),
                c(3, self.width, self.width, self.stride, self.groups),
                c(1, self.width, self.out, 1, self.last_groups),
            ],
        }
    }

    /// The projection shortcut, when the block changes the shape.
    pub fn shortcut(&self) -> Option<ConvShape> {
        (self.cin != self.out || self.stride != 1).then_some(ConvShape { kernel: 1, cin: self.cin, cout: self.out, stride: self.stride, groups: 1 })
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct StemSpec {
    pub kernel: usize,
    pub stride: usize,
    pub channels: usize,
    pub max_pool: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct StageSpec {
    pub name: String,
    pub kind: BlockKind,
    /// Width of the 3x3 convs.
    pub width: usize,
    /// Output channels.
    pub out: usize,
    pub blocks: usize,
    /// Groups of the 3x3 conv.
    pub groups: usize,
    /// PResNet res5-res7: blocks after the first group their last 1x1 conv too.
    pub grouped_last_1x1: bool,
    /// Output spatial side.
    pub size: usize,
    /// Stride of the first block (1 for bilinear downsampling).
    pub stride: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct ArchSpec {
    pub arch: Arch,
    pub input: usize,
    pub stem: StemSpec,
    /// Spatial side after the stem.
    pub stem_out: usize,
    pub downsample: Downsample,
    pub stages: Vec<StageSpec>,
}

// (kind, width, out, blocks, groups, grouped_last_1x1, size at the native input)
type Row = (BlockKind, usize, usize, usize, usize, bool, usize);
use BlockKind::{Basic, Bottleneck as Bott};

/// PResNet-50 as the LoCo paper describes it (Xiong, Ren, Urtasun, NeurIPS 2020).
const PRESNET50: [Row; 6] = [
    (Basic, 56, 56, 3, 1, false, 56),
    (Basic, 96, 96, 3, 1, false, 36),
    (Bott, 144, 576, 3, 1, false, 24),
    (Bott, 256, 1024, 3, 2, true, 16),
    (Bott, 512, 2048, 3, 16, true, 12),
    (Bott, 1024, 4096, 3, 128, true, 8),
];
const RESNET50: [Row; 4] = [
    (Bott, 64, 256, 3, 1, false, 56),
    (Bott, 128, 512, 4, 1, false, 28),
    (Bott, 256, 1024, 6, 1, false, 14),
    (Bott, 512, 2048, 3, 1, false, 7),
];
/// PResNet's principle at 32x32: gentle bilinear steps, memory balanced across 6 stages.
const PRESNET_CIFAR: [Row; 6] = [
    (Basic, 16, 16, 2, 1, false, 32),
    (Basic, 32, 32, 2, 1, false, 22),
    (Bott, 32, 128, 2, 1, false, 16),
    (Bott, 48, 192, 2, 2, true, 12),
    (Bott, 64, 256, 2, 4, true, 8),
    (Bott, 96, 384, 2, 8, true, 6),
];
/// The browser default: same six stages, one block each, few channels.
const PRESNET_TINY: [Row; 6] = [
    (Basic, 16, 16, 1, 1, false, 32),
    (Basic, 24, 24, 1, 1, false, 22),
    (Bott, 16, 64, 1, 1, false, 16),
    (Bott, 24, 96, 1, 2, true, 12),
    (Bott, 32, 128, 1, 4, true, 8),
    (Bott, 48, 192, 1, 8, true, 6),
];

/// Blocks per stage the `blocks` knob accepts.
pub const BLOCKS: (usize, usize) = (1, 8);

/// Output side of a convolution.
pub(crate) fn conv_out(size: usize, kernel: usize, stride: usize, pad: usize) -> usize {
    (size + 2 * pad).saturating_sub(kernel) / stride + 1
}

/// One architecture: its name's variant, native input, stem, stage rows and downsampling.
struct ArchRow {
    arch: Arch,
    native_input: usize,
    stem: StemSpec,
    rows: &'static [Row],
    downsample: Downsample,
}

const fn stem(kernel: usize, stride: usize, channels: usize, max_pool: bool) -> StemSpec {
    StemSpec { kernel, stride, channels, max_pool }
}

/// Every architecture, one row each: adding a backbone is adding a row (and its name in config).
const ARCHS: [ArchRow; 4] = [
    ArchRow { arch: Arch::Presnet50, native_input: 224, stem: stem(7, 2, 32, true), rows: &PRESNET50, downsample: Downsample::Bilinear },
    ArchRow { arch: Arch::Resnet50, native_input: 224, stem: stem(7, 2, 64, true), rows: &RESNET50, downsample: Downsample::Stride },
    ArchRow { arch: Arch::PresnetCifar, native_input: 32, stem: stem(3, 1, 16, false), rows: &PRESNET_CIFAR, downsample: Downsample::Bilinear },
    ArchRow { arch: Arch::PresnetTiny, native_input: 32, stem: stem(3, 1, 16, false), rows: &PRESNET_TINY, downsample: Downsample::Bilinear },
];

fn row(arch: Arch) -> &'static ArchRow {
    ARCHS.iter().find(|r| r.arch == arch).expect("every Arch has a row in ARCHS")
}

impl ArchSpec {
    /// The concrete network for `arch` at `input` x `input` pixels, with the architecture's
    /// own number of blocks in each stage.
    pub fn new(arch: Arch, input: usize) -> Result<Self> {
        Self::with_blocks(arch, input, None)
    }

    /// [`ArchSpec::new`] with `blocks` residual blocks in every stage (`None`: the
    /// architecture's own; widths unchanged). The `blocks` knob: a deeper stage is what LoCo's
    /// overlap shares (docs/results/cifar50k-b2).
    pub fn with_blocks(arch: Arch, input: usize, blocks: Option<usize>) -> Result<Self> {
        if let Some(b) = blocks {
            if !(BLOCKS.0..=BLOCKS.1).contains(&b) {
                return Err(Error::Config(format!("blocks must be in [{}, {}], got {b}", BLOCKS.0, BLOCKS.1)));
            }
        }
        let r = row(arch);
        let (stem, rows, downsample) = (r.stem.clone(), r.rows, r.downsample);
        let mut stem_out = conv_out(input, stem.kernel, stem.stride, stem.kernel / 2);
        if stem.max_pool {
            stem_out = conv_out(stem_out, 3, 2, 1);
        }
        let native_stem_out = rows[0].6;
        let mut size = stem_out;
        let mut stages = Vec::with_capacity(rows.len());
        for (i, &(kind, width, out, own_blocks, groups, grouped_last_1x1, native)) in rows.iter().enumerate() {
            let blocks = blocks.unwrap_or(own_blocks);
            let stride = if downsample == Downsample::Stride && i > 0 { 2 } else { 1 };
            size = match downsample {
                Downsample::Stride => conv_out(size, 3, stride, 1),
                // Keep the paper's ratios (56:36:24:16:12:8) at any input size.
                Downsample::Bilinear => ((native * stem_out) as f64 / native_stem_out as f64).round().max(1.0) as usize,
            };
            stages.push(StageSpec { name: format!("res{}", i + 2), kind, width, out, blocks, groups, grouped_last_1x1, size, stride });
        }
        if stages.iter().any(|s| s.size < 2) {
            return Err(Error::Config(format!(
                "input {input} is too small for {arch}: its last stage would be {}x{}",
                stages.last().map_or(0, |s| s.size),
                stages.last().map_or(0, |s| s.size)
            )));
        }
        Ok(ArchSpec { arch, input, stem, stem_out, downsample, stages })
    }

    /// Stage names in order (`res2`, `res3`, ...).
    pub fn stage_names(&self) -> Vec<String> {
        self.stages.iter().map(|s| s.name.clone()).collect()
    }

    /// The blocks of stage `i`, in order.
    pub fn block_specs(&self, i: usize) -> Vec<BlockSpec> {
        let st = &self.stages[i];
        (0..st.blocks)
            .map(|b| BlockSpec {
                kind: st.kind,
                cin: if b == 0 { self.in_channels(i) } else { st.out },
                width: st.width,
                out: st.out,
                stride: if b == 0 { st.stride } else { 1 },
                groups: st.groups,
                last_groups: if st.grouped_last_1x1 && b > 0 { st.groups } else { 1 },
            })
            .collect()
    }

    /// Channels entering stage `i`.
    pub fn in_channels(&self, i: usize) -> usize {
        if i == 0 { self.stem.channels } else { self.stages[i - 1].out }
    }

    /// Representation size (channels of the last stage).
    pub fn feature_dim(&self) -> usize {
        self.stages.last().map_or(0, |s| s.out)
    }
}
