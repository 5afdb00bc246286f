//! One local unit of a parallel run in its own Web Worker ([`UnitRunner`]): the protocol is
//! [`crate::worker`]'s; this file turns its messages into JS objects and back.

use burn::prelude::*;
use wasm_bindgen::prelude::*;

use crate::checkpoint::{self};
use crate::error::Error;
use crate::worker::{Activation, Collector, Incoming, Need, Outgoing, SharedGrads, UnitBatch, UnitWorker};

use super::common::*;

/// A plain JS object of `(key, value)` pairs (typed arrays stay typed arrays, which
/// serde-wasm-bindgen would turn into plain arrays).
fn object(pairs: &[(&str, JsValue)]) -> Result<JsValue, JsError> {
    let o = js_sys::Object::new();
    for (k, v) in pairs {
        js_sys::Reflect::set(&o, &JsValue::from_str(k), v).map_err(|_| js_err("cannot build a message"))?;
    }
    Ok(o.into())
}

pub(super) fn activation_js(a: Activation) -> Result<JsValue, JsError> {
    object(&[("values", js_sys::Float32Array::from(&a.values[..]).into()), ("shape", to_js(&a.shape)?)])
}

/// One local unit of a parallel run, in its own Web Worker: `www/unit-worker.js` answers
/// `need()` and delivers what `give*` sends; the protocol itself is [`crate::worker`]'s.
#[wasm_bindgen]
pub struct UnitRunner {
    worker: Option<UnitWorker>,
}

#[wasm_bindgen]
impl UnitRunner {
    /// Unit `unit` of the trainer in `bundle` (what `Lab.save()` gives), for a run from its
    /// step that lasts until the end arrives (`giveEnd`).
    pub fn create(bundle: Vec<u8>, unit: u32) -> Result<UnitRunner, JsError> {
        let snap = checkpoint::read_bundle(&bundle, "the parallel run's bundle").map_err(js_err)?;
        let w = UnitWorker::from_snapshot(&snap, unit as usize, &Device::flex()).map_err(js_err)?;
        Ok(UnitRunner { worker: Some(w) })
    }

    fn w(&mut self) -> Result<&mut UnitWorker, JsError> {
        self.worker.as_mut().ok_or_else(|| js_err("this unit has finished"))
    }

    /// What the unit waits for: `input` (views or the activation from below, or the end),
    /// `upper` / `lower` (a neighbour's shared-stage gradient; from below, or the end) or `done`.
    pub fn need(&self) -> String {
        match self.worker.as_ref().map_or(Need::Done, |w| w.need()) {
            Need::Input => "input",
            Need::FromUpper => "upper",
            Need::FromLower => "lower",
            Need::Done => "done",
        }
        .into()
    }

    /// Its input, `values` of `shape` ([2N, C, H, W]). `send(message)` is called with each
    /// message as soon as it is ready: `{to: 'upper' | 'lower' | 'page', kind: 'act' | 'grad' |
    /// 'report' | 'end', ...}` (`values` and `shape` or `present`, or `report`).
    #[wasm_bindgen(js_name = giveInput)]
    pub fn give_input(&mut self, values: Vec<f32>, shape: Vec<u32>, send: &js_sys::Function) -> Result<(), JsError> {
        let shape: [usize; 4] = match shape[..] {
            [a, b, c, d] if (a * b * c * d) as usize == values.len() => [a as usize, b as usize, c as usize, d as usize],
            _ => return Err(js_err(Error::Config(format!("an input of {} values does not have shape {shape:?}", values.len())))),
        };
        self.give(Incoming::Input(Activation { shape, values }), send)
    }

    /// A neighbour's shared-stage gradient (`{values, present}` flattened): from the unit above
    /// when `fromUpper`, else from the unit below. `send` as for [`UnitRunner::give_input`].
    #[wasm_bindgen(js_name = giveGrad)]
    pub fn give_grad(&mut self, from_upper: bool, values: Vec<f32>, present: Vec<u8>, send: &js_sys::Function) -> Result<(), JsError> {
        let g = self.w()?.unflatten(from_upper, &values, &present).map_err(js_err)?;
        self.give(if from_upper { Incoming::FromUpper(g) } else { Incoming::FromLower(g) }, send)
    }

