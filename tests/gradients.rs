//! Gradient isolation, checked by reading the gradients each unit's loss produces.
#![cfg(not(target_arch = "wasm32"))]
use burn::optim::GradientsParams;
use burn::prelude::*;
use locolab::config::{Arch, MethodKind, SharingMode, TrainConfig};
use locolab::method::{grad_abs_sum, param_ids, plan_for, Plan, TopStage, UnitUpdate};
use locolab::model::Network;
use locolab::model::ArchSpec;

fn setup(method: MethodKind, sharing: SharingMode) -> (Plan, Network, Vec<UnitUpdate>) {
    let cfg = TrainConfig { arch: Arch::PresnetTiny, method, sharing, batch: 4, ..TrainConfig::default() };
    let spec = ArchSpec::new(cfg.arch, cfg.input).unwrap();
    let device = Device::flex().autodiff();
    device.seed(1);
    let plan = plan_for(&cfg, &spec).unwrap();
    let net = plan.build(&spec, 16, &device);
    let x = Tensor::<4>::random([8, 3, 32, 32], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let ups = plan.unit_updates(&net, x, 0.5);
    (plan, net, ups)
}

/// Sum of |grad| over a module's parameters that got a gradient; None when none did.
fn grad_mass<M: Module>(g: &GradientsParams, m: &M) -> Option<f64> {
    let mut any = false;
    let mut total = 0.0;
    for (id, rank) in param_ids(m) {
        if let Some(t) = grad_abs_sum(g, id, rank) {
            any = true;
            total += t.into_scalar::<f32>() as f64;
        }
    }
    any.then_some(total)
}


#[test]
fn gim_loss_at_stage_k_never_reaches_stages_below() {
    let (plan, net, ups) = setup(MethodKind::Gim, SharingMode::Hard);
    assert_eq!(plan.units.len(), 6);
    for (k, up) in ups.iter().enumerate() {
        for j in 0..k {
            assert_eq!(grad_mass(&up.grads, &net.stages[j]), None, "GIM unit {k} leaked a gradient into stage {j}");
        }
        if k > 0 {
            assert_eq!(grad_mass(&up.grads, &net.stem), None, "GIM unit {k} reached the stem");
        }
        assert!(grad_mass(&up.grads, &net.stages[k]).unwrap() > 0.0, "GIM unit {k} must train its own stage");
        for j in k + 1..6 {
            assert_eq!(grad_mass(&up.grads, &net.stages[j]), None);
        }
    }
}

/// GIM with two stages per module (issue 24's control): three modules; a module's loss trains
/// both its stages and nothing outside them.
#[test]
fn gim_with_two_stage_modules_isolates_modules_not_stages() {
    let cfg = TrainConfig { arch: Arch::PresnetTiny, method: MethodKind::Gim, module_stages: 2, batch: 4, ..TrainConfig::default() };
    assert_eq!(locolab::method::label(&cfg), "gim(2 stages, conv-mlp)");
    let spec = ArchSpec::new(cfg.arch, cfg.input).unwrap();
    let device = Device::flex().autodiff();
    device.seed(1);
    let plan = plan_for(&cfg, &spec).unwrap();
    assert_eq!(plan.units.iter().map(|u| u.stages.clone()).collect::<Vec<_>>(), [0..2, 2..4, 4..6]);
    let net = plan.build(&spec, 16, &device);
    let x = Tensor::<4>::random([8, 3, 32, 32], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let ups = plan.unit_updates(&net, x, 0.5);
    for (k, up) in ups.iter().enumerate() {
        for j in 0..6 {
            let mass = grad_mass(&up.grads, &net.stages[j]);
            if j / 2 == k {
                assert!(mass.unwrap() > 0.0, "module {k} must train stage {j}");
            } else {
                assert_eq!(mass, None, "module {k} leaked a gradient into stage {j}");
            }
        }
    }
    let too_many = TrainConfig { module_stages: 7, ..cfg };
    assert!(locolab::method::check(&too_many).unwrap_err().to_string().contains("module_stages 7 must be between 1 and the 6 stages"));
}

/// Deeper decoders (the paper's decoder-depth ablation): with `decoder_depth` 2 every local
/// decoder but the top MLP head holds two conv blocks; a unit's loss trains both blocks of its
/// own decoder, no other unit's decoder, and the same stages as with depth 1.
#[test]
fn deeper_decoders_train_with_their_own_unit_only() {
    for method in [MethodKind::Gim, MethodKind::Loco] {
        let cfg = TrainConfig { arch: Arch::PresnetTiny, method, decoder_depth: 2, batch: 4, ..TrainConfig::default() };
        assert!(locolab::method::label(&cfg).contains("conv-mlp x2"), "{}", locolab::method::label(&cfg));
        let spec = ArchSpec::new(cfg.arch, cfg.input).unwrap();
        let device = Device::flex().autodiff();
        device.seed(1);
        let plan = plan_for(&cfg, &spec).unwrap();
        let net = plan.build(&spec, 16, &device);
        let last = net.heads.len() - 1;
        for (u, head) in net.heads.iter().enumerate() {
            assert_eq!(head.deeper.len(), if u == last { 0 } else { 1 }, "{method} head {u}");
            assert_eq!(head.block.is_some(), u != last);
        }
        let x = Tensor::<4>::random([8, 3, 32, 32], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
        let ups = plan.unit_updates(&net, x, 0.5);
        let shallow = setup(method, SharingMode::Hard);
        for (u, up) in ups.iter().enumerate() {
            for (h, head) in net.heads.iter().enumerate() {
                let (block, deeper) = (head.block.as_ref().and_then(|b| grad_mass(&up.grads, b)), grad_mass(&up.grads, &head.deeper));
                if h == u && h != last {
                    assert!(block.unwrap() > 0.0 && deeper.unwrap() > 0.0, "{method} unit {u} must train both blocks of its decoder");
                } else {
                    assert_eq!((block, deeper), (None, None), "{method} unit {u} reached decoder {h}");
                }
            }
            for j in 0..6 {
                let (deep, flat) = (grad_mass(&up.grads, &net.stages[j]).is_some(), grad_mass(&shallow.2[u].grads, &shallow.1.stages[j]).is_some());
                assert_eq!(deep, flat, "{method} unit {u}: stage {j} trained with depth 2 iff with depth 1");
            }
        }
    }
    let mlp = TrainConfig { decoder: locolab::config::DecoderKind::Mlp, decoder_depth: 2, ..TrainConfig::default() };
    assert!(mlp.validate().unwrap_err().to_string().contains("decoder_depth 2 needs the conv-mlp decoder"));
    let five = TrainConfig { decoder_depth: 5, ..TrainConfig::default() };
    assert!(five.validate().unwrap_err().to_string().contains("decoder_depth must be in [1, 4]"));
}

#[test]
fn loco_upper_unit_feeds_the_shared_stage_but_not_below() {
    let (plan, net, ups) = setup(MethodKind::Loco, SharingMode::Hard);
    assert_eq!(plan.units.len(), 5);
    // Unit 1 = {res3, res4}: its loss reaches res3 (shared with unit 0) and res4, not res2.
    let g = &ups[1].grads;
    assert!(grad_mass(g, &net.stages[1]).unwrap() > 0.0, "shared stage res3 gets the upper unit's gradient");
    assert!(grad_mass(g, &net.stages[2]).unwrap() > 0.0);
    assert_eq!(grad_mass(g, &net.stages[0]), None, "no gradient below the unit");
    assert_eq!(grad_mass(g, &net.stem), None);
    // Unit 0 = {stem, res2, res3} also updates res3: hard sharing, both units' gradients.
    assert!(grad_mass(&ups[0].grads, &net.stages[1]).unwrap() > 0.0);
    assert!(grad_mass(&ups[0].grads, &net.stem).unwrap() > 0.0);
}

#[test]
fn loco_upper_only_lower_unit_leaves_shared_stage_alone() {
    let (_, net, ups) = setup(MethodKind::Loco, SharingMode::UpperOnly);
    for k in 0..4 {
        assert_eq!(grad_mass(&ups[k].grads, &net.stages[k + 1]), None, "unit {k} must not update its shared top stage");
        assert!(grad_mass(&ups[k].grads, &net.stages[k]).unwrap() > 0.0);
    }
    // The shared stage is still trained, by the upper unit.
    assert!(grad_mass(&ups[1].grads, &net.stages[1]).unwrap() > 0.0);
    // The last unit's top stage is shared with no one, so it updates it.
    assert!(grad_mass(&ups[4].grads, &net.stages[5]).unwrap() > 0.0);
}

#[test]
fn loco_soft_sharing_trains_a_copy_tied_to_the_shared_stage() {
    let (plan, net, ups) = setup(MethodKind::Loco, SharingMode::Soft { l2: 1e-2 });
    assert_eq!(net.copies.len(), 4);
    assert_eq!(plan.units[0].top, TopStage::Copy { copy: 0, l2: 1e-2 });
    assert_eq!(plan.units[4].top, TopStage::Whole, "the last unit has no copy");
    // Unit 0 trains its copy of res3; the L2 tie also pulls on the shared res3 itself.
    assert!(grad_mass(&ups[0].grads, &net.copies[0]).unwrap() > 0.0);
    assert!(grad_mass(&ups[0].grads, &net.stages[1]).unwrap() > 0.0);
    assert_eq!(grad_mass(&ups[1].grads, &net.copies[0]), None);
}

#[test]
fn loco_blocks_sharing_runs_the_first_blocks_of_the_next_stage() {
    let cfg = TrainConfig { arch: Arch::PresnetCifar, method: MethodKind::Loco, sharing: SharingMode::Blocks(1), ..TrainConfig::default() };
    let spec = ArchSpec::new(cfg.arch, 32).unwrap();
    let plan = plan_for(&cfg, &spec).unwrap();
    assert_eq!(plan.units[0].top, TopStage::FirstBlocks(1));
    assert_eq!(plan.units[4].top, TopStage::Whole, "the last unit keeps its whole top stage");
    let too_many = TrainConfig { sharing: SharingMode::Blocks(3), ..cfg.clone() };
    let err = plan_for(&too_many, &spec).unwrap_err().to_string();
    assert!(err.contains("blocks:3 exceeds the 2 blocks"), "{err}");
    let device = Device::flex().autodiff();
    let net = plan.build(&spec, 16, &device);
    let x = Tensor::<4>::random([8, 3, 32, 32], burn::tensor::Distribution::Normal(0.0, 1.0), &device);
    let ups = plan.unit_updates(&net, x, 0.5);
    // Unit 0 reaches block 0 of res3 but not block 1.
    assert!(grad_mass(&ups[0].grads, &net.stages[1].blocks[0]).unwrap() > 0.0);
    assert_eq!(grad_mass(&ups[0].grads, &net.stages[1].blocks[1]), None);
}

#[test]
fn simclr_loss_reaches_the_stem() {
    let (plan, net, ups) = setup(MethodKind::Simclr, SharingMode::Hard);
    assert_eq!(plan.units.len(), 1);
    assert!(grad_mass(&ups[0].grads, &net.stem).unwrap() > 0.0);
    for s in &net.stages {
        assert!(grad_mass(&ups[0].grads, s).unwrap() > 0.0);
    }
    assert!(!param_ids(&net.stem).is_empty());
}
