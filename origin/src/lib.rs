//! # clausum-origin
//!
//! The authoritative API server: partner API (assess), storage on SQLite
//! or PostgreSQL, and the in-memory state that keeps assess off the
//! database's critical path.
//!
//! # Layout
//!
//! - [`config`]: `CLAUSUM_*` environment variables.
//! - [`store`]: the storage trait and its two sqlx backends, plus the
//!   group-commit writer.
//! - [`state`]: in-memory keys, organisations, blocklists, rules,
//!   velocity and payer history, rebuilt from the database on start.
//! - [`assess`]: the assess pipeline around `clausum_core::engine`.
//! - [`api`]: poem-openapi operations; [`error`] and [`payload`] give every
//!   answer the documented shape.
//! - [`auth`], [`limiter`], [`idempotency`]: who may call, how often, and
//!   how retries stay safe.
//! - [`bootstrap`]: new organisations with their first keys.
//! - [`geo`]: IP → country from an MMDB database.
//! - [`edge`]: what the edge worker downloads, records and is told to purge.
//! - [`background`]: the background workers (webhook deliveries, alert
//!   emails) and how they stop — as a crash would, or gracefully, giving
//!   back the claims they will not send.

pub mod api;
pub mod assess;
pub mod auth;
pub mod auto_case;
pub mod background;
pub mod bootstrap;
pub mod config;
pub mod counters;
pub mod edge;
pub mod error;
pub mod events;
pub mod geo;
pub mod idempotency;
pub mod ingest;
pub mod limiter;
pub mod metrics;
pub mod notify;
pub mod payload;
pub mod providers;
pub mod report;
pub mod server;
pub mod simulation;
pub mod state;
pub mod store;
pub mod sync;
pub mod time;
pub mod webhooks;
