//! What the browser SDK sends to `POST /api/v1/sessions` and what the origin
//! stores: device and behaviour signals of one checkout session.
//!
//! Unlike the assess types these accept unknown fields: a page may run a
//! newer SDK (cached on a CDN) than the origin it talks to, and a newer
//! signal must not make an older origin refuse the whole session.

use serde::{Deserialize, Serialize};

use crate::session;

/// One checkout session's signals, as registered by the browser SDK.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
pub struct SessionSignals {
    /// The session id the SDK issued: `ps_<milliseconds>_<random>`.
    pub session_id: String,
    /// The device.
    #[serde(default)]
    pub device: DeviceSignals,
    /// How the person behaved on the page from `init` until now.
    #[serde(default)]
    pub behavior: BehaviorSignals,
    /// What Clausum's edge worker saw of the browser's connection (address,
    /// country, network, TLS, bot score), filled in by the origin when the
    /// registration came through the edge. Never the browser's to set: the
    /// origin replaces whatever a registration carries here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<crate::wire::edge::EdgeContext>,
}

/// The browser and the machine it runs on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(default))]
pub struct DeviceSignals {
    /// `fp_` and 20 hex characters: the hash of the stable components (see
    /// [`crate::sdk::fingerprint`]).
    pub fingerprint: String,
    /// `navigator.userAgent`.
    pub user_agent: String,
    /// User-agent client hints (`navigator.userAgentData`), where the browser has them.
    pub client_hints: Option<ClientHints>,
    /// `navigator.language`.
    pub language: String,
    /// `navigator.languages`.
    pub languages: Vec<String>,
    /// IANA time zone (`Intl.DateTimeFormat().resolvedOptions().timeZone`).
    pub timezone: String,
    /// Minutes behind UTC (`Date.prototype.getTimezoneOffset`, e.g. 360 in Mexico City).
    pub timezone_offset_min: i32,
    /// The screen.
    pub screen: ScreenSignals,
    /// `navigator.hardwareConcurrency` (logical processors).
    pub hardware_concurrency: Option<u32>,
    /// `navigator.deviceMemory` in GiB (Chromium only, coarse by design).
    pub device_memory_gb: Option<f64>,
    /// `navigator.maxTouchPoints`.
    pub max_touch_points: u32,
    /// `navigator.platform`.
    pub platform: String,
    /// `navigator.cookieEnabled`.
    pub cookies_enabled: bool,
    /// `localStorage` usable.
    pub local_storage: bool,
    /// `sessionStorage` usable.
    pub session_storage: bool,
    /// `indexedDB` present.
    pub indexed_db: bool,
    /// Hash of a fixed drawing on a 2D canvas (differs with GPU, driver and fonts).
    pub canvas_hash: Option<String>,
    /// WebGL unmasked vendor (`WEBGL_debug_renderer_info`), else `VENDOR`.
    pub webgl_vendor: Option<String>,
    /// WebGL unmasked renderer, else `RENDERER`.
    pub webgl_renderer: Option<String>,
    /// `navigator.webdriver`: the browser says it is driven by automation.
    pub webdriver: bool,
    /// `navigator.plugins.length`.
    pub plugins_count: u32,
    /// Automation tells found (see [`crate::sdk::automation_tells`]).
    pub automation: Vec<String>,
}

/// User-agent client hints (the low-entropy ones, readable without asking).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(default))]
pub struct ClientHints {
    /// Brands and major versions, `Chromium/120`.
    pub brands: Vec<String>,
    /// A mobile device.
    pub mobile: bool,
    /// Platform name (`Linux`, `Windows`, `macOS`, `Android`).
    pub platform: String,
}

/// `window.screen` and the device pixel ratio.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(default))]
pub struct ScreenSignals {
    /// `screen.width` in CSS pixels.
    pub width: u32,
    /// `screen.height`.
    pub height: u32,
    /// `screen.availWidth` (without task bars).
    pub avail_width: u32,
    /// `screen.availHeight`.
    pub avail_height: u32,
    /// `screen.colorDepth` in bits.
    pub color_depth: u32,
    /// `window.devicePixelRatio`.
    pub pixel_ratio: f64,
}

