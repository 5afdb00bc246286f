//! Per-stage shapes, parameters, activation memory and FLOPs, computed from the same
//! [`ArchSpec`] the builder uses (`locolab inspect`).
//!
//! Counting rules (docs/cli.md, "How inspect counts"): FLOPs are multiply-adds of convs (shortcuts
//! included) and the stem is counted in the first stage, as the paper's ResNet-50 figures do;
//! activation memory is the f32 output of every conv on a block's main path, per image.

use serde::Serialize;

use super::arch::{conv_out, ArchSpec};
use crate::model::arch::Arch;

#[derive(Clone, Debug, Serialize)]
pub struct StageStats {
    pub name: String,
    /// Residual blocks in the stage (the `blocks` knob, or the architecture's own).
    pub blocks: usize,
    /// [channels, height, width] of the stage output.
    pub shape: [usize; 3],
    pub params: usize,
    pub activation_bytes: usize,
    pub activation_pct: f64,
    pub macs: usize,
    pub flops_pct: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Inspection {
    pub arch: String,
    pub input: usize,
    pub stages: Vec<StageStats>,
    pub total_params: usize,
    pub total_activation_bytes: usize,
    /// Multiply-adds, in units of 1e9 (the paper's "GFLOPs").
    pub gmacs: f64,
    /// The paper's per-stage memory and FLOPs percentages, where it gives them.
    pub paper: Option<PaperRow>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PaperRow {
    pub mem_pct: Vec<f64>,
    pub flops_pct: Vec<f64>,
    pub gflops: f64,
}

fn conv(k: usize, cin: usize, cout: usize, groups: usize, hw: usize) -> (usize, usize) {
    let params = k * k * cin / groups * cout;
    (params + 2 * cout, params * hw) // + BatchNorm gamma/beta
}

pub fn inspect(spec: &ArchSpec) -> Inspection {
    let stem_hw = {
        let s = &spec.stem;
        let side = (spec.input + 2 * (s.kernel / 2) - s.kernel) / s.stride + 1;
        side * side
    };
    let (stem_params, stem_macs) = conv(spec.stem.kernel, 3, spec.stem.channels, 1, stem_hw);
    let mut rows = Vec::new();
    let mut prev_size = spec.stem_out;
    for (i, st) in spec.stages.iter().enumerate() {
        let hw = st.size * st.size;
        let (mut params, mut macs, mut act) = (0, 0, 0);
        for block in spec.block_specs(i) {
            // A strided block starts at the previous stage's size (ResNet v1.5 strides its 3x3
            // conv, so the first 1x1 runs there); a bilinear stage resizes before its blocks.
            let mut side = if block.stride > 1 { prev_size } else { st.size };
            for c in block.convs() {
                side = conv_out(side, c.kernel, c.stride, c.kernel / 2);
                let (p, m) = conv(c.kernel, c.cin, c.cout, c.groups, side * side);
                params += p;
                macs += m;
                act += c.cout * hw * 4;
            }
            if let Some(c) = block.shortcut() {
                let (p, m) = conv(c.kernel, c.cin, c.cout, c.groups, hw);
                params += p;
                macs += m;
            }
        }
        prev_size = st.size;
        if i == 0 {
            params += stem_params;
            macs += stem_macs;
        }
        rows.push(StageStats {
            name: st.name.clone(),
            blocks: st.blocks,
            shape: [st.out, st.size, st.size],
            params,
            activation_bytes: act,
            activation_pct: 0.0,
            macs,
            flops_pct: 0.0,
        });
    }
    let total_act: usize = rows.iter().map(|r| r.activation_bytes).sum();
    let total_macs: usize = rows.iter().map(|r| r.macs).sum();
    for r in &mut rows {
        r.activation_pct = 100.0 * r.activation_bytes as f64 / total_act as f64;
        r.flops_pct = 100.0 * r.macs as f64 / total_macs as f64;
    }
    // The paper's figures describe the architecture as published: its own blocks per stage.
    let own = ArchSpec::new(spec.arch, spec.input).map_or(false, |o| o.stages.iter().zip(&spec.stages).all(|(a, b)| a.blocks == b.blocks));
    let paper = match (spec.arch, spec.input) {
        _ if !own => None,
        (Arch::Presnet50, 224) => Some(PaperRow {
            mem_pct: vec![15.46, 10.96, 19.48, 17.31, 19.48, 17.31],
            flops_pct: vec![13.50, 14.63, 14.77, 16.62, 20.45, 20.04],
            gflops: 4.16,
        }),
        (Arch::Resnet50, 224) => Some(PaperRow {
            mem_pct: vec![43.64, 29.09, 21.82, 5.45],
            flops_pct: vec![19.39, 25.09, 35.80, 19.73],
            gflops: 4.14,
        }),
        _ => None,
    };
    Inspection {
        arch: spec.arch.to_string(),
        input: spec.input,
        total_params: rows.iter().map(|r| r.params).sum(),
        total_activation_bytes: total_act,
        gmacs: total_macs as f64 / 1e9,
        stages: rows,
        paper,
    }
}

impl Inspection {
    /// A markdown table, with the paper's figures beside ours where it has them.
    pub fn to_markdown(&self) -> String {
        let mut s = format!("{} at {}x{}\n\n", self.arch, self.input, self.input);
        let paper = self.paper.as_ref();
        s += "| stage | blocks | output (C x H x W) | params | act. memory / image | mem % | FLOPs % |";
        if paper.is_some() {
            s += " paper mem % | paper FLOPs % |";
        }
        s += "\n|---|---|---|---|---|---|---|";
        if paper.is_some() {
            s += "---|---|";
        }
        s += "\n";
        for (i, r) in self.stages.iter().enumerate() {
            s += &format!(
                "| {} | {} | {} x {} x {} | {} | {} | {:.2} | {:.2} |",
                r.name, r.blocks, r.shape[0], r.shape[1], r.shape[2], crate::human::count(r.params), crate::human::bytes(r.activation_bytes as u64),
                r.activation_pct, r.flops_pct
            );
            if let Some(p) = paper {
                s += &format!(" {:.2} | {:.2} |", p.mem_pct[i], p.flops_pct[i]);
            }
            s += "\n";
        }
        s += &format!(
            "\nTotal: {} parameters (backbone), {} activations per image, {:.3} GFLOPs (multiply-adds)",
            crate::human::count(self.total_params),
            crate::human::bytes(self.total_activation_bytes as u64),
            self.gmacs
        );
        if let Some(p) = paper {
            s += &format!("; paper: {:.2} GFLOPs ({:+.1}%)", p.gflops, 100.0 * (self.gmacs / p.gflops - 1.0));
        }
        s + "\n"
    }
}
