//! Evaluation on frozen features: kNN (k = 200, cosine similarity, temperature-weighted votes,
//! as in lightly / solo-learn) and a linear probe (logistic regression), top-1 on the test split.

use burn::nn::{Linear, LinearConfig};
use burn::optim::{AdamConfig, GradientsParams};
use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};

pub mod probe;

use crate::data::augment::plain;
use crate::data::ImageSet;
use std::borrow::Cow;

use crate::error::{Error, Result};
use crate::loss::l2_normalize;
use crate::model::Network;
use crate::train::Trainer;

pub const KNN_K: usize = 200;
pub const KNN_T: f64 = 0.1;
/// The second neighbourhood reported beside [`KNN_K`] by the converged evaluation.
pub const KNN_K_SMALL: usize = 20;

/// The linear probe trains full-batch up to this many feature values (128 MiB of f32, which
/// CIFAR-10's 50,000 x 192 features of presnet-tiny's top stage are far below); above it, on
/// mini-batches of [`PROBE_BATCH`] rows, so its memory is the stored features plus one batch.
pub const PROBE_FULL_BATCH_VALUES: usize = 1 << 25;
pub const PROBE_BATCH: usize = 4096;
/// Passes over the stored features of the mini-batch probe.
pub const PROBE_EPOCHS: usize = 30;

/// Accuracies (in %) of one stage's features: top-1, and top-5 when there are more than 5 classes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StageAccuracy {
    pub stage: String,
    pub knn: f64,
    pub linear: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knn_top5: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear_top5: Option<f64>,
    /// kNN top-1 at k = [`KNN_K_SMALL`] (with [`EvalOptions::converged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knn20: Option<f64>,
    /// The converged probe ([`probe::converged_probe`], with [`EvalOptions::converged`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converged: Option<probe::ConvergedProbe>,
    /// Every test image's predicted class by each scorer (with [`EvalOptions::predictions`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predictions: Option<Predictions>,
}

/// Predicted classes of the test images, in the test set's order, by each scorer that ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Predictions {
    /// kNN at [`KNN_K`].
    pub knn: Vec<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub knn20: Option<Vec<u32>>,
    /// The 300-step probe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Vec<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub converged: Option<Vec<u32>>,
}

/// The argmax class of each row of `scores`.
fn classes(scores: Tensor<2>) -> Result<Vec<u32>> {
    let [n, _] = scores.dims();
    Ok(read(scores.argmax(1).float().reshape([n]))?.into_iter().map(|c| c.round() as u32).collect())
}

/// Pooled features of every stage for `data`, in batches: one [N, C] matrix per stage.
pub fn extract(net: &Network, data: &ImageSet, input: usize, device: &Device, batch: usize) -> Vec<Tensor<2>> {
    let device = device.clone().without_autodiff();
    let mut per_stage: Vec<Vec<Tensor<2>>> = Vec::new();
    let idx: Vec<usize> = (0..data.len()).collect();
    for chunk in idx.chunks(batch.max(1)) {
        let x = Tensor::<4>::from_data(TensorData::new(plain(data, chunk, input), [chunk.len(), 3, input, input]), &device);
        for (s, f) in net.features(x).into_iter().enumerate() {
            if per_stage.len() <= s {
                per_stage.push(Vec::new());
            }
            per_stage[s].push(f);
        }
    }
    per_stage.into_iter().map(|v| Tensor::cat(v, 0)).collect()
}

fn read<const D: usize>(t: Tensor<D>) -> Result<Vec<f32>> {
    crate::device::floats(t.try_into_data())
}

/// The number of classes a label list implies (largest label + 1).
pub(crate) fn classes_of(labels: &[u32]) -> usize {
    labels.iter().max().map_or(1, |&l| l as usize + 1)
}

pub(crate) fn one_hot(labels: &[u32], classes: usize, device: &Device) -> Tensor<2> {
    let mut v = vec![0f32; labels.len() * classes];
    for (i, &l) in labels.iter().enumerate() {
        v[i * classes + l as usize] = 1.0;
    }
    Tensor::from_data(TensorData::new(v, [labels.len(), classes]), device)
}

/// Weighted kNN predictions ([Nt] class ids as floats, no read-back): cosine similarity, the
/// k nearest train features vote with weight exp(sim / t) for their class.
pub fn knn_predict(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, k: usize, t: f64) -> Tensor<1> {
    let votes = knn_votes(train, train_labels, test, k, t);
    let [nt, _] = votes.dims();
    votes.argmax(1).float().reshape([nt])
}

