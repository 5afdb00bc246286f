//! A packed matrix kernel for wasm: `dst[m, n] (+)= lhs[m, k] · rhs[k, n]`, each operand given
//! with its (row, column) strides — the products of our CPU convolution — written to measure
//! whether relaxed SIMD's fused multiply-add (`f32x4.relaxed_madd`) would pay for a page module
//! of its own. It did not (docs/BENCHMARKS.md "FMA in wasm"): the conv keeps gemm 0.19.
//!
//! The textbook blocked product (Goto & van de Geijn, "Anatomy of high-performance matrix
//! multiplication", 2008): `rhs` is packed in `KC x NC` blocks of `NR`-wide column panels, `lhs`
//! in `MC x KC` blocks of `MR`-high row panels, and an `MR x NR` micro-kernel keeps its tile of
//! `dst` in registers across `KC` rank-1 updates. With 4 x 8 floats that is 8 accumulators, two
//! `rhs` vectors and one broadcast `lhs` value, inside the 16 SIMD registers of x86-64 that V8
//! maps `v128` to (6 x 8, 15 registers, measured slower). The lane type is a parameter, so the
//! same code runs natively on plain arrays (its tests), with wasm SIMD 1.0's separate multiply
//! and add, and with relaxed SIMD's fused one.

use crate::lanes::Lanes;
#[cfg(test)]
use crate::lanes;

/// A matrix view: values, row stride, column stride.
pub type View<'a> = (&'a [f32], usize, usize);

/// A mutable matrix view: values, row stride, column stride.
pub type ViewMut<'a> = (&'a mut [f32], usize, usize);

/// The product through `gemm` 0.19 (what the conv runs), on this thread.
pub fn with_gemm(m: usize, n: usize, k: usize, dst: ViewMut, accumulate: bool, lhs: View, rhs: View) {
    if check(m, n, k, &dst, accumulate, &lhs, &rhs) {
        gemm_unchecked(m, n, k, dst, accumulate, lhs, rhs);
    }
}

/// The product through the packed kernel with lanes `L` and `MR`-row tiles (`MR` in 1..=8), on
/// this thread.
///
/// # Panics
/// When a view is too short for its shape and strides, or when `k == 0` without `accumulate`.
pub fn packed<L: Lanes, const MR: usize>(m: usize, n: usize, k: usize, dst: ViewMut, accumulate: bool, lhs: View, rhs: View) {
    if check(m, n, k, &dst, accumulate, &lhs, &rhs) {
        packed_unchecked::<L, MR>(m, n, k, dst, accumulate, lhs, rhs);
    }
}

/// Whether there is anything to compute; panics on views too short for their shapes.
fn check(m: usize, n: usize, k: usize, dst: &ViewMut, accumulate: bool, lhs: &View, rhs: &View) -> bool {
    if m == 0 || n == 0 || k == 0 {
        assert!(k > 0 || accumulate || m == 0 || n == 0, "an empty product would leave dst unwritten");
        return false;
    }
    let end = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs + 1;
    assert!(dst.0.len() >= end(m, n, dst.1, dst.2), "dst is too short for {m} x {n}");
    assert!(lhs.0.len() >= end(m, k, lhs.1, lhs.2), "lhs is too short for {m} x {k}");
    assert!(rhs.0.len() >= end(k, n, rhs.1, rhs.2), "rhs is too short for {k} x {n}");
    true
}

fn gemm_unchecked(m: usize, n: usize, k: usize, (dst, dst_rs, dst_cs): ViewMut, accumulate: bool, lhs: View, rhs: View) {
    // SAFETY: `check` kept every index gemm forms inside the three slices, and `dst` is borrowed
    // mutably, so it does not alias `lhs` or `rhs`.
    unsafe {
        gemm::gemm(
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
            gemm::Parallelism::None,
        )
    }
}

/// Columns of a micro-tile: two 4-lane vectors.
const NR: usize = 8;
/// Depth of a packed block: one `rhs` micro-panel (`KC x NR`, 8 KiB) stays in L1.
const KC: usize = 256;
/// Rows of a packed `lhs` block (`MC x KC`, 72 KiB at most: L2); a multiple of 6 and of 4.
const MC: usize = 72;
/// Columns of a packed `rhs` block (`KC x NC`, 2 MiB at most).
const NC: usize = 2048;

std::thread_local! {
    /// The packing buffers, kept per thread between calls.
    static BUFFERS: std::cell::RefCell<(Vec<f32>, Vec<f32>)> = const { std::cell::RefCell::new((Vec::new(), Vec::new())) };
}

