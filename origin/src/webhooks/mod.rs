//! Outbound webhooks: the hardened HTTP [`sender`] and the delivery
//! [`worker`]. Events and deliveries are stored by `store::webhooks`;
//! endpoints are managed through `api::webhooks`.

pub mod sender;
pub mod worker;

pub use sender::Sender;
pub use worker::WorkerConfig;
