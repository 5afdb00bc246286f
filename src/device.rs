//! Backend selection by name, behind cargo features (CPU-only builds compile no GPU stack).

use burn::prelude::*;

use crate::error::{Error, Result};

/// The f32 values of a read-back (sync `try_into_data` or async `into_data_async`), with
/// device errors as values.
pub fn floats<E: std::fmt::Debug>(data: std::result::Result<TensorData, E>) -> Result<Vec<f32>> {
    let data = data.map_err(|e| Error::Device(format!("{e:?}")))?;
    data.try_to_vec::<f32>().map_err(|e| Error::Device(format!("{e:?}")))
}

/// The CPU matrix kernels this process runs: gemm and burn-flex dispatch at run time on the
/// instruction set (`x86-64-v4`: AVX-512; `x86-64-v3`: AVX2 and FMA; below that, SSE), so two
/// machines with different labels sum in a different order and agree to float rounding only,
/// while machines with the same label agree bit for bit. Results keep it beside bit-exact
/// replays (`first-steps.cpu`, tests/recipe.rs).
pub fn cpu_kernels() -> &'static str {
    #[cfg(target_arch = "x86_64")]
    {
        if std::is_x86_feature_detected!("avx512f") {
            "x86-64-v4"
        } else if std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma") {
            "x86-64-v3"
        } else {
            "x86-64"
        }
    }
    #[cfg(target_arch = "aarch64")]
    {
        "aarch64"
    }
    #[cfg(target_arch = "wasm32")]
    {
        "wasm32-simd128"
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64", target_arch = "wasm32")))]
    {
        std::env::consts::ARCH
    }
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

/// What a page knows of its browser's WebGPU adapter (`navigator.gpu.requestAdapter()` and
/// its `info`), for [`browser_backend`].
#[derive(Clone, Debug, Default, serde::Deserialize)]
#[serde(default)]
pub struct AdapterFacts {
    /// An adapter answered at all.
    pub present: bool,
    /// `GPUAdapterInfo.isFallbackAdapter`: the browser says it is a software fallback.
    pub is_fallback: bool,
    pub vendor: String,
    pub architecture: String,
    pub description: String,
}

impl AdapterFacts {
    /// A software renderer: flagged as the fallback adapter, or named like one (SwiftShader,
    /// llvmpipe/lavapipe, softpipe, Microsoft's WARP / Basic Render Driver). On such an adapter
    /// a training step is many times slower than the page's own CPU path (docs/BENCHMARKS.md).
    pub fn is_software(&self) -> bool {
        let names = format!("{} {} {}", self.vendor, self.architecture, self.description).to_lowercase();
        self.is_fallback
            || ["swiftshader", "llvmpipe", "lavapipe", "softpipe", "warp", "basic render"].iter().any(|s| names.contains(s))
    }

    fn name(&self) -> String {
        let parts: Vec<&str> = [&self.description, &self.vendor, &self.architecture].into_iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect();
        if parts.is_empty() { "unnamed".into() } else { parts.join(", ") }
    }
}

/// What the page's user asked for: `auto` (WebGPU on a hardware adapter, else the CPU),
/// `webgpu` (forced, even on a software adapter) or `cpu`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrowserPref {
    Auto,
    Webgpu,
    Cpu,
}

/// Where a page trainer runs: burn's wgpu backend on the browser's WebGPU, or flex in wasm.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    Webgpu,
    Cpu,
}

impl std::str::FromStr for BrowserPref {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(BrowserPref::Auto),
            "webgpu" => Ok(BrowserPref::Webgpu),
            "cpu" => Ok(BrowserPref::Cpu),
            other => Err(Error::Config(format!("unknown backend '{}'; expected auto, webgpu or cpu", other.chars().take(40).collect::<String>()))),
        }
    }
}

impl std::fmt::Display for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Backend::Webgpu => "webgpu",
            Backend::Cpu => "cpu",
        })
    }
}

/// Where the page trains: WebGPU or the CPU (wasm), and why.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct BrowserBackend {
    pub backend: Backend,
    /// Why, for the page (empty when WebGPU was chosen or forced and there is nothing to say).
    pub note: String,
}

/// The page's backend for a preference and the adapter it found. `auto` takes WebGPU only on
/// a hardware adapter; `webgpu` forces it (a software adapter then trains, slowly, and a
/// missing one is an error when the device is created).
pub fn browser_backend(pref: BrowserPref, adapter: &AdapterFacts) -> BrowserBackend {
    let cpu = |note: String| BrowserBackend { backend: Backend::Cpu, note };
    match pref {
        BrowserPref::Cpu => cpu("CPU requested".into()),
        BrowserPref::Webgpu => BrowserBackend { backend: Backend::Webgpu, note: String::new() },
        BrowserPref::Auto if !adapter.present => cpu("no WebGPU adapter in this browser".into()),
        BrowserPref::Auto if adapter.is_software() => cpu(format!(
            "this browser's WebGPU adapter is a software renderer ({}), slower than the CPU path; choose WebGPU to use it anyway",
            adapter.name()
        )),
        BrowserPref::Auto => BrowserBackend { backend: Backend::Webgpu, note: format!("WebGPU adapter: {}", adapter.name()) },
    }
}
