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
    #[arg(
        long,
        env = "CLAUSUM_DATABASE_URL",
        default_value = "sqlite://clausum.db",
        hide_env_values = true
    )]
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

    /// Secret signing the dashboard tokens the origin issues (at least 32
    /// characters). When unset, one is generated on first start and kept in
    /// the database, so tokens survive restarts and work on every replica.
    #[arg(long, env = "CLAUSUM_JWT_SECRET", hide_env_values = true)]
    pub jwt_secret: Option<String>,

    /// Lifetime of dashboard tokens, in seconds.
    #[arg(long, env = "CLAUSUM_JWT_TTL_SECS", default_value_t = 3_600)]
    pub jwt_ttl_secs: u64,

    /// External identity provider: expected `iss` of its tokens. Setting it
    /// turns on acceptance of that provider's tokens.
    #[arg(long, env = "CLAUSUM_IDP_ISSUER")]
    pub idp_issuer: Option<String>,

    /// External identity provider: expected `aud` (default `authenticated`,
    /// as Supabase issues).
    #[arg(long, env = "CLAUSUM_IDP_AUDIENCE", default_value = "authenticated")]
    pub idp_audience: String,

    /// External identity provider: URL of its JWKS (asymmetric keys).
    #[arg(long, env = "CLAUSUM_IDP_JWKS_URL")]
    pub idp_jwks_url: Option<String>,

    /// External identity provider: shared HS256 secret, when it signs with one.
    #[arg(long, env = "CLAUSUM_IDP_HS256_SECRET", hide_env_values = true)]
    pub idp_hs256_secret: Option<String>,

    /// Largest accepted bulk-import body (CSV or JSON lines), in bytes.
    #[arg(long, env = "CLAUSUM_MAX_IMPORT_BYTES", default_value_t = 16 * 1024 * 1024)]
    pub max_import_bytes: usize,

    /// Run the webhook delivery worker in this process.
    #[arg(long, env = "CLAUSUM_WEBHOOK_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub webhook_worker: bool,

    /// Shared secret of an edge deployment (the worker's `EDGE_TOKEN`):
    /// turns on `/api/v1/edge/*` (key manifest, blocklist snapshots,
    /// records of edge declines). At least 32 characters.
    #[arg(long, env = "CLAUSUM_EDGE_TOKEN", hide_env_values = true)]
    pub edge_token: Option<String>,

    /// The edge worker's purge URL (`https://…/__clausum/purge`), called
    /// after every blocklist change so the edge stops using its copy.
    #[arg(long, env = "CLAUSUM_EDGE_PURGE_URL")]
    pub edge_purge_url: Option<String>,

    /// Allow `http://localhost` webhook endpoints (local development and
    /// tests only; production endpoints must be public `https`).
    #[arg(long, env = "CLAUSUM_WEBHOOKS_ALLOW_HTTP_LOOPBACK", default_value_t = false, action = clap::ArgAction::Set)]
    pub webhooks_allow_http_loopback: bool,

    /// Fixed DNS answers for webhook hosts, `host=ip,host=ip` (like curl's
    /// `--resolve`: split-horizon setups and tests). The SSRF rules apply
    /// to these addresses too.
    #[arg(long, env = "CLAUSUM_WEBHOOK_RESOLVE", default_value = "")]
    pub webhook_resolve: String,

    /// Multiplies the webhook retry schedule (5 s … 12 h, about 2.7 days
    /// in all); below 1 only for tests.
    #[arg(long, env = "CLAUSUM_WEBHOOK_RETRY_SCALE", default_value_t = 1.0)]
    pub webhook_retry_scale: f64,

    /// How long a worker's claim on a delivery lasts, in milliseconds.
    #[arg(long, env = "CLAUSUM_WEBHOOK_LEASE_MS", default_value_t = 60_000)]
    pub webhook_lease_ms: i64,

    /// An endpoint is disabled after this many failed attempts in a row…
    #[arg(long, env = "CLAUSUM_WEBHOOK_DISABLE_AFTER_FAILURES", default_value_t = 50)]
    pub webhook_disable_after_failures: i64,

    /// …once it has been failing for this many milliseconds (default 5 days).
    #[arg(long, env = "CLAUSUM_WEBHOOK_DISABLE_AFTER_MS", default_value_t = 432_000_000)]
    pub webhook_disable_after_ms: i64,

    /// SMTP server for email alerts: `smtp://host:port` (plain),
    /// `smtp://user:pass@host:587?tls=required` (STARTTLS), `smtps://…`
    /// (TLS). Unset: alerts are recorded (and listed), not sent.
    #[arg(long, env = "CLAUSUM_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// Sender address of email alerts.
    #[arg(long, env = "CLAUSUM_SMTP_FROM", default_value = "alerts@clausum.local")]
    pub smtp_from: String,

    /// Multiplies the email retry schedule (the webhooks' 5 s … 12 h); below
    /// 1 only for tests.
    #[arg(long, env = "CLAUSUM_EMAIL_RETRY_SCALE", default_value_t = 1.0)]
    pub email_retry_scale: f64,

    /// Run the email alert worker in this process.
    #[arg(long, env = "CLAUSUM_EMAIL_WORKER", default_value_t = true, action = clap::ArgAction::Set)]
    pub email_worker: bool,

    /// Assessments in flight at once before new ones are answered `503
    /// ASSESS_MAINTENANCE` with `Retry-After` (load shedding: answer fast
    /// rather than queue until clients time out).
    #[arg(long, env = "CLAUSUM_MAX_INFLIGHT_ASSESS", default_value_t = 512)]
    pub max_inflight_assess: usize,

    /// Redis (`redis://host:6379/0`) for velocity and rate limits shared by
    /// every replica.
    #[arg(long, env = "CLAUSUM_REDIS_URL", hide_env_values = true)]
    pub redis_url: Option<String>,

    /// This process is the only replica: with PostgreSQL and no Redis,
    /// count velocity and rate limits in memory.
    #[arg(long, env = "CLAUSUM_SINGLE_NODE", default_value_t = false, action = clap::ArgAction::Set)]
    pub single_node: bool,

    /// Skip creating the sandbox organisation on a first start.
    #[arg(long, env = "CLAUSUM_NO_BOOTSTRAP", default_value_t = false)]
    pub no_bootstrap: bool,
}

impl Config {
    /// The webhook worker's settings.
    pub fn webhook_worker_config(&self) -> crate::webhooks::WorkerConfig {
        crate::webhooks::WorkerConfig {
            lease_ms: self.webhook_lease_ms.max(1),
            retry_scale: self.webhook_retry_scale.clamp(0.0, 1000.0),
            disable_after_failures: self.webhook_disable_after_failures.max(1),
            disable_after_ms: self.webhook_disable_after_ms.max(0),
            ..Default::default()
        }
    }

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
            redis_url: None,
            single_node: true,
            max_inflight_assess: 512,
            jwt_secret: None,
            jwt_ttl_secs: 3_600,
            idp_issuer: None,
            idp_audience: "authenticated".into(),
            idp_jwks_url: None,
            idp_hs256_secret: None,
            max_import_bytes: 16 * 1024 * 1024,
            webhook_worker: true,
            webhooks_allow_http_loopback: false,
            webhook_resolve: String::new(),
            webhook_retry_scale: 1.0,
            webhook_lease_ms: 60_000,
            webhook_disable_after_failures: 50,
            webhook_disable_after_ms: 432_000_000,
            smtp_url: None,
            smtp_from: "alerts@clausum.local".into(),
            email_retry_scale: 1.0,
            email_worker: true,
            edge_token: None,
            edge_purge_url: None,
        }
    }
}
