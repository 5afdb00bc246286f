//! The optimizers other than Adam move the weights and stay finite.
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
        let before: Vec<f32> = flat_params(&t.net.stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let reports = t.run(3, |_| {}).unwrap();
        let after: Vec<f32> = flat_params(&t.net.stages[2]).into_iter().flat_map(|p| p.into_data().try_to_vec::<f32>().unwrap()).collect();
        let moved = before.iter().zip(&after).filter(|(a, b)| a != b).count();
        assert!(moved > before.len() / 2, "{optimizer}: only {moved} of {} weights moved", before.len());
        assert!(after.iter().all(|v| v.is_finite()) && reports.iter().all(|r| r.losses.iter().all(|l| l.is_finite())));
    }
}
