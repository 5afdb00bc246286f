//! SimCLR's augmentations, at any image size. CIFAR recipe (images of at most 64 px): random
//! resized crop (scale 0.2-1.0) to the input size, horizontal flip, colour jitter (0.4, 0.4,
//! 0.4, 0.1) with p = 0.8, grayscale with p = 0.2. ImageNet recipe (larger images, as SimCLR
//! and LoCo): crop scale 0.08-1.0, jitter (0.8, 0.8, 0.8, 0.2) with p = 0.8, grayscale p = 0.2,
//! Gaussian blur with p = 0.5 (kernel ~10% of the side, sigma 0.1-2.0). Runs on the CPU over u8
//! images; every image's two views come from its own generator, seeded by (seed, position in
//! the sample stream), so a batch is the same however it is split across threads.

use burn::prelude::{Device, Tensor, TensorData};
use rand::rngs::SmallRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use super::set::{ImageSet, Img};

/// Images whose larger side is at most this get the CIFAR recipe and an identity evaluation
/// transform; larger ones the ImageNet recipe and a centre crop.
pub const SMALL_IMAGE: usize = 64;
/// The evaluation centre crop of larger images: the central 87.5% (resize 256, crop 224).
pub const CENTRE_CROP: f32 = 0.875;

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
    /// Probability of a Gaussian blur (kernel ~10% of the side, sigma 0.1-2.0).
    pub blur_p: f32,
}

impl Augment {
    pub fn simclr_cifar(out: usize) -> Self {
        Self { out, scale: (0.2, 1.0), ratio: (3.0 / 4.0, 4.0 / 3.0), jitter: [0.4, 0.4, 0.4, 0.1], jitter_p: 0.8, gray_p: 0.2, blur_p: 0.0 }
    }

    /// SimCLR's ImageNet augmentation (colour strength 1.0), which LoCo uses too.
    pub fn simclr_imagenet(out: usize) -> Self {
        Self { out, scale: (0.08, 1.0), ratio: (3.0 / 4.0, 4.0 / 3.0), jitter: [0.8, 0.8, 0.8, 0.2], jitter_p: 0.8, gray_p: 0.2, blur_p: 0.5 }
    }

