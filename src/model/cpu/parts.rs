//! What the kernels share: running parts in parallel where threads exist, and output and
//! scratch buffers that are written without being zeroed first.

use std::mem::MaybeUninit;

/// `f(i)` for `i` in `0..n`, in parallel where threads exist, in order.
pub(super) fn par_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync + Send) -> Vec<T> {
    run_parts((0..n).collect(), f)
}

/// `f(i, chunk)` over the `chunk`-sized pieces of `data`, in parallel where threads exist.
pub(super) fn par_chunks<T: Send>(data: &mut [T], chunk: usize, f: impl Fn(usize, &mut [T]) + Sync + Send) {
    run_parts(data.chunks_mut(chunk.max(1)).enumerate().collect(), |(i, c)| f(i, c));
}

/// One value of a buffer a kernel writes: an `f32`, or a `MaybeUninit<f32>` of a buffer that is
/// not zeroed first ([`written`], [`scratch`]). Kernels that only write (never read) their
/// output take any `Slot`, so one body serves both.
pub(super) trait Slot: Sized {
    fn set(&mut self, v: f32);
    /// `dst[i] = src[i]` as one `memcpy` (equal lengths): the C library's copy, which uses the
    /// widest vectors the CPU has, where a loop of `set` compiles to the build's baseline
    /// (SSE2 natively): 2-4% of a native step (docs/BENCHMARKS.md, "Copies as `memcpy`").
    fn copy_from(dst: &mut [Self], src: &[f32]);
}

impl Slot for f32 {
    #[inline(always)]
    fn set(&mut self, v: f32) {
        *self = v;
    }
    #[inline(always)]
    fn copy_from(dst: &mut [Self], src: &[f32]) {
        dst.copy_from_slice(src);
    }
}

impl Slot for MaybeUninit<f32> {
    #[inline(always)]
    fn set(&mut self, v: f32) {
        self.write(v);
    }
    #[inline(always)]
    fn copy_from(dst: &mut [Self], src: &[f32]) {
        assert_eq!(dst.len(), src.len());
        // SAFETY: equal lengths (checked), `f32` and `MaybeUninit<f32>` have the same layout, and
        // a `&mut` destination cannot overlap a shared source.
        unsafe { std::ptr::copy_nonoverlapping(src.as_ptr(), dst.as_mut_ptr().cast::<f32>(), src.len()) }
    }
}

/// `dst[i] = v` for every `i`.
#[inline]
pub(super) fn fill<S: Slot>(dst: &mut [S], v: f32) {
    // im2col's padding is mostly one value at each end of a row, written thousands of times per
    // convolution: stored in place here, where the loop below compiles to a call of the C
    // library's `memset` (2.6% of a step's samples were `memset` under im2col).
    match dst {
        [] => {}
        [a] => a.set(v),
        [a, b] => {
            a.set(v);
            b.set(v);
        }
        _ => {
            for d in dst {
                d.set(v);
            }
        }
    }
}

/// `dst[i] = src[i]` (equal lengths).
#[inline]
pub(super) fn copy<S: Slot>(dst: &mut [S], src: &[f32]) {
    S::copy_from(dst, src);
}

/// A fresh output of `n` values, each written by `init`, without zeroing it first. A zeroed
/// `Vec` costs a memset of the whole output (glibc's `calloc` recycles freed memory, so it
/// clears it) before the kernel overwrites every value (docs/BENCHMARKS.md, "Outputs and
/// scratch not zeroed first"). Buffers that `gemm` writes stay zeroed: it may copy a
/// destination tile before overwriting it, and a copy of uninitialised `f32`s is not sound.
///
/// # Safety
/// `init` must write every element of the slice it is given (`MaybeUninit::write` or
/// [`Slot::set`]); the values are read as `f32` afterwards.
pub(super) unsafe fn written(n: usize, init: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut v = Vec::with_capacity(n);
    #[cfg(test)]
    poison(&mut v.spare_capacity_mut()[..n]);
    init(&mut v.spare_capacity_mut()[..n]);
    // SAFETY: the capacity is `n`, and `init` wrote all `n` values (the caller's promise).
    unsafe { v.set_len(n) };
    v
}

/// The first `n` values of a scratch buffer that is grown without zeroing; the caller writes
/// them all before [`assume_written`] reads them.
pub(super) fn scratch(buf: &mut Vec<MaybeUninit<f32>>, n: usize) -> &mut [MaybeUninit<f32>] {
    if buf.len() < n {
        // Writing `uninit()` is no write at all: this only grows the buffer.
        buf.resize(n, MaybeUninit::uninit());
    }
    #[cfg(test)]
    poison(&mut buf[..n]);
    &mut buf[..n]
}

/// Unit tests fill what [`written`] and [`scratch`] hand out with NaN, so a value a kernel
/// forgets to write shows as NaN in its results (`tests::every_value_is_written`).
#[cfg(test)]
pub(super) fn poison(s: &mut [MaybeUninit<f32>]) {
    fill(s, f32::NAN);
}

/// A scratch slice as `f32`s.
///
/// # Safety
/// Every value of `s` has been written.
pub(super) unsafe fn assume_written(s: &[MaybeUninit<f32>]) -> &[f32] {
    // SAFETY: the caller's promise.
    unsafe { s.assume_init_ref() }
}

/// Runs `f` on every job, in parallel where threads exist, and returns the results in order.
pub(super) fn run_parts<J: Send, T: Send>(jobs: Vec<J>, f: impl Fn(J) -> T + Sync + Send) -> Vec<T> {
    #[cfg(feature = "threads")]
    {
        use rayon::prelude::*;
        jobs.into_par_iter().map(f).collect()
    }
    #[cfg(not(feature = "threads"))]
    {
        jobs.into_iter().map(f).collect()
    }
}
