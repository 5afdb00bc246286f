//! Optimizers (Adam, SGD with momentum, LARS) and the warm-up + cosine learning-rate schedule.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, LearningRate, ModuleOptimizer, Optimizer, Sgd, SgdConfig, SgdState};
use burn::prelude::*;

use crate::config::{OptimizerKind, TrainConfig};

/// Linear warm-up to `lr`, then cosine decay to zero at `cfg.steps` (SimCLR's schedule).
pub fn learning_rate(cfg: &TrainConfig, step: usize) -> f64 {
    if step < cfg.warmup_steps {
        return cfg.lr * (step + 1) as f64 / cfg.warmup_steps as f64;
    }
    let span = cfg.steps.saturating_sub(cfg.warmup_steps).max(1) as f64;
    let t = ((step - cfg.warmup_steps) as f64 / span).min(1.0);
    cfg.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

pub fn build(cfg: &TrainConfig) -> ModuleOptimizer {
    let wd = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
    let sgd = || {
        SgdConfig::new()
            .with_momentum(Some(MomentumConfig::new().with_momentum(0.9).with_dampening(0.0)))
            .with_weight_decay(wd.clone())
    };
    match cfg.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(wd.clone()).init(),
        OptimizerKind::Sgd => sgd().init(),
        OptimizerKind::Lars => ModuleOptimizer::from(Lars { inner: sgd().build(), eta: 1e-3, weight_decay: cfg.weight_decay }),
    }
}

/// LARS (You et al. 2017): SGD with momentum whose step for each weight tensor is scaled by
/// `eta * ||w|| / ||g + wd * w||`; biases and BatchNorm parameters (rank 1) are not adapted.
#[derive(Clone)]
pub struct Lars {
    inner: Sgd,
    eta: f64,
    weight_decay: f64,
}

impl Optimizer for Lars {
    type State<const D: usize> = SgdState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        if D == 1 {
            return self.inner.step(lr, tensor, grad, state);
        }
        let w_norm = tensor.clone().powi_scalar(2).sum().sqrt();
        let g_norm = (grad.clone() + tensor.clone() * self.weight_decay).powi_scalar(2).sum().sqrt();
        // Trust ratio where both norms are positive, 1 otherwise: arithmetic, no read-back.
        let ok = w_norm.clone().greater_elem(0.0).float() * g_norm.clone().greater_elem(0.0).float();
        let ratio = ok.clone() * (w_norm * self.eta) / (g_norm + 1e-12) + (ok.neg() + 1.0);
        let ratio: Tensor<D> = ratio.reshape([1; D]);
        self.inner.step(lr, tensor, grad * ratio, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Sgd as Optimizer>::to_device(state, device)
    }
}
