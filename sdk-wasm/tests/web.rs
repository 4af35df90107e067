//! The collectors in a real browser: `scripts/test.sh` runs these in
//! headless Chromium through `wasm-bindgen-test-runner` and ChromeDriver.
#![cfg(target_arch = "wasm32")]

use clausum_core::{sdk::signals::is_fingerprint, session};
use clausum_sdk_wasm::Collector;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Event, EventInit, HtmlInputElement};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().unwrap().document().unwrap()
}

/// A bubbling (and so capturable) event of `kind` dispatched at `target`.
fn fire(target: &web_sys::EventTarget, kind: &str) {
    let init = EventInit::new();
    init.set_bubbles(true);
    let event = Event::new_with_event_init_dict(kind, &init).unwrap();
    target.dispatch_event(&event).unwrap();
}

fn input(attrs: &[(&str, &str)]) -> HtmlInputElement {
    let el: HtmlInputElement = document().create_element("input").unwrap().dyn_into().unwrap();
    for (k, v) in attrs {
        el.set_attribute(k, v).unwrap();
    }
    document().body().unwrap().append_child(&el).unwrap();
    el
}

#[wasm_bindgen_test]
fn device_signals_are_read_from_the_browser() {
    let c = Collector::new().unwrap();
    // The fingerprint as `init` computed it, before WebGL is read.
    let at_init = c.fingerprint();
    let d = c.snapshot().device;
    assert!(d.user_agent.contains("Chrome"), "{}", d.user_agent);
    assert!(!d.languages.is_empty() && !d.language.is_empty());
    assert!(!d.timezone.is_empty(), "time zone");
    // The fast path (Temporal, which this Chromium has) and Intl agree.
    let window = web_sys::window().unwrap();
    assert!(!js_sys::Reflect::get(&window, &"Temporal".into()).unwrap().is_undefined());
    assert_eq!(d.timezone, clausum_sdk_wasm::device::intl_timezone());
    assert!(d.screen.width > 0 && d.screen.height > 0 && d.screen.color_depth > 0);
    assert!(d.screen.pixel_ratio > 0.0);
    assert!(d.hardware_concurrency.unwrap_or(0) > 0);
    assert!(d.local_storage && d.session_storage && d.indexed_db);
    assert_eq!(d.canvas_hash.as_deref().map(str::len), Some(32), "canvas drawn and hashed");
    assert!(d.client_hints.is_some(), "Chromium has userAgentData");
    // ChromeDriver drives this browser: it must say so.
    assert!(d.webdriver && d.automation.iter().any(|t| t == "webdriver"), "{:?}", d.automation);
    assert!(is_fingerprint(&d.fingerprint), "{}", d.fingerprint);
    // WebGL is read after the fingerprint, at the latest by the first snapshot.
    assert!(d.webgl_renderer.as_deref().is_some_and(|r| !r.is_empty()), "{:?}", d.webgl_renderer);
    assert_eq!(at_init, d.fingerprint, "reading WebGL leaves the fingerprint alone");
}

#[wasm_bindgen_test]
fn fingerprint_and_session_ids() {
    let (a, b) = (Collector::new().unwrap(), Collector::new().unwrap());
    assert_eq!(a.fingerprint(), b.fingerprint(), "same browser, same fingerprint");
    assert!(session::is_valid(&a.session_id()), "{}", a.session_id());
    assert_ne!(a.session_id(), b.session_id(), "each collector is a new session");
}

