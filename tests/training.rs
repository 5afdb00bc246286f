//! The trainer on real CIFAR-10 images: losses fall, a NaN loss is an error, updates are exact.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use locolab::config::{MethodKind, TrainConfig};
use locolab::{Error, Trainer};

fn cfg(method: MethodKind) -> TrainConfig {
    common::tiny(method)
}

fn mean(v: &[f32]) -> f32 {
    v.iter().sum::<f32>() / v.len() as f32
}

fn assert_loss_falls(c: TrainConfig) {
    let label = locolab::method::label(&c);
    let mut t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
    let reports = t.run(40, |_| {}).unwrap();
    let units = reports[0].losses.len();
    let avg = |range: std::ops::Range<usize>, u: usize| mean(&reports[range].iter().map(|r| r.losses[u]).collect::<Vec<_>>());
    let (first, last): (Vec<f32>, Vec<f32>) = (0..units).map(|u| (avg(0..6, u), avg(34..40, u))).unzip();
    eprintln!("{label}: first {first:?} last {last:?}");
    assert!(mean(&last) < mean(&first) - 0.05, "{label}: mean loss {} -> {}", mean(&first), mean(&last));
    assert!(last[units - 1] < first[units - 1], "{label}: top unit's loss must fall");
    assert!(reports.iter().all(|r| r.losses.iter().all(|l| l.is_finite())));
}

#[test]
fn simclr_loss_falls_on_cifar() {
    assert_loss_falls(cfg(MethodKind::Simclr));
}

#[test]
fn gim_loss_falls_on_cifar() {
    assert_loss_falls(cfg(MethodKind::Gim));
}

#[test]
fn loco_loss_falls_on_cifar() {
    assert_loss_falls(cfg(MethodKind::Loco));
}

struct Poison;
impl ModuleMapper for Poison {
    fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
        p.map(|t| t.mul_scalar(f32::NAN).detach().require_grad())
    }
}

#[test]
fn nan_loss_is_an_error_and_the_model_is_kept() {
    let mut t = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    t.step().unwrap();
    *t.network_mut() = t.network().clone().map(&mut Poison);
    let err = t.step().unwrap_err();
    assert!(matches!(err, Error::Diverged(_)), "{err}");
    assert!(err.to_string().contains("not applied") && err.to_string().contains("Lower the learning rate"), "{err}");
    assert_eq!(t.step_count(), 1, "a diverged step is not counted");
}

fn values<M: Module>(m: &M) -> Vec<f32> {
    locolab::method::flat_params(m).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect()
}

#[test]
fn nan_in_one_gim_unit_keeps_it_and_those_above_unchanged() {
    let mut t = Trainer::new(cfg(MethodKind::Gim), common::cifar(), &Device::flex()).unwrap();
    t.step().unwrap();
    t.network_mut().stages[3] = t.network().stages[3].clone().map(&mut Poison);
    let before: Vec<Vec<f32>> = t.network().stages.iter().map(values).collect();
    let err = t.step().unwrap_err().to_string();
    assert!(err.contains("unit 3 (res5)") && err.contains("res2, res3, res4") && err.contains("not applied"), "{err}");
    let after: Vec<Vec<f32>> = t.network().stages.iter().map(values).collect();
    for s in 0..3 {
        assert_ne!(before[s], after[s], "stage {s} had a finite loss and is updated");
    }
    for s in 4..6 {
        assert_eq!(before[s], after[s], "stage {s} is above the diverged unit and must not change");
    }
    assert!(after[3].iter().all(|v| v.is_nan()), "the poisoned stage gets no update (NaN in, NaN kept)");
    assert_eq!(t.step_count(), 1);
}

/// Applying each parameter's gradient as soon as it is complete (unit by unit) must equal one
/// update with the summed gradients of all units, LoCo's shared stages included.
#[test]
fn unit_by_unit_update_equals_the_summed_update() {
    use burn::optim::MultiGradientsParams;
    for method in [MethodKind::Loco, MethodKind::Gim] {
        let c = TrainConfig { warmup_steps: 0, ..cfg(method) };
        let mut t = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
        let x = t.batch_views(0).into_tensor(t.device());
        let ups = t.plan().unit_updates(&t.network(), x, c.temperature);
        let grads = ups.into_iter().map(|u| (u.grads, t.device().clone())).collect();
        let mut optim = locolab::optim::build(&c);
        let initial = values(t.network());
        let summed = optim.step_multi(locolab::optim::learning_rate(&c, 0), t.network().clone(), MultiGradientsParams { grads });
        t.step().unwrap();
        let (want, got) = (values(&summed), values(t.network()));
        assert_eq!(want.len(), got.len());
        let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{method:?}: per-unit update differs from the summed one by {worst}");
        assert_ne!(initial, got, "{method:?}: the step must move the weights");
    }
}

