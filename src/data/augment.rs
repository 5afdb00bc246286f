//! SimCLR's CIFAR augmentation: random resized crop (scale 0.2-1.0) back to the input size,
//! horizontal flip, colour jitter (0.4, 0.4, 0.4, 0.1) with p = 0.8, grayscale with p = 0.2.
//! Runs on the CPU over u8 images, seeded, and is the same natively and in the browser.

use burn::prelude::{Device, Tensor, TensorData};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::cifar::{Cifar10, SIDE};

/// Per-channel mean and std of CIFAR-10 (for input normalisation).
pub const MEAN: [f32; 3] = [0.4914, 0.4822, 0.4465];
pub const STD: [f32; 3] = [0.2470, 0.2435, 0.2616];

#[derive(Clone, Debug)]
pub struct Augment {
    pub out: usize,
    pub scale: (f32, f32),
    pub ratio: (f32, f32),
    pub jitter: [f32; 4],
    pub jitter_p: f32,
    pub gray_p: f32,
}

impl Augment {
    pub fn simclr_cifar(out: usize) -> Self {
        Self { out, scale: (0.2, 1.0), ratio: (3.0 / 4.0, 4.0 / 3.0), jitter: [0.4, 0.4, 0.4, 0.1], jitter_p: 0.8, gray_p: 0.2 }
    }
}

/// A batch of 2N views, [view1 of every image; view2 of every image], NCHW f32, normalised.
pub struct Views {
    pub data: Vec<f32>,
    pub n: usize,
    pub side: usize,
}

impl Views {
    /// The views as one [2N, 3, side, side] tensor on `device` (view 1 of every image, then view 2).
    pub fn into_tensor(self, device: &Device) -> Tensor<4> {
        let shape = [2 * self.n, 3, self.side, self.side];
        Tensor::from_data(TensorData::new(self.data, shape), device)
    }
}

/// A seeded generator for one step: the same (seed, step) always gives the same batch.
pub fn step_rng(seed: u64, step: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed ^ step.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17))
}

impl Augment {
    /// Two augmented views of each image in `indices`.
    pub fn views(&self, data: &Cifar10, indices: &[usize], rng: &mut SmallRng) -> Views {
        let plane = self.out * self.out;
        let n = indices.len();
        let mut out = vec![0f32; 2 * n * 3 * plane];
        for v in 0..2 {
            for (j, &i) in indices.iter().enumerate() {
                let dst = &mut out[((v * n) + j) * 3 * plane..((v * n) + j + 1) * 3 * plane];
                self.apply(data.image(i), dst, rng);
            }
        }
        Views { data: out, n, side: self.out }
    }

    /// Augment one planar CHW u8 image into `dst` (3 x out x out, normalised).
    pub fn apply(&self, img: &[u8], dst: &mut [f32], rng: &mut SmallRng) {
        let (x0, y0, w, h) = self.sample_crop(rng);
        let flip = rng.random::<f32>() < 0.5;
        resize_crop(img, x0, y0, w, h, flip, self.out, dst);
        let plane = self.out * self.out;
        if rng.random::<f32>() < self.jitter_p {
            let [b, c, s, hue] = self.jitter;
            let mut order = [0usize, 1, 2, 3];
            order.shuffle(rng);
            for op in order {
                match op {
                    0 => brightness(dst, rng.random_range(1.0 - b..=1.0 + b)),
                    1 => contrast(dst, plane, rng.random_range(1.0 - c..=1.0 + c)),
                    2 => saturation(dst, plane, rng.random_range(1.0 - s..=1.0 + s)),
                    _ => hue_shift(dst, plane, rng.random_range(-hue..=hue)),
                }
            }
        }
        if rng.random::<f32>() < self.gray_p {
            saturation(dst, plane, 0.0);
        }
        normalize(dst, plane);
    }

    /// torchvision's RandomResizedCrop sampling (10 tries, then the central crop).
    fn sample_crop(&self, rng: &mut SmallRng) -> (f32, f32, f32, f32) {
        let area = (SIDE * SIDE) as f32;
        let (lr0, lr1) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target = area * rng.random_range(self.scale.0..=self.scale.1);
            let ratio = rng.random_range(lr0..=lr1).exp();
            let w = (target * ratio).sqrt().round();
            let h = (target / ratio).sqrt().round();
            if w >= 1.0 && h >= 1.0 && w <= SIDE as f32 && h <= SIDE as f32 {
                let x0 = rng.random_range(0..=(SIDE - w as usize)) as f32;
                let y0 = rng.random_range(0..=(SIDE - h as usize)) as f32;
                return (x0, y0, w, h);
            }
        }
        (0.0, 0.0, SIDE as f32, SIDE as f32)
    }
}

