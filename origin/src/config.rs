//! Configuration from `CLAUSUM_*` environment variables, with defaults that
//! make `clausum-origin serve` work on a fresh machine with nothing else.

use std::net::SocketAddr;

use clap::Args;

use crate::payload::DEFAULT_MAX_BODY_BYTES;

/// Server configuration. Every field is also a `serve` flag.
#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: `sqlite://path/to/file.db` (default, created if missing)
    /// or `postgres://user@host/db`.
    #[arg(long, env = "CLAUSUM_DATABASE_URL", default_value = "sqlite://clausum.db")]
    pub database_url: String,

    /// Address to listen on.
    #[arg(long, env = "CLAUSUM_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Largest accepted request body in bytes; larger bodies get 413.
    #[arg(long, env = "CLAUSUM_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Deadline for one assess, in milliseconds; past it the answer is 504
    /// `ASSESS_TIMEOUT` (retry with the same idempotency key).
    #[arg(long, env = "CLAUSUM_ASSESS_TIMEOUT_MS", default_value_t = 2_000)]
    pub assess_timeout_ms: u64,

    /// Secret (32 hex characters) keying the digests of in-memory indexes.
    /// When unset, one is generated on first start and kept in the database.
    #[arg(long, env = "CLAUSUM_HASH_KEY", hide_env_values = true)]
    pub hash_key: Option<String>,

    /// IP → country database (MMDB). Defaults to `data/geo-whois-asn-country.mmdb`
    /// when that file exists (`scripts/fetch-geoip.sh` fetches it).
    #[arg(long, env = "CLAUSUM_GEOIP_DB")]
    pub geoip_db: Option<std::path::PathBuf>,

    /// Skip creating the sandbox organisation on a first start.
    #[arg(long, env = "CLAUSUM_NO_BOOTSTRAP", default_value_t = false)]
    pub no_bootstrap: bool,
}

impl Config {
    /// A configuration for tests and benchmarks: the given database, an
    /// ephemeral port, no bootstrap.
    pub fn for_database(database_url: &str) -> Self {
        Config {
            database_url: database_url.to_owned(),
            listen: "127.0.0.1:0".parse().expect("valid"),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            assess_timeout_ms: 2_000,
            hash_key: None,
            geoip_db: None,
            no_bootstrap: true,
        }
    }
}