fn packed_unchecked<L: Lanes, const MR: usize>(m: usize, n: usize, k: usize, dst: ViewMut, accumulate: bool, lhs: View, rhs: View) {
    const { assert!(MR >= 1 && MR <= 8 && MC % MR == 0) };
    let (dst, dst_rs, dst_cs) = dst;
    BUFFERS.with_borrow_mut(|(a_pack, b_pack)| {
        for jc in (0..n).step_by(NC) {
            let nc = NC.min(n - jc);
            let n_panels = nc.div_ceil(NR);
            for pc in (0..k).step_by(KC) {
                let kc = KC.min(k - pc);
                pack_rhs(rhs, pc, jc, kc, nc, b_pack);
                // The first block of depth writes (or adds to) dst; the others add to it.
                let add = accumulate || pc > 0;
                for ic in (0..m).step_by(MC) {
                    let mc = MC.min(m - ic);
                    let m_panels = mc.div_ceil(MR);
                    pack_lhs::<MR>(lhs, ic, pc, mc, kc, a_pack);
                    for jr in 0..n_panels {
                        let b = &b_pack[jr * kc * NR..][..kc * NR];
                        let cols = NR.min(nc - jr * NR);
                        for ir in 0..m_panels {
                            let a = &a_pack[ir * kc * MR..][..kc * MR];
                            let rows = MR.min(mc - ir * MR);
                            let tile = micro::<L, MR>(kc, a, b);
                            let (row0, col0) = (ic + ir * MR, jc + jr * NR);
                            store(&tile, rows, cols, add, &mut dst[row0 * dst_rs + col0 * dst_cs..], dst_rs, dst_cs);
                        }
                    }
                }
            }
        }
    });
}

/// `b_pack[panel][p][j] = rhs[pc + p, jc + panel·NR + j]`, zero past the last column.
fn pack_rhs((rhs, rs, cs): View, pc: usize, jc: usize, kc: usize, nc: usize, b_pack: &mut Vec<f32>) {
    let panels = nc.div_ceil(NR);
    b_pack.clear();
    b_pack.resize(panels * kc * NR, 0.0);
    for panel in 0..panels {
        let cols = NR.min(nc - panel * NR);
        let out = &mut b_pack[panel * kc * NR..][..kc * NR];
        for p in 0..kc {
            let row = (pc + p) * rs + (jc + panel * NR) * cs;
            let o = &mut out[p * NR..][..cols];
            if cs == 1 {
                o.copy_from_slice(&rhs[row..][..cols]);
            } else {
                for (j, v) in o.iter_mut().enumerate() {
                    *v = rhs[row + j * cs];
                }
            }
        }
    }
}

/// `a_pack[panel][p][i] = lhs[ic + panel·MR + i, pc + p]`, zero past the last row.
fn pack_lhs<const MR: usize>((lhs, rs, cs): View, ic: usize, pc: usize, mc: usize, kc: usize, a_pack: &mut Vec<f32>) {
    let panels = mc.div_ceil(MR);
    a_pack.clear();
    a_pack.resize(panels * kc * MR, 0.0);
    for panel in 0..panels {
        let rows = MR.min(mc - panel * MR);
        let out = &mut a_pack[panel * kc * MR..][..kc * MR];
        for i in 0..rows {
            let row = (ic + panel * MR + i) * rs + pc * cs;
            for p in 0..kc {
                out[p * MR + i] = lhs[row + p * cs];
            }
        }
    }
}

/// The `MR x NR` product of one packed `lhs` panel (`kc x MR`) and one packed `rhs` panel
/// (`kc x NR`), kept in registers: `MR` rows of two vectors.
#[inline(always)]
fn micro<L: Lanes, const MR: usize>(kc: usize, a: &[f32], b: &[f32]) -> [[L; 2]; MR] {
    assert!(a.len() >= kc * MR && b.len() >= kc * NR);
    let mut c = [[L::zero(); 2]; MR];
    for p in 0..kc {
        // SAFETY: p < kc, and the assert above bounds both panels.
        let (b0, b1) = unsafe { (L::load(b.as_ptr().add(p * NR)), L::load(b.as_ptr().add(p * NR + 4))) };
        let a = &a[p * MR..][..MR];
        for i in 0..MR {
            let x = L::splat(a[i]);
            c[i][0] = L::madd(x, b0, c[i][0]);
            c[i][1] = L::madd(x, b1, c[i][1]);
        }
    }
    c
}

