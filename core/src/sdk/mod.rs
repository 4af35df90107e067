//! The browser SDK's domain: the device and behaviour signals a checkout
//! page collects, the `fp_…` fingerprint, the automation tells, and how a
//! registered session feeds a server-side assessment.
//!
//! The SDK (`sdk-wasm`) only reads browser APIs and hands the raw values to
//! this module, so the origin and the browser agree on every definition.
//!
//! # What is never collected
//!
//! Nothing the user types: no key values, no field contents, no clipboard
//! contents. Key presses are counted and timed; a paste is counted and the
//! *kind* of field it landed in (`card_number`, `email`, …) is recorded,
//! derived from the field's attributes, never from its value.
//!
//! # Layout
//!
//! - [`signals`]: the wire types of `POST /api/v1/sessions`.
//! - [`behavior`]: a pure accumulator of page interactions.
//! - [`fingerprint`]: the stable device hash and the automation tells.
//! - [`merge`]: filling an assess request from a stored session.
//! - [`text`]: small string helpers that keep the wasm download small.

pub mod behavior;
pub mod fingerprint;
pub mod merge;
pub mod signals;
pub mod text;

pub use behavior::{BehaviorTracker, FieldKind, Interaction};
pub use fingerprint::{automation_tells, fingerprint, short_hash};
pub use merge::{assess_fields, merge_into};
pub use signals::{BehaviorSignals, ClientHints, DeviceSignals, ScreenSignals, SessionSignals};
