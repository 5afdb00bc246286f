//! Native GPU path (`--features wgpu`): one LoCo step on burn's wgpu backend against the same
//! step on the CPU, from the same weights. On a machine without a GPU, Debian's
//! `mesa-vulkan-drivers` (lavapipe, Vulkan on the CPU) provides the adapter; without a Vulkan
//! driver wgpu falls back to OpenGL (Mesa's llvmpipe) where there is one, and with no adapter at
//! all the test says so and passes without checking anything.
//!
//! `cargo test --release --features wgpu --test wgpu -- --nocapture --test-threads 1`
#![cfg(not(target_arch = "wasm32"))]
#![cfg(all(feature = "wgpu", not(target_arch = "wasm32")))]

use std::sync::Arc;
use std::time::Instant;

use burn::prelude::*;
use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::data::{cifar, Splits};
use locolab::Trainer;

/// A wgpu device that can run a kernel, or why not (wgpu panics when it finds no adapter).
fn wgpu_device() -> Result<Device, String> {
    let probe = std::panic::catch_unwind(|| {
        let device = Device::wgpu(Default::default());
        let sum = Tensor::<1>::from_floats([1.0, 2.0, 3.0], &device).sum().into_scalar::<f32>();
        (device, sum)
    });
    match probe {
        Ok((device, sum)) if sum == 6.0 => Ok(device),
        Ok((_, sum)) => Err(format!("the adapter computed 1 + 2 + 3 = {sum}")),
        Err(panic) => Err(panic.downcast_ref::<String>().cloned().or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string())).unwrap_or_default()),
    }
}

/// The wgpu device and the CIFAR-10 test split, or `None` (said on stderr) without an adapter.
fn device_and_data() -> Option<(Device, locolab::data::ImageSet)> {
    let device = wgpu_device().map_err(|why| eprintln!("SKIPPED: no usable wgpu adapter ({why}); on Debian: apt-get install mesa-vulkan-drivers")).ok()?;
    let data_dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cifar10");
    Some((device, cifar::load_file(&data_dir.join("test_1k.bin")).expect("CIFAR-10 test split in ../shared/data/cifar10")))
}

#[test]
fn wgpu_step_matches_cpu() {
    let Some((device, split)) = device_and_data() else { return };
    let data = Arc::new(Splits { train: split.clone(), test: split });
    let cfg = TrainConfig { method: MethodKind::Loco, batch: 8, ..TrainConfig::preset("browser").unwrap() };
    let mut cpu = Trainer::new(cfg.clone(), data.clone(), &Device::flex()).unwrap();
    let mut gpu = Trainer::new(cfg, data, &device).unwrap();
    *gpu.network_mut() = gpu.network().clone().load_record(cpu.network().clone().into_record());
    for step in 0..3 {
        let (a, t) = (cpu.step().unwrap(), Instant::now());
        let b = gpu.step().unwrap();
        eprintln!("step {step}: cpu {:?}, wgpu {:?} ({:.2} s on wgpu)", a.losses, b.losses, t.elapsed().as_secs_f64());
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 2e-3 * x.abs().max(1.0), "step {step}: cpu {x} vs wgpu {y}");
        }
    }
}

/// PResNet-50 (six stages, bottleneck blocks) at 64 px, batch 2: one step of each method on
/// wgpu against flex from the same weights, with the GPU pool's bytes reserved after the step
/// (cubecl's memory statistics: the pool's high-water mark, at least the step's peak in use)
/// beside nothing comparable on the CPU side here (`locolab bench` measures that).
#[test]
fn wgpu_presnet50_step_matches_cpu_for_every_method() {
    let Some((device, split)) = device_and_data() else { return };
    let data = Arc::new(Splits { train: split.take(16), test: split.take(4) });
    for method in MethodKind::ALL {
        let cfg = TrainConfig { arch: Arch::Presnet50, input: 64, method, batch: 2, steps: 2, warmup_steps: 1, ..TrainConfig::preset("imagenet").unwrap() };
        let mut cpu = Trainer::new(cfg.clone(), data.clone(), &Device::flex()).unwrap();
        let mut gpu = Trainer::new(cfg, data.clone(), &device).unwrap();
        *gpu.network_mut() = gpu.network().clone().load_record(cpu.network().clone().into_record());
        let before = device.memory_pool_usage();
        let (a, t) = (cpu.step().unwrap(), Instant::now());
        let b = gpu.step().unwrap();
        let after = device.memory_pool_usage();
        eprintln!(
            "presnet50 {method}: cpu {:?}, wgpu {:?} ({:.1} s on wgpu, first use: kernels compiled); wgpu pool reserved {} -> {} MiB, in use {} MiB after the step",
            a.losses,
            b.losses,
            t.elapsed().as_secs_f64(),
            before.map_or("?".into(), |u| format!("{:.1}", u.bytes_reserved as f64 / 1048576.0)),
            after.map_or("?".into(), |u| format!("{:.1}", u.bytes_reserved as f64 / 1048576.0)),
            after.map_or("?".into(), |u| format!("{:.1}", u.bytes_in_use as f64 / 1048576.0)),
        );
        assert_eq!(a.losses.len(), b.losses.len());
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 1e-4 * x.abs().max(1.0), "{method}: cpu {x} vs wgpu {y}");
        }
    }
}
