//! The units of a plan as separate networks: how they connect when each runs on its own worker
//! ([`Wiring`]), each unit's modules ([`UnitNet`]) and the merge back into one network.
//! The units' protocol itself lives once, in [`crate::worker`].

use burn::module::ParamId;
use burn::optim::ModuleOptimizer;
use burn::prelude::*;

use super::grads::param_ids;
use super::plan::{Plan, TopStage};
use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::model::{Decoder, Network, Stage, Stem};

/// How a plan's units connect when they run as workers.
#[derive(Clone, Debug, PartialEq)]
pub struct Wiring {
    /// Per unit: the stage of the unit below it whose output is its input (`None`: the stem).
    pub input_stage: Vec<Option<usize>>,
    /// Per unit: whether its bottom stage is also the top stage of the unit below (it owns it).
    pub shares_bottom: Vec<bool>,
    /// Per unit: whether its top stage is owned by the unit above (it holds a copy).
    pub shares_top: Vec<bool>,
    /// Per stage: the unit whose copy the network keeps.
    pub stage_owner: Vec<usize>,
}

impl Plan {
    /// How the units connect as workers, or why this plan cannot run that way.
    pub fn wiring(&self, stages: usize) -> Result<Wiring> {
        if !self.copies.is_empty() {
            return Err(Error::Config(
                "parallel units do not support LoCo's soft sharing: each lower unit trains its own copy tied to the stage by an \
                 L2 term, which needs both weights every step; use sharing hard, upper-only or blocks:<n>"
                    .into(),
            ));
        }
        let n = self.units.len();
        if self.units.first().map(|u| u.stages.start) != Some(0) {
            return Err(Error::Config("the bottom unit must start at the stem".into()));
        }
        let mut input_stage = vec![None; n];
        for j in 1..n {
            let s = self.units[j].stages.start - 1;
            let below = &self.units[j - 1];
            let full = s != below.top_stage() || matches!(below.top, TopStage::Whole | TopStage::ReadOnly);
            if !below.stages.contains(&s) || !full {
                return Err(Error::Config(format!("unit {j} reads stage {s}, which the unit below it does not compute in full")));
            }
            input_stage[j] = Some(s);
        }
        let mut stage_owner = vec![usize::MAX; stages];
        for s in 0..stages {
            let holders: Vec<usize> = (0..n).filter(|&u| self.units[u].stages.contains(&s)).collect();
            match holders[..] {
                [u] => stage_owner[s] = u,
                [lo, hi] if hi == lo + 1 && self.units[lo].top_stage() == s && self.units[hi].stages.start == s => stage_owner[s] = hi,
                [] => return Err(Error::Config(format!("no unit trains stage {s}"))),
                _ => return Err(Error::Config(format!("stage {s} is shared by units {holders:?}; parallel units share a stage between two neighbours only"))),
            }
        }
        let shares_bottom = (0..n).map(|j| j > 0 && self.units[j - 1].stages.contains(&self.units[j].stages.start)).collect();
        let shares_top = (0..n).map(|j| j + 1 < n && self.units[j + 1].stages.contains(&self.units[j].top_stage())).collect();
        Ok(Wiring { input_stage, shares_bottom, shares_top, stage_owner })
    }
}

/// One unit's modules: the stem (bottom unit only), its stages bottom to top, its decoder.
#[derive(Module, Debug)]
pub struct UnitNet {
    pub stem: Option<Stem>,
    pub stages: Vec<Stage>,
    pub head: Decoder,
}

impl UnitNet {
    /// Unit `u`'s modules, copied out of `net` (parameter ids are kept, so gradients, optimizer
    /// state and the merge back into a [`Network`] line up).
    pub fn of(net: &Network, plan: &Plan, u: usize) -> Self {
        let unit = &plan.units[u];
        Self {
            stem: (unit.stages.start == 0).then(|| net.stem.clone()),
            stages: unit.stages.clone().map(|s| net.stages[s].clone()).collect(),
            head: net.heads[u].clone(),
        }
        .private()
    }

    /// The same modules with BatchNorm running statistics of their own. burn's `RunningState`
    /// is shared by every clone of a module and keeps one pending update per thread, averaged
    /// with the others' at the next read: a unit on its own thread must neither share it with
    /// the other copy of a shared stage nor leave a pending update of a thread that has ended.
    /// `valid` commits the pending updates into a fresh state; `train` turns autodiff back on.
    /// Call it on the worker's thread when the worker finishes.
    pub fn private(self) -> Self {
        self.valid().train()
    }
}

/// Put each worker's owned modules back into a network: the stem from the bottom unit, each
/// stage from its owner, each decoder from its unit.
pub fn merge_units(plan: &Plan, wiring: &Wiring, units: Vec<UnitNet>) -> Network {
    let mut stem = None;
    let mut stages: Vec<Option<Stage>> = (0..wiring.stage_owner.len()).map(|_| None).collect();
    let mut heads = Vec::with_capacity(units.len());
    for (u, unit) in units.into_iter().enumerate() {
        if unit.stem.is_some() {
            stem = unit.stem;
        }
        for (s, stage) in plan.units[u].stages.clone().zip(unit.stages) {
            if wiring.stage_owner[s] == u {
                stages[s] = Some(stage);
            }
        }
        heads.push(unit.head);
    }
    Network {
        stem: stem.expect("the bottom unit holds the stem"),
        stages: stages.into_iter().map(|s| s.expect("every stage has an owner")).collect(),
        heads,
        copies: Vec::new(),
    }
}

/// The network and optimizer after a parallel run, from each unit's modules and optimizer:
/// every module and every parameter's optimizer state from the unit that owns it.
pub fn merge(plan: &Plan, wiring: &Wiring, config: &TrainConfig, parts: Vec<(UnitNet, ModuleOptimizer)>) -> Result<(Network, ModuleOptimizer)> {
    let mut optims = Vec::with_capacity(parts.len());
    let mut nets = Vec::with_capacity(parts.len());
    for (j, (unit_net, optim)) in parts.into_iter().enumerate() {
        let ids = |m: Vec<(ParamId, usize)>| m.into_iter().map(|(id, _)| id.val());
        let mut owned: std::collections::HashSet<u64> = ids(param_ids(&unit_net.head)).collect();
        if let Some(stem) = &unit_net.stem {
            owned.extend(ids(param_ids(stem)));
        }
        for (s, stage) in plan.units[j].stages.clone().zip(&unit_net.stages) {
            if wiring.stage_owner[s] == j {
                owned.extend(ids(param_ids(stage)));
            }
        }
        optims.push((optim, owned));
        nets.push(unit_net);
    }
    Ok((merge_units(plan, wiring, nets), crate::optim::merge(config, optims)?))
}

