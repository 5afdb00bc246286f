//! The trainer on real CIFAR-10 images: losses fall, bad input is an error, updates are exact.
mod common;

use burn::module::{ModuleMapper, Param};
use burn::prelude::*;
use locolab::config::{Arch, MethodKind, SharingMode, TrainConfig};
use locolab::{Error, Trainer};

fn cfg(method: MethodKind) -> TrainConfig {
    TrainConfig { arch: Arch::PresnetTiny, method, batch: 32, steps: 40, warmup_steps: 4, lr: 2e-3, ..TrainConfig::default() }
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

#[test]
fn bad_configs_are_clear_errors() {
    let data = common::cifar();
    let dev = Device::flex();
    let err = |c: TrainConfig| Trainer::new(c, data.clone(), &dev).err().expect("must be rejected").to_string();
    assert!(err(TrainConfig { batch: 0, ..cfg(MethodKind::Gim) }).contains("batch must be in"));
    assert!(err(TrainConfig { temperature: 0.0, ..cfg(MethodKind::Gim) }).contains("temperature must be in"));
    assert!(err(TrainConfig { lr: f64::NAN, ..cfg(MethodKind::Gim) }).contains("lr must be in"));
    let small = std::sync::Arc::new(locolab::data::CifarSplits { train: data.train.take(100), test: data.test.take(10) });
    let msg = Trainer::new(TrainConfig { batch: 128, ..cfg(MethodKind::Gim) }, small, &dev).err().unwrap().to_string();
    assert!(msg.contains("larger than the 100 training images"), "{msg}");
    assert!(err(TrainConfig { sharing: SharingMode::Blocks(3), ..cfg(MethodKind::Loco) }).contains("exceeds"));
    assert!("soft:abc".parse::<SharingMode>().unwrap_err().to_string().contains("soft:<coef>"));
    assert_eq!("blocks:2".parse::<SharingMode>().unwrap(), SharingMode::Blocks(2));
    assert!(TrainConfig::from_json(r#"{"method": "locoo"}"#).unwrap_err().to_string().contains("unknown method"));
    assert!(TrainConfig::from_json(r#"{"batchsize": 3}"#).unwrap_err().to_string().contains("unknown field"));
    let ok = TrainConfig::from_json(r#"{"method": "gim", "decoder": "mlp", "batch": 16}"#).unwrap();
    assert_eq!((ok.method, ok.batch), (MethodKind::Gim, 16));
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
    t.net = t.net.clone().map(&mut Poison);
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
    t.net.stages[3] = t.net.stages[3].clone().map(&mut Poison);
    let before: Vec<Vec<f32>> = t.net.stages.iter().map(values).collect();
    let err = t.step().unwrap_err().to_string();
    assert!(err.contains("unit 3 (res5)") && err.contains("res2, res3, res4") && err.contains("not applied"), "{err}");
    let after: Vec<Vec<f32>> = t.net.stages.iter().map(values).collect();
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
        let ups = t.plan.unit_updates(&t.net, x, c.temperature);
        let grads = ups.into_iter().map(|u| (u.grads, t.device().clone())).collect();
        let mut optim = locolab::optim::build(&c);
        let initial = values(&t.net);
        let summed = optim.step_multi(locolab::optim::learning_rate(&c, 0), t.net.clone(), MultiGradientsParams { grads });
        t.step().unwrap();
        let (want, got) = (values(&summed), values(&t.net));
        assert_eq!(want.len(), got.len());
        let worst = want.iter().zip(&got).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
        assert!(worst < 1e-5, "{method:?}: per-unit update differs from the summed one by {worst}");
        assert_ne!(initial, got, "{method:?}: the step must move the weights");
    }
}

#[test]
fn knn_and_linear_probe_beat_chance_on_trained_features() {
    use locolab::eval::{evaluate, EvalOptions};
    let mut t = Trainer::new(cfg(MethodKind::Simclr), common::cifar(), &Device::flex()).unwrap();
    t.run(5, |_| {}).unwrap();
    let acc = evaluate(&t, &EvalOptions { train_images: Some(2000), ..EvalOptions::default() }).unwrap();
    eprintln!("{acc:?}");
    // Ten balanced classes: chance is 10%. Even near-random conv features do far better.
    assert!(acc[0].knn > 18.0 && acc[0].linear.unwrap() > 18.0, "{acc:?}");
}

#[test]
fn sgd_and_lars_update_the_weights_and_stay_finite() {
    use locolab::config::OptimizerKind;
    use locolab::method::flat_params;
    for optimizer in [OptimizerKind::Sgd, OptimizerKind::Lars] {
        let c = TrainConfig { optimizer, lr: 0.5, warmup_steps: 0, ..cfg(MethodKind::Gim) };
        let mut t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
        let before: Vec<f32> = flat_params(&t.net.stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let reports = t.run(3, |_| {}).unwrap();
        let after: Vec<f32> = flat_params(&t.net.stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(moved > before.len() / 2, "{optimizer}: only {moved} of {} weights moved", before.len());
        assert!(after.iter().all(|v| v.is_finite()) && reports.iter().all(|r| r.losses.iter().all(|l| l.is_finite())));
    }
}
