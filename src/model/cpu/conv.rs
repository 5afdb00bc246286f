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

use std::mem::MaybeUninit;

use gemm::{gemm, Parallelism};

use super::parts::{assume_written, copy, fill, run_parts, scratch, Slot};

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

/// One kernel tap `(i, j)` of one channel `c` of a group: row `row` of the im2col matrix.
struct Tap {
    c: usize,
    row: usize,
    /// Output rows and columns whose input position is inside the input (not padding).
    oh: (usize, usize),
    ow: (usize, usize),
    /// The tap's offset into the padded input: `i · dilation`, `j · dilation`.
    dy: usize,
    dx: usize,
    /// [`Geometry::block`] for this tap.
    block: Option<(usize, usize, usize)>,
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

    /// Every kernel tap of every channel of a group, in im2col row order. Computed once per
    /// convolution call and shared by every image: at the late stages' small planes (6x6) a
    /// tap's bounds cost more than its copy, and working them out per image took 2-9% of a
    /// step (docs/BENCHMARKS.md, "im2col's taps worked out once").
    fn taps(&self) -> Vec<Tap> {
        let ([sh, sw], [ph, pw], [dh, dw]) = (self.stride, self.pad, self.dilation);
        let mut taps = Vec::with_capacity(self.k());
        for c in 0..self.cg() {
            for i in 0..self.kh {
                let oh = Self::valid(self.h, self.ho, sh, ph, i * dh);
                for j in 0..self.kw {
                    let ow = Self::valid(self.w, self.wo, sw, pw, j * dw);
                    taps.push(Tap { c, row: (c * self.kh + i) * self.kw + j, oh, ow, dy: i * dh, dx: j * dw, block: self.block(i, j, oh, ow) });
                }
            }
        }
        taps
    }

    /// Writes image `x_img`'s group `g` into `cols` (`[k, ld]`) from column `col0`: every value
    /// of columns `col0..col0 + Ho·Wo` of every row, padding included (as zeros).
    fn im2col<S: Slot>(&self, taps: &[Tap], x_img: &[f32], g: usize, cols: &mut [S], ld: usize, col0: usize) {
        let (wo, plane) = (self.wo, self.in_plane());
        let ([sh, sw], [ph, pw]) = (self.stride, self.pad);
        for t in taps {
            let src = &x_img[(g * self.cg() + t.c) * plane..][..plane];
            let dst = &mut cols[t.row * ld + col0..][..self.out_plane()];
            let ((oh_lo, oh_hi), (ow_lo, ow_hi)) = (t.oh, t.ow);
            if let Some((t0, t1, s0)) = t.block {
                // Stride 1, rows as long as the input's: one shifted copy of the plane, then
                // the padding (and the values that wrapped across rows) zeroed.
                fill(&mut dst[..t0], 0.0);
                fill(&mut dst[t1..], 0.0);
                copy(&mut dst[t0..t1], &src[s0..s0 + (t1 - t0)]);
                self.zero_edges(dst, t.oh, t.ow);
                continue;
            }
            for oh in 0..self.ho {
                let out_row = &mut dst[oh * wo..(oh + 1) * wo];
                if oh < oh_lo || oh >= oh_hi || ow_lo >= ow_hi {
                    fill(out_row, 0.0);
                    continue;
                }
                let ih = oh * sh + t.dy - ph;
                let line = &src[ih * self.w..(ih + 1) * self.w];
                fill(&mut out_row[..ow_lo], 0.0);
                fill(&mut out_row[ow_hi..], 0.0);
                let iw0 = ow_lo * sw + t.dx - pw;
                if sw == 1 {
                    copy(&mut out_row[ow_lo..ow_hi], &line[iw0..iw0 + (ow_hi - ow_lo)]);
                } else {
                    for (o, &v) in out_row[ow_lo..ow_hi].iter_mut().zip(line[iw0..].iter().step_by(sw)) {
                        o.set(v);
                    }
                }
            }
        }
    }

