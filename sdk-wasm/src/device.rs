//! One synchronous read of the device: navigator, screen, time zone,
//! storage and a canvas drawing; then, off the critical path, the WebGL
//! renderer. Every API may be missing or throw (privacy modes, old
//! browsers, sandboxed frames): a failed read leaves its signal empty
//! rather than failing the session.

use clausum_core::sdk::{
    ClientHints, DeviceSignals, ScreenSignals, automation_tells, fingerprint, short_hash,
};
use js_sys::{Array, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement, WebGlRenderingContext, Window};

/// `UNMASKED_VENDOR_WEBGL` / `UNMASKED_RENDERER_WEBGL` of `WEBGL_debug_renderer_info`.
const UNMASKED_VENDOR: u32 = 0x9245;
const UNMASKED_RENDERER: u32 = 0x9246;

/// The device signals of a session. The WebGL vendor and renderer are not
/// part of the fingerprint and cost a context creation (10–20 ms), so they
/// are read after everything else: on the next task, or at the first
/// snapshot if that comes sooner.
#[derive(Debug)]
pub struct Device {
    signals: DeviceSignals,
    webgl_read: bool,
}

impl Device {
    /// Reads every signal but WebGL, then the automation tells and the fingerprint.
    pub fn read(window: &Window) -> Self {
        Device { signals: read(window), webgl_read: false }
    }

    /// Reads the WebGL vendor and renderer, once.
    pub fn complete(&mut self, window: &Window) {
        if !std::mem::replace(&mut self.webgl_read, true) {
            (self.signals.webgl_vendor, self.signals.webgl_renderer) = webgl(window);
        }
    }

    /// The signals read so far.
    pub fn signals(&self) -> &DeviceSignals {
        &self.signals
    }
}

/// Reads every device signal but WebGL, then the automation tells and the fingerprint.
fn read(window: &Window) -> DeviceSignals {
    let nav = window.navigator();
    let mut d = DeviceSignals {
        user_agent: nav.user_agent().unwrap_or_default(),
        client_hints: client_hints(&prop(&nav, "userAgentData")),
        language: nav.language().unwrap_or_default(),
        languages: nav.languages().iter().filter_map(|l| l.as_string()).collect(),
        timezone: timezone(window),
        timezone_offset_min: js_sys::Date::new_0().get_timezone_offset() as i32,
        screen: screen(window),
        hardware_concurrency: Some(nav.hardware_concurrency() as u32).filter(|&n| n > 0),
        device_memory_gb: prop(&nav, "deviceMemory").as_f64(),
        max_touch_points: nav.max_touch_points().max(0) as u32,
        platform: nav.platform().unwrap_or_default(),
        cookies_enabled: prop(&nav, "cookieEnabled").as_bool().unwrap_or(false),
        local_storage: matches!(window.local_storage(), Ok(Some(_))),
        session_storage: matches!(window.session_storage(), Ok(Some(_))),
        indexed_db: !prop(window, "indexedDB").is_undefined(),
        canvas_hash: canvas_hash(window),
        webdriver: prop(&nav, "webdriver").as_bool().unwrap_or(false),
        plugins_count: prop(&prop(&nav, "plugins"), "length").as_f64().unwrap_or(0.0) as u32,
        ..Default::default()
    };
    d.automation = automation_tells(&d).into_iter().map(str::to_owned).collect();
    d.fingerprint = fingerprint(&d);
    d
}