/// The kNN votes of every test feature for every class, [Nt, C] (see [`knn_predict`]).
pub fn knn_votes(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, k: usize, t: f64) -> Tensor<2> {
    let device = train.device();
    let k = k.min(train_labels.len());
    let (train, test) = (l2_normalize(train), l2_normalize(test).detach());
    let train_t = train.transpose();
    let classes = classes_of(train_labels);
    let train_oh = one_hot(train_labels, classes, &device); // [Ntr, C]
    let [nt, _] = test.dims();
    let mut preds = Vec::new();
    for start in (0..nt).step_by(256) {
        let len = 256.min(nt - start);
        let sim = test.clone().narrow(0, start, len).matmul(train_t.clone()); // [len, Ntr]
        let (vals, idx) = sim.topk_with_indices(k, 1);
        let w = (vals / t).exp(); // [len, k]
        // votes[i, c] = sum_j w[i, j] * onehot[idx[i, j], c]
        let oh = train_oh.clone().select(0, idx.reshape([len * k])).reshape([len, k, classes]);
        preds.push((oh * w.unsqueeze_dim::<3>(2)).sum_dim(1).reshape([len, classes]));
    }
    Tensor::cat(preds, 0)
}

/// Top-`k` (%) of class scores ([N, C] row-major, read back) against labels; ties rank the
/// lower class first, as argmax does.
pub fn top_k(scores: &[f32], labels: &[u32], k: usize) -> f64 {
    let classes = scores.len() / labels.len().max(1);
    let correct = labels
        .iter()
        .enumerate()
        .filter(|&(i, &l)| {
            let row = &scores[i * classes..(i + 1) * classes];
            let s = row[l as usize];
            row.iter().enumerate().filter(|&(c, &v)| v > s || (v == s && c < l as usize)).count() < k
        })
        .count();
    100.0 * correct as f64 / labels.len().max(1) as f64
}

/// Top-1 from the scores' argmax (no read-back of the scores) and top-5 when there are more
/// than 5 classes.
pub(crate) fn top1_top5(scores: Tensor<2>, labels: &[u32]) -> Result<(f64, Option<f64>)> {
    let [n, classes] = scores.dims();
    let top1 = accuracy(&read(scores.clone().argmax(1).float().reshape([n]))?, labels);
    let top5 = if classes > 5 { Some(top_k(&read(scores)?, labels, 5)) } else { None };
    Ok((top1, top5))
}

/// Top-1 (%) of predicted class ids against labels.
pub fn accuracy(pred: &[f32], labels: &[u32]) -> f64 {
    let correct = pred.iter().zip(labels).filter(|(p, l)| p.round() as i64 == **l as i64).count();
    100.0 * correct as f64 / labels.len().max(1) as f64
}

/// Weighted kNN top-1 (%), synchronous read-back.
pub fn knn_top1(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32], k: usize, t: f64) -> Result<f64> {
    Ok(accuracy(&read(knn_predict(train, train_labels, test, k, t))?, test_labels))
}

#[derive(Module, Debug)]
struct Probe {
    fc: Linear,
}

/// Logistic regression on standardised frozen features, Adam: full batch for `epochs` steps
/// at lr 1e-2 up to [`PROBE_FULL_BATCH_VALUES`] feature values, else seeded mini-batches of
/// [`PROBE_BATCH`] rows at the same lr, for [`PROBE_EPOCHS`] passes and at least `epochs`
/// steps. Top-1 (%) and top-5.
pub fn linear_probe(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32], epochs: usize) -> Result<(f64, Option<f64>)> {
    linear_probe_with(train, train_labels, test, test_labels, epochs, PROBE_FULL_BATCH_VALUES)
}

/// [`linear_probe`]'s class scores of the test rows, [Nt, C].
fn linear_probe_scores(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32], epochs: usize) -> Tensor<2> {
    linear_probe_fit(train, train_labels, test, test_labels, epochs, PROBE_FULL_BATCH_VALUES)
}

/// [`linear_probe`] with another full-batch limit (tests reach the mini-batch path with it).
pub fn linear_probe_with(
    train: Tensor<2>,
    train_labels: &[u32],
    test: Tensor<2>,
    test_labels: &[u32],
    epochs: usize,
    full_batch_values: usize,
) -> Result<(f64, Option<f64>)> {
    top1_top5(linear_probe_fit(train, train_labels, test, test_labels, epochs, full_batch_values), test_labels)
}