/// What the person did on the page: counts and timings only.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "openapi", derive(poem_openapi::Object))]
#[cfg_attr(feature = "openapi", oai(default))]
pub struct BehaviorSignals {
    /// Milliseconds from `init` to this snapshot.
    pub session_duration_ms: u64,
    /// Mouse (or pen) movement events.
    pub mouse_movements: u64,
    /// Clicks.
    pub clicks: u64,
    /// Touches.
    pub touches: u64,
    /// Key presses, counted; the keys themselves are never read.
    pub key_presses: u64,
    /// Mean interval between consecutive key presses (pauses over 2 s left out).
    pub key_interval_mean_ms: Option<f64>,
    /// Standard deviation of those intervals: scripts type with machine regularity.
    pub key_interval_stddev_ms: Option<f64>,
    /// Copy events.
    pub copy_events: u64,
    /// Cut events.
    pub cut_events: u64,
    /// Paste events.
    pub paste_events: u64,
    /// The kind of each field a paste landed in (`card_number`, `email`, …), in order.
    pub pasted_fields: Vec<String>,
    /// Focus moved into a form field.
    pub focus_events: u64,
    /// Focus left a form field.
    pub blur_events: u64,
    /// The page lost focus (another tab or window).
    pub window_blurs: u64,
    /// Milliseconds from `init` to the first mouse, key, touch or click.
    pub time_to_first_interaction_ms: Option<u64>,
    /// Events not produced by the user (`isTrusted` false): scripted.
    pub untrusted_events: u64,
}

impl BehaviorSignals {
    /// Copy, cut and paste events together (the assess `copy_paste_events`).
    pub fn copy_paste_events(&self) -> u64 {
        self.copy_events + self.cut_events + self.paste_events
    }
}

/// Longest accepted text value.
const MAX_TEXT: usize = 512;
/// Most list items accepted (languages, brands, pasted fields, tells).
const MAX_ITEMS: usize = 32;

impl SessionSignals {
    /// Checks what a browser sent before it is stored: the session id form,
    /// bounded texts and lists. Returns the offending field's path.
    pub fn validate(&self) -> Result<(), (&'static str, String)> {
        if !session::is_valid(&self.session_id) {
            return Err((
                "session_id",
                "session_id must be an id issued by the browser SDK (ps_<milliseconds>_<random>)"
                    .into(),
            ));
        }
        let d = &self.device;
        let texts = [
            ("device.fingerprint", Some(&d.fingerprint)),
            ("device.user_agent", Some(&d.user_agent)),
            ("device.language", Some(&d.language)),
            ("device.timezone", Some(&d.timezone)),
            ("device.platform", Some(&d.platform)),
            ("device.canvas_hash", d.canvas_hash.as_ref()),
            ("device.webgl_vendor", d.webgl_vendor.as_ref()),
            ("device.webgl_renderer", d.webgl_renderer.as_ref()),
        ];
        for (field, value) in texts {
            if let Some(v) = value {
                check_text(field, v)?;
            }
        }
        let hints = d.client_hints.as_ref();
        let lists = [
            ("device.languages", Some(&d.languages)),
            ("device.automation", Some(&d.automation)),
            ("device.client_hints.brands", hints.map(|h| &h.brands)),
            ("behavior.pasted_fields", Some(&self.behavior.pasted_fields)),
        ];
        for (field, list) in lists {
            let Some(list) = list else { continue };
            if list.len() > MAX_ITEMS {
                return Err((field, format!("{field} has at most {MAX_ITEMS} items")));
            }
            for v in list {
                check_text(field, v)?;
            }
        }
        if !d.fingerprint.is_empty() && !is_fingerprint(&d.fingerprint) {
            return Err((
                "device.fingerprint",
                "device.fingerprint must be fp_ and 20 hex characters".into(),
            ));
        }
        Ok(())
    }
}

/// Whether `s` is a fingerprint this SDK issues: `fp_` and 20 lower-case hex characters.
pub fn is_fingerprint(s: &str) -> bool {
    s.strip_prefix("fp_").is_some_and(|h| {
        h.len() == 20 && h.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn check_text(field: &'static str, v: &str) -> Result<(), (&'static str, String)> {
    if v.len() > MAX_TEXT {
        return Err((field, format!("{field} has at most {MAX_TEXT} bytes")));
    }
    if v.chars().any(char::is_control) {
        return Err((field, format!("{field} contains control characters")));
    }
    Ok(())
}
