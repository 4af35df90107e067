//! HTTP tests against a real port, every story on SQLite and PostgreSQL.

mod helpers;

mod assess;
mod audit;
mod auth;
mod blocklists;
mod cases;
mod counters;
mod dashboard;
mod emails;
mod faults;
mod idempotency;
mod ingest;
mod isolation;
mod limits;
mod mass_assignment;
mod metrics;
mod monitor;
mod openapi;
mod pan_scan;
mod payout;
mod privacy;
mod providers;
mod replicas;
mod report;
mod restart;
mod rules;
mod sessions;
mod simulation;
mod store;
mod submerchants;
mod system;
mod team;
mod validation;
mod webhook_failures;
mod webhooks;
