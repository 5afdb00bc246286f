//! The page's backend choice: `auto` trains on WebGPU only on a hardware adapter.
#![cfg(not(target_arch = "wasm32"))]

use locolab::device::{browser_backend, AdapterFacts};

fn adapter(is_fallback: bool, vendor: &str, architecture: &str, description: &str) -> AdapterFacts {
    AdapterFacts { present: true, is_fallback, vendor: vendor.into(), architecture: architecture.into(), description: description.into() }
}

#[test]
fn auto_avoids_software_adapters_and_says_why() {
    let hw = adapter(false, "nvidia", "ampere", "");
    assert_eq!(browser_backend("auto", &hw).unwrap().backend, "webgpu");
    for soft in [
        adapter(true, "", "", ""),
        adapter(false, "google", "swiftshader", ""),
        adapter(false, "mesa", "", "llvmpipe (LLVM 15.0.6, 256 bits)"),
        adapter(false, "microsoft", "", "Microsoft Basic Render Driver"),
    ] {
        let got = browser_backend("auto", &soft).unwrap();
        assert_eq!(got.backend, "cpu", "{soft:?}");
        assert!(got.note.contains("software renderer") && got.note.contains("choose WebGPU"), "{}", got.note);
    }
    let none = browser_backend("auto", &AdapterFacts::default()).unwrap();
    assert_eq!((none.backend, none.note.as_str()), ("cpu", "no WebGPU adapter in this browser"));
    // An explicit choice is obeyed, even on a software adapter.
    assert_eq!(browser_backend("webgpu", &adapter(true, "", "", "")).unwrap().backend, "webgpu");
    assert_eq!(browser_backend("cpu", &hw).unwrap().backend, "cpu");
    let e = browser_backend("tpu", &hw).unwrap_err().to_string();
    assert!(e.contains("unknown backend 'tpu'"), "{e}");
}
