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
    // Memory balance: every stage within 2 points of the paper's (res4 differs, see docs/cli.md).
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

/// The `blocks` knob: every stage gets that many blocks at the same widths, from every door
/// (config, experiment file, the page's URL), `inspect` shows it, LoCo's shared stage and its
/// `blocks:<n>` sharing follow it, and a value out of range names the knob.
#[test]
fn the_blocks_knob_deepens_every_stage() {
    use locolab::config::{MethodKind, Overrides, SharingMode, TrainConfig};
    let tiny = ArchSpec::new(Arch::PresnetTiny, 32).unwrap();
    let cfg = TrainConfig { blocks: Some(2), ..TrainConfig::preset("cifar-scale").unwrap() };
    let deep = cfg.arch_spec().unwrap();
    for (a, b) in tiny.stages.iter().zip(&deep.stages) {
        assert_eq!((a.blocks, b.blocks), (1, 2), "{}", a.name);
        assert_eq!((a.width, a.out, a.size, a.groups), (b.width, b.out, b.size, b.groups), "widths and sizes unchanged");
    }
    // A second block of a stage maps out -> out: no shortcut conv, the same block shape.
    let second = deep.block_specs(3)[1];
    assert_eq!((second.cin, second.out, second.stride), (deep.stages[3].out, deep.stages[3].out, 1));
    assert!(second.shortcut().is_none());
    let (a, b) = (inspect(&tiny), inspect(&deep));
    assert!(b.total_params > a.total_params && b.total_activation_bytes > a.total_activation_bytes);
    assert!(b.to_markdown().contains("| res4 | 2 | 64 x 16 x 16 |"), "{}", b.to_markdown());
    assert!(inspect(&ArchSpec::new(Arch::Presnet50, 224).unwrap()).paper.is_some());
    assert!(inspect(&ArchSpec::with_blocks(Arch::Presnet50, 224, Some(2)).unwrap()).paper.is_none(), "the paper's figures are for its own depth");
    // The built network has the blocks inspect counts.
    {
        use burn::prelude::*;
        use locolab::method::flat_params;
        use locolab::model::{Stage, Stem};
        let d = Device::flex().autodiff();
        let count = |v: Vec<Tensor<1>>| v.iter().map(|t| t.dims()[0]).sum::<usize>();
        let built = count(flat_params(&Stem::new(&deep, &d))) + (0..6).map(|i| count(flat_params(&Stage::new(&deep, i, &d)))).sum::<usize>();
        assert_eq!(built, b.total_params);
    }
    // Every door: the experiment file, the page's URL.
    let r = locolab::recipe::Recipe::parse("preset = \"cifar-scale\"\nblocks = 2", "x.toml").unwrap();
    assert_eq!(r.network_config().unwrap().blocks, Some(2));
    let url = Overrides::lenient(Some("browser"), "browser", &[("blocks".into(), "3".into())]);
    assert_eq!((url.overrides.blocks, url.warnings.len()), (Some(3), 0));
    let bad = Overrides::lenient(Some("browser"), "browser", &[("blocks".into(), "0".into())]);
    assert!(bad.overrides.blocks.is_none() && bad.warnings[0].contains("blocks must be in [1, 8], got 0"), "{:?}", bad.warnings);
    let err = TrainConfig::preset_with("browser", &Overrides { blocks: Some(9), ..Default::default() }).unwrap_err().to_string();
    assert_eq!(err, "invalid configuration: blocks must be in [1, 8], got 9");
    // A config without the knob serialises as before (checkpoints and experiment.json files of
    // earlier runs read back unchanged).
    let plain = TrainConfig::preset("cifar-scale").unwrap();
    assert!(!serde_json::to_string(&plain).unwrap().contains("blocks"));
    assert!(serde_json::to_string(&cfg).unwrap().contains("\"blocks\":2"));
    // LoCo's blocks:<n> sharing is bounded by the stages' depth: refused at 1 block, fits at 2.
    let share_one = |blocks| TrainConfig { method: MethodKind::Loco, sharing: SharingMode::Blocks(2), blocks, ..plain.clone() };
    assert!(locolab::method::check(&share_one(None)).unwrap_err().to_string().contains("exceeds the 1 blocks"));
    locolab::method::check(&share_one(Some(2))).unwrap();
}