    /// Adds `cols` (`[k, ld]`, from column `col0`) into image `dx_img`'s group `g`. The padding
    /// columns of `cols` may be zeroed on the way.
    fn col2im(&self, taps: &[Tap], cols: &mut [f32], ld: usize, col0: usize, g: usize, dx_img: &mut [f32]) {
        let (wo, plane) = (self.wo, self.in_plane());
        let ([sh, sw], [ph, pw]) = (self.stride, self.pad);
        for t in taps {
            let dst = &mut dx_img[(g * self.cg() + t.c) * plane..][..plane];
            let src = &mut cols[t.row * ld + col0..][..self.out_plane()];
            let ((oh_lo, oh_hi), (ow_lo, ow_hi)) = (t.oh, t.ow);
            if let Some((t0, t1, s0)) = t.block {
                // The shifted block at once, once the values that would wrap are zero.
                self.zero_edges(src, t.oh, t.ow);
                for (d, v) in dst[s0..s0 + (t1 - t0)].iter_mut().zip(&src[t0..t1]) {
                    *d += v;
                }
                continue;
            }
            if ow_lo >= ow_hi {
                continue;
            }
            for oh in oh_lo..oh_hi {
                let ih = oh * sh + t.dy - ph;
                let line = &mut dst[ih * self.w..(ih + 1) * self.w];
                let iw0 = ow_lo * sw + t.dx - pw;
                let from = &src[oh * wo + ow_lo..oh * wo + ow_hi];
                if sw == 1 {
                    for (d, s) in line[iw0..iw0 + from.len()].iter_mut().zip(from) {
                        *d += s;
                    }
                } else {
                    for (d, s) in line[iw0..].iter_mut().step_by(sw).zip(from) {
                        *d += s;
                    }
                }
            }
        }
    }

    /// For stride 1 with output rows as long as the input's, kernel tap `(i, j)` reads one
    /// contiguous run of the input plane: output positions `[t0, t1)` (row-major) come from input
    /// positions starting at `s0`. `None` for other shapes or when the tap reads only padding.
    fn block(&self, i: usize, j: usize, (oh_lo, oh_hi): (usize, usize), (ow_lo, ow_hi): (usize, usize)) -> Option<(usize, usize, usize)> {
        if self.stride != [1, 1] || self.wo != self.w || oh_lo >= oh_hi || ow_lo >= ow_hi {
            return None;
        }
        let (t0, t1) = (oh_lo * self.wo + ow_lo, (oh_hi - 1) * self.wo + ow_hi);
        // Input row and column of output (oh_lo, ow_lo): both inside the input by `valid`.
        let (ih, iw) = (oh_lo + i * self.dilation[0] - self.pad[0], ow_lo + j * self.dilation[1] - self.pad[1]);
        Some((t0, t1, ih * self.w + iw))
    }

    /// Zeroes columns outside `[ow_lo, ow_hi)` of rows `[oh_lo, oh_hi)` of an output plane.
    fn zero_edges<S: Slot>(&self, plane: &mut [S], (oh_lo, oh_hi): (usize, usize), (ow_lo, ow_hi): (usize, usize)) {
        if ow_lo == 0 && ow_hi == self.wo {
            return;
        }
        for oh in oh_lo..oh_hi {
            let r = &mut plane[oh * self.wo..(oh + 1) * self.wo];
            fill(&mut r[..ow_lo], 0.0);
            fill(&mut r[ow_hi..], 0.0);
        }
    }

    /// A 1x1 convolution with stride 1 and no padding: its im2col matrix is the input itself.
    fn pointwise(&self) -> bool {
        self.kh == 1 && self.kw == 1 && self.stride == [1, 1] && self.pad == [0, 0] && self.ho == self.h && self.wo == self.w
    }

    /// The im2col matrix (`[k, images·Ho·Wo]`) of group `g` of images `imgs`: the input's own
    /// planes for a pointwise conv of one image, else written into `buf` (not zeroed first).
    fn cols<'a>(&self, taps: &[Tap], x: &'a [f32], imgs: std::ops::Range<usize>, g: usize, buf: &'a mut Vec<MaybeUninit<f32>>) -> &'a [f32] {
        let (in_img, plane) = (self.c * self.in_plane(), self.out_plane());
        if self.pointwise() && imgs.len() == 1 {
            return &x[imgs.start * in_img + g * self.cg() * plane..][..self.cg() * plane];
        }
        let ld = imgs.len() * plane;
        let cols = scratch(buf, self.k() * ld);
        for (b, img) in imgs.enumerate() {
            self.im2col(taps, &x[img * in_img..][..in_img], g, cols, ld, b * plane);
        }
        // SAFETY: `im2col` writes every row's columns `b·plane..(b+1)·plane`, for `b` over all
        // `ld / plane` images, so all `k·ld` values.
        unsafe { assume_written(cols) }
    }

