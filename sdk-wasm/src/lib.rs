//! Browser SDK (placeholder until its issue lands): for now it re-exports the
//! session id format so the crate proves `clausum-core` links for wasm32.

pub use clausum_core::session;
