//! Panics: kept for the worker to report, logged with a stack, and announced by the threads
//! of rayon's pool before they trap.

use wasm_bindgen::prelude::*;

thread_local! {
    /// The message of the last panic on this thread, for [`take_panic`].
    static LAST_PANIC: std::cell::RefCell<Option<String>> = const { std::cell::RefCell::new(None) };
}

/// Log panics to the console (with a stack) and keep the message: a panic aborts the wasm
/// instance, and the worker asks [`take_panic`] why, reports it and is replaced by the page.
#[wasm_bindgen(start)]
pub fn start() {
    std::panic::set_hook(Box::new(|info| {
        let msg = match info.payload().downcast_ref::<&str>() {
            Some(s) => s.to_string(),
            None => info.payload().downcast_ref::<String>().cloned().unwrap_or_else(|| "panic".into()),
        };
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line())).unwrap_or_default();
        #[cfg(feature = "web-threads")]
        pool::announce(&format!("{msg}{at}"));
        LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
        console_error_panic_hook::hook(info);
    }));
    // An allocation that fails aborts without a panic: on a thread of the pool, say so first.
    #[cfg(feature = "web-threads")]
    std::alloc::set_alloc_error_hook(|layout| {
        let text = format!("out of memory: an allocation of {} bytes failed", layout.size());
        pool::announce(&text);
        web_sys::console::error_1(&JsValue::from_str(&text));
    });
    // cubecl reports what goes wrong on the GPU (a kernel WebGPU refused, a lost device) through
    // `log` only (tracel-ai/cubecl#1641): send warnings and errors to the console.
    if log::set_logger(&ConsoleLog).is_ok() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}

/// `log` records to the browser console (warnings and errors).
struct ConsoleLog;

impl log::Log for ConsoleLog {
    fn enabled(&self, meta: &log::Metadata) -> bool {
        meta.level() <= log::Level::Warn
    }
    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let text = JsValue::from_str(&format!("[{}] {}", record.target(), record.args()));
        match record.level() {
            log::Level::Error => web_sys::console::error_1(&text),
            _ => web_sys::console::warn_1(&text),
        }
    }
    fn flush(&self) {}
}

/// The last panic's message, once (`undefined` if none happened since the last call). After a
/// panic the module's state is not trustworthy: the worker that hosts it must be replaced.
#[wasm_bindgen(js_name = takePanic)]
pub fn take_panic() -> Option<String> {
    LAST_PANIC.with(|p| p.borrow_mut().take())
}

/// A panic (or an out-of-memory abort) on a thread of rayon's pool traps that thread's Web
/// Worker only: the trainer's worker, waiting for the pool to finish its op, would wait forever
/// and the page would hang. So the pool's threads announce it on a `BroadcastChannel` the page
/// listens on (its name from [`set_panic_channel`]); the page then replaces the trainer's worker
/// as after any panic. The panic hook and the allocation-error hook are process-wide (set once
/// by [`start`]), and the channel's name sits in shared memory, so every thread sees both.
#[cfg(feature = "web-threads")]
mod pool {
    use std::sync::Mutex;

    use wasm_bindgen::prelude::*;

    pub static CHANNEL: Mutex<Option<String>> = Mutex::new(None);

    #[wasm_bindgen(inline_js = "export function post_to_channel(name, message) { const c = new BroadcastChannel(name); c.postMessage(message); c.close(); }")]
    extern "C" {
        #[wasm_bindgen(catch)]
        fn post_to_channel(name: &str, message: &str) -> Result<(), JsValue>;
    }

    /// Tells the page, when called on a thread of the pool (the trainer's own thread reports
    /// its panics in its answer).
    pub fn announce(message: &str) {
        if rayon::current_thread_index().is_none() {
            return;
        }
        // `try_lock`: never wait inside a panic; a poisoned lock still holds the name.
        let name = match CHANNEL.try_lock() {
            Ok(n) => n.clone(),
            Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner().clone(),
            Err(std::sync::TryLockError::WouldBlock) => None,
        };
        if let Some(name) = name {
            let _ = post_to_channel(&name, message);
        }
    }
}

/// The `BroadcastChannel` on which the threads of rayon's pool announce a panic or an
/// out-of-memory abort before they trap (the threaded build; elsewhere a no-op).
#[wasm_bindgen(js_name = setPanicChannel)]
pub fn set_panic_channel(name: String) {
    #[cfg(feature = "web-threads")]
    {
        *pool::CHANNEL.lock().unwrap_or_else(|e| e.into_inner()) = Some(name);
    }
    #[cfg(not(feature = "web-threads"))]
    let _ = name;
}

/// Panic on purpose on a thread of rayon's pool (the threaded build; elsewhere on this thread),
/// so tests can check that the page survives what would otherwise hang it.
#[wasm_bindgen(js_name = debugPanicInPool)]
pub fn debug_panic_in_pool(message: String) {
    #[cfg(feature = "web-threads")]
    rayon::scope(|s| s.spawn(move |_| panic!("{message}")));
    #[cfg(not(feature = "web-threads"))]
    panic!("{message}");
}

/// Panic on purpose, so tests can check that the page survives a panic in the module.
#[wasm_bindgen(js_name = debugPanic)]
pub fn debug_panic(message: String) {
    panic!("{message}");
}
