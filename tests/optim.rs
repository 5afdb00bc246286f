//! The optimizers other than Adam move the weights and stay finite.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use burn::prelude::*;
use common::tiny as cfg;
use locolab::config::{MethodKind, TrainConfig};
use locolab::Trainer;

#[test]
fn sgd_and_lars_update_the_weights_and_stay_finite() {
    use locolab::config::OptimizerKind;
    use locolab::method::flat_params;
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Lars] {
        let c = TrainConfig { optimizer, lr: 0.5, warmup_steps: 0, ..cfg(MethodKind::Gim) };
        let mut t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        let before: Vec<f32> = flat_params(&t.network().stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let reports = t.run(3, |_| {}).unwrap();
        let after: Vec<f32> = flat_params(&t.network().stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(moved > before.len() / 2, "{optimizer}: only {moved} of {} weights moved", before.len());
        assert!(after.iter().all(|v| v.is_finite()) && reports.iter().all(|r| r.losses.iter().all(|l| l.is_finite())));
    }
}

/// SimCLR/LoCo's LARS: rank-1 parameters (biases, BatchNorm's scale and shift) get neither weight
/// decay nor the trust ratio; weight tensors get both.
#[test]
fn lars_leaves_biases_and_norms_out_of_decay_and_trust_ratio() {
    use burn::optim::Optimizer;
    use locolab::optim::{Lars, LARS_ETA};
    let (wd, lr) = (0.5, 0.1);
    let lars = Lars::new(wd, LARS_ETA, 0.9);
    let dev = Device::flex();
    let vec = |t: Tensor<1>| t.into_data().try_to_vec::<f32>().unwrap();
    // The momentum knob: a second step on the same gradient moves (1 + momentum) times the first.
    for momentum in [0.0, 0.9] {
        let l = Lars::new(wd, LARS_ETA, momentum);
        let g = || Tensor::<1>::from_floats([1.0], &dev);
        let (once, state) = l.step(lr, Tensor::<1>::from_floats([0.0], &dev), g(), None);
        let (twice, _) = l.step(lr, once, g(), state);
        let moved = vec(twice)[0] as f64;
        assert!((moved + lr * (2.0 + momentum)).abs() < 1e-6, "momentum {momentum}: {moved}");
    }
    // A bias with a zero gradient does not move (no decay pulls it toward 0).
    let bias = Tensor::<1>::from_floats([1.0, -2.0], &dev);
    let (after, _) = lars.step(lr, bias.clone(), Tensor::zeros([2], &dev), None);
    assert_eq!(vec(after), vec(bias.clone()));
    // With a gradient it takes the plain SGD step: w - lr * g (no trust ratio).
    let (after, _) = lars.step(lr, bias, Tensor::<1>::from_floats([1.0, 1.0], &dev), None);
    assert_eq!(vec(after), [0.9, -2.1]);
    // A conv weight with a zero gradient decays, scaled by the trust ratio
    // eta * ||w|| / ||wd * w|| = eta / wd: w - lr * (eta / wd) * wd * w = w * (1 - lr * eta).
    let w = Tensor::<4>::from_floats([[[[3.0, 4.0]]]], &dev);
    let (after, _) = lars.step(lr, w, Tensor::zeros([1, 1, 1, 2], &dev), None);
    let got = after.into_data().try_to_vec::<f32>().unwrap();
    let want = [3.0 * (1.0 - lr * LARS_ETA) as f32, 4.0 * (1.0 - lr * LARS_ETA) as f32];
    assert!(got.iter().zip(want).all(|(g, w)| (g - w).abs() < 1e-6), "{got:?} vs {want:?}");
}
