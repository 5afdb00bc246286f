//! BatchNorm in training mode on NCHW `f32` slices: batch statistics, output and gradients in
//! two passes each.
//!
//! burn 0.22.1's generic `batch_norm_train` (which flex uses) transposes the input to
//! `[C, N·H·W]` twice to take per-channel means, then normalises in five element-wise passes; its
//! backward transposes twice more and makes about ten passes. Here the per-channel sums read
//! each `H·W` plane where it lies, and the output and input gradient are one pass each, as a
//! per-channel `a·x + b` (forward) and `k1·dy + k2·x + k3` (backward).
//!
//! Sums are taken per channel in a fixed order (8 lanes within a plane, planes in image order,
//! in `f64`), so results do not depend on the thread count. The forward takes both moments in
//! one pass, around a per-channel pilot value (see `forward`).
//!
//! With `relu`, the ReLU that follows most BatchNorms is applied in the same pass, and its
//! backward masks `dy` inside BatchNorm's two passes: no ReLU output to allocate, keep for the
//! backward (burn's ReLU saves it) and walk twice more. The mask is recomputed from `x` with the
//! forward's own per-channel `a·x + b` (the [`Affine`] the forward returns), so it is exactly
//! `relu(bn(x)) > 0` and the results equal burn's `relu(batch_norm(x))` path bit for bit.

use super::parts::{par_chunks, par_map, written};

/// `[N, C, H·W]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    pub n: usize,
    pub c: usize,
    pub plane: usize,
}

impl Layout {
    fn count(&self) -> f64 {
        (self.n * self.plane) as f64
    }
    fn len(&self) -> usize {
        self.n * self.c * self.plane
    }
}

/// `(Σ f(a, b), Σ g(a, b))` over two equal-length planes, in 8 independent lanes (which the
/// compiler vectorises), then in `f64`.
#[inline]
fn sums2(a: &[f32], b: &[f32], f: impl Fn(f32, f32) -> f32, g: impl Fn(f32, f32) -> f32) -> (f64, f64) {
    let (mut fa, mut ga) = ([0.0f32; 8], [0.0f32; 8]);
    let ((ac, at), (bc, bt)) = (a.as_chunks::<8>(), b.as_chunks::<8>());
    for (x, y) in ac.iter().zip(bc) {
        for l in 0..8 {
            fa[l] += f(x[l], y[l]);
            ga[l] += g(x[l], y[l]);
        }
    }
    let total = |acc: [f32; 8], h: &dyn Fn(f32, f32) -> f32| acc.iter().map(|&v| v as f64).sum::<f64>() + at.iter().zip(bt).map(|(&x, &y)| h(x, y) as f64).sum::<f64>();
    (total(fa, &f), total(ga, &g))
}

/// `Σ f(v)` over a plane (see [`sums2`]).
#[inline]
fn sum(v: &[f32], f: impl Fn(f32) -> f32) -> f64 {
    sums2(v, v, |x, _| f(x), |_, _| 0.0).0
}

/// The forward's per-channel `y = a·x + b` (`scale`, `shift`): what the backward of a fused
/// ReLU needs to tell which outputs it zeroed.
#[derive(Clone, Debug)]
pub struct Affine {
    pub scale: Vec<f32>,
    pub shift: Vec<f32>,
}

/// Output (`max(0, ·)` of it with `relu`), batch mean and biased batch variance (what burn's
/// `batch_norm_train` returns), and the per-channel affine map the output came from.
pub fn forward(l: &Layout, x: &[f32], gamma: &[f32], beta: &[f32], epsilon: f64, relu: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>, Affine) {
    assert!(x.len() == l.len() && gamma.len() == l.c && beta.len() == l.c);
    let stats = par_map(l.c, |c| {
        // One pass for both moments, taken around a pilot `k` (the mean of the first image's
        // plane) so that `E[(x-k)²] - E[x-k]²` does not cancel when the mean is large.
        let first = &x[c * l.plane..(c + 1) * l.plane];
        let k = (sum(first, |v| v) / l.plane as f64) as f32;
        let (s1, s2) = (0..l.n)
            .map(|n| {
                let r = &x[(n * l.c + c) * l.plane..][..l.plane];
                sums2(r, r, |v, _| v - k, |v, _| (v - k) * (v - k))
            })
            .fold((0.0, 0.0), |(a, b), (p, q)| (a + p, b + q));
        let d = s1 / l.count();
        (k as f64 + d, (s2 / l.count() - d * d).max(0.0))
    });
    let scale: Vec<f32> = stats.iter().zip(gamma).map(|(&(_, var), &g)| (g as f64 / (var + epsilon).sqrt()) as f32).collect();
    let shift: Vec<f32> = stats.iter().zip(beta).zip(&scale).map(|((&(mean, _), &b), &a)| (b as f64 - mean * a as f64) as f32).collect();
    let affine = Affine { scale, shift };
    let y = apply(l, x, &affine, relu);
    let mean = stats.iter().map(|s| s.0 as f32).collect();
    let var = stats.iter().map(|s| s.1 as f32).collect();
    (y, mean, var, affine)
}

