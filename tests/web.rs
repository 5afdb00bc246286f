//! The browser bindings in headless Chromium (`wasm-pack test --headless --chrome`): each method
//! trains on real CIFAR-10 images on the CPU backend and its loss falls; bad configs reject.
#![cfg(target_arch = "wasm32")]

use locolab::web::{validate_config, Lab};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

// Long synchronous work on the page's main thread makes chromedriver time out.
wasm_bindgen_test_configure!(run_in_dedicated_worker);

// The real test split (1,000 images) doubles as training data here: 3 MB in the test binary.
static CIFAR: &[u8] = include_bytes!("../../shared/data/cifar10/test_1k.bin");

fn config(method: &str) -> JsValue {
    let json = format!(r#"{{"method": "{method}", "arch": "presnet-tiny", "batch": 32, "lr": 0.002, "steps": 40, "warmup_steps": 4}}"#);
    js_sys::JSON::parse(&json).unwrap()
}

fn message(e: JsValue) -> String {
    js_sys::Error::from(e).message().into()
}

fn losses(report: &JsValue) -> Vec<f64> {
    let arr = js_sys::Reflect::get(report, &"losses".into()).unwrap();
    js_sys::Array::from(&arr).iter().map(|v| v.as_f64().unwrap()).collect()
}

async fn loss_falls(method: &str) {
    let mut lab = Lab::create(config(method), "cpu".into(), CIFAR.to_vec(), CIFAR.to_vec()).await.map_err(JsValue::from).unwrap();
    assert_eq!(lab.backend(), "cpu");
    let reports = js_sys::Array::from(&lab.train(40).await.map_err(JsValue::from).unwrap());
    let all: Vec<Vec<f64>> = reports.iter().map(|r| losses(&r)).collect();
    assert!(all.iter().flatten().all(|l| l.is_finite()));
    let mean = |rs: &[Vec<f64>]| rs.iter().map(|l| l.iter().sum::<f64>() / l.len() as f64).sum::<f64>() / rs.len() as f64;
    let (first, last) = (mean(&all[..6]), mean(&all[34..]));
    web_sys::console::log_1(&format!("{method}: mean loss {first:.4} -> {last:.4}").into());
    assert!(last < first, "{method}: loss did not fall ({first} -> {last})");
    assert_eq!(lab.step_count(), 40);
    let stages = js_sys::Array::from(&lab.evaluate(200, 100).await.map_err(JsValue::from).unwrap());
    assert_eq!(stages.length(), 6, "one kNN figure per stage of presnet-tiny");
    for s in stages.iter() {
        let knn = js_sys::Reflect::get(&s, &"knn".into()).unwrap().as_f64().unwrap();
        assert!((0.0..=100.0).contains(&knn), "{knn}");
    }
}

#[wasm_bindgen_test]
async fn simclr_trains_in_the_browser() {
    loss_falls("simclr").await;
}

#[wasm_bindgen_test]
async fn gim_trains_in_the_browser() {
    loss_falls("gim").await;
}

#[wasm_bindgen_test]
async fn loco_trains_in_the_browser() {
    loss_falls("loco").await;
}

#[wasm_bindgen_test]
async fn bad_config_rejects_with_a_message() {
    let bad = js_sys::JSON::parse(r#"{"method": "loco", "temperature": 0}"#).unwrap();
    let e = message(Lab::create(bad, "cpu".into(), CIFAR.to_vec(), CIFAR.to_vec()).await.map(|_| ()).map_err(JsValue::from).unwrap_err());
    assert!(e.contains("temperature must be in"), "{e}");
    let e = message(validate_config(js_sys::JSON::parse(r#"{"sharing": "soft:x"}"#).unwrap()).map_err(JsValue::from).unwrap_err());
    assert!(e.contains("sharing"), "{e}");
    let e = message(Lab::create(config("gim"), "cpu".into(), CIFAR[..5000].to_vec(), CIFAR.to_vec()).await.map(|_| ()).map_err(JsValue::from).unwrap_err());
    assert!(e.contains("truncated"), "{e}");
    let e = message(Lab::create(config("gim"), "quantum".into(), CIFAR.to_vec(), CIFAR.to_vec()).await.map(|_| ()).map_err(JsValue::from).unwrap_err());
    assert!(e.contains("unknown backend"), "{e}");
}

/// One LoCo step on WebGPU against the same step on the CPU, from the same weights.
#[cfg(feature = "webgpu")]
#[wasm_bindgen_test]
async fn webgpu_step_matches_cpu() {
    use burn::prelude::*;
    use locolab::config::{MethodKind, TrainConfig};
    use locolab::data::{cifar, Splits};
    use locolab::Trainer;
    let gpu_device = match locolab::web::webgpu_device().await {
        Ok(d) => d,
        Err(why) => panic!("no WebGPU adapter in this browser ({why}); run with --enable-unsafe-webgpu"),
    };
    let split = cifar::from_bytes(CIFAR, "test_1k.bin").unwrap();
    let data = std::sync::Arc::new(Splits { train: split.clone(), test: split });
    let cfg = TrainConfig { method: MethodKind::Loco, batch: 8, ..TrainConfig::preset("browser").unwrap() };
    let mut cpu = Trainer::new(cfg.clone(), data.clone(), &Device::flex()).unwrap();
    let mut gpu = Trainer::new(cfg, data, &gpu_device).unwrap();
    // Same starting weights: the CPU network's record, loaded on the GPU (no GPU read-back).
    *gpu.network_mut() = gpu.network().clone().load_record(cpu.network().clone().into_record());
    for step in 0..2 {
        let (a, b) = (cpu.step_async().await.unwrap(), gpu.step_async().await.unwrap());
        web_sys::console::log_1(&format!("step {step}: cpu {:?} webgpu {:?}", a.losses, b.losses).into());
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 2e-3 * x.abs().max(1.0), "step {step}: cpu {x} vs webgpu {y}");
        }
    }
}
