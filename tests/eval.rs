//! Evaluation on frozen features: better than chance, and the page's async path gives the
//! CLI's numbers.
mod common;

use burn::prelude::*;
use common::tiny as cfg;
use locolab::config::MethodKind;
use locolab::eval::{evaluate, evaluate_async, EvalOptions};
use locolab::Trainer;

#[test]
fn knn_and_linear_probe_beat_chance_on_trained_features() {
    let mut t = Trainer::new(cfg(MethodKind::Simclr), common::cifar(), &Device::flex()).unwrap();
    t.run(5, |_| {}).unwrap();
    let acc = evaluate(&t, &EvalOptions { train_images: Some(2000), ..EvalOptions::default() }).unwrap();
    eprintln!("{acc:?}");
    // Ten balanced classes: chance is 10%. Even near-random conv features do far better.
    assert!(acc[0].knn > 18.0 && acc[0].linear.unwrap() > 18.0, "{acc:?}");
}

/// Drive a future whose read-backs resolve at once (the CPU backend) to completion.
fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

#[test]
fn async_evaluation_gives_the_same_numbers() {
    let mut t = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    t.run(2, |_| {}).unwrap();
    let opts = EvalOptions { every_stage: true, linear: false, train_images: Some(500), test_images: Some(200) };
    let sync = evaluate(&t, &opts).unwrap();
    let not_sync = ready(evaluate_async(&t, &opts)).unwrap();
    assert_eq!(sync.len(), 6);
    for (a, b) in sync.iter().zip(&not_sync) {
        assert_eq!((&a.stage, a.knn), (&b.stage, b.knn));
    }
    let none = EvalOptions { train_images: Some(0), ..opts };
    assert!(evaluate(&t, &none).unwrap_err().to_string().contains("at least one train and one test image"));
}
