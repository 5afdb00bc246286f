//! Evaluation on frozen features: better than chance, and the page's async path gives the
//! CLI's numbers.
#![cfg(not(target_arch = "wasm32"))]
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

#[test]
fn async_evaluation_gives_the_same_numbers() {
    let mut t = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    t.run(2, |_| {}).unwrap();
    let opts = EvalOptions { every_stage: true, linear: false, train_images: Some(500), test_images: Some(200), converged: false, predictions: false };
    let sync = evaluate(&t, &opts).unwrap();
    let not_sync = common::ready(evaluate_async(&t, &opts)).unwrap();
    assert_eq!(sync.len(), 6);
    for (a, b) in sync.iter().zip(&not_sync) {
        assert_eq!((&a.stage, a.knn), (&b.stage, b.knn));
    }
    let none = EvalOptions { train_images: Some(0), ..opts };
    assert!(evaluate(&t, &none).unwrap_err().to_string().contains("at least one train and one test image"));
}

#[test]
fn top_k_ranks_ties_like_argmax() {
    use locolab::eval::top_k;
    // Two rows of 6 classes; labels 2 and 5.
    let scores = [0.1, 0.9, 0.5, 0.5, 0.0, 0.2, /**/ 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
    assert_eq!(top_k(&scores, &[2, 5], 1), 0.0);
    assert_eq!(top_k(&scores, &[2, 5], 2), 50.0, "label 2 is second; 3 ties with it but ranks after");
    assert_eq!(top_k(&scores, &[3, 5], 2), 0.0);
    assert_eq!(top_k(&scores, &[2, 4], 5), 100.0, "label 4 ties with all, four lower classes before it");
    assert_eq!(top_k(&scores, &[2, 5], 5), 50.0, "label 5 ties with all and ranks sixth");
}

/// Features whose labels are a linear function of them (argmax of W x, 12 classes): both the
/// full-batch probe and the mini-batch one (above the full-batch limit) must find it.
#[test]
fn full_batch_and_mini_batch_probes_learn_a_linear_rule() {
    use locolab::eval::linear_probe_with;
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
    let (dim, classes) = (16, 12);
    let w: Vec<f32> = (0..dim * classes).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut make = |n: usize| {
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let labels: Vec<u32> = (0..n)
            .map(|i| {
                let score = |c: usize| (0..dim).map(|d| w[c * dim + d] * x[i * dim + d]).sum::<f32>();
                (0..classes).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap() as u32
            })
            .collect();
        (Tensor::<2>::from_data(TensorData::new(x, [n, dim]), &Device::flex()), labels)
    };
    let (train, train_labels) = make(6000);
    let (test, test_labels) = make(1000);
    for limit in [usize::MAX, 1000] {
        let (top1, top5) = linear_probe_with(train.clone(), &train_labels, test.clone(), &test_labels, 300, limit).unwrap();
        assert!(top1 > 70.0, "limit {limit}: top-1 {top1}");
        assert!(top5.unwrap() > top1 && top5.unwrap() > 95.0, "limit {limit}: top-5 {top5:?}");
    }
}

/// The converged probe on a noisy linear rule (labels flipped at random for 20% of the rows, so
/// no probe reaches 100% and regularisation matters): it converges, it chooses its L2 strength
/// on the training rows alone (scrambling the test labels changes its test score, not its
/// choice), it is deterministic, and it does at least as well as the 300-step probe.
#[test]
fn the_converged_probe_converges_and_chooses_l2_without_the_test_set() {
    use locolab::eval::linear_probe;
    use locolab::eval::probe::{converged_probe, L2_GRID};
    use rand::{Rng, SeedableRng};
    let mut rng = rand::rngs::SmallRng::seed_from_u64(11);
    let (dim, classes) = (24, 5);
    let w: Vec<f32> = (0..dim * classes).map(|_| rng.random_range(-1.0..1.0)).collect();
    let mut make = |n: usize| {
        let x: Vec<f32> = (0..n * dim).map(|_| rng.random_range(-1.0..1.0)).collect();
        let labels: Vec<u32> = (0..n)
            .map(|i| {
                if rng.random_bool(0.2) {
                    return rng.random_range(0..classes as u32);
                }
                let score = |c: usize| (0..dim).map(|d| w[c * dim + d] * x[i * dim + d]).sum::<f32>();
                (0..classes).max_by(|&a, &b| score(a).total_cmp(&score(b))).unwrap() as u32
            })
            .collect();
        (Tensor::<2>::from_data(TensorData::new(x, [n, dim]), &Device::flex()), labels)
    };
    let (train, train_labels) = make(3000);
    let (test, test_labels) = make(1000);
    let p = converged_probe(train.clone(), &train_labels, test.clone(), &test_labels).unwrap();
    eprintln!("{p:?}");
    assert!(p.converged && p.iterations > 0, "{p:?}");
    assert_eq!(p.validation.len(), L2_GRID.len());
    assert!(L2_GRID.contains(&p.l2));
    // The noise caps top-1 near 84% (80% clean + a fifth of the flips right by chance).
    assert!(p.top1 > 70.0 && p.top1 < 90.0, "{p:?}");
    let again = converged_probe(train.clone(), &train_labels, test.clone(), &test_labels).unwrap();
    assert_eq!(p, again, "deterministic");
    let scrambled: Vec<u32> = test_labels.iter().map(|&l| (l + 1) % classes as u32).collect();
    let blind = converged_probe(train.clone(), &train_labels, test.clone(), &scrambled).unwrap();
    assert_eq!((blind.l2, &blind.validation), (p.l2, &p.validation), "the choice never sees the test set");
    assert!(blind.top1 < 30.0);
    let (adam, _) = linear_probe(train, &train_labels, test, &test_labels, 300).unwrap();
    assert!(p.top1 >= adam - 1.0, "converged {} vs 300 Adam steps {adam}", p.top1);
}

/// Kept predictions give back every reported top-1 (what the bootstrap over test images reads),
/// and keeping them changes no number.
#[test]
fn kept_predictions_give_the_reported_accuracies() {
    let mut t = Trainer::new(cfg(MethodKind::Gim), common::cifar(), &Device::flex()).unwrap();
    t.run(2, |_| {}).unwrap();
    let opts = EvalOptions { train_images: Some(1000), test_images: Some(300), converged: true, ..EvalOptions::default() };
    let plain = evaluate(&t, &opts).unwrap();
    let kept = evaluate(&t, &EvalOptions { predictions: true, ..opts }).unwrap();
    let labels = t.data().test.spread(300).labels;
    let top1 = |p: &[u32]| 100.0 * p.iter().zip(&labels).filter(|(a, b)| a == b).count() as f64 / labels.len() as f64;
    let (a, p) = (&kept[0], kept[0].predictions.as_ref().unwrap());
    assert_eq!(p.knn.len(), 300);
    assert_eq!((top1(&p.knn), top1(p.knn20.as_ref().unwrap())), (a.knn, a.knn20.unwrap()));
    assert_eq!((top1(p.linear.as_ref().unwrap()), top1(p.converged.as_ref().unwrap())), (a.linear.unwrap(), a.converged.as_ref().unwrap().top1));
    assert!(plain[0].predictions.is_none());
    assert_eq!((plain[0].knn, plain[0].linear, plain[0].knn20, &plain[0].converged), (a.knn, a.linear, a.knn20, &a.converged));
}

/// Too few training images for a validation split: one line that says so.
#[test]
fn the_converged_probe_refuses_too_few_training_images() {
    use locolab::eval::probe::converged_probe;
    let x = Tensor::<2>::from_data(TensorData::new(vec![0.5f32; 10 * 4], [10, 4]), &Device::flex());
    let labels: Vec<u32> = (0..10).map(|i| i % 2).collect();
    let e = converged_probe(x.clone(), &labels, x, &labels).unwrap_err().to_string();
    assert!(e.contains("needs at least 20 training images") && e.contains("got 10"), "{e}");
}
