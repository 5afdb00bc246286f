//! `locolab inspect` against the paper's tables (MISSION.md), and the model's building blocks.
#![cfg(not(target_arch = "wasm32"))]
use locolab::config::Arch;
use locolab::model::inspect::inspect;
use locolab::model::ArchSpec;

#[test]
fn resnet50_matches_the_paper() {
    let ins = inspect(&ArchSpec::new(Arch::Resnet50, 224).unwrap());
    let p = ins.paper.clone().unwrap();
    for (s, (m, f)) in ins.stages.iter().zip(p.mem_pct.iter().zip(&p.flops_pct)) {
        assert!((s.activation_pct - m).abs() < 1.0, "{} mem {} vs {}", s.name, s.activation_pct, m);
        assert!((s.flops_pct - f).abs() < 1.1, "{} flops {} vs {}", s.name, s.flops_pct, f);
    }
    assert!((ins.gmacs / 4.14 - 1.0).abs() < 0.02, "{} GFLOPs", ins.gmacs);
    // 25.5M with the classifier; the backbone alone is 23.5M.
    assert!((ins.total_params as f64 / 23.5e6 - 1.0).abs() < 0.01, "{}", ins.total_params);
}

#[test]
fn presnet50_has_the_papers_shape() {
    let spec = ArchSpec::new(Arch::Presnet50, 224).unwrap();
    let sizes: Vec<usize> = spec.stages.iter().map(|s| s.size).collect();
    assert_eq!(sizes, [56, 36, 24, 16, 12, 8]);
    assert_eq!(spec.feature_dim(), 4096);
    let ins = inspect(&spec);
    let p = ins.paper.clone().unwrap();
    // Memory balance: every stage within 2 points of the paper's (res4 differs, see README).
    for (s, m) in ins.stages.iter().zip(&p.mem_pct) {
        assert!((s.activation_pct - m).abs() < 2.0, "{} mem {} vs {}", s.name, s.activation_pct, m);
    }
}

#[test]
fn presnet_cifar_balances_memory() {
    let ins = inspect(&ArchSpec::new(Arch::PresnetCifar, 32).unwrap());
    assert_eq!(ins.stages.len(), 6);
    for s in &ins.stages {
        assert!(s.activation_pct <= 25.0, "{} holds {:.1}% of activation memory", s.name, s.activation_pct);
    }
}

#[test]
fn inspect_params_match_the_built_network() {
    use burn::prelude::*;
    use locolab::method::flat_params;
    use locolab::model::{Stage, Stem};
    let spec = ArchSpec::new(Arch::PresnetCifar, 32).unwrap();
    let ins = inspect(&spec);
    let d = Device::flex().autodiff(); // parameters require grad only on an autodiff device
    // Trainable parameters only (burn's num_params also counts BatchNorm running statistics).
    let count = |v: Vec<Tensor<1>>| v.iter().map(|t| t.dims()[0]).sum::<usize>();
    let built = count(flat_params(&Stem::new(&spec, &d))) + (0..6).map(|i| count(flat_params(&Stage::new(&spec, i, &d)))).sum::<usize>();
    assert_eq!(built, ins.total_params);
}

#[test]
fn bilinear_resize_matches_burns_interpolate() {
    use burn::prelude::*;
    use burn::tensor::module::interpolate;
    use burn::tensor::ops::{InterpolateMode, InterpolateOptions};
    let d = Device::flex();
    let x = Tensor::<4>::random([2, 3, 56, 56], burn::tensor::Distribution::Normal(0.0, 1.0), &d);
    for (h, w) in [(36, 36), (24, 24), (5, 7)] {
        let ours = locolab::model::bilinear_resize(x.clone(), h, w);
        let opts = InterpolateOptions::new(InterpolateMode::Bilinear).with_align_corners(false).with_output_size([h, w]);
        let burn = interpolate(x.clone(), opts);
        let diff = (ours - burn).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-4, "{h}x{w}: max difference {diff}");
    }
}
