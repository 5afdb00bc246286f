//! The conv's matrix products in wasm, gemm 0.19 against our packed kernel ([`packed`]) with and
//! without relaxed SIMD's fused multiply-add, as a bare wasm module (no JS glue): `setup` one
//! product, `run` it `reps` times with one kernel, `max_diff` against gemm. Timed from
//! JavaScript by run.mjs (docs/BENCHMARKS.md "FMA in wasm").

use std::cell::RefCell;

pub mod lanes;
pub mod packed;

use packed::{packed, with_gemm, View, ViewMut};

struct Problem {
    m: usize,
    n: usize,
    k: usize,
    layout: u32,
    lhs: Vec<f32>,
    rhs: Vec<f32>,
    dst: Vec<f32>,
}

thread_local! {
    static PROBLEM: RefCell<Option<Problem>> = const { RefCell::new(None) };
}

fn values(len: usize, seed: u32) -> Vec<f32> {
    let mut s = seed.wrapping_mul(2_654_435_761) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 17;
            s ^= s << 5;
            (s >> 8) as f32 / (1u32 << 23) as f32 - 1.0
        })
        .collect()
}

/// One product of the convolution's: layout 0 the forward (`Y = W · cols`, all row-major),
/// 1 the weight gradient (`dWᵀ += dYᵀ · colsᵀ`: column-major dst and lhs, transposed rhs),
/// 2 the input gradient (`dcols = Wᵀ · dY`: transposed lhs).
#[no_mangle]
pub extern "C" fn setup(m: u32, n: u32, k: u32, layout: u32) {
    let (m, n, k) = (m as usize, n as usize, k as usize);
    let p = Problem { m, n, k, layout, lhs: values(m * k, 1), rhs: values(k * n, 2), dst: vec![0.0; m * n] };
    PROBLEM.with_borrow_mut(|slot| *slot = Some(p));
}

fn product(kernel: u32, p: &mut Problem) {
    let (m, n, k) = (p.m, p.n, p.k);
    let (dst, acc, lhs, rhs): (ViewMut, bool, View, View) = match p.layout {
        0 => ((&mut p.dst, n, 1), false, (&p.lhs, k, 1), (&p.rhs, n, 1)),
        1 => ((&mut p.dst, 1, m), true, (&p.lhs, 1, m), (&p.rhs, 1, k)),
        _ => ((&mut p.dst, n, 1), false, (&p.lhs, 1, m), (&p.rhs, n, 1)),
    };
    match kernel {
        0 => with_gemm(m, n, k, dst, acc, lhs, rhs),
        #[cfg(target_feature = "simd128")]
        1 => packed::<lanes::Simd128, 6>(m, n, k, dst, acc, lhs, rhs),
        #[cfg(target_feature = "simd128")]
        2 => packed::<lanes::Simd128, 4>(m, n, k, dst, acc, lhs, rhs),
        #[cfg(target_feature = "relaxed-simd")]
        3 => packed::<lanes::Relaxed, 6>(m, n, k, dst, acc, lhs, rhs),
        #[cfg(target_feature = "relaxed-simd")]
        4 => packed::<lanes::Relaxed, 4>(m, n, k, dst, acc, lhs, rhs),
        _ => packed::<lanes::Portable, 6>(m, n, k, dst, acc, lhs, rhs),
    }
}

/// `reps` products with `kernel` (0 gemm, 1/2 packed simd128 6x8/4x8, 3/4 packed relaxed
/// 6x8/4x8); returns a value of the result so nothing is optimised away.
#[no_mangle]
pub extern "C" fn run(kernel: u32, reps: u32) -> f32 {
    PROBLEM.with_borrow_mut(|slot| {
        let p = slot.as_mut().expect("setup first");
        for _ in 0..reps {
            p.dst.fill(0.0);
            product(kernel, p);
        }
        p.dst[p.dst.len() / 2]
    })
}

/// Largest |kernel − gemm| over the result, relative to the largest |gemm|.
#[no_mangle]
pub extern "C" fn max_diff(kernel: u32) -> f32 {
    PROBLEM.with_borrow_mut(|slot| {
        let p = slot.as_mut().expect("setup first");
        p.dst.fill(0.0);
        product(0, p);
        let want = p.dst.clone();
        p.dst.fill(0.0);
        product(kernel, p);
        let scale = want.iter().fold(0.0f32, |a, v| a.max(v.abs())).max(1e-30);
        want.iter().zip(&p.dst).fold(0.0f32, |a, (w, g)| a.max((w - g).abs())) / scale
    })
}
