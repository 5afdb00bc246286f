//! Where the page trains: WebGPU when an adapter answers (and passes the self-check), else
//! the CPU, with the reason.

#[cfg(feature = "webgpu")]
use std::sync::Arc;

use burn::prelude::*;
use wasm_bindgen::prelude::*;

use crate::device::{Backend, BrowserPref};
use crate::error::Error;

use super::common::*;

/// The browser's WebGPU device, initialised once per thread: burn's wgpu runtime can be set up
/// only once, so every Lab on this thread shares the first answer (device or reason).
#[cfg(feature = "webgpu")]
pub async fn webgpu_device() -> Result<Device, String> {
    thread_local! {
        static WEBGPU: std::cell::RefCell<Option<Result<Device, String>>> = const { std::cell::RefCell::new(None) };
    }
    if let Some(known) = WEBGPU.with(|c| c.borrow().clone()) {
        return known;
    }
    let got = Device::wgpu_options().init_async().await.map_err(|e| format!("WebGPU unavailable: {e:?}"));
    WEBGPU.with(|c| *c.borrow_mut() = Some(got.clone()));
    got
}

/// Pick the device: WebGPU when asked for (or `auto`) and an adapter answers, else the CPU;
/// with the backend it is and why.
pub(super) async fn pick_device(pref: &str) -> Result<(Device, Backend, String), JsError> {
    let pref: BrowserPref = pref.parse().map_err(js_err)?;
    #[allow(unused_mut)]
    let mut why = String::from("this build has no WebGPU support (built without the `webgpu` feature)");
    #[cfg(feature = "webgpu")]
    if pref != BrowserPref::Cpu {
        match webgpu_device().await {
            Ok(device) => return Ok((device, Backend::Webgpu, "WebGPU adapter found".into())),
            Err(e) => why = e,
        }
    }
    match pref {
        BrowserPref::Cpu => why = "CPU requested".into(),
        BrowserPref::Webgpu => return Err(js_err(Error::Device(why))),
        BrowserPref::Auto => {}
    }
    Ok((Device::flex(), Backend::Cpu, why))
}

// The self-check's tolerance; the e2e test lowers it to see a failure on a sound adapter.
#[cfg(feature = "webgpu")]
thread_local! {
    static SELF_CHECK_TOLERANCE: std::cell::Cell<f32> = const { std::cell::Cell::new(crate::selfcheck::TOLERANCE) };
}

/// Before training on WebGPU (`pref` auto or webgpu): two steps of `config` from the same
/// weights on WebGPU and on the CPU ([`crate::selfcheck`]). Resolves to
/// `{backend, note}`: where to train (`cpu` when `auto` chose WebGPU and the losses disagree)
/// and what the check found.
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = webgpuSelfCheck)]
pub async fn webgpu_self_check(config: JsValue, pref: String, train: Vec<u8>, test: Vec<u8>) -> Result<JsValue, JsError> {
    let pref: BrowserPref = pref.parse().map_err(js_err)?;
    let cfg = parse_config(config)?;
    fits_in_tab(&cfg)?;
    let data = Arc::new(parse_data(&train, &test).map_err(js_err)?);
    let gpu = webgpu_device().await.map_err(|e| js_err(Error::Device(e)))?;
    let difference = crate::selfcheck::loss_difference(&cfg, data, &Device::flex(), &gpu).await.map_err(js_err)?;
    to_js(&crate::selfcheck::verdict(pref, difference, SELF_CHECK_TOLERANCE.with(|t| t.get())))
}

/// For the e2e test: the self-check's tolerance (a negative one fails every check).
#[cfg(feature = "webgpu")]
#[wasm_bindgen(js_name = debugSelfCheckTolerance)]
pub fn debug_self_check_tolerance(tolerance: f32) {
    SELF_CHECK_TOLERANCE.with(|t| t.set(tolerance));
}
