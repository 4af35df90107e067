//! Behaviour from `init` until a snapshot: a pure accumulator the browser
//! SDK feeds from passive event listeners.
//!
//! It receives *what happened* and *when* — never a key, a field value or
//! clipboard contents — and answers counts and timing statistics.

use super::signals::BehaviorSignals;

/// Intervals between key presses longer than this are pauses (reading,
/// switching fields), not typing cadence, and are left out of it.
pub const MAX_KEY_INTERVAL_MS: f64 = 2_000.0;

/// Most pasted-field kinds remembered (the count goes on).
const MAX_PASTED_FIELDS: usize = 16;

/// One thing the person (or a script) did on the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interaction {
    /// The pointer moved.
    MouseMove,
    /// A click.
    Click,
    /// A touch started.
    Touch,
    /// A key went down (which key is never known here).
    KeyDown,
    /// Copy.
    Copy,
    /// Cut.
    Cut,
    /// Paste into a field of this kind.
    Paste(FieldKind),
    /// Focus entered a form field.
    FocusIn,
    /// Focus left a form field.
    FocusOut,
    /// The window lost focus.
    WindowBlur,
}

/// What a form field is for, judged from its attributes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A card number: pasting one is a classic sign of stolen card lists.
    CardNumber,
    /// Card expiry.
    CardExpiry,
    /// Card security code.
    CardCvc,
    /// Cardholder or person name.
    Name,
    /// Email.
    Email,
    /// Phone.
    Phone,
    /// Password.
    Password,
    /// Postal address parts.
    Address,
    /// Anything else (or no field at all).
    Other,
}

impl FieldKind {
    /// The wire name (`card_number`, …).
    pub fn as_str(self) -> &'static str {
        match self {
            FieldKind::CardNumber => "card_number",
            FieldKind::CardExpiry => "card_expiry",
            FieldKind::CardCvc => "card_cvc",
            FieldKind::Name => "name",
            FieldKind::Email => "email",
            FieldKind::Phone => "phone",
            FieldKind::Password => "password",
            FieldKind::Address => "address",
            FieldKind::Other => "other",
        }
    }

    /// Classifies a field from its `autocomplete`, `type`, `name` and `id`
    /// attributes (any may be empty). `autocomplete` is the standard's own
    /// vocabulary and wins; names are matched on common spellings.
    pub fn classify(autocomplete: &str, input_type: &str, name: &str, id: &str) -> FieldKind {
        let ac = autocomplete.to_ascii_lowercase();
        // The last token names the field (`section-x shipping cc-number`).
        match ac.split_ascii_whitespace().last().unwrap_or("") {
            "cc-number" => return FieldKind::CardNumber,
            "cc-exp" | "cc-exp-month" | "cc-exp-year" => return FieldKind::CardExpiry,
            "cc-csc" => return FieldKind::CardCvc,
            "cc-name" | "name" | "given-name" | "family-name" => return FieldKind::Name,
            "email" => return FieldKind::Email,
            "tel" | "tel-national" => return FieldKind::Phone,
            "current-password" | "new-password" => return FieldKind::Password,
            "street-address" | "address-line1" | "address-line2" | "postal-code" => {
                return FieldKind::Address;
            }
            _ => {}
        }
        match input_type.to_ascii_lowercase().as_str() {
            "email" => return FieldKind::Email,
            "tel" => return FieldKind::Phone,
            "password" => return FieldKind::Password,
            _ => {}
        }
        let text: String = name
            .chars()
            .chain(core::iter::once(' '))
            .chain(id.chars())
            .filter(|c| !matches!(c, '-' | '_'))
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let has = |words: &[&str]| words.iter().any(|w| super::text::contains(&text, w));
        if has(&["cvc", "cvv", "csc", "securitycode"]) {
            FieldKind::CardCvc
        } else if has(&["exp", "vencimiento"]) {
            FieldKind::CardExpiry
        } else if has(&["cardnumber", "ccnumber", "ccnum", "pan", "cardno", "tarjeta"]) {
            FieldKind::CardNumber
        } else if has(&["email", "correo"]) {
            FieldKind::Email
        } else if has(&["phone", "tel", "mobile", "celular"]) {
            FieldKind::Phone
        } else if has(&["password", "passwd", "pwd"]) {
            FieldKind::Password
        } else if has(&["name", "nombre"]) {
            FieldKind::Name
        } else if has(&["address", "street", "zip", "postal", "direccion"]) {
            FieldKind::Address
        } else {
            FieldKind::Other
        }
    }
}

