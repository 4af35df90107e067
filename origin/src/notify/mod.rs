//! Email alerts: the parties of a fraud report's `notify` hear of it by
//! email. [`alert`] composes the messages (queued by
//! `store::notifications::email_fan_out!` in the report's transaction),
//! [`smtp`] sends one, [`worker`] drains the outbox. Recipients and the
//! outbox are managed through `api::notifications`.

pub mod alert;
pub mod smtp;
pub mod worker;

pub use smtp::Mailer;
