//! The device fingerprint and the automation tells.
//!
//! # The fingerprint, component by component
//!
//! `fp_` + the first 20 hex characters of the SipHash-1-3 (128 bits, fixed
//! keys) of these components,
//! in this order, each followed by a unit separator (U+001F):
//!
//! 1. `user_agent` — browser, version and OS as the browser states them;
//! 2. `languages`, joined with `,` — the ordered preference list (locale);
//! 3. `timezone` — the IANA zone name (not the offset, which moves with DST);
//! 4. `screen.width` × `screen.height` — the screen, not the window (a
//!    resized window keeps its fingerprint);
//! 5. `screen.color_depth`;
//! 6. `screen.pixel_ratio`, in thousandths (zoom changes it);
//! 7. `hardware_concurrency` (empty when unknown);
//! 8. `device_memory_gb`, in thousandths (empty when unknown);
//! 9. `max_touch_points`;
//! 10. `platform`;
//! 11. client-hint `platform` and `mobile` (empty without client hints);
//! 12. `cookies_enabled`, `local_storage`, `session_storage`, `indexed_db` as `1`/`0`;
//! 13. `canvas_hash` — GPU, driver, anti-aliasing and fonts.
//!
//! Left out on purpose: the available screen size (task bars move), the
//! time-zone offset (DST), `webdriver`, plugins and everything behavioural —
//! they change between visits of the same browser. Also left out: the WebGL
//! vendor and renderer. Creating a WebGL context costs 10–20 ms, a fifth
//! of the SDK's start, so the SDK reads them just after the fingerprint is
//! ready and reports them as device signals of their own; the canvas hash
//! already differs with the graphics stack. The same browser profile
//! therefore gets the same fingerprint on every reload, and a different
//! locale, screen or graphics stack gets a different one.

use std::hash::Hasher;

use siphasher::sip128::{Hasher128, SipHasher13};

use super::signals::DeviceSignals;
use super::text::{contains, decimal, join};

const SEP: char = '\u{1f}';

/// The `fp_…` fingerprint of `d`'s stable components.
pub fn fingerprint(d: &DeviceSignals) -> String {
    let mut s = String::with_capacity(512);
    let mut push = |part: &str| {
        s.push_str(part);
        s.push(SEP);
    };
    // No `to_string` or `join`: this runs in the browser SDK (see `text`).
    let milli = |v: f64| decimal((v * 1000.0).round() as u64);
    let flag = |b: bool| if b { "1" } else { "0" };
    push(&d.user_agent);
    push(&join(&d.languages, ','));
    push(&d.timezone);
    push(&decimal(d.screen.width.into()));
    push(&decimal(d.screen.height.into()));
    push(&decimal(d.screen.color_depth.into()));
    push(&milli(d.screen.pixel_ratio));
    push(&d.hardware_concurrency.map(|v| decimal(v.into())).unwrap_or_default());
    push(&d.device_memory_gb.map(milli).unwrap_or_default());
    push(&decimal(d.max_touch_points.into()));
    push(&d.platform);
    let hints = d.client_hints.as_ref();
    push(hints.map_or("", |h| h.platform.as_str()));
    push(hints.map_or("", |h| flag(h.mobile)));
    for b in [d.cookies_enabled, d.local_storage, d.session_storage, d.indexed_db] {
        push(flag(b));
    }
    push(d.canvas_hash.as_deref().unwrap_or(""));
    let mut out = String::from("fp_");
    // The first 20 hex characters, without slicing a `str` (whose
    // out-of-range panic would pull Unicode tables into the download).
    push_hex(&mut out, hash128(&s), 20);
    out
}

/// Fixed keys: the hash identifies, it does not authenticate. (A
/// non-cryptographic hash keeps the browser's WebAssembly small.)
const KEYS: (u64, u64) = (0x636c_6175_7375_6d21, 0x6670_5f76_315f_7369);

/// 32 hex characters of the 128-bit SipHash-1-3 of `text` (canvas data
/// URLs and the fingerprint input both go through it).
pub fn short_hash(text: &str) -> String {
    let mut out = String::with_capacity(32);
    push_hex(&mut out, hash128(text), 32);
    out
}

/// The 128-bit SipHash-1-3 of `text` under [`KEYS`].
fn hash128(text: &str) -> u128 {
    let mut h = SipHasher13::new_with_keys(KEYS.0, KEYS.1);
    h.write(text.as_bytes());
    h.finish128().as_u128()
}

/// Appends the first `digits` (at most 32) hex characters of `v`, most
/// significant first.
fn push_hex(out: &mut String, v: u128, digits: u32) {
    for i in (32 - digits.min(32)..32).rev() {
        out.push(char::from(b"0123456789abcdef"[((v >> (i * 4)) & 0xf) as usize]));
    }
}

