//! 2-D convolution forward and backward on plain `f32` slices (NCHW, contiguous), written as
//! im2col + one `gemm` per group and chunk of images.
//!
//! Why this exists: burn-flex 0.22.1 implements the conv forward but not its backward, so
//! burn's generic decomposition runs: the input gradient as a `conv_transpose2d` (flex's direct
//! loop) and the weight gradient as a convolution whose kernel is the whole output map, with
//! NCHW<->NHWC copies around both. Here both gradients are one matrix product each:
//!
//! * `dW_g += dY_g · cols_gᵀ` (`[Co/g, L] x [L, K]`),
//! * `dcols_g = W_gᵀ · dY_g` (`[K, Co/g] x [Co/g, L]`), then `col2im` into `dX`,
//!
//! where `cols_g` is the `[K = C/g·kh·kw, L = images·Ho·Wo]` im2col matrix of a chunk of images.
//! The forward is the same product the other way round (`Y_g = W_g · cols_g`), so a step never
//! changes layout.
//!
//! Results do not depend on the thread count: images are split into a fixed number of parts
//! whose weight-gradient partial sums are added in a fixed order, and every `gemm` runs on one
//! thread (`Parallelism::None`). A parallel-units run (one thread per unit) is therefore
//! bit-identical to a sequential one, as `tests/parallel.rs` checks.

use gemm::{gemm, Parallelism};

use super::run_parts;

/// Shape and options of one convolution, checked once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geometry {
    pub n: usize,
    pub c: usize,
    pub h: usize,
    pub w: usize,
    pub co: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: [usize; 2],
    /// Padding at the start of each spatial dimension (the end padding only sets `ho`, `wo`).
    pub pad: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
    pub ho: usize,
    pub wo: usize,
}

/// The fixed number of parts a batch is split into (a deterministic reduction; see the module doc).
const PARTS: usize = 4;
/// Aim for at least this many columns (`images · Ho · Wo`) per `gemm`.
const MIN_COLUMNS: usize = 256;

