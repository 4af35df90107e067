//! Plain JavaScript objects from the core's signal types, field by field.
//!
//! These are the JSON shapes of the core's serde types (`null` for an
//! absent value in the session signals; keys left out where the assess
//! types skip them). Building them by hand instead of through
//! serde-wasm-bindgen keeps serde's generic machinery out of the download;
//! the browser tests compare every object with the core's serde form, so
//! a renamed or added field cannot drift unnoticed.

use clausum_core::{
    sdk::{BehaviorSignals, ClientHints, DeviceSignals, ScreenSignals, SessionSignals},
    wire::{Behavior, Device},
};
use js_sys::{Array, Object, Reflect};
use wasm_bindgen::JsValue;

/// An object under construction.
struct Obj(Object);

impl Obj {
    fn new() -> Self {
        Obj(Object::new())
    }

    fn set(self, key: &str, value: JsValue) -> Self {
        // Setting a property of a fresh plain object cannot fail.
        let _ = Reflect::set(&self.0, &JsValue::from_str(key), &value);
        self
    }

    /// Sets `key` only when there is a value (serde's `skip_serializing_if`).
    fn some(self, key: &str, value: Option<JsValue>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    fn done(self) -> JsValue {
        self.0.into()
    }
}

fn text(s: &str) -> JsValue {
    JsValue::from_str(s)
}

/// A JSON number: JavaScript numbers are doubles, as in `JSON.parse`.
fn num(n: impl Into<f64>) -> JsValue {
    JsValue::from_f64(n.into())
}

/// A count; never near 2^53 in one page's life.
fn count(n: u64) -> JsValue {
    num(n as f64)
}

fn or_null(v: Option<JsValue>) -> JsValue {
    v.unwrap_or(JsValue::NULL)
}

fn texts(items: &[String]) -> JsValue {
    items.iter().map(|s| text(s)).collect::<Array>().into()
}

/// `{session_id, device, behavior}`: the body of `POST /api/v1/sessions`.
pub fn session(s: &SessionSignals) -> JsValue {
    Obj::new()
        .set("session_id", text(&s.session_id))
        .set("device", device(&s.device))
        .set("behavior", behavior(&s.behavior))
        .done()
}

/// The device signals.
pub fn device(d: &DeviceSignals) -> JsValue {
    Obj::new()
        .set("fingerprint", text(&d.fingerprint))
        .set("user_agent", text(&d.user_agent))
        .set("client_hints", or_null(d.client_hints.as_ref().map(hints)))
        .set("language", text(&d.language))
        .set("languages", texts(&d.languages))
        .set("timezone", text(&d.timezone))
        .set("timezone_offset_min", num(d.timezone_offset_min))
        .set("screen", screen(&d.screen))
        .set("hardware_concurrency", or_null(d.hardware_concurrency.map(num)))
        .set("device_memory_gb", or_null(d.device_memory_gb.map(num)))
        .set("max_touch_points", num(d.max_touch_points))
        .set("platform", text(&d.platform))
        .set("cookies_enabled", d.cookies_enabled.into())
        .set("local_storage", d.local_storage.into())
        .set("session_storage", d.session_storage.into())
        .set("indexed_db", d.indexed_db.into())
        .set("canvas_hash", or_null(d.canvas_hash.as_deref().map(text)))
        .set("webgl_vendor", or_null(d.webgl_vendor.as_deref().map(text)))
        .set("webgl_renderer", or_null(d.webgl_renderer.as_deref().map(text)))
        .set("webdriver", d.webdriver.into())
        .set("plugins_count", num(d.plugins_count))
        .set("automation", texts(&d.automation))
        .done()
}

fn hints(h: &ClientHints) -> JsValue {
    Obj::new()
        .set("brands", texts(&h.brands))
        .set("mobile", h.mobile.into())
        .set("platform", text(&h.platform))
        .done()
}

fn screen(s: &ScreenSignals) -> JsValue {
    Obj::new()
        .set("width", num(s.width))
        .set("height", num(s.height))
        .set("avail_width", num(s.avail_width))
        .set("avail_height", num(s.avail_height))
        .set("color_depth", num(s.color_depth))
        .set("pixel_ratio", num(s.pixel_ratio))
        .done()
}

/// The behaviour signals.
pub fn behavior(b: &BehaviorSignals) -> JsValue {
    Obj::new()
        .set("session_duration_ms", count(b.session_duration_ms))
        .set("mouse_movements", count(b.mouse_movements))
        .set("clicks", count(b.clicks))
        .set("touches", count(b.touches))
        .set("key_presses", count(b.key_presses))
        .set("key_interval_mean_ms", or_null(b.key_interval_mean_ms.map(num)))
        .set("key_interval_stddev_ms", or_null(b.key_interval_stddev_ms.map(num)))
        .set("copy_events", count(b.copy_events))
        .set("cut_events", count(b.cut_events))
        .set("paste_events", count(b.paste_events))
        .set("pasted_fields", texts(&b.pasted_fields))
        .set("focus_events", count(b.focus_events))
        .set("blur_events", count(b.blur_events))
        .set("window_blurs", count(b.window_blurs))
        .set("time_to_first_interaction_ms", or_null(b.time_to_first_interaction_ms.map(count)))
        .set("untrusted_events", count(b.untrusted_events))
        .done()
}

/// `{session_id, device, behavior}` in the assess request's shape.
pub fn assess_fields(session_id: &str, d: &Device, b: &Behavior) -> JsValue {
    let device = Obj::new()
        .some("ip", d.ip.as_deref().map(text))
        .some("fingerprint", d.fingerprint.as_deref().map(text))
        .some("user_agent", d.user_agent.as_deref().map(text))
        .some("timezone", d.timezone.as_deref().map(text))
        .some("webdriver", d.webdriver.map(JsValue::from))
        .done();
    let behavior = Obj::new()
        .some("session_duration_ms", b.session_duration_ms.map(count))
        .some("mouse_movements", b.mouse_movements.map(count))
        .some("keyboard_events", b.keyboard_events.map(count))
        .some("copy_paste_events", b.copy_paste_events.map(count))
        .done();
    Obj::new()
        .set("session_id", text(session_id))
        .set("device", device)
        .set("behavior", behavior)
        .done()
}
