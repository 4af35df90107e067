//! HTTP tests against a real port, every story on SQLite and PostgreSQL.

mod helpers;

mod assess;
mod auth;
mod idempotency;
mod limits;
mod openapi;
mod restart;
mod store;
mod system;
mod validation;
