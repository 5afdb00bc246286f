//! The page's backend choice: `auto` trains on WebGPU only on a hardware adapter.
#![cfg(not(target_arch = "wasm32"))]

use locolab::device::{browser_backend, AdapterFacts, Backend, BrowserPref};

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