impl Geometry {
    /// Output size from input, kernel and options; `None` when the kernel does not fit.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        [n, c, h, w]: [usize; 4],
        [co, cg, kh, kw]: [usize; 4],
        stride: [usize; 2],
        padding: [(usize, usize); 2],
        dilation: [usize; 2],
        groups: usize,
    ) -> Option<Self> {
        if groups == 0 || c != cg * groups || co % groups != 0 || stride.contains(&0) || dilation.contains(&0) {
            return None;
        }
        let out = |size: usize, (pb, pe): (usize, usize), k: usize, s: usize, d: usize| {
            let span = d * (k - 1) + 1;
            (size + pb + pe).checked_sub(span).map(|v| v / s + 1)
        };
        let ho = out(h, padding[0], kh, stride[0], dilation[0])?;
        let wo = out(w, padding[1], kw, stride[1], dilation[1])?;
        Some(Self { n, c, h, w, co, kh, kw, stride, pad: [padding[0].0, padding[1].0], dilation, groups, ho, wo })
    }

    fn cg(&self) -> usize {
        self.c / self.groups
    }
    fn cog(&self) -> usize {
        self.co / self.groups
    }
    /// Rows of the im2col matrix of one group.
    fn k(&self) -> usize {
        self.cg() * self.kh * self.kw
    }
    fn in_plane(&self) -> usize {
        self.h * self.w
    }
    fn out_plane(&self) -> usize {
        self.ho * self.wo
    }
    pub fn x_len(&self) -> usize {
        self.n * self.c * self.in_plane()
    }
    pub fn w_len(&self) -> usize {
        self.co * self.k()
    }
    pub fn y_len(&self) -> usize {
        self.n * self.co * self.out_plane()
    }
    /// Images per `gemm`.
    fn chunk(&self) -> usize {
        MIN_COLUMNS.div_ceil(self.out_plane().max(1)).clamp(1, self.n.max(1))
    }
    /// Image ranges of the fixed parts; each part is walked in chunks of `chunk()` images.
    fn parts(&self) -> Vec<std::ops::Range<usize>> {
        let parts = PARTS.min(self.n).max(1);
        (0..parts).map(|p| p * self.n / parts..(p + 1) * self.n / parts).collect()
    }

    /// Output positions `[lo, hi)` along one axis that read inside the input for kernel tap
    /// `tap`: `o * stride + tap * dilation - pad` in `[0, size)`.
    fn valid(size: usize, out: usize, stride: usize, pad: usize, offset: usize) -> (usize, usize) {
        // o * stride + offset >= pad  and  o * stride + offset < size + pad
        let lo = pad.saturating_sub(offset).div_ceil(stride);
        let hi = if size + pad > offset { (size + pad - offset).div_ceil(stride) } else { 0 };
        (lo.min(out), hi.min(out).max(lo.min(out)))
    }

    /// Writes image `x_img`'s group `g` into `cols` (`[k, ld]`) from column `col0`.
    fn im2col(&self, x_img: &[f32], g: usize, cols: &mut [f32], ld: usize, col0: usize) {
        let (wo, plane) = (self.wo, self.in_plane());
        let [sh, sw] = self.stride;
        let [ph, pw] = self.pad;
        let [dh, dw] = self.dilation;
        let mut row = 0;
        for c in 0..self.cg() {
            let src = &x_img[(g * self.cg() + c) * plane..][..plane];
            for i in 0..self.kh {
                let (oh_lo, oh_hi) = Self::valid(self.h, self.ho, sh, ph, i * dh);
                for j in 0..self.kw {
                    let (ow_lo, ow_hi) = Self::valid(self.w, self.wo, sw, pw, j * dw);
                    let dst = &mut cols[row * ld + col0..][..self.out_plane()];
                    for oh in 0..self.ho {
                        let out_row = &mut dst[oh * wo..(oh + 1) * wo];
                        if oh < oh_lo || oh >= oh_hi || ow_lo >= ow_hi {
                            out_row.fill(0.0);
                            continue;
                        }
                        let ih = oh * sh + i * dh - ph;
                        let line = &src[ih * self.w..(ih + 1) * self.w];
                        out_row[..ow_lo].fill(0.0);
                        out_row[ow_hi..].fill(0.0);
                        let iw0 = ow_lo * sw + j * dw - pw;
                        if sw == 1 {
                            out_row[ow_lo..ow_hi].copy_from_slice(&line[iw0..iw0 + (ow_hi - ow_lo)]);
                        } else {
                            for (k, o) in out_row[ow_lo..ow_hi].iter_mut().enumerate() {
                                *o = line[iw0 + k * sw];
                            }
                        }
                    }
                    row += 1;
                }
            }
        }
    }

    /// Adds `cols` (`[k, ld]`, from column `col0`) into image `dx_img`'s group `g`.
    fn col2im(&self, cols: &[f32], ld: usize, col0: usize, g: usize, dx_img: &mut [f32]) {
        let (wo, plane) = (self.wo, self.in_plane());
        let [sh, sw] = self.stride;
        let [ph, pw] = self.pad;
        let [dh, dw] = self.dilation;
        let mut row = 0;
        for c in 0..self.cg() {
            let dst = &mut dx_img[(g * self.cg() + c) * plane..][..plane];
            for i in 0..self.kh {
                let (oh_lo, oh_hi) = Self::valid(self.h, self.ho, sh, ph, i * dh);
                for j in 0..self.kw {
                    let (ow_lo, ow_hi) = Self::valid(self.w, self.wo, sw, pw, j * dw);
                    let src = &cols[row * ld + col0..][..self.out_plane()];
                    row += 1;
                    if ow_lo >= ow_hi {
                        continue;
                    }
                    for oh in oh_lo..oh_hi {
                        let ih = oh * sh + i * dh - ph;
                        let line = &mut dst[ih * self.w..(ih + 1) * self.w];
                        let iw0 = ow_lo * sw + j * dw - pw;
                        let from = &src[oh * wo + ow_lo..oh * wo + ow_hi];
                        if sw == 1 {
                            for (d, s) in line[iw0..iw0 + from.len()].iter_mut().zip(from) {
                                *d += s;
                            }
                        } else {
                            for (k, s) in from.iter().enumerate() {
                                line[iw0 + k * sw] += s;
                            }
                        }
                    }
                }
            }
        }
    }

    /// Gathers rows `[g·Co/g, (g+1)·Co/g)` of images `imgs` of an NCHW tensor `t` (`channels`
    /// channels of `plane` values) into `dst` (`[Co/g, imgs·plane]`), or scatters back.
    fn gather(t: &[f32], channels: usize, plane: usize, rows: std::ops::Range<usize>, imgs: std::ops::Range<usize>, dst: &mut [f32]) {
        let ld = imgs.len() * plane;
        for (r, ch) in rows.enumerate() {
            for (b, img) in imgs.clone().enumerate() {
                dst[r * ld + b * plane..][..plane].copy_from_slice(&t[(img * channels + ch) * plane..][..plane]);
            }
        }
    }
}

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`, each given by (row stride, column stride).
#[allow(clippy::too_many_arguments)]
fn matmul(m: usize, n: usize, k: usize, dst: &mut [f32], accumulate: bool, lhs: &[f32], (lhs_rs, lhs_cs): (usize, usize), rhs: &[f32], (rhs_rs, rhs_cs): (usize, usize)) {
    if m == 0 || n == 0 {
        return;
    }
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    let end = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs + 1;
    assert!(dst.len() >= m * n && lhs.len() >= end(m, k, lhs_rs, lhs_cs) && rhs.len() >= end(k, n, rhs_rs, rhs_cs));
    // SAFETY: the assert above keeps every index `gemm` forms inside the three slices, and `dst`
    // is borrowed mutably, so it does not alias `lhs` or `rhs`.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            lhs.as_ptr(),
            lhs_cs as isize,
            lhs_rs as isize,
            rhs.as_ptr(),
            rhs_cs as isize,
            rhs_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// Splits `data` (one block of `per` values per image) at the parts' boundaries.
fn split_parts<'a>(mut data: &'a mut [f32], per: usize, parts: &[std::ops::Range<usize>]) -> Vec<&'a mut [f32]> {
    parts
        .iter()
        .map(|p| {
            let (head, tail) = std::mem::take(&mut data).split_at_mut(p.len() * per);
            data = tail;
            head
        })
        .collect()
}

/// Walks a part in chunks of images: `f(images, columns)`.
fn chunks(part: std::ops::Range<usize>, chunk: usize, mut f: impl FnMut(std::ops::Range<usize>, usize)) {
    let mut start = part.start;
    while start < part.end {
        let end = (start + chunk).min(part.end);
        f(start..end, end - start);
        start = end;
    }
}

/// `y = conv2d(x, w)` (no bias).
pub fn forward(geo: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    assert!(x.len() == geo.x_len() && w.len() == geo.w_len());
    let (cog, k, plane) = (geo.cog(), geo.k(), geo.out_plane());
    let mut y = vec![0.0f32; geo.y_len()];
    let parts = geo.parts();
    let y_parts = split_parts(&mut y, geo.co * plane, &parts);
    let jobs: Vec<_> = parts.into_iter().zip(y_parts).collect();
    let run = |(part, y_part): (std::ops::Range<usize>, &mut [f32])| {
        let first = part.start;
        let mut cols = Vec::new();
        let mut out = Vec::new();
        chunks(part, geo.chunk(), |imgs, nb| {
            let ld = nb * plane;
            cols.resize(k * ld, 0.0);
            out.resize(cog * ld, 0.0);
            for g in 0..geo.groups {
                for (b, img) in imgs.clone().enumerate() {
                    geo.im2col(&x[img * geo.c * geo.in_plane()..][..geo.c * geo.in_plane()], g, &mut cols, ld, b * plane);
                }
                matmul(cog, ld, k, &mut out, false, &w[g * cog * k..], (k, 1), &cols, (ld, 1));
                for (b, img) in imgs.clone().enumerate() {
                    let y_img = &mut y_part[(img - first) * geo.co * plane..][..geo.co * plane];
                    for r in 0..cog {
                        y_img[(g * cog + r) * plane..][..plane].copy_from_slice(&out[r * ld + b * plane..][..plane]);
                    }
                }
            }
        });
    };
    run_parts(jobs, run);
    y
}

/// Gradients of `y = conv2d(x, w)` given `dy`: `(dx, dw)`, each only when asked for.
pub fn backward(geo: &Geometry, x: &[f32], w: &[f32], dy: &[f32], want_dx: bool, want_dw: bool) -> (Option<Vec<f32>>, Option<Vec<f32>>) {
    assert!(x.len() == geo.x_len() && w.len() == geo.w_len() && dy.len() == geo.y_len());
    let (cog, k, plane, in_img) = (geo.cog(), geo.k(), geo.out_plane(), geo.c * geo.in_plane());
    let mut dx = want_dx.then(|| vec![0.0f32; geo.x_len()]);
    let parts = geo.parts();
    let dx_parts: Vec<Option<&mut [f32]>> = match dx.as_deref_mut() {
        Some(d) => split_parts(d, in_img, &parts).into_iter().map(Some).collect(),
        None => parts.iter().map(|_| None).collect(),
    };
    let jobs: Vec<_> = parts.into_iter().zip(dx_parts).collect();
    let run = |(part, mut dx_part): (std::ops::Range<usize>, Option<&mut [f32]>)| {
        let first = part.start;
        let mut dw = if want_dw { vec![0.0f32; geo.w_len()] } else { Vec::new() };
        let (mut cols, mut dyg) = (Vec::new(), Vec::new());
        chunks(part, geo.chunk(), |imgs, nb| {
            let ld = nb * plane;
            dyg.resize(cog * ld, 0.0);
            cols.resize(k * ld, 0.0);
            for g in 0..geo.groups {
                Geometry::gather(dy, geo.co, plane, g * cog..(g + 1) * cog, imgs.clone(), &mut dyg);
                if want_dw {
                    for (b, img) in imgs.clone().enumerate() {
                        geo.im2col(&x[img * in_img..][..in_img], g, &mut cols, ld, b * plane);
                    }
                    // dW_g [cog, k] += dY_g [cog, ld] · cols_gᵀ [ld, k]
                    matmul(cog, k, ld, &mut dw[g * cog * k..], true, &dyg, (ld, 1), &cols, (1, ld));
                }
                if let Some(dx_part) = dx_part.as_deref_mut() {
                    // dcols_g [k, ld] = W_gᵀ [k, cog] · dY_g [cog, ld]
                    matmul(k, ld, cog, &mut cols, false, &w[g * cog * k..], (1, k), &dyg, (ld, 1));
                    for (b, img) in imgs.clone().enumerate() {
                        geo.col2im(&cols, ld, b * plane, g, &mut dx_part[(img - first) * in_img..][..in_img]);
                    }
                }
            }
        });
        dw
    };
    let partials = run_parts(jobs, run);
    let dw = want_dw.then(|| {
        let mut it = partials.into_iter();
        let mut total = it.next().unwrap_or_else(|| vec![0.0; geo.w_len()]);
        for p in it {
            for (t, v) in total.iter_mut().zip(p) {
                *t += v;
            }
        }
        total
    });
    (dx, dw)
}