/// `target[name]`, or `undefined`.
fn prop(target: &JsValue, name: &str) -> JsValue {
    Reflect::get(target, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

fn client_hints(data: &JsValue) -> Option<ClientHints> {
    if data.is_undefined() || data.is_null() {
        return None;
    }
    let brands = prop(data, "brands")
        .dyn_into::<Array>()
        .map(|a| {
            a.iter()
                .filter_map(|b| {
                    // `Chromium/120`, built without `format!` (core::fmt is big in wasm).
                    let mut brand = prop(&b, "brand").as_string()?;
                    brand.push('/');
                    brand.push_str(&prop(&b, "version").as_string().unwrap_or_default());
                    Some(brand)
                })
                .collect()
        })
        .unwrap_or_default();
    Some(ClientHints {
        brands,
        mobile: prop(data, "mobile").as_bool().unwrap_or(false),
        platform: prop(data, "platform").as_string().unwrap_or_default(),
    })
}

/// The IANA time zone. `Temporal.Now.timeZoneId()` where the browser has
/// it: the same answer as `Intl.DateTimeFormat().resolvedOptions()` for a
/// fraction of a millisecond, where Intl's first use loads ICU's date data
/// (about 15 ms in Chromium, the largest part of the SDK's start).
fn timezone(window: &Window) -> String {
    let now = prop(&prop(window, "Temporal"), "Now");
    if let Ok(zone_id) = prop(&now, "timeZoneId").dyn_into::<js_sys::Function>()
        && let Some(zone) = zone_id.call0(&now).ok().and_then(|z| z.as_string())
    {
        return zone;
    }
    intl_timezone()
}

/// The IANA time zone as `Intl` resolves it (the fallback; public so the
/// browser test can compare the fast path with it).
pub fn intl_timezone() -> String {
    let format = js_sys::Intl::DateTimeFormat::new(&Array::new(), &js_sys::Object::new());
    prop(&format.resolved_options(), "timeZone").as_string().unwrap_or_default()
}

fn screen(window: &Window) -> ScreenSignals {
    let Ok(s) = window.screen() else { return ScreenSignals::default() };
    let px = |v: Result<i32, JsValue>| v.unwrap_or(0).max(0) as u32;
    ScreenSignals {
        width: px(s.width()),
        height: px(s.height()),
        avail_width: px(s.avail_width()),
        avail_height: px(s.avail_height()),
        color_depth: px(s.color_depth()),
        pixel_ratio: window.device_pixel_ratio(),
    }
}

fn new_canvas(window: &Window, width: u32, height: u32) -> Option<HtmlCanvasElement> {
    let canvas: HtmlCanvasElement =
        window.document()?.create_element("canvas").ok()?.dyn_into().ok()?;
    canvas.set_width(width);
    canvas.set_height(height);
    Some(canvas)
}

/// A fixed drawing — text in two fonts, an emoji, overlapping translucent
/// shapes — whose pixels depend on the GPU, driver, anti-aliasing and fonts.
fn canvas_hash(window: &Window) -> Option<String> {
    let canvas = new_canvas(window, 220, 40)?;
    let ctx: CanvasRenderingContext2d = canvas.get_context("2d").ok()??.dyn_into().ok()?;
    ctx.set_text_baseline("top");
    ctx.set_font("14px Arial");
    ctx.set_fill_style_str("#f60");
    ctx.fill_rect(100.0, 1.0, 62.0, 20.0);
    ctx.set_fill_style_str("#069");
    let _ = ctx.fill_text("Clausum, pago seguro \u{1f6e1}", 2.0, 15.0);
    ctx.set_font("11pt serif");
    ctx.set_fill_style_str("rgba(102, 204, 0, 0.7)");
    let _ = ctx.fill_text("Clausum, pago seguro", 4.0, 17.0);
    ctx.begin_path();
    let _ = ctx.arc(50.0, 20.0, 18.0, 0.0, std::f64::consts::TAU);
    ctx.fill();
    Some(short_hash(&canvas.to_data_url().ok()?))
}

/// The WebGL vendor and renderer, unmasked where the browser allows it.
fn webgl(window: &Window) -> (Option<String>, Option<String>) {
    let Some(gl) = new_canvas(window, 1, 1)
        .and_then(|c| c.get_context("webgl").ok().flatten())
        .and_then(|c| c.dyn_into::<WebGlRenderingContext>().ok())
    else {
        return (None, None);
    };
    let (vendor, renderer) = match gl.get_extension("WEBGL_debug_renderer_info") {
        Ok(Some(_)) => (UNMASKED_VENDOR, UNMASKED_RENDERER),
        _ => (WebGlRenderingContext::VENDOR, WebGlRenderingContext::RENDERER),
    };
    let read = |p: u32| gl.get_parameter(p).ok().and_then(|v| v.as_string());
    let out = (read(vendor), read(renderer));
    // Give the context back now: browsers cap live WebGL contexts.
    if let Ok(Some(lose)) = gl.get_extension("WEBGL_lose_context") {
        let _ = Reflect::get(&lose, &"loseContext".into())
            .ok()
            .and_then(|f| f.dyn_into::<js_sys::Function>().ok())
            .map(|f| f.call0(&lose));
    }
    out
}
