//! Seeded initialisation: a module's parameters drawn from the device's generator at a seed.

use burn::module::{ModuleVisitor, Param};
use burn::prelude::*;

/// Build a module with the device's random generator seeded to `seed`. burn initialises
/// parameters lazily (on first use) from a generator global to the device, so the module's
/// parameters are materialised here, and concurrent builds (`compare --jobs`, parallel tests)
/// take turns: each gets exactly the weights a single-threaded run would.
pub fn seeded<M: Module>(device: &Device, seed: u64, build: impl FnOnce() -> M) -> M {
    static INIT: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = INIT.lock().unwrap_or_else(|e| e.into_inner());
    device.seed(seed);
    let m = build();
    m.visit(&mut Materialize);
    m
}

struct Materialize;
impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}