    /// The end of the run (from the feed, or the unit below's `{kind: 'end'}`), when `need()`
    /// is `input` or `lower`. `send` as for [`UnitRunner::give_input`]; the unit then passes
    /// the end on (`{to: 'upper', kind: 'end'}`) and is `done`.
    #[wasm_bindgen(js_name = giveEnd)]
    pub fn give_end(&mut self, send: &js_sys::Function) -> Result<(), JsError> {
        self.give(Incoming::End, send)
    }

    fn give(&mut self, msg: Incoming, send: &js_sys::Function) -> Result<(), JsError> {
        let mut out = |o: Outgoing| -> crate::Result<()> {
            let m = outgoing_js(o).map_err(|e| Error::Device(format!("cannot build a message: {e:?}")))?;
            send.call1(&JsValue::NULL, &m).map(|_| ()).map_err(|e| Error::Device(format!("a message could not be sent: {e:?}")))
        };
        self.w()?.give(msg, &mut out).map_err(js_err)
    }

    /// The unit's modules and optimizer after its last batch: `{model, optim}` (burn's records
    /// for `Lab.adoptUnits`).
    pub fn finish(&mut self) -> Result<JsValue, JsError> {
        let w = self.worker.take().ok_or_else(|| js_err("this unit has finished"))?;
        let r = w.finish_record().map_err(js_err)?;
        object(&[("model", js_sys::Uint8Array::from(&r.model[..]).into()), ("optim", js_sys::Uint8Array::from(&r.optim[..]).into())])
    }
}

/// A message of [`Outgoing`] as the page routes it.
fn outgoing_js(o: Outgoing) -> Result<JsValue, JsError> {
    let s = |v: &str| JsValue::from_str(v);
    match o {
        Outgoing::Activation(a) => {
            object(&[("to", s("upper")), ("kind", s("act")), ("values", js_sys::Float32Array::from(&a.values[..]).into()), ("shape", to_js(&a.shape)?)])
        }
        Outgoing::ToUpper(g) => shared_js("upper", &g),
        Outgoing::ToLower(g) => shared_js("lower", &g),
        Outgoing::Report(r) => object(&[("to", s("page")), ("kind", s("report")), ("report", to_js(&r)?)]),
        Outgoing::End => object(&[("to", s("upper")), ("kind", s("end"))]),
    }
}

fn shared_js(to: &str, g: &SharedGrads) -> Result<JsValue, JsError> {
    let (values, present) = g.flatten();
    object(&[
        ("to", JsValue::from_str(to)),
        ("kind", JsValue::from_str("grad")),
        ("values", js_sys::Float32Array::from(&values[..]).into()),
        ("present", js_sys::Uint8Array::from(&present[..]).into()),
    ])
}

/// The page's side of a parallel run: turns the units' reports into step reports
/// ([`crate::worker::Collector`]).
#[wasm_bindgen]
pub struct StepCollector {
    pub(super) inner: Collector,
}

#[wasm_bindgen]
impl StepCollector {
    /// Start the clock (every unit is ready).
    pub fn start(&mut self) {
        self.inner.start();
    }

    /// One unit's report (as its worker sent it); returns the step reports it completes.
    pub fn add(&mut self, report: JsValue) -> Result<JsValue, JsError> {
        let r: UnitBatch = serde_wasm_bindgen::from_value(report).map_err(|e| js_err(Error::Config(format!("bad unit report: {e}"))))?;
        to_js(&self.inner.add(r))
    }

    /// Seconds from the start to the last completed step.
    #[wasm_bindgen(getter)]
    pub fn seconds(&self) -> f64 {
        self.inner.seconds()
    }
}
