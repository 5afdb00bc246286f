//! Backend selection by name, behind cargo features (CPU-only builds compile no GPU stack).

use burn::prelude::*;

use crate::error::{Error, Result};

/// The f32 values of a read-back (sync `try_into_data` or async `into_data_async`), with
/// device errors as values.
pub fn floats<E: std::fmt::Debug>(data: std::result::Result<TensorData, E>) -> Result<Vec<f32>> {
    let data = data.map_err(|e| Error::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}

/// Backends compiled into this build, default first.
pub fn available() -> Vec<&'static str> {
    let mut v = Vec::new();
    if cfg!(feature = "flex") {
        v.push("flex");
    }
    if cfg!(feature = "wgpu") {
        v.push("wgpu");
    }
    if cfg!(feature = "cuda") {
        v.push("cuda");
    }
    v
}

/// The device for a backend name (`flex`, `wgpu`, `cuda`), or the first compiled one.
///
/// burn's `ndarray` backend is not offered: in burn 0.22.1 it panics on the backward pass of
/// bilinear interpolation, which every PResNet stage uses.
pub fn by_name(name: Option<&str>) -> Result<Device> {
    let name = name.or_else(|| available().first().copied()).ok_or_else(|| Error::Device("this build has no backend".into()))?;
    match name {
        #[cfg(feature = "flex")]
        "flex" => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        "wgpu" => Ok(Device::wgpu(Default::default())),
        #[cfg(feature = "cuda")]
        "cuda" => Ok(Device::cuda(0)),
        other => Err(Error::Device(format!("backend '{other}' is not compiled in; this build has: {}", available().join(", ")))),
    }
}