    /// The recipe for a dataset: CIFAR's for small images, ImageNet's for larger ones.
    pub fn for_data(out: usize, data: &ImageSet) -> Self {
        if data.max_side() <= SMALL_IMAGE {
            Self::simclr_cifar(out)
        } else {
            Self::simclr_imagenet(out)
        }
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

/// A seeded generator for one purpose and position: the same (seed, key) always gives the
/// same numbers (splitmix64 of the pair, so neighbouring keys give unrelated streams).
pub fn keyed_rng(seed: u64, key: u64) -> SmallRng {
    let mut z = seed ^ key.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    SmallRng::seed_from_u64(z ^ (z >> 31))
}

impl Augment {
    /// Two augmented views of each `(image index, stream position)`: every image's views come
    /// from [`keyed_rng`]`(seed, position)`, view 1 then view 2.
    pub fn views(&self, data: &ImageSet, items: &[(usize, u64)], seed: u64) -> Views {
        let size = 3 * self.out * self.out;
        let n = items.len();
        let mut out = vec![0f32; 2 * n * size];
        let (first, second) = out.split_at_mut(n * size);
        for (j, &(i, position)) in items.iter().enumerate() {
            let mut rng = keyed_rng(seed, position);
            let img = data.image(i);
            self.apply(&img, &mut first[j * size..(j + 1) * size], &mut rng);
            self.apply(&img, &mut second[j * size..(j + 1) * size], &mut rng);
        }
        Views { data: out, n, side: self.out }
    }

    /// Augment one image into `dst` (3 x out x out, normalised).
    pub fn apply(&self, img: &Img<'_>, dst: &mut [f32], rng: &mut SmallRng) {
        let (x0, y0, w, h) = self.sample_crop(img.w, img.h, rng);
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
        if self.blur_p > 0.0 && rng.random::<f32>() < self.blur_p {
            gaussian_blur(dst, self.out, rng.random_range(0.1..=2.0));
        }
        normalize(dst, plane);
    }

    /// torchvision's RandomResizedCrop sampling (10 tries, then the central crop).
    fn sample_crop(&self, iw: usize, ih: usize, rng: &mut SmallRng) -> (f32, f32, f32, f32) {
        let area = (iw * ih) as f32;
        let (lr0, lr1) = (self.ratio.0.ln(), self.ratio.1.ln());
        for _ in 0..10 {
            let target = area * rng.random_range(self.scale.0..=self.scale.1);
            let ratio = rng.random_range(lr0..=lr1).exp();
            let w = (target * ratio).sqrt().round();
            let h = (target / ratio).sqrt().round();
            if w >= 1.0 && h >= 1.0 && w <= iw as f32 && h <= ih as f32 {
                let x0 = rng.random_range(0..=(iw - w as usize)) as f32;
                let y0 = rng.random_range(0..=(ih - h as usize)) as f32;
                return (x0, y0, w, h);
            }
        }
        // torchvision's fallback: the central crop at the nearest allowed aspect ratio.
        let (iwf, ihf) = (iw as f32, ih as f32);
        let r = iwf / ihf;
        let (w, h) = if r < self.ratio.0 {
            (iwf, (iwf / self.ratio.0).round())
        } else if r > self.ratio.1 {
            ((ihf * self.ratio.1).round(), ihf)
        } else {
            (iwf, ihf)
        };
        (((iwf - w) / 2.0).floor(), ((ihf - h) / 2.0).floor(), w, h)
    }
}

/// Bilinear resize of the crop (x0, y0, w, h) to out x out, values in [0, 1].
#[allow(clippy::too_many_arguments)]
fn resize_crop(img: &Img<'_>, x0: f32, y0: f32, w: f32, h: f32, flip: bool, out: usize, dst: &mut [f32]) {
    let plane = out * out;
    let (iw, ih) = (img.w, img.h);
    let (sx, sy) = (w / out as f32, h / out as f32);
    let (max_x, max_y) = ((iw - 1) as f32, (ih - 1) as f32);
    for oy in 0..out {
        let fy = (y0 + (oy as f32 + 0.5) * sy - 0.5).clamp(0.0, max_y);
        let (y_lo, wy) = (fy.floor() as usize, fy - fy.floor());
        let y_hi = (y_lo + 1).min(ih - 1);
        for ox in 0..out {
            let tx = if flip { out - 1 - ox } else { ox };
            let fx = (x0 + (tx as f32 + 0.5) * sx - 0.5).clamp(0.0, max_x);
            let (x_lo, wx) = (fx.floor() as usize, fx - fx.floor());
            let x_hi = (x_lo + 1).min(iw - 1);
            for c in 0..3 {
                let p = |y: usize, x: usize| img.pixels[c * iw * ih + y * iw + x] as f32;
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

/// Separable Gaussian blur of every plane (kernel ~10% of the side, odd, reflected edges).
fn gaussian_blur(x: &mut [f32], side: usize, sigma: f32) {
    let radius = ((side as f32 * 0.1) as usize / 2).max(1);
    let taps: Vec<f32> = (0..=2 * radius).map(|k| (-((k as f32 - radius as f32).powi(2)) / (2.0 * sigma * sigma)).exp()).collect();
    let total: f32 = taps.iter().sum();
    let taps: Vec<f32> = taps.iter().map(|t| t / total).collect();
    let reflect = |i: isize| -> usize {
        let n = side as isize;
        let i = if i < 0 { -i } else { i };
        (if i >= n { 2 * n - 2 - i } else { i }).clamp(0, n - 1) as usize
    };
    let mut tmp = vec![0f32; side * side];
    for plane in x.chunks_exact_mut(side * side) {
        for y in 0..side {
            for xx in 0..side {
                tmp[y * side + xx] = taps.iter().enumerate().map(|(k, t)| t * plane[y * side + reflect(xx as isize + k as isize - radius as isize)]).sum();
            }
        }
        for y in 0..side {
            for xx in 0..side {
                plane[y * side + xx] = taps.iter().enumerate().map(|(k, t)| t * tmp[reflect(y as isize + k as isize - radius as isize) * side + xx]).sum();
            }
        }
    }
}

/// Un-augmented, normalised images (for evaluation): small images (CIFAR) whole, resized to
/// `out` when they are not that size; larger ones the central [`CENTRE_CROP`] of the shorter
/// side (resize and centre crop, as ImageNet evaluation does).
pub fn plain(data: &ImageSet, indices: &[usize], out: usize) -> Vec<f32> {
    let plane = out * out;
    let small = data.max_side() <= SMALL_IMAGE;
    let mut v = vec![0f32; indices.len() * 3 * plane];
    for (j, &i) in indices.iter().enumerate() {
        let dst = &mut v[j * 3 * plane..(j + 1) * 3 * plane];
        let img = data.image(i);
        let (w, h) = (img.w as f32, img.h as f32);
        let (cw, ch) = if small { (w, h) } else { (w.min(h) * CENTRE_CROP, w.min(h) * CENTRE_CROP) };
        resize_crop(&img, (w - cw) / 2.0, (h - ch) / 2.0, cw, ch, false, out, dst);
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
