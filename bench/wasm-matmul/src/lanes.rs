//! Four f32 lanes: what the packed kernel computes with.

/// Four f32 lanes and the five operations the packed kernel needs.
pub trait Lanes: Copy {
    fn zero() -> Self;
    fn splat(x: f32) -> Self;
    /// # Safety
    /// `p` must be valid for reading four floats (any alignment).
    unsafe fn load(p: *const f32) -> Self;
    /// # Safety
    /// `p` must be valid for writing four floats (any alignment).
    unsafe fn store(self, p: *mut f32);
    fn add(a: Self, b: Self) -> Self;
    /// `a · b + c`.
    fn madd(a: Self, b: Self, c: Self) -> Self;
}

/// Plain arrays: the kernel on any target (its tests), multiply then add.
#[derive(Clone, Copy)]
pub struct Portable([f32; 4]);

impl Lanes for Portable {
    #[inline(always)]
    fn zero() -> Self {
        Portable([0.0; 4])
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        Portable([x; 4])
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> Self {
        Portable(std::ptr::read_unaligned(p as *const [f32; 4]))
    }
    #[inline(always)]
    unsafe fn store(self, p: *mut f32) {
        std::ptr::write_unaligned(p as *mut [f32; 4], self.0)
    }
    #[inline(always)]
    fn add(a: Self, b: Self) -> Self {
        Portable(std::array::from_fn(|i| a.0[i] + b.0[i]))
    }
    #[inline(always)]
    fn madd(a: Self, b: Self, c: Self) -> Self {
        Portable(std::array::from_fn(|i| a.0[i] * b.0[i] + c.0[i]))
    }
}

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub use wasm::Simd128;
#[cfg(all(target_arch = "wasm32", target_feature = "relaxed-simd"))]
pub use wasm::Relaxed;

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod wasm {
    use core::arch::wasm32::*;

    use super::Lanes;

    /// wasm SIMD 1.0: `f32x4.mul` then `f32x4.add` (two roundings).
    #[derive(Clone, Copy)]
    pub struct Simd128(v128);

    impl Lanes for Simd128 {
        #[inline(always)]
        fn zero() -> Self {
            Simd128(f32x4_splat(0.0))
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Simd128(f32x4_splat(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Simd128(v128_load(p as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            Simd128(f32x4_add(a.0, b.0))
        }
        #[inline(always)]
        fn madd(a: Self, b: Self, c: Self) -> Self {
            Simd128(f32x4_add(f32x4_mul(a.0, b.0), c.0))
        }
    }

    /// Relaxed SIMD: `f32x4.relaxed_madd`, fused (one rounding) where the machine has FMA.
    #[cfg(target_feature = "relaxed-simd")]
    #[derive(Clone, Copy)]
    pub struct Relaxed(v128);

    #[cfg(target_feature = "relaxed-simd")]
    impl Lanes for Relaxed {
        #[inline(always)]
        fn zero() -> Self {
            Relaxed(f32x4_splat(0.0))
        }
        #[inline(always)]
        fn splat(x: f32) -> Self {
            Relaxed(f32x4_splat(x))
        }
        #[inline(always)]
        unsafe fn load(p: *const f32) -> Self {
            Relaxed(v128_load(p as *const v128))
        }
        #[inline(always)]
        unsafe fn store(self, p: *mut f32) {
            v128_store(p as *mut v128, self.0)
        }
        #[inline(always)]
        fn add(a: Self, b: Self) -> Self {
            Relaxed(f32x4_add(a.0, b.0))
        }
        #[inline(always)]
        fn madd(a: Self, b: Self, c: Self) -> Self {
            Relaxed(f32x4_relaxed_madd(a.0, b.0, c.0))
        }
    }
}