fn linear_probe_fit(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32], epochs: usize, full_batch_values: usize) -> Tensor<2> {
    let device = train.device().without_autodiff();
    let [n, dim] = train.dims();
    let mean = train.clone().mean_dim(0);
    let std = (train.clone() - mean.clone()).powi_scalar(2).mean_dim(0).sqrt().add_scalar(1e-6);
    let norm = |x: Tensor<2>| (x - mean.clone()) / std.clone();
    let (train, test) = (norm(train), norm(test));
    let ad = device.clone().autodiff();
    // Seeded, so `locolab eval` reproduces a run's committed probe accuracy.
    let classes = classes_of(train_labels).max(classes_of(test_labels));
    let mut probe = crate::model::seeded(&ad, 0, || Probe { fc: LinearConfig::new(dim, classes).init(&ad) });
    let mut optim = AdamConfig::new().init();
    let mut step = |probe: Probe, x: Tensor<2>, labels: &[u32], lr: f64| {
        let y = one_hot(labels, classes, &ad);
        let loss = -(log_softmax(probe.fc.forward(x.autodiff()), 1) * y).sum_dim(1).mean();
        let grads = GradientsParams::from_grads(loss.backward(), &probe);
        optim.step(lr, probe, grads)
    };
    if n * dim <= full_batch_values {
        for _ in 0..epochs {
            probe = step(probe, train.clone(), train_labels, 1e-2);
        }
    } else {
        use rand::seq::SliceRandom;
        let mut order: Vec<usize> = (0..n).collect();
        // At least as many Adam steps as the full-batch probe takes.
        let passes = PROBE_EPOCHS.max(epochs.div_ceil(n.div_ceil(PROBE_BATCH)));
        for epoch in 0..passes {
            order.shuffle(&mut crate::data::augment::keyed_rng(0, epoch as u64));
            for rows in order.chunks(PROBE_BATCH) {
                let idx = Tensor::<1, Int>::from_data(TensorData::new(rows.iter().map(|&r| r as i64).collect::<Vec<_>>(), [rows.len()]), &device);
                let labels: Vec<u32> = rows.iter().map(|&r| train_labels[r]).collect();
                probe = step(probe, train.clone().select(0, idx), &labels, 1e-2);
            }
        }
    }
    probe.valid().fc.forward(test)
}

/// What [`evaluate`] measures.
#[derive(Clone, Copy, Debug)]
pub struct EvalOptions {
    /// Every stage, not only the last.
    pub every_stage: bool,
    /// Also train the logistic-regression probe (kNN is always measured).
    pub linear: bool,
    /// Use only `n` training images, spread over the set ([`ImageSet::spread`]), as the kNN
    /// bank / probe training set.
    pub train_images: Option<usize>,
    /// Use only `n` test images, spread over the set.
    pub test_images: Option<usize>,
    /// Also the converged probe (L2 chosen on a validation split of the training images) and
    /// kNN at k = [`KNN_K_SMALL`] (`eval --probe converged`).
    pub converged: bool,
    /// Keep every test image's predicted class ([`StageAccuracy::predictions`]): what a
    /// bootstrap over the test images pairs by image (`eval --predictions FILE`).
    pub predictions: bool,
}

impl Default for EvalOptions {
    /// The final evaluation: last stage, kNN and linear, every image.
    fn default() -> Self {
        Self { every_stage: false, linear: true, train_images: None, test_images: None, converged: false, predictions: false }
    }
}

/// The trainer's data, cut to the sizes `opts` asks for.
fn eval_data<'a>(t: &'a Trainer, opts: &EvalOptions) -> (Cow<'a, ImageSet>, Cow<'a, ImageSet>) {
    fn subset(d: &ImageSet, n: Option<usize>) -> Cow<'_, ImageSet> {
        match n {
            Some(n) if n < d.len() => Cow::Owned(d.spread(n)),
            _ => Cow::Borrowed(d),
        }
    }
    let data = t.data();
    (subset(&data.train, opts.train_images), subset(&data.test, opts.test_images))
}

/// Evaluate a trainer's encoder (in eval mode) on its own data (synchronous read-back).
pub fn evaluate(t: &Trainer, opts: &EvalOptions) -> Result<Vec<StageAccuracy>> {
    let (train, test) = eval_data(t, opts);
    evaluate_network(&t.eval_network(), &t.spec().stage_names(), &train, &test, t.config().input, t.device(), opts)
}

/// [`evaluate`] with asynchronous read-back, for the browser (WebGPU cannot read back
/// synchronously): the same features and the same scoring, so the same numbers.
pub async fn evaluate_async(t: &Trainer, opts: &EvalOptions) -> Result<Vec<StageAccuracy>> {
    let (train, test) = eval_data(t, opts);
    let (ftr, fte) = features(&t.eval_network(), &train, &test, t.config().input, t.device())?;
    let mut host = Vec::new();
    for s in scored_stages(ftr.len(), opts) {
        host.push((s, HostMatrix::read_async(ftr[s].clone()).await?, HostMatrix::read_async(fte[s].clone()).await?));
    }
    score(&t.spec().stage_names(), &train.labels, &test.labels, host, t.device(), opts)
}

