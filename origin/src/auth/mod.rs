//! Who is calling.
//!
//! - [`partner`]: the Partner API's keys (`Authorization: Bearer clm_…`).
//! - [`jwt`]: dashboard tokens — the origin's own (issued on login) and,
//!   when configured, an external identity provider's.
//! - [`dashboard`]: the management API's security scheme, which turns a
//!   verified token into a [`dashboard::Principal`] with a role.
//! - [`password`]: Argon2 hashing of dashboard passwords.
//! - [`caller`]: routes open to a dashboard user or a secret key.

pub mod caller;
pub mod dashboard;
pub mod jwt;
pub mod partner;
pub mod password;

pub use caller::Caller;
pub use dashboard::{DashboardToken, Principal};
pub use partner::PartnerKey;