/// The output of [`forward`] from its affine map: `a·x + b` per channel (`max(0, ·)` of it with
/// `relu`), the one pass `forward` makes after its statistics (so a replay of the forward pass
/// can keep the input and the map instead of the output: `crate::model::cpu::Tape`).
pub fn apply(l: &Layout, x: &[f32], affine: &Affine, relu: bool) -> Vec<f32> {
    assert!(x.len() == l.len() && affine.scale.len() == l.c && affine.shift.len() == l.c);
    let (scale, shift) = (&affine.scale, &affine.shift);
    // SAFETY: the chunks are the `n` images, and every channel plane of each is written whole.
    unsafe {
        written(l.len(), |y| {
            par_chunks(y, l.c * l.plane, |n, y_img| {
                for c in 0..l.c {
                    let (a, b) = (scale[c], shift[c]);
                    let src = &x[(n * l.c + c) * l.plane..][..l.plane];
                    let out = &mut y_img[c * l.plane..][..l.plane];
                    if relu {
                        for (o, &v) in out.iter_mut().zip(src) {
                            o.write(kept(v * a + b));
                        }
                    } else {
                        for (o, &v) in out.iter_mut().zip(src) {
                            o.write(v * a + b);
                        }
                    }
                }
            })
        })
    }
}

/// ReLU as burn-flex computes it: zero where `y <= 0`, NaN kept (its backward likewise keeps
/// the gradient of a NaN output).
#[inline]
fn kept(y: f32) -> f32 {
    if y <= 0.0 { 0.0 } else { y }
}

/// Gradients `(dx, dgamma, dbeta)` of [`forward`] given `dy`, from the statistics it returned;
/// `relu`: the forward's affine map when it applied the ReLU (`dy` is then the gradient of the
/// ReLU's output, masked here where the forward zeroed it).
pub fn backward(l: &Layout, x: &[f32], gamma: &[f32], mean: &[f32], var: &[f32], epsilon: f64, dy: &[f32], relu: Option<&Affine>) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    assert!(x.len() == l.len() && dy.len() == l.len() && gamma.len() == l.c && mean.len() == l.c && var.len() == l.c);
    // The gradient at BatchNorm's output: `dy`, or 0 where the fused ReLU zeroed the output.
    let masked = |c: usize| {
        let ab = relu.map(|f| (f.scale[c], f.shift[c]));
        move |g: f32, v: f32| match ab {
            Some((a, b)) if v * a + b <= 0.0 => 0.0,
            _ => g,
        }
    };
    // Per channel: Σ dy and Σ dy·(x - mean).
    let sums = par_map(l.c, |c| {
        let m = mean[c];
        let g = masked(c);
        // One pass over dy and x for both sums.
        (0..l.n)
            .map(|n| {
                let r = (n * l.c + c) * l.plane..(n * l.c + c + 1) * l.plane;
                sums2(&dy[r.clone()], &x[r], |d, v| g(d, v), |d, v| g(d, v) * (v - m))
            })
            .fold((0.0, 0.0), |(a, b), (p, q)| (a + p, b + q))
    });
    let count = l.count();
    let mut dgamma = Vec::with_capacity(l.c);
    let mut dbeta = Vec::with_capacity(l.c);
    // dx = g·inv·(dy - Σdy/M - (x - mean)·inv²·Σdy(x - mean)/M) = k1·dy + k2·x + k3
    let mut k = Vec::with_capacity(l.c);
    for c in 0..l.c {
        let inv = 1.0 / (var[c] as f64 + epsilon).sqrt();
        let (sum_dy, sum_dy_xc) = sums[c];
        dbeta.push(sum_dy as f32);
        dgamma.push((sum_dy_xc * inv) as f32);
        let k1 = gamma[c] as f64 * inv;
        let k2 = -k1 * inv * inv * sum_dy_xc / count;
        let k3 = -k1 * sum_dy / count - k2 * mean[c] as f64;
        k.push((k1 as f32, k2 as f32, k3 as f32));
    }
    // SAFETY: as in `forward`, every channel plane of every image is written whole.
    let dx = unsafe {
        written(l.len(), |dx| {
            par_chunks(dx, l.c * l.plane, |n, dx_img| {
                for (c, &(k1, k2, k3)) in k.iter().enumerate() {
                    let at = (n * l.c + c) * l.plane;
                    let (g, v) = (&dy[at..at + l.plane], &x[at..at + l.plane]);
                    let out = dx_img[c * l.plane..][..l.plane].iter_mut().zip(g).zip(v);
                    if relu.is_some() {
                        let m = masked(c);
                        for ((o, &gi), &vi) in out {
                            o.write(k1 * m(gi, vi) + k2 * vi + k3);
                        }
                    } else {
                        for ((o, &gi), &vi) in out {
                            o.write(k1 * gi + k2 * vi + k3);
                        }
                    }
                }
            })
        })
    };
    (dx, dgamma, dbeta)
}
