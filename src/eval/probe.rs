//! The converged linear probe (`eval --probe converged`): L2-regularised multinomial logistic
//! regression on standardised frozen features, minimised by L-BFGS until its gradient vanishes,
//! with the L2 strength chosen on a validation split carved from the training images (never
//! from the test set), then refitted on every training image and scored once on the test set.
//!
//! Why a second probe: the first ([`super::linear_probe`], kept for continuity with every
//! published number) is 300 full-batch Adam steps with no regularisation and no validation, so
//! a gap between two methods could be the probe's (one set of features further from its
//! optimum) rather than the features'. This one is the standard of the linear-evaluation
//! literature (a convex problem solved to its optimum, one knob chosen on held-out data), as
//! scikit-learn's `LogisticRegression(solver="lbfgs")` fits it.
//!
//! The heavy part of each evaluation (two matrix products over the features) runs as tensors
//! on the scoring device; the L-BFGS step works on the host over the `dim x classes + classes`
//! parameters, in f64.

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The L2 strengths tried (the penalty is `l2 / 2 * |W|^2` on the mean cross-entropy).
pub const L2_GRID: [f64; 7] = [1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1];
/// The share of the training images held out to choose the L2 strength.
pub const VALIDATION_SHARE: f64 = 0.1;
/// Converged when the gradient's largest entry is below this: scikit-learn's default `tol` for
/// its L-BFGS logistic regression. (The objective is evaluated in f32 over tens of thousands of
/// rows; far below this its rounding, not the optimum, stops the line search.)
pub const GRADIENT_TOLERANCE: f64 = 1e-4;
/// L-BFGS iterations at most, per fit.
pub const MAX_ITERATIONS: usize = 1000;
/// The fewest training images the probe accepts (its validation split is a tenth of them).
pub const MIN_TRAIN_IMAGES: usize = 20;
/// Curvature pairs L-BFGS keeps.
const MEMORY: usize = 10;

/// What the converged probe found for one stage's features.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConvergedProbe {
    /// Test top-1 (%) of the refit on every training image.
    pub top1: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top5: Option<f64>,
    /// The L2 strength chosen on the validation split.
    pub l2: f64,
    /// Validation top-1 (%) at each strength of [`L2_GRID`], in order.
    pub validation: Vec<f64>,
    /// L-BFGS iterations of the refit, the largest entry of its final gradient, and whether
    /// that fell below [`GRADIENT_TOLERANCE`].
    pub iterations: usize,
    pub gradient: f64,
    pub converged: bool,
}

/// Where a fit stopped.
struct Fit {
    theta: Vec<f64>,
    iterations: usize,
    gradient: f64,
}

/// Mean cross-entropy plus `l2 / 2 |W|^2` of a linear classifier on fixed features, and its
/// gradient; parameters are `W` ([dim, classes], row-major) then `b` ([classes]).
struct Objective {
    x: Tensor<2>,
    y: Tensor<2>,
    n: usize,
    dim: usize,
    classes: usize,
}

impl Objective {
    fn new(x: Tensor<2>, labels: &[u32], classes: usize) -> Self {
        let [n, dim] = x.dims();
        let y = super::one_hot(labels, classes, &x.device());
        Self { x, y, n, dim, classes }
    }

    fn params(&self, theta: &[f64]) -> (Tensor<2>, Tensor<2>) {
        let device = self.x.device();
        let w: Vec<f32> = theta[..self.dim * self.classes].iter().map(|&v| v as f32).collect();
        let b: Vec<f32> = theta[self.dim * self.classes..].iter().map(|&v| v as f32).collect();
        (
            Tensor::from_data(TensorData::new(w, [self.dim, self.classes]), &device),
            Tensor::from_data(TensorData::new(b, [1, self.classes]), &device),
        )
    }

    fn scores(&self, x: Tensor<2>, theta: &[f64]) -> Tensor<2> {
        let (w, b) = self.params(theta);
        x.matmul(w) + b
    }