    /// Gathers rows `[g·Co/g, (g+1)·Co/g)` of images `imgs` of an NCHW tensor `t` (`channels`
    /// channels of `plane` values) into `dst` (`[Co/g, imgs·plane]`).
    fn gather<S: Slot>(t: &[f32], channels: usize, plane: usize, rows: std::ops::Range<usize>, imgs: std::ops::Range<usize>, dst: &mut [S]) {
        let ld = imgs.len() * plane;
        for (r, ch) in rows.enumerate() {
            for (b, img) in imgs.clone().enumerate() {
                copy(&mut dst[r * ld + b * plane..][..plane], &t[(img * channels + ch) * plane..][..plane]);
            }
        }
    }
}

/// A matrix view: values, row stride, column stride.
type View<'a> = (&'a [f32], usize, usize);

/// `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`, each given with its (row, column) strides. `gemm`
/// packs a `lhs` that is contiguous along `m` (column stride > row stride) fastest, so callers
/// lay out operands that way where it matters.
fn matmul(m: usize, n: usize, k: usize, (dst, dst_rs, dst_cs): (&mut [f32], usize, usize), accumulate: bool, lhs: View, rhs: View) {
    if m == 0 || n == 0 || k == 0 {
        assert!(k > 0 || accumulate, "an empty product would leave dst unwritten");
        return;
    }
    let end = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs + 1;
    assert!(dst.len() >= end(m, n, dst_rs, dst_cs) && lhs.0.len() >= end(m, k, lhs.1, lhs.2) && rhs.0.len() >= end(k, n, rhs.1, rhs.2));
    // SAFETY: the assert above keeps every index `gemm` forms inside the three slices, and `dst`
    // is borrowed mutably, so it does not alias `lhs` or `rhs`.
    unsafe {
        gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            dst_cs as isize,
            dst_rs as isize,
            accumulate,
            lhs.0.as_ptr(),
            lhs.2 as isize,
            lhs.1 as isize,
            rhs.0.as_ptr(),
            rhs.2 as isize,
            rhs.1 as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            Parallelism::None,
        )
    }
}