/// Writes (or adds) the top-left `rows x cols` of a tile into `dst` at its origin.
#[inline(always)]
fn store<L: Lanes, const MR: usize>(tile: &[[L; 2]; MR], rows: usize, cols: usize, add: bool, dst: &mut [f32], rs: usize, cs: usize) {
    if rows == MR && cols == NR && cs == 1 {
        for (i, row) in tile.iter().enumerate() {
            let d = &mut dst[i * rs..][..NR];
            for (h, v) in row.iter().enumerate() {
                let p = d[h * 4..][..4].as_mut_ptr();
                // SAFETY: `d[h·4..h·4+4]` is in bounds (NR = 8 = 2 x 4).
                unsafe {
                    let v = if add { L::add(L::load(p), *v) } else { *v };
                    v.store(p);
                }
            }
        }
        return;
    }
    let mut flat = [[0.0f32; NR]; MR];
    for (i, row) in tile.iter().enumerate() {
        // SAFETY: each row of `flat` holds NR = 8 floats, two vectors.
        unsafe {
            row[0].store(flat[i].as_mut_ptr());
            row[1].store(flat[i].as_mut_ptr().add(4));
        }
    }
    for (i, row) in flat.iter().enumerate().take(rows) {
        for (j, v) in row.iter().enumerate().take(cols) {
            let d = &mut dst[i * rs + j * cs];
            *d = if add { *d + v } else { *v };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift), values in [-1, 1).
    fn values(len: usize, seed: u64) -> Vec<f32> {
        let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        (0..len)
            .map(|_| {
                s ^= s << 13;
                s ^= s >> 7;
                s ^= s << 17;
                (s >> 40) as f32 / (1u64 << 23) as f32 - 1.0
            })
            .collect()
    }

    /// `dst (+)= lhs · rhs` in f64, the reference.
    fn naive(m: usize, n: usize, k: usize, dst: &mut [f32], (ds_r, ds_c): (usize, usize), acc: bool, lhs: View, rhs: View) {
        for i in 0..m {
            for j in 0..n {
                let s: f64 = (0..k).map(|p| lhs.0[i * lhs.1 + p * lhs.2] as f64 * rhs.0[p * rhs.1 + j * rhs.2] as f64).sum();
                let d = &mut dst[i * ds_r + j * ds_c];
                *d = if acc { (*d as f64 + s) as f32 } else { s as f32 };
            }
        }
    }

    /// Every layout the convolution uses (row-major, transposed operands, a column-major dst),
    /// at sizes that are and are not multiples of the tile and of the blocks.
    #[test]
    fn packed_kernel_equals_the_reference_for_every_shape_layout_and_block_edge() {
        let shapes = [(1, 1, 1), (5, 7, 3), (6, 8, 256), (7, 9, 257), (13, 33, 70), (72, 16, 5), (73, 2049, 3), (16, 1024, 144), (144, 40, 16)];
        for (m, n, k) in shapes {
            for (layout, acc) in [(0, false), (1, true), (2, false), (3, true)] {
                // lhs row-major or transposed, rhs row-major or transposed, dst row- or column-major.
                let (l_rs, l_cs) = if layout & 1 == 0 { (k, 1) } else { (1, m) };
                let (r_rs, r_cs) = if layout & 2 == 0 { (n, 1) } else { (1, k) };
                let (d_rs, d_cs) = if layout == 3 { (1, m) } else { (n, 1) };
                let lhs = values(m * k, 1 + layout as u64);
                let rhs = values(k * n, 2);
                let start = values(m * n, 3);
                let mut want = start.clone();
                naive(m, n, k, &mut want, (d_rs, d_cs), acc, (&lhs, l_rs, l_cs), (&rhs, r_rs, r_cs));
                for (name, got) in [
                    ("portable 6", {
                        let mut d = start.clone();
                        packed::<lanes::Portable, 6>(m, n, k, (&mut d, d_rs, d_cs), acc, (&lhs, l_rs, l_cs), (&rhs, r_rs, r_cs));
                        d
                    }),
                    ("portable 4", {
                        let mut d = start.clone();
                        packed::<lanes::Portable, 4>(m, n, k, (&mut d, d_rs, d_cs), acc, (&lhs, l_rs, l_cs), (&rhs, r_rs, r_cs));
                        d
                    }),
                    ("gemm", {
                        let mut d = start.clone();
                        with_gemm(m, n, k, (&mut d, d_rs, d_cs), acc, (&lhs, l_rs, l_cs), (&rhs, r_rs, r_cs));
                        d
                    }),
                ] {
                    for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                        assert!((g - w).abs() <= 1e-4 * (1.0 + k as f32).sqrt(), "{name} {m}x{n}x{k} layout {layout} acc {acc}: [{i}] {g} vs {w}");
                    }
                }
            }
        }
    }

    #[test]
    fn an_empty_product_adds_nothing_and_touches_nothing_outside_its_view() {
        let mut d = vec![5.0f32; 6];
        packed::<lanes::Portable, 4>(2, 3, 0, (&mut d, 3, 1), true, (&[], 0, 1), (&[], 3, 1));
        assert_eq!(d, vec![5.0; 6]);
        // A 2x2 view inside a 3-wide buffer: the third column stays.
        let (a, b) = ([1.0, 2.0, 3.0, 4.0], [1.0, 0.0, 0.0, 1.0]);
        packed::<lanes::Portable, 6>(2, 2, 2, (&mut d, 3, 1), false, (&a, 2, 1), (&b, 2, 1));
        assert_eq!(d, vec![1.0, 2.0, 5.0, 3.0, 4.0, 5.0]);
    }

    #[test]
    #[should_panic(expected = "an empty product would leave dst unwritten")]
    fn an_empty_product_that_should_write_panics() {
        let mut d = vec![0.0f32; 4];
        packed::<lanes::Portable, 4>(2, 2, 0, (&mut d, 2, 1), false, (&[], 0, 1), (&[], 2, 1));
    }
}