/// kNN (and optionally linear) top-1 of a network's frozen features, last stage or every stage.
pub fn evaluate_network(
    net: &Network,
    stage_names: &[String],
    train: &ImageSet,
    test: &ImageSet,
    input: usize,
    device: &Device,
    opts: &EvalOptions,
) -> Result<Vec<StageAccuracy>> {
    let (ftr, fte) = features(net, train, test, input, device)?;
    let host = scored_stages(ftr.len(), opts)
        .map(|s| Ok((s, HostMatrix::read(ftr[s].clone())?, HostMatrix::read(fte[s].clone())?)))
        .collect::<Result<Vec<_>>>()?;
    score(stage_names, &train.labels, &test.labels, host, device, opts)
}

/// Every stage's pooled features of the train and test images, on the network's device.
fn features(net: &Network, train: &ImageSet, test: &ImageSet, input: usize, device: &Device) -> Result<(Vec<Tensor<2>>, Vec<Tensor<2>>)> {
    if train.is_empty() || test.is_empty() {
        return Err(Error::Config("evaluation needs at least one train and one test image".into()));
    }
    Ok((extract(net, train, input, device, 256), extract(net, test, input, device, 256)))
}

fn scored_stages(stages: usize, opts: &EvalOptions) -> std::ops::Range<usize> {
    if opts.every_stage { 0..stages } else { stages - 1..stages }
}

/// A feature matrix read back to the host.
struct HostMatrix {
    values: Vec<f32>,
    shape: [usize; 2],
}

impl HostMatrix {
    fn read(t: Tensor<2>) -> Result<Self> {
        let shape = t.dims();
        Ok(Self { values: crate::device::floats(t.try_into_data())?, shape })
    }
    async fn read_async(t: Tensor<2>) -> Result<Self> {
        let shape = t.dims();
        Ok(Self { values: crate::device::floats(t.into_data_async().await)?, shape })
    }
    fn on(self, device: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(self.values, self.shape), device)
    }
}

/// The device that scores features: the CPU, where kNN's top-k and the probe's read-back are
/// synchronous on every platform (burn's top-k reads back synchronously on WebGPU).
fn scoring_device(features_device: &Device) -> Device {
    if cfg!(feature = "flex") {
        crate::device::by_name(Some("flex")).unwrap_or_else(|_| features_device.clone())
    } else {
        features_device.clone()
    }
}

/// kNN (and the probe, if asked) top-1 of each `(stage, train features, test features)`.
fn score(
    stage_names: &[String],
    train_labels: &[u32],
    test_labels: &[u32],
    host: Vec<(usize, HostMatrix, HostMatrix)>,
    features_device: &Device,
    opts: &EvalOptions,
) -> Result<Vec<StageAccuracy>> {
    let device = scoring_device(features_device);
    host.into_iter()
        .map(|(s, tr, te)| {
            let (tr, te) = (tr.on(&device), te.on(&device));
            let keep = |scores: &Tensor<2>| -> Result<Option<Vec<u32>>> { if opts.predictions { classes(scores.clone()).map(Some) } else { Ok(None) } };
            let votes = knn_votes(tr.clone(), train_labels, te.clone(), KNN_K, KNN_T);
            let knn_classes = keep(&votes)?;
            let (knn, knn_top5) = top1_top5(votes, test_labels)?;
            let (linear, linear_top5, linear_classes) = match opts.linear {
                true => {
                    let scores = linear_probe_scores(tr.clone(), train_labels, te.clone(), test_labels, 300);
                    let kept = keep(&scores)?;
                    let (top1, top5) = top1_top5(scores, test_labels)?;
                    (Some(top1), top5, kept)
                }
                false => (None, None, None),
            };
            let (knn20, converged, knn20_classes, converged_classes) = match opts.converged {
                true => {
                    let votes = knn_votes(tr.clone(), train_labels, te.clone(), KNN_K_SMALL, KNN_T);
                    let kept = keep(&votes)?;
                    let (top1, _) = top1_top5(votes, test_labels)?;
                    let (fit, scores) = probe::converged_probe_scores(tr, train_labels, te, test_labels)?;
                    (Some(top1), Some(fit), kept, keep(&scores)?)
                }
                false => (None, None, None, None),
            };
            let predictions = knn_classes.map(|knn| Predictions { knn, knn20: knn20_classes, linear: linear_classes, converged: converged_classes });
            Ok(StageAccuracy { stage: stage_names[s].clone(), knn, linear, knn_top5, linear_top5, knn20, converged, predictions })
        })
        .collect()
}