/// Headless or scripted browsers, as their user agent admits.
const HEADLESS_UA: &[&str] = &["headlesschrome", "phantomjs", "electron/", "slimerjs"];

/// Signs that a browser is driven by a program rather than a person:
///
/// - `webdriver`: `navigator.webdriver` is true (WebDriver, Playwright, Puppeteer);
/// - `headless_user_agent`: the user agent names a headless browser;
/// - `no_languages`: `navigator.languages` is empty (real browsers always list one);
/// - `language_mismatch`: `navigator.language` is not in `navigator.languages`;
/// - `no_plugins`: a desktop Chrome that lists no plugins (it lists five PDF
///   viewers since version 90; older headless modes list none).
pub fn automation_tells(d: &DeviceSignals) -> Vec<&'static str> {
    let ua = d.user_agent.to_ascii_lowercase();
    let mut tells = Vec::new();
    if d.webdriver {
        tells.push("webdriver");
    }
    if HEADLESS_UA.iter().any(|m| contains(&ua, m)) {
        tells.push("headless_user_agent");
    }
    if d.languages.is_empty() {
        tells.push("no_languages");
    } else if !d.language.is_empty()
        && !d.languages.iter().any(|l| l.eq_ignore_ascii_case(&d.language))
    {
        tells.push("language_mismatch");
    }
    let mobile = d.client_hints.as_ref().is_some_and(|h| h.mobile) || contains(&ua, "mobi");
    if contains(&ua, "chrome/") && !mobile && d.plugins_count == 0 {
        tells.push("no_plugins");
    }
    tells
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::signals::ScreenSignals;

    fn desktop() -> DeviceSignals {
        DeviceSignals {
            user_agent: "Mozilla/5.0 (X11; Linux x86_64) Chrome/120.0 Safari/537.36".into(),
            language: "es-MX".into(),
            languages: vec!["es-MX".into(), "es".into()],
            timezone: "America/Mexico_City".into(),
            timezone_offset_min: 360,
            screen: ScreenSignals {
                width: 1920,
                height: 1080,
                avail_width: 1920,
                avail_height: 1040,
                color_depth: 24,
                pixel_ratio: 1.0,
            },
            hardware_concurrency: Some(8),
            plugins_count: 5,
            canvas_hash: Some("abc".into()),
            ..Default::default()
        }
    }

    #[test]
    fn hex_is_the_standard_formatting_of_the_hash() {
        for text in ["", "a", "data:image/png;base64,iVBORw0KGgo=", "ñ\u{1f6e1}"] {
            let full = format!("{:032x}", hash128(text));
            assert_eq!(short_hash(text), full);
            let mut prefix = String::new();
            push_hex(&mut prefix, hash128(text), 20);
            assert_eq!(prefix, full[..20]);
        }
    }

    /// Stored fingerprints must stay comparable across releases: a change
    /// to the hash, its keys or the component order fails here.
    #[test]
    fn fingerprints_are_stable_across_releases() {
        assert_eq!(fingerprint(&desktop()), "fp_8e82bcc23d52cf2dd3b8");
    }

    #[test]
    fn same_components_same_fingerprint_and_volatile_ones_do_not_count() {
        let a = desktop();
        let fp = fingerprint(&a);
        assert!(crate::sdk::signals::is_fingerprint(&fp), "{fp}");
        let mut b = a.clone();
        b.screen.avail_height = 1000;
        b.timezone_offset_min = 300;
        b.webdriver = true;
        b.plugins_count = 0;
        // Read after the fingerprint (see the module documentation).
        b.webgl_renderer = Some("ANGLE".into());
        assert_eq!(fingerprint(&b), fp);
    }

    #[test]
    fn each_stable_component_changes_it() {
        let base = fingerprint(&desktop());
        let changes: [fn(&mut DeviceSignals); 7] = [
            |d| d.languages = vec!["en-US".into()],
            |d| d.timezone = "Europe/Madrid".into(),
            |d| d.screen.width = 1280,
            |d| d.screen.pixel_ratio = 2.0,
            |d| d.canvas_hash = Some("abd".into()),
            |d| d.hardware_concurrency = Some(4),
            |d| d.local_storage = true,
        ];
        for change in changes {
            let mut d = desktop();
            change(&mut d);
            assert_ne!(fingerprint(&d), base);
        }
    }

    #[test]
    fn tells() {
        assert!(automation_tells(&desktop()).is_empty());
        let mut d = desktop();
        d.webdriver = true;
        d.user_agent = d.user_agent.replace("Chrome/", "HeadlessChrome/");
        d.plugins_count = 0;
        d.language = "en-US".into();
        assert_eq!(
            automation_tells(&d),
            ["webdriver", "headless_user_agent", "language_mismatch", "no_plugins"]
        );
        d.languages.clear();
        assert!(automation_tells(&d).contains(&"no_languages"));
    }
}