    fn value_and_gradient(&self, theta: &[f64], l2: f64) -> Result<(f64, Vec<f64>)> {
        let logp = log_softmax(self.scores(self.x.clone(), theta), 1);
        let ce = -(logp.clone() * self.y.clone()).sum() / self.n as f64;
        let diff = (logp.exp() - self.y.clone()) / self.n as f64; // [n, classes]
        let gw = self.x.clone().transpose().matmul(diff.clone()); // [dim, classes]
        let gb = diff.sum_dim(0);
        let ce = crate::device::floats(ce.try_into_data())?[0] as f64;
        let mut g: Vec<f64> = crate::device::floats(gw.try_into_data())?.into_iter().map(f64::from).collect();
        g.extend(crate::device::floats(gb.try_into_data())?.into_iter().map(f64::from));
        let wn = self.dim * self.classes;
        let mut penalty = 0.0;
        for (gi, &t) in g[..wn].iter_mut().zip(&theta[..wn]) {
            *gi += l2 * t;
            penalty += t * t;
        }
        Ok((ce + 0.5 * l2 * penalty, g))
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn max_abs(a: &[f64]) -> f64 {
    a.iter().fold(0.0, |m, v| m.max(v.abs()))
}

/// Minimise the objective from `theta` by L-BFGS with a backtracking (Armijo) line search,
/// until the gradient is below [`GRADIENT_TOLERANCE`], no step decreases the objective any more,
/// or [`MAX_ITERATIONS`].
fn lbfgs(obj: &Objective, l2: f64, mut theta: Vec<f64>) -> Result<Fit> {
    let (mut f, mut g) = obj.value_and_gradient(&theta, l2)?;
    let mut pairs: std::collections::VecDeque<(Vec<f64>, Vec<f64>, f64)> = Default::default();
    for it in 0..MAX_ITERATIONS {
        if max_abs(&g) < GRADIENT_TOLERANCE {
            return Ok(Fit { gradient: max_abs(&g), theta, iterations: it });
        }
        // Two-loop recursion: d = -H g.
        let mut q = g.clone();
        let mut alphas = Vec::with_capacity(pairs.len());
        for (s, y, rho) in pairs.iter().rev() {
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push(a);
        }
        let gamma = pairs.back().map_or(1.0 / max_abs(&g).max(1e-12), |(s, y, _)| dot(s, y) / dot(y, y));
        q.iter_mut().for_each(|v| *v *= gamma);
        for ((s, y, rho), a) in pairs.iter().zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut d: Vec<f64> = q.into_iter().map(|v| -v).collect();
        let mut slope = dot(&g, &d);
        if slope >= 0.0 {
            // Not a descent direction (curvature lost to rounding): start again from the gradient.
            pairs.clear();
            let scale = 1.0 / max_abs(&g).max(1e-12);
            d = g.iter().map(|v| -v * scale).collect();
            slope = dot(&g, &d);
        }
        let mut step = 1.0;
        let next = loop {
            let trial: Vec<f64> = theta.iter().zip(&d).map(|(t, di)| t + step * di).collect();
            let (ft, gt) = obj.value_and_gradient(&trial, l2)?;
            if ft <= f + 1e-4 * step * slope {
                break Some((trial, ft, gt));
            }
            step *= 0.5;
            if step < 1e-10 {
                break None;
            }
        };
        let Some((trial, ft, gt)) = next else {
            // No decrease along a descent direction: as close as f32 evaluations get.
            return Ok(Fit { gradient: max_abs(&g), theta, iterations: it });
        };
        let s: Vec<f64> = trial.iter().zip(&theta).map(|(a, b)| a - b).collect();
        let y: Vec<f64> = gt.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&s, &y);
        if sy > 1e-12 {
            if pairs.len() == MEMORY {
                pairs.pop_front();
            }
            pairs.push_back((s, y, 1.0 / sy));
        }
        let decrease = f - ft;
        (theta, f, g) = (trial, ft, gt);
        if decrease.abs() <= 1e-12 * f.abs().max(1.0) {
            return Ok(Fit { gradient: max_abs(&g), theta, iterations: it + 1 });
        }
    }
    Ok(Fit { gradient: max_abs(&g), theta, iterations: MAX_ITERATIONS })
}

/// Rows of `x` at `rows`.
fn rows(x: &Tensor<2>, rows: &[usize]) -> Tensor<2> {
    let idx = Tensor::<1, Int>::from_data(TensorData::new(rows.iter().map(|&r| r as i64).collect::<Vec<_>>(), [rows.len()]), &x.device());
    x.clone().select(0, idx)
}

/// The converged probe of one stage: standardise on the training rows, hold out
/// [`VALIDATION_SHARE`] of them (a seeded draw: the same rows for every method and seed of a
/// comparison), fit every strength of [`L2_GRID`] on the rest (largest first, each warm-started
/// from the last), keep the one with the best validation top-1 (the larger on a tie), refit it on
/// every training row, score the test rows.
pub fn converged_probe(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32]) -> Result<ConvergedProbe> {
    converged_probe_scores(train, train_labels, test, test_labels).map(|(fit, _)| fit)
}