#[wasm_bindgen_test]
fn behaviour_is_counted_and_typed_text_never_collected() {
    let c = Collector::new().unwrap();
    let doc: web_sys::EventTarget = document().into();
    let card = input(&[("autocomplete", "cc-number"), ("name", "card")]);
    let email = input(&[("type", "email")]);
    card.set_value("4111111111111111");
    email.set_value("secret.person@example.com");
    for _ in 0..3 {
        fire(&doc, "mousemove");
    }
    fire(&card, "click");
    fire(&card, "focusin");
    for _ in 0..4 {
        fire(&card, "keydown");
    }
    fire(&card, "paste");
    fire(&email, "paste");
    fire(&email, "copy");
    fire(&card, "focusout");
    let b = c.snapshot().behavior;
    assert_eq!((b.mouse_movements, b.clicks, b.key_presses), (3, 1, 4));
    assert_eq!((b.paste_events, b.copy_events), (2, 1));
    assert_eq!(b.pasted_fields, ["card_number", "email"]);
    assert_eq!((b.focus_events, b.blur_events), (1, 1));
    assert!(b.time_to_first_interaction_ms.is_some());
    assert!(b.key_interval_mean_ms.is_some(), "cadence measured");
    assert_eq!(b.untrusted_events, 13, "script-dispatched events are told apart");

    let json = js_sys::JSON::stringify(&c.signals()).unwrap().as_string().unwrap();
    assert!(json.contains("\"session_id\":\"ps_"), "{json}");
    for typed in ["4111", "secret.person", "example.com"] {
        assert!(!json.contains(typed), "typed text {typed} leaked: {json}");
    }
}

#[wasm_bindgen_test]
fn stop_removes_the_listeners() {
    let mut c = Collector::new().unwrap();
    let doc: web_sys::EventTarget = document().into();
    fire(&doc, "click");
    c.stop();
    fire(&doc, "click");
    fire(&doc, "mousemove");
    let b = c.snapshot().behavior;
    assert_eq!((b.clicks, b.mouse_movements), (1, 0));
    drop(c);
    // A dropped collector's listeners are gone: this must not throw.
    fire(&doc, "click");
}

/// `JSON.stringify` of a JS value, parsed, with every number as a double
/// (JavaScript has no integers: `1.0` prints as `1`).
fn json_of(v: &wasm_bindgen::JsValue) -> serde_json::Value {
    let text = js_sys::JSON::stringify(v).unwrap().as_string().unwrap();
    doubles(serde_json::from_str(&text).unwrap())
}

fn doubles(v: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Number(n) => serde_json::json!(n.as_f64().unwrap()),
        Value::Array(a) => Value::Array(a.into_iter().map(doubles).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, doubles(v))).collect()),
        other => other,
    }
}

#[wasm_bindgen_test]
fn hand_built_objects_match_the_core_serde_shapes() {
    use clausum_sdk_wasm::js;
    let c = Collector::new().unwrap();
    let doc: web_sys::EventTarget = document().into();
    for kind in ["mousemove", "keydown", "keydown", "paste", "click"] {
        fire(&doc, kind);
    }
    let s = c.snapshot();
    let serde_form = |v: serde_json::Value| doubles(v);
    assert_eq!(json_of(&js::session(&s)), serde_form(serde_json::to_value(&s).unwrap()));
    assert_eq!(json_of(&c.device()), serde_form(serde_json::to_value(&s.device).unwrap()));
    // Absent optional values: null in the session signals.
    let mut bare = s.clone();
    bare.device.client_hints = None;
    bare.device.canvas_hash = None;
    bare.behavior.key_interval_mean_ms = None;
    bare.behavior.time_to_first_interaction_ms = None;
    assert_eq!(json_of(&js::session(&bare)), serde_form(serde_json::to_value(&bare).unwrap()));
    // The assess shape leaves absent keys out, as the wire types do.
    let (device, behavior) = clausum_core::sdk::assess_fields(&s);
    let expected =
        serde_json::json!({"session_id": s.session_id, "device": device, "behavior": behavior});
    assert_eq!(
        json_of(&js::assess_fields(&s.session_id, &device, &behavior)),
        serde_form(expected)
    );
    let empty = serde_json::json!({"session_id": "x", "device": {}, "behavior": {}});
    let none = js::assess_fields("x", &Default::default(), &Default::default());
    assert_eq!(json_of(&none), empty);
}
