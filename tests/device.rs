//! The page's backend choice: `auto` trains on WebGPU only on a hardware adapter.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use burn::prelude::*;
use locolab::config::MethodKind;
use locolab::device::{browser_backend, AdapterFacts, Backend, BrowserPref};
use locolab::selfcheck::{loss_difference, verdict, TOLERANCE};

fn adapter(is_fallback: bool, vendor: &str, architecture: &str, description: &str) -> AdapterFacts {
    AdapterFacts { present: true, is_fallback, vendor: vendor.into(), architecture: architecture.into(), description: description.into() }
}

#[test]
fn auto_avoids_software_adapters_and_says_why() {
    let hw = adapter(false, "nvidia", "ampere", "");
    assert_eq!(browser_backend(BrowserPref::Auto, &hw).backend, Backend::Webgpu);
    for soft in [
        adapter(true, "", "", ""),
        adapter(false, "google", "swiftshader", ""),
        adapter(false, "mesa", "", "llvmpipe (LLVM 15.0.6, 256 bits)"),
        adapter(false, "microsoft", "", "Microsoft Basic Render Driver"),
    ] {
        let got = browser_backend(BrowserPref::Auto, &soft);
        assert_eq!(got.backend, Backend::Cpu, "{soft:?}");
        assert!(got.note.contains("software renderer") && got.note.contains("choose WebGPU"), "{}", got.note);
    }
    let none = browser_backend(BrowserPref::Auto, &AdapterFacts::default());
    assert_eq!((none.backend, none.note.as_str()), (Backend::Cpu, "no WebGPU adapter in this browser"));
    // An explicit choice is obeyed, even on a software adapter.
    assert_eq!(browser_backend(BrowserPref::Webgpu, &adapter(true, "", "", "")).backend, Backend::Webgpu);
    assert_eq!(browser_backend(BrowserPref::Cpu, &hw).backend, Backend::Cpu);
    let e = "tpu".parse::<BrowserPref>().unwrap_err().to_string();
    assert!(e.contains("unknown backend 'tpu'"), "{e}");
}

/// The WebGPU self-check: the same weights and batches on two devices give a loss difference;
/// `auto` falls back to the CPU when it is too large, `webgpu` keeps WebGPU and says so.
#[test]
fn the_self_check_compares_losses_and_auto_falls_back_to_the_cpu() {
    let (cpu, again) = (Device::flex(), Device::flex());
    let same = common::ready(loss_difference(&common::tiny(MethodKind::Loco), common::cifar(), &cpu, &again)).unwrap();
    assert_eq!(same, 0.0, "the same device must agree exactly");
    let pass = verdict(BrowserPref::Auto, 2e-5, TOLERANCE);
    assert_eq!(pass.backend, Backend::Webgpu);
    assert!(pass.note.contains("self-check passed"), "{}", pass.note);
    let fail = verdict(BrowserPref::Auto, 0.3, TOLERANCE);
    assert_eq!(fail.backend, Backend::Cpu);
    assert!(fail.note.contains("differ from the CPU's by 3.0e-1") && fail.note.contains("training on the CPU"), "{}", fail.note);
    let forced = verdict(BrowserPref::Webgpu, f32::INFINITY, TOLERANCE);
    assert_eq!(forced.backend, Backend::Webgpu);
    assert!(forced.note.contains("anyway, as requested"), "{}", forced.note);
}