/// Bilinear resize of the crop (x0, y0, w, h) to out x out, values in [0, 1].
#[allow(clippy::too_many_arguments)]
fn resize_crop(img: &[u8], x0: f32, y0: f32, w: f32, h: f32, flip: bool, out: usize, dst: &mut [f32]) {
    let plane = out * out;
    let (sx, sy) = (w / out as f32, h / out as f32);
    let max = (SIDE - 1) as f32;
    for oy in 0..out {
        let fy = (y0 + (oy as f32 + 0.5) * sy - 0.5).clamp(0.0, max);
        let (y_lo, wy) = (fy.floor() as usize, fy - fy.floor());
        let y_hi = (y_lo + 1).min(SIDE - 1);
        for ox in 0..out {
            let tx = if flip { out - 1 - ox } else { ox };
            let fx = (x0 + (tx as f32 + 0.5) * sx - 0.5).clamp(0.0, max);
            let (x_lo, wx) = (fx.floor() as usize, fx - fx.floor());
            let x_hi = (x_lo + 1).min(SIDE - 1);
            for c in 0..3 {
                let p = |y: usize, x: usize| img[c * SIDE * SIDE + y * SIDE + x] as f32;
                let top = p(y_lo, x_lo) * (1.0 - wx) + p(y_lo, x_hi) * wx;
                let bot = p(y_hi, x_lo) * (1.0 - wx) + p(y_hi, x_hi) * wx;
                dst[c * plane + oy * out + ox] = (top * (1.0 - wy) + bot * wy) / 255.0;
            }
        }
    }
}

fn gray(r: f32, g: f32, b: f32) -> f32 {
    0.299 * r + 0.587 * g + 0.114 * b
}

fn brightness(x: &mut [f32], f: f32) {
    x.iter_mut().for_each(|v| *v = (*v * f).clamp(0.0, 1.0));
}

fn contrast(x: &mut [f32], plane: usize, f: f32) {
    let mean = (0..plane).map(|i| gray(x[i], x[plane + i], x[2 * plane + i])).sum::<f32>() / plane as f32;
    x.iter_mut().for_each(|v| *v = ((*v - mean) * f + mean).clamp(0.0, 1.0));
}

fn saturation(x: &mut [f32], plane: usize, f: f32) {
    for i in 0..plane {
        let g = gray(x[i], x[plane + i], x[2 * plane + i]);
        for c in 0..3 {
            let v = &mut x[c * plane + i];
            *v = ((*v - g) * f + g).clamp(0.0, 1.0);
        }
    }
}

/// Rotate hue by `shift` turns (HSV round trip, as torchvision's adjust_hue).
fn hue_shift(x: &mut [f32], plane: usize, shift: f32) {
    for i in 0..plane {
        let (r, g, b) = (x[i], x[plane + i], x[2 * plane + i]);
        let max = r.max(g).max(b);
        let min = r.min(g).min(b);
        let d = max - min;
        if d <= 0.0 {
            continue;
        }
        let mut h = if max == r {
            ((g - b) / d).rem_euclid(6.0)
        } else if max == g {
            (b - r) / d + 2.0
        } else {
            (r - g) / d + 4.0
        } / 6.0;
        h = (h + shift).rem_euclid(1.0);
        let (s, v) = (d / max, max);
        let hh = h * 6.0;
        let k = hh.floor();
        let f = hh - k;
        let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
        let (r, g, b) = match k as i32 % 6 {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
        x[i] = r;
        x[plane + i] = g;
        x[2 * plane + i] = b;
    }
}

fn normalize(x: &mut [f32], plane: usize) {
    for c in 0..3 {
        x[c * plane..(c + 1) * plane].iter_mut().for_each(|v| *v = (*v - MEAN[c]) / STD[c]);
    }
}

/// Un-augmented, normalised images (for evaluation), resized to `out` when it is not 32.
pub fn plain(data: &Cifar10, indices: &[usize], out: usize) -> Vec<f32> {
    let plane = out * out;
    let mut v = vec![0f32; indices.len() * 3 * plane];
    for (j, &i) in indices.iter().enumerate() {
        let dst = &mut v[j * 3 * plane..(j + 1) * 3 * plane];
        resize_crop(data.image(i), 0.0, 0.0, SIDE as f32, SIDE as f32, false, out, dst);
        normalize(dst, plane);
    }
    v
}

/// Undo [`normalize`] and pack one view as RGBA bytes (for display on the page).
pub fn to_rgba(chw: &[f32], side: usize) -> Vec<u8> {
    let plane = side * side;
    let mut out = Vec::with_capacity(plane * 4);
    for i in 0..plane {
        for c in 0..3 {
            out.push(((chw[c * plane + i] * STD[c] + MEAN[c]).clamp(0.0, 1.0) * 255.0).round() as u8);
        }
        out.push(255);
    }
    out
}
