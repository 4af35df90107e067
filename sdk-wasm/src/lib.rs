//! # clausum-sdk-wasm
//!
//! The browser half of Clausum's checkout SDK, compiled to WebAssembly. It
//! reads what only the browser knows — the device, and how a person
//! behaves on the page — and hands it to `clausum-core`, which owns every
//! definition (fingerprint, automation tells, behaviour statistics, session
//! ids). This crate only reads browser APIs and converts types at the
//! boundary; networking, timeouts and the public `Clausum` API live in the
//! npm package (`npm/`) that wraps it.
//!
//! # What it never collects
//!
//! Nothing the user types: no key values, no field contents, no clipboard
//! contents. Keys are counted and timed; a paste records only the kind of
//! field it landed in, judged from the field's attributes.
//!
//! # Layout
//!
//! - [`device`]: one synchronous read of the device signals.
//! - [`listen`]: passive event listeners feeding the behaviour tracker.
//! - [`Collector`]: the one exported class.

pub mod device;
pub mod js;
pub mod listen;

/// A small first-fit free-list allocator instead of dlmalloc (several KB
/// smaller). The lock is never contended — a page runs this module on one
/// thread — and keeps the crate free of `unsafe`.
#[cfg(target_arch = "wasm32")]
#[global_allocator]
static ALLOCATOR: lol_alloc::LockedAllocator<lol_alloc::FreeListAllocator> =
    lol_alloc::LockedAllocator::new(lol_alloc::FreeListAllocator::new());

use std::{cell::RefCell, rc::Rc};

use clausum_core::{
    sdk::{self, BehaviorTracker, SessionSignals},
    session,
};
use wasm_bindgen::prelude::*;

/// One checkout session: its id, the device read at start, and the
/// behaviour observed since.
#[wasm_bindgen]
pub struct Collector {
    session_id: String,
    device: Rc<RefCell<device::Device>>,
    tracker: Rc<RefCell<BehaviorTracker>>,
    listeners: listen::Listeners,
}

#[wasm_bindgen]
impl Collector {
    /// Issues a session id, reads the device and starts listening (passive
    /// listeners only). Throws only outside a browser window.
    #[wasm_bindgen(constructor)]
    pub fn new() -> Result<Collector, JsValue> {
        let window = window().ok_or_else(|| JsValue::from_str("no window"))?;
        let now = now(&window);
        let tracker = Rc::new(RefCell::new(BehaviorTracker::new(now)));
        let listeners = listen::Listeners::install(&window, &tracker)?;
        let device = Rc::new(RefCell::new(device::Device::read(&window)));
        // The WebGL renderer on the next task, once `init` has its fingerprint.
        let (later, w) = (device.clone(), window.clone());
        let complete = Closure::once_into_js(move || later.borrow_mut().complete(&w));
        let _ = window.set_timeout_with_callback(complete.unchecked_ref());
        Ok(Collector { session_id: new_session_id(&window), device, tracker, listeners })
    }

    /// The session id, `ps_<milliseconds>_<random>`.
    #[wasm_bindgen(getter, js_name = sessionId)]
    pub fn session_id(&self) -> String {
        self.session_id.clone()
    }

    /// The device fingerprint, `fp_…`.
    #[wasm_bindgen(getter)]
    pub fn fingerprint(&self) -> String {
        self.device.borrow().signals().fingerprint.clone()
    }

    /// The device signals (a plain object).
    pub fn device(&self) -> JsValue {
        js::device(&self.snapshot().device)
    }

    /// The behaviour since start (a plain object).
    pub fn behavior(&self) -> JsValue {
        js::behavior(&self.snapshot().behavior)
    }

    /// `{session_id, device, behavior}`: the body of `POST /api/v1/sessions`.
    pub fn signals(&self) -> JsValue {
        js::session(&self.snapshot())
    }

    /// `{session_id, device, behavior}` in the assess request's shape
    /// (`device.fingerprint`, `behavior.keyboard_events`, …), for a
    /// pre-check or for a backend to forward.
    #[wasm_bindgen(js_name = assessFields)]
    pub fn assess_fields(&self) -> JsValue {
        let (device, behavior) = sdk::assess_fields(&self.snapshot());
        js::assess_fields(&self.session_id, &device, &behavior)
    }

    /// Removes every listener; later snapshots keep the counts so far.
    pub fn stop(&mut self) {
        self.listeners.remove();
    }
}

impl Collector {
    /// The session's signals as of now.
    pub fn snapshot(&self) -> SessionSignals {
        let window = window();
        let mut device = self.device.borrow_mut();
        if let Some(w) = &window {
            device.complete(w);
        }
        SessionSignals {
            session_id: self.session_id.clone(),
            device: device.signals().clone(),
            behavior: self.tracker.borrow().snapshot(window.as_ref().map_or(0.0, now)),
            // Only the origin fills this in, from what its edge saw.
            connection: None,
        }
    }
}

#[wasm_bindgen]
extern "C" {
    /// `globalThis`, read once. (`web_sys::window()` goes through
    /// `js_sys::global()`, which probes `globalThis`, `self`, `window` and
    /// `global` in turn: half a kilobyte of download for a page that is
    /// always a window.)
    #[wasm_bindgen(thread_local_v2, js_name = globalThis)]
    static GLOBAL_THIS: JsValue;
}

/// The page's window; `None` outside one (a worker, Node).
fn window() -> Option<web_sys::Window> {
    GLOBAL_THIS.with(|g| g.clone().dyn_into().ok())
}

/// `performance.now()`: the clock event time stamps use.
fn now(window: &web_sys::Window) -> f64 {
    window.performance().map_or(0.0, |p| p.now())
}

/// A session id from the wall clock and `crypto.getRandomValues`.
fn new_session_id(window: &web_sys::Window) -> String {
    let mut random = [0u8; session::RANDOM_LEN];
    if let Ok(crypto) = window.crypto() {
        let _ = crypto.get_random_values_with_u8_array(&mut random);
    }
    session::generate(js_sys::Date::now() as i64, random)
}
