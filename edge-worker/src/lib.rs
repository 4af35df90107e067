//! # clausum-edge
//!
//! A Cloudflare Worker (workers-rs) in front of the Clausum origin. It
//! answers what it can decide with certainty close to the payer — a
//! `block` blocklist hit declines (unless the request carries an
//! idempotency key: a retry's answer is the origin's), an unknown key is
//! refused — and forwards everything else, adding what only the edge knows
//! about the connection.
//!
//! The decisions are `clausum-core`'s, compiled to wasm32: the request is
//! parsed and normalised by [`clausum_core::transaction`], probed by
//! [`clausum_core::engine::prescreen`] against a
//! [`clausum_core::blocklist::snapshot::Snapshot`] the origin built. This
//! crate only converts types at the boundary and manages the cache:
//!
//! - [`config`]: settings from `wrangler.toml` and secrets;
//! - [`keys`]: API key checks against the origin's key manifest;
//! - [`screen`]: one request in, a decline (in the origin's shape) or "forward" out;
//! - [`freshness`]: when a cached copy may be decided on;
//! - [`resources`]: what is cached, and what a purge drops of it;
//! - [`ids`]: transaction and session ids for edge answers;
//! - `runtime` (wasm32 only): routing, caches, purges, forwarding.

pub mod config;
pub mod freshness;
pub mod ids;
pub mod keys;
pub mod resources;
pub mod screen;

#[cfg(target_arch = "wasm32")]
mod runtime;