/// [`converged_probe`] and the refit's class scores of the test rows, [Nt, C].
pub fn converged_probe_scores(train: Tensor<2>, train_labels: &[u32], test: Tensor<2>, test_labels: &[u32]) -> Result<(ConvergedProbe, Tensor<2>)> {
    let [n, dim] = train.dims();
    if n < MIN_TRAIN_IMAGES {
        return Err(crate::error::Error::Config(format!(
            "the converged probe needs at least {MIN_TRAIN_IMAGES} training images (a tenth is held out to choose its L2 strength); got {n}"
        )));
    }
    let classes = super::classes_of(train_labels).max(super::classes_of(test_labels));
    let mean = train.clone().mean_dim(0);
    let std = (train.clone() - mean.clone()).powi_scalar(2).mean_dim(0).sqrt().add_scalar(1e-6);
    let norm = |x: Tensor<2>| (x - mean.clone()) / std.clone();
    let (train, test) = (norm(train), norm(test));

    use rand::seq::SliceRandom;
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut crate::data::augment::keyed_rng(0x9a1d, 0));
    let held = ((n as f64 * VALIDATION_SHARE).round() as usize).clamp(1, n - 1);
    let (val_rows, fit_rows) = order.split_at(held);
    let (mut val_rows, mut fit_rows) = (val_rows.to_vec(), fit_rows.to_vec());
    val_rows.sort_unstable();
    fit_rows.sort_unstable();
    let labels_at = |r: &[usize]| -> Vec<u32> { r.iter().map(|&i| train_labels[i]).collect() };
    let (fit_labels, val_labels) = (labels_at(&fit_rows), labels_at(&val_rows));
    let fit = Objective::new(rows(&train, &fit_rows), &fit_labels, classes);
    let val_x = rows(&train, &val_rows);

    let params = dim * classes + classes;
    let mut theta = vec![0.0; params];
    let mut validation = vec![0.0; L2_GRID.len()];
    for (i, &l2) in L2_GRID.iter().enumerate().rev() {
        theta = lbfgs(&fit, l2, theta)?.theta;
        let pred = fit.scores(val_x.clone(), &theta).argmax(1).float().reshape([val_rows.len()]);
        validation[i] = super::accuracy(&crate::device::floats(pred.try_into_data())?, &val_labels);
    }
    // max_by keeps the last of equal maxima: the larger strength on a tie.
    let best = (0..L2_GRID.len()).max_by(|&a, &b| validation[a].total_cmp(&validation[b])).expect("a grid");
    let l2 = L2_GRID[best];
    let all = Objective::new(train, train_labels, classes);
    let Fit { theta, iterations, gradient } = lbfgs(&all, l2, vec![0.0; params])?;
    let scores = all.scores(test, &theta);
    let (top1, top5) = super::top1_top5(scores.clone(), test_labels)?;
    Ok((ConvergedProbe { top1, top5, l2, validation, iterations, gradient, converged: gradient < GRADIENT_TOLERANCE }, scores))
}
