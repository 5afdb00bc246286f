//! The sampler (epochs without replacement) and the loader (worker threads, prefetch): the
//! batches depend on (seed, step) only, never on the worker count or the order of requests.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::sync::Arc;

use locolab::data::augment::Augment;
use locolab::data::{Loader, Sampler, Splits};

#[test]
fn every_image_once_per_epoch_in_a_new_order_each_epoch() {
    let s = Sampler { images: 100, batch: 32, seed: 5 };
    // 100 images, batch 32: steps 0-2 are 96 images of epoch 0, step 3 straddles epochs 0 and 1.
    let stream: Vec<(usize, u64)> = (0..7).flat_map(|step| s.batch(step)).collect();
    let positions: Vec<u64> = stream.iter().map(|&(_, p)| p).collect();
    assert_eq!(positions, (0..224).collect::<Vec<u64>>(), "positions run on across steps");
    let mut epoch0: Vec<usize> = stream[..100].iter().map(|&(i, _)| i).collect();
    let mut epoch1: Vec<usize> = stream[100..200].iter().map(|&(i, _)| i).collect();
    assert_ne!(epoch0, epoch1, "each epoch its own permutation");
    assert_ne!(epoch0, (0..100).collect::<Vec<_>>(), "shuffled");
    epoch0.sort();
    epoch1.sort();
    assert_eq!(epoch0, (0..100).collect::<Vec<_>>(), "no image twice, none left out");
    assert_eq!(epoch1, epoch0);
    assert_eq!(s.batch(3), Sampler { images: 100, batch: 32, seed: 5 }.batch(3), "a function of (seed, step)");
    assert_ne!(s.permutation(0), Sampler { seed: 6, ..s.clone() }.permutation(0), "the seed moves the order");
    assert!((s.epochs_after(4) - 1.28).abs() < 1e-12);
}

fn loader(data: &Arc<Splits>, workers: usize) -> Loader {
    let mut l = Loader::new(data.clone(), Augment::simclr_cifar(32), 11, 16);
    l.set_workers(workers);
    l
}

#[test]
fn one_and_three_workers_give_bit_identical_batches() {
    let data = Arc::new(Splits { train: common::cifar().train.take(200), test: common::cifar().test.take(10) });
    let direct = loader(&data, 0);
    let mut one = loader(&data, 1);
    let mut three = loader(&data, 3);
    // In order (the prefetch path), across an epoch boundary (200 / 16 = 12.5 steps).
    for step in 0..16 {
        let want = direct.views(step).data;
        assert_eq!(one.next(step).0.data, want, "1 worker, step {step}");
        assert_eq!(three.next(step).0.data, want, "3 workers, step {step}");
    }
    // A jump (resume elsewhere), then back: the queue starts over and stays exact.
    for step in [40, 41, 3, 4, 5] {
        assert_eq!(three.next(step).0.data, direct.views(step).data, "after a jump, step {step}");
    }
}
