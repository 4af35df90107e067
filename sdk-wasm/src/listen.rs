//! Passive, capturing listeners on the document (and the window's own
//! `blur`): each event is one [`Interaction`] recorded with its time stamp
//! and `isTrusted`. Nothing is read from an event but its type, time, trust
//! and — for a paste — the target field's attributes.

use std::{cell::RefCell, rc::Rc};

use clausum_core::sdk::{BehaviorTracker, FieldKind, Interaction};
use wasm_bindgen::{JsCast, JsValue, closure::Closure};
use web_sys::{AddEventListenerOptions, Element, Event, EventTarget, Window};

type Handler = Closure<dyn FnMut(Event)>;

/// Document events and what they count as (`paste` is handled apart).
const DOCUMENT_EVENTS: [(&str, Interaction); 9] = [
    ("mousemove", Interaction::MouseMove),
    ("click", Interaction::Click),
    ("touchstart", Interaction::Touch),
    ("keydown", Interaction::KeyDown),
    ("copy", Interaction::Copy),
    ("cut", Interaction::Cut),
    ("focusin", Interaction::FocusIn),
    ("focusout", Interaction::FocusOut),
    ("paste", Interaction::Paste(FieldKind::Other)),
];

/// The installed listeners. Dropping them removes them first: a listener
/// left behind would call a freed closure.
pub struct Listeners {
    installed: Vec<(EventTarget, &'static str, bool, Handler)>,
}

impl Listeners {
    /// Installs every listener on `window`'s document and on `window`.
    pub fn install(
        window: &Window,
        tracker: &Rc<RefCell<BehaviorTracker>>,
    ) -> Result<Self, JsValue> {
        let document = window.document().ok_or_else(|| JsValue::from_str("no document"))?;
        let mut installed: Vec<(EventTarget, &str, bool, Handler)> =
            Vec::with_capacity(DOCUMENT_EVENTS.len() + 1);
        for (name, kind) in DOCUMENT_EVENTS {
            let tracker = tracker.clone();
            let handler = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
                let kind = match kind {
                    Interaction::Paste(_) => Interaction::Paste(field_kind(&e)),
                    other => other,
                };
                tracker.borrow_mut().record(kind, e.time_stamp(), e.is_trusted());
            });
            installed.push((document.clone().into(), name, true, handler));
        }
        // The window's own blur (another tab or window took focus): not
        // captured, so element blurs inside the page do not count.
        let tracker = tracker.clone();
        let handler = Closure::<dyn FnMut(Event)>::new(move |e: Event| {
            tracker.borrow_mut().record(Interaction::WindowBlur, e.time_stamp(), e.is_trusted());
        });
        installed.push((window.clone().into(), "blur", false, handler));

        for (target, name, capture, handler) in &installed {
            let options = AddEventListenerOptions::new();
            options.set_passive(true);
            options.set_capture(*capture);
            target.add_event_listener_with_callback_and_add_event_listener_options(
                name,
                handler.as_ref().unchecked_ref(),
                &options,
            )?;
        }
        Ok(Listeners { installed })
    }

    /// Removes every listener (idempotent).
    pub fn remove(&mut self) {
        for (target, name, capture, handler) in self.installed.drain(..) {
            let _ = target.remove_event_listener_with_callback_and_bool(
                name,
                handler.as_ref().unchecked_ref(),
                capture,
            );
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.remove();
    }
}

/// The kind of field a paste landed in, from its attributes (never its value).
fn field_kind(e: &Event) -> FieldKind {
    let Some(el) = e.target().and_then(|t| t.dyn_into::<Element>().ok()) else {
        return FieldKind::Other;
    };
    let attr = |name: &str| el.get_attribute(name).unwrap_or_default();
    FieldKind::classify(&attr("autocomplete"), &attr("type"), &attr("name"), &attr("id"))
}