/// Accumulates interactions. Times are milliseconds on any monotonic clock
/// (the SDK uses `performance.now()`), the same for every call.
#[derive(Debug, Clone, Default)]
pub struct BehaviorTracker {
    started_ms: f64,
    counts: BehaviorSignals,
    first_interaction_ms: Option<f64>,
    last_key_ms: Option<f64>,
    // Welford's running mean and sum of squares of key intervals.
    key_intervals: u64,
    key_mean: f64,
    key_m2: f64,
}

impl BehaviorTracker {
    /// Starts tracking at `started_ms`.
    pub fn new(started_ms: f64) -> Self {
        BehaviorTracker { started_ms, ..Default::default() }
    }

    /// Records one interaction at `at_ms`; `trusted` is the event's `isTrusted`.
    pub fn record(&mut self, what: Interaction, at_ms: f64, trusted: bool) {
        let c = &mut self.counts;
        if !trusted {
            c.untrusted_events += 1;
        }
        let user_input = matches!(
            what,
            Interaction::MouseMove | Interaction::Click | Interaction::Touch | Interaction::KeyDown
        );
        if user_input && self.first_interaction_ms.is_none() {
            self.first_interaction_ms = Some(at_ms);
        }
        match what {
            Interaction::MouseMove => c.mouse_movements += 1,
            Interaction::Click => c.clicks += 1,
            Interaction::Touch => c.touches += 1,
            Interaction::KeyDown => {
                c.key_presses += 1;
                if let Some(last) = self.last_key_ms.replace(at_ms) {
                    let gap = at_ms - last;
                    if (0.0..=MAX_KEY_INTERVAL_MS).contains(&gap) {
                        self.key_intervals += 1;
                        let delta = gap - self.key_mean;
                        self.key_mean += delta / self.key_intervals as f64;
                        self.key_m2 += delta * (gap - self.key_mean);
                    }
                }
            }
            Interaction::Copy => c.copy_events += 1,
            Interaction::Cut => c.cut_events += 1,
            Interaction::Paste(kind) => {
                c.paste_events += 1;
                if c.pasted_fields.len() < MAX_PASTED_FIELDS {
                    c.pasted_fields.push(kind.as_str().to_owned());
                }
            }
            Interaction::FocusIn => c.focus_events += 1,
            Interaction::FocusOut => c.blur_events += 1,
            Interaction::WindowBlur => c.window_blurs += 1,
        }
    }

    /// The signals as of `now_ms`.
    pub fn snapshot(&self, now_ms: f64) -> BehaviorSignals {
        let mut out = self.counts.clone();
        out.session_duration_ms = ms(now_ms - self.started_ms);
        out.time_to_first_interaction_ms =
            self.first_interaction_ms.map(|t| ms(t - self.started_ms));
        if self.key_intervals > 0 {
            out.key_interval_mean_ms = Some(round1(self.key_mean));
            out.key_interval_stddev_ms =
                Some(round1((self.key_m2 / self.key_intervals as f64).sqrt()));
        }
        out
    }
}

fn ms(v: f64) -> u64 {
    if v > 0.0 { v as u64 } else { 0 }
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

#[cfg(test)]
#[path = "behavior_tests.rs"]
mod tests;
