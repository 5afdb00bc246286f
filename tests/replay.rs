//! LoCo's shared stage runs its forward pass once: the unit above replays what the unit below
//! computed (`locolab::model::cpu::Tape`). A step with the replay must be the step without it,
//! bit for bit: every unit's loss and gradients, and every BatchNorm's running statistics after
//! it (each unit's pass updates them, replayed or not). Every LoCo sharing mode, one and two
//! blocks per stage; GIM and SimCLR (no stage run twice) must not change either.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;
use locolab::config::{MethodKind, SharingMode, TrainConfig};
use locolab::method::{grad_values, param_ids, UnitUpdate};
use locolab::model::Network;
use locolab::Trainer;

/// Every float of a module, trainable or not (BatchNorm's running statistics included), as bits.
struct Bits(Vec<u32>);
impl ModuleVisitor for Bits {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.extend(param.val().into_data().try_to_vec::<f32>().unwrap().iter().map(|v| v.to_bits()));
    }
}

fn bits(net: &Network) -> Vec<u32> {
    let mut b = Bits(Vec::new());
    net.visit(&mut b);
    b.0
}

/// `(loss, every parameter's gradient)` of each unit, as bits.
fn unit_bits(net: &Network, ups: Vec<UnitUpdate>) -> Vec<(u32, Vec<Option<Vec<u32>>>)> {
    let ids = param_ids(net);
    ups.into_iter()
        .map(|u| {
            let loss = u.loss.into_scalar::<f32>().to_bits();
            let grads = ids.iter().map(|&(id, rank)| grad_values(&u.grads, id, rank).map(|g| g.iter().map(|v| v.to_bits()).collect())).collect();
            (loss, grads)
        })
        .collect()
}

fn assert_replay_is_exact(c: TrainConfig) {
    let label = format!("{} sharing {} blocks {:?}", locolab::method::label(&c), c.sharing, c.blocks);
    let t = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
    let views = t.batch_views(0).into_tensor(t.device());
    let plan = t.plan();
    // Two copies of the network, so each keeps its own running statistics.
    let (once, twice) = (t.network().clone(), t.network().clone());
    let replayed = unit_bits(&once, plan.unit_updates_of(plan.begin(&once, views.clone()), &once, c.temperature));
    let computed = unit_bits(&twice, plan.unit_updates_of(plan.begin(&twice, views).without_replay(), &twice, c.temperature));
    assert_eq!(replayed.len(), computed.len());
    for (u, (r, k)) in replayed.iter().zip(&computed).enumerate() {
        assert_eq!(r.0, k.0, "{label}: unit {u}'s loss {} differs from {}", f32::from_bits(r.0), f32::from_bits(k.0));
        assert!(r.1.iter().any(Option::is_some), "{label}: unit {u} has gradients");
        assert!(r.1 == k.1, "{label}: unit {u}'s gradients differ with the replay");
    }
    assert!(bits(&once) == bits(&twice), "{label}: weights or running statistics differ with the replay");
}

#[test]
fn a_replayed_shared_stage_gives_the_same_step_bit_for_bit() {
    let sharings = [SharingMode::Hard, SharingMode::UpperOnly, SharingMode::Soft { l2: 1e-3 }, SharingMode::Blocks(1)];
    for blocks in [None, Some(2)] {
        for sharing in sharings {
            if sharing == SharingMode::Blocks(1) && blocks.is_none() {
                continue; // one block per stage: `blocks:1` is hard sharing
            }
            assert_replay_is_exact(TrainConfig { sharing, blocks, batch: 8, ..common::tiny(MethodKind::Loco) });
        }
    }
    for method in [MethodKind::Gim, MethodKind::Simclr] {
        assert_replay_is_exact(TrainConfig { batch: 8, ..common::tiny(method) });
    }
}

/// The replay must make the upper unit's forward pass cheaper, not only equal: the tape is
/// really used (a tape that is recorded but never replayed would pass the test above).
#[test]
fn the_upper_unit_replays_the_shared_stage() {
    let c = TrainConfig { batch: 8, ..common::tiny(MethodKind::Loco) };
    let t = Trainer::new(c.clone(), common::cifar(), &Device::flex()).unwrap();
    let plan = t.plan();
    let net = t.network().clone();
    let mut run = plan.begin(&net, t.batch_views(0).into_tensor(t.device()));
    while plan.next_unit(&mut run, &net, c.temperature).is_some() {}
    assert!(run.replayed_pairs() > 0, "no conv + BatchNorm pair was replayed");
}