/// `dst[c, r] = src[r, c]` for a row-major `rows x cols` `src` (every value of `dst[..rows·cols]`).
fn transpose<S: Slot>(src: &[f32], rows: usize, cols: usize, dst: &mut [S]) {
    const B: usize = 16;
    for r0 in (0..rows).step_by(B) {
        for c0 in (0..cols).step_by(B) {
            for r in r0..(r0 + B).min(rows) {
                for c in c0..(c0 + B).min(cols) {
                    dst[c * rows + r].set(src[r * cols + c]);
                }
            }
        }
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

/// Walks a part in chunks of at most `chunk` images.
fn chunks(part: std::ops::Range<usize>, chunk: usize, mut f: impl FnMut(std::ops::Range<usize>)) {
    let mut start = part.start;
    while start < part.end {
        let end = (start + chunk).min(part.end);
        f(start..end);
        start = end;
    }
}

/// `y = conv2d(x, w)` (no bias).
pub fn forward(geo: &Geometry, x: &[f32], w: &[f32]) -> Vec<f32> {
    assert!(x.len() == geo.x_len() && w.len() == geo.w_len());
    let (cog, k, plane) = (geo.cog(), geo.k(), geo.out_plane());
    let mut y = vec![0.0f32; geo.y_len()];
    let parts = geo.parts();
    let taps = geo.taps();
    let y_parts = split_parts(&mut y, geo.co * plane, &parts);
    let jobs: Vec<_> = parts.into_iter().zip(y_parts).collect();
    let run = |(part, y_part): (std::ops::Range<usize>, &mut [f32])| {
        let first = part.start;
        let (mut buf, mut out) = (Vec::new(), Vec::new());
        chunks(part, geo.chunk(), |imgs| {
            let (nb, ld) = (imgs.len(), imgs.len() * plane);
            for g in 0..geo.groups {
                let cols = geo.cols(&taps, x, imgs.clone(), g, &mut buf);
                let w_g = (&w[g * cog * k..], k, 1);
                if nb == 1 {
                    // One image: its group's output rows are contiguous in y.
                    let y_g = &mut y_part[(imgs.start - first) * geo.co * plane + g * cog * plane..][..cog * plane];
                    matmul(cog, ld, k, (y_g, ld, 1), false, w_g, (cols, ld, 1));
                    continue;
                }
                out.resize(cog * ld, 0.0);
                matmul(cog, ld, k, (&mut out, ld, 1), false, w_g, (cols, ld, 1));
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
    let taps = geo.taps();
    let dx_parts: Vec<Option<&mut [f32]>> = match dx.as_deref_mut() {
        Some(d) => split_parts(d, in_img, &parts).into_iter().map(Some).collect(),
        None => parts.iter().map(|_| None).collect(),
    };
    let jobs: Vec<_> = parts.into_iter().zip(dx_parts).collect();
    let run = |(part, mut dx_part): (std::ops::Range<usize>, Option<&mut [f32]>)| {
        let first = part.start;
        // Per group, dWᵀ [k, cog] (dW column-major), so that gemm's lhs below is contiguous along m.
        let mut dwt = if want_dw { vec![0.0f32; geo.w_len()] } else { Vec::new() };
        let (mut buf, mut dcols, mut dyg_buf, mut dygt_buf) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        chunks(part, geo.chunk(), |imgs| {
            let (nb, ld) = (imgs.len(), imgs.len() * plane);
            for g in 0..geo.groups {
                let dyg = scratch(&mut dyg_buf, cog * ld);
                Geometry::gather(dy, geo.co, plane, g * cog..(g + 1) * cog, imgs.clone(), dyg);
                // SAFETY: `gather` wrote `cog` rows of `ld` values.
                let dyg = unsafe { assume_written(dyg) };
                if want_dw {
                    let cols = geo.cols(&taps, x, imgs.clone(), g, &mut buf);
                    // dW_g [cog, k] += dY_g [cog, ld] · cols_gᵀ [ld, k], with dY_g from its
                    // transpose (contiguous along cog) and dW_g stored column-major. (The
                    // transposed product, dW_gᵀ = cols_g · dY_gᵀ written straight into dW's
                    // layout, gives gemm more rows but a row-major lhs to pack: 18-53% slower
                    // steps, docs/BENCHMARKS.md, "im2col's taps worked out once".)
                    let dygt = scratch(&mut dygt_buf, cog * ld);
                    transpose(dyg, cog, ld, dygt);
                    // SAFETY: `transpose` wrote all `cog·ld` values.
                    let dygt = unsafe { assume_written(dygt) };
                    matmul(cog, k, ld, (&mut dwt[g * cog * k..], 1, cog), true, (dygt, 1, cog), (cols, 1, ld));
                }
                if let Some(dx_part) = dx_part.as_deref_mut() {
                    // dcols_g [k, ld] = W_gᵀ [k, cog] · dY_g [cog, ld], then col2im into dx.
                    let (w_t, dy_g) = ((&w[g * cog * k..], 1, k), (dyg, ld, 1));
                    if geo.pointwise() && nb == 1 {
                        // Pointwise, one image: dcols is the image's group of dx itself.
                        let dx_g = &mut dx_part[(imgs.start - first) * in_img + g * k * plane..][..k * plane];
                        matmul(k, ld, cog, (dx_g, ld, 1), false, w_t, dy_g);
                        continue;
                    }
                    dcols.resize(k * ld, 0.0);
                    matmul(k, ld, cog, (&mut dcols, ld, 1), false, w_t, dy_g);
                    for (b, img) in imgs.clone().enumerate() {
                        geo.col2im(&taps, &mut dcols, ld, b * plane, g, &mut dx_part[(img - first) * in_img..][..in_img]);
                    }
                }
            }
        });
        dwt
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
        let mut dw = vec![0.0f32; geo.w_len()];
        for g in 0..geo.groups {
            transpose(&total[g * cog * k..][..cog * k], k, cog, &mut dw[g * cog * k..][..cog * k]);
        }
        dw
    });
    (dx, dw)
}
