//! Optimizers (Adam, SGD with momentum, LARS) and the warm-up + cosine learning-rate schedule.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, LearningRate, ModuleOptimizer, Optimizer, Sgd, SgdConfig, SgdState};
use burn::prelude::*;

use crate::config::{OptimizerKind, TrainConfig};

/// Linear warm-up to the peak rate ([`TrainConfig::peak_lr`]), then cosine decay to zero at
/// `cfg.steps` (SimCLR's schedule).
pub fn learning_rate(cfg: &TrainConfig, step: usize) -> f64 {
    if step < cfg.warmup_steps {
        return cfg.peak_lr() * (step + 1) as f64 / cfg.warmup_steps as f64;
    }
    let span = cfg.steps.saturating_sub(cfg.warmup_steps).max(1) as f64;
    let t = ((step - cfg.warmup_steps) as f64 / span).min(1.0);
    cfg.peak_lr() * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
}

pub fn build(cfg: &TrainConfig) -> ModuleOptimizer {
    let wd = (cfg.weight_decay > 0.0).then(|| WeightDecayConfig::new(cfg.weight_decay as f32));
    match cfg.optimizer {
        OptimizerKind::Adam => AdamConfig::new().with_weight_decay(wd).init(),
        OptimizerKind::Sgd => sgd_config(cfg.weight_decay, cfg.momentum).init(),
        OptimizerKind::Lars => ModuleOptimizer::from(Lars::new(cfg.weight_decay, LARS_ETA, cfg.momentum)),
    }
}

/// LARS's trust coefficient (SimCLR, LoCo).
pub const LARS_ETA: f64 = 1e-3;

/// SGD with `momentum` (no dampening) and weight decay `wd` (none when 0).
fn sgd_config(wd: f64, momentum: f64) -> SgdConfig {
    SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_momentum(momentum).with_dampening(0.0)))
        .with_weight_decay((wd > 0.0).then(|| WeightDecayConfig::new(wd as f32)))
}

/// LARS (You et al. 2017) as SimCLR and LoCo use it: SGD with momentum whose step for each
/// weight tensor is scaled by `eta * ||w|| / ||g + wd * w||`; biases and BatchNorm parameters
/// (rank 1) get neither the trust ratio nor weight decay.
#[derive(Clone)]
pub struct Lars {
    /// SGD with momentum and no decay of its own: LARS adds the decay before the trust ratio.
    plain: Sgd,
    eta: f64,
    weight_decay: f64,
}

impl Lars {
    /// LARS with weight decay `weight_decay`, trust coefficient `eta` and `momentum`.
    pub fn new(weight_decay: f64, eta: f64, momentum: f64) -> Self {
        Self { plain: sgd_config(0.0, momentum).build(), eta, weight_decay }
    }
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
            return self.plain.step(lr, tensor, grad, state);
        }
        // SimCLR's LARS: decay joins the gradient, and the trust ratio scales both.
        let grad = grad + tensor.clone() * self.weight_decay;
        let w_norm = tensor.clone().powi_scalar(2).sum().sqrt();
        let g_norm = grad.clone().powi_scalar(2).sum().sqrt();
        // Trust ratio where both norms are positive, 1 otherwise: arithmetic, no read-back.
        let ok = w_norm.clone().greater_elem(0.0).float() * g_norm.clone().greater_elem(0.0).float();
        let ratio = ok.clone() * (w_norm * self.eta) / (g_norm + 1e-12) + (ok.neg() + 1.0);
        let ratio: Tensor<D> = ratio.reshape([1; D]);
        self.plain.step(lr, tensor, grad * ratio, state)
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        <Sgd as Optimizer>::to_device(state, device)
    }
}

/// One optimizer holding, for each parameter, the state of the part that trained it: `parts`
/// pairs an optimizer with the parameter ids whose state it holds (a parallel run's units, each
/// of which stepped only its own parameters).
///
/// burn 0.22.1 offers no way to combine two `ModuleOptimizer`s, so this goes through burn's own
/// record format: each part's record (burnpack: per-parameter tensors carrying the parameter id,
/// and scalars and paths keyed `"<id>"` / `"<id>.<field>"`) is filtered to its ids, and the
/// union is loaded into a fresh optimizer of `cfg`'s kind.
pub fn merge(cfg: &TrainConfig, parts: Vec<(ModuleOptimizer, std::collections::HashSet<u64>)>) -> crate::error::Result<ModuleOptimizer> {
    use burn_pack::{Reader, Writer};
    let bad = |e: &dyn std::fmt::Debug| crate::Error::Checkpoint(format!("merging the units' optimizer states: {e:?}"));
    let id_of = |key: &str| key.split('.').next().and_then(|s| s.parse::<u64>().ok());
    let mut tensors = Vec::new();
    let mut scalars = Vec::new();
    let mut meta = Vec::new();
    for (optim, ids) in parts {
        let bytes = optim.to_record().into_bytes().map_err(|e| bad(&e))?;
        let reader = Reader::from_bytes(bytes).map_err(|e| bad(&e))?;
        scalars.extend(reader.scalars().iter().filter(|(k, _)| id_of(k).is_some_and(|i| ids.contains(&i))).map(|(k, v)| (k.clone(), *v)));
        meta.extend(reader.metadata().iter().filter(|(k, _)| id_of(k).is_some_and(|i| ids.contains(&i))).map(|(k, v)| (k.clone(), v.clone())));
        for t in reader.into_tensors().map_err(|e| bad(&e))? {
            let (name, dtype, shape, param_id, bytes) = t.into_parts().map_err(|e| bad(&e))?;
            if param_id.is_some_and(|i| ids.contains(&i)) {
                tensors.push(burn_pack::Tensor::new(name, dtype, shape, param_id, bytes));
            }
        }
    }
    let mut writer = Writer::new(tensors);
    for (k, v) in &scalars {
        writer = writer.with_scalar(k, *v);
    }
    for (k, v) in &meta {
        writer = writer.with_metadata(k, v);
    }
    let bytes = writer.into_bytes().map_err(|e| bad(&e))?;
    build(cfg).from_bytes(bytes).map_err(|e| bad(&e))
}
