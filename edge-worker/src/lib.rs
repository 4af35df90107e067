//! Edge worker (placeholder until its issue lands): for now it re-exports the
//! blocklist types so the crate proves `clausum-core` links for wasm32.

pub use clausum_core::blocklist;
