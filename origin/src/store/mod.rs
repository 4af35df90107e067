//! Storage: one trait, two sqlx backends.
//!
//! [`Store`] is everything the server asks of its database. SQLite (the
//! embedded default: a file created on first start) and PostgreSQL (for
//! several replicas) implement it with the same SQL — both schemas use the
//! same portable column types — generated once by the `sql_store!` macro in
//! [`sql`]. Each backend applies its own `migrations/<backend>/` on start.

mod audit;
mod blocklists;
mod cases;
pub mod ingest;
mod keys;
pub mod notifications;
pub(crate) mod outbox;
mod overview;
pub mod packed;
pub mod providers;
mod rules;
pub mod sessions;
pub mod simulations;
mod sql;
pub mod sqlite_writer;
pub mod submerchants;
mod transactions;
mod users;
pub mod webhooks;
pub mod writer;

use async_trait::async_trait;

pub use audit::{AuditFilter, AuditRow, AuditStore};
pub use blocklists::{BlocklistFilter, BlocklistStore};
pub use cases::{
    ActivityRow, CaseFilter, CaseRow, CaseStats, CaseStore, EvidenceRow, FraudReportOutcome,
    FraudReportPlan, PlannedEntry, ReportTarget, SORTABLE as CASE_SORTABLE,
};
pub use ingest::{
    AlertRow, IngestOutcome, IngestStore, Ingested, IngestedEventRow, IngestionRuleRow,
};
pub use keys::KeyStore;
pub use notifications::{EmailOutcome, EmailRow, NotificationStore};
pub use outbox::{OutboxEventRow, OutboxStore};
pub use overview::{DecisionSlot, OverviewFilter, OverviewStore};
pub use providers::{
    CaseOpening, DisputeRow, ProviderEventPlan, ProviderEventRow, ProviderSecretRow, ProviderStore,
    TransactionLink,
};
pub use rules::RuleStore;
pub use sessions::{SdkSessionRow, SessionStore};
pub use simulations::{RecordedRow, SimulationRow, SimulationStore};
pub use sql::{CHANGES_CHANNEL, PgStore, SqliteStore};
pub use submerchants::{SubmerchantFilter, SubmerchantRow, SubmerchantStore};
pub use transactions::{TransactionFilter, TransactionStore};
pub use users::{InviteRow, UserStore};
pub use webhooks::{
    AttemptOutcome, AttemptRow, DeliveryRow, DueDelivery, EndpointRow, WebhookStore,
};

/// Storage errors. Their text is logged, never sent to clients.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write.
    #[error("duplicate: {0}")]
    Duplicate(String),
    /// The database failed or is unreachable.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The group-commit writer's own SQLite connection failed to open.
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    /// The group-commit writer's thread could not start.
    #[error("starting the writer thread: {0}")]
    WriterThread(std::io::Error),
    /// A stored document did not parse.
    #[error("corrupt stored value: {0}")]
    Corrupt(String),
}

/// Result alias for storage calls.
pub type StoreResult<T> = Result<T, StoreError>;

/// An organisation.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrganizationRow {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// `comercio`, `psp` or `banco`.
    pub segment: String,
    /// The policy document (JSON).
    pub policy: String,
    /// Unix ms.
    pub created_at: i64,
}

/// A dashboard user.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct UserRow {
    /// `usr_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Login email (lower-case).
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// Argon2 PHC string; `None` for users who only sign in through the
    /// external identity provider.
    pub password_hash: Option<String>,
    /// `admin`, `analyst`, `viewer` or `compliance_officer`.
    pub role: String,
    /// `sub` of the external identity provider, once linked.
    pub external_subject: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms when the user was removed from the team.
    pub disabled_at: Option<i64>,
}

/// An API key as stored: its hash, never its text.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiKeyRow {
    /// `key_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `secret`, `publishable` or `ingest`.
    pub kind: String,
    /// Label.
    pub name: String,
    /// Hex SHA-256 of the key text.
    pub key_hash: String,
    /// Non-secret label (`clm_sk_AbCd…wxyz`).
    pub display_prefix: String,
    /// JSON array of permission strings.
    pub permissions: String,
    /// Requests admitted per sliding minute.
    pub rate_limit_per_minute: i64,
    /// Requests admitted per sliding day, if limited.
    pub rate_limit_per_day: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which the key stops working.
    pub expires_at: Option<i64>,
    /// Unix ms when revoked.
    pub revoked_at: Option<i64>,
}

/// A blocklist entry.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct BlocklistRow {
    /// `bl_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// List type wire name.
    pub list_type: String,
    /// Normalised value.
    pub value: String,
    /// `block`, `flag` or `review`.
    pub severity: String,
    /// `payin`, `payout` or `all`.
    pub flow_scope: String,
    /// Why it was added.
    pub reason: Option<String>,
    /// `manual`, `rule`, `fraud_report`, `chargeback` or `api`.
    pub source: String,
    /// Inactive entries are kept for audit but never match.
    pub is_active: bool,
    /// Unix ms.
    pub expires_at: Option<i64>,
    /// Unix ms.
    pub created_at: i64,
    /// Who added it: `user:<id>`, `key:<id>` or `None` for imports by the CLI.
    pub created_by: Option<String>,
    /// Unix ms of the last change.
    pub updated_at: i64,
}

/// A custom rule.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RuleRow {
    /// `rule_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Unique name within the organisation.
    pub name: String,
    /// Rule source text.
    pub source: String,
    /// Lower runs first.
    pub priority: i64,
    /// Disabled rules are kept but not evaluated.
    pub enabled: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

/// A recorded assessment.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct TransactionRow {
    /// `txn_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// The key that asked.
    pub api_key_id: String,
    /// `payin` or `payout`.
    pub flow: String,
    /// `assess`, or `fraud_report` for a transaction first seen in a report.
    pub source: String,
    /// Session id returned to the caller (`None` for reported-only rows).
    pub session_id: Option<String>,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO currency.
    pub currency: String,
    /// Normalised payer email.
    pub email: Option<String>,
    /// Card BIN (never a full card number).
    pub card_bin: Option<String>,
    /// Card last 4.
    pub card_last4: Option<String>,
    /// Payer IP.
    pub ip: Option<String>,
    /// Device fingerprint.
    pub device_fingerprint: Option<String>,
    /// Merchant customer id.
    pub customer_id: Option<String>,
    /// A payout's origin account (`origin.account_id`).
    pub account_id: Option<String>,
    /// Merchant order id.
    pub order_id: Option<String>,
    /// Merchant payment id.
    pub payment_id: Option<String>,
    /// PSP submerchant.
    pub submerchant_id: Option<String>,
    /// Decision wire name (`None` for reported-only rows).
    pub decision: Option<String>,
    /// 0–100.
    pub risk_score: Option<i64>,
    /// Hard-block reason.
    pub blocked_by: Option<String>,
    /// JSON array of the fired signal codes, on rows written before assess
    /// stopped repeating the response's `signals` here (NULL since): read
    /// [`TransactionRow::signal_codes`].
    pub signals: Option<String>,
    /// The normalised, PAN-free request (JSON).
    #[sqlx(try_from = "packed::PackedText")]
    pub request: String,
    /// The exact response body sent (JSON), replayed on idempotent retries.
    #[sqlx(try_from = "packed::PackedText")]
    pub response: Option<String>,
    /// Idempotency key, if any.
    pub idempotency_key: Option<String>,
    /// Hex SHA-256 of the canonical request, to refuse a reused key with a different body.
    pub request_hash: Option<String>,
    /// Confirmed fraud.
    pub is_fraudulent: bool,
    /// Unix ms.
    pub created_at: i64,
    /// Payment provider named by a fraud report (`stripe`, …).
    pub provider: Option<String>,
    /// The provider's id of the transaction, from a fraud report.
    pub external_id: Option<String>,
    /// Fraud reason of the report.
    pub fraud_reason: Option<String>,
    /// Unix ms of the fraud report.
    pub fraud_reported_at: Option<i64>,
    /// Unix ms when the caller released it (`POST /api/v1/assess/release`).
    pub released_at: Option<i64>,
}

impl TransactionRow {
    /// The codes of the signals that fired: the response's `signals` (or
    /// the `signals` column of a row that has it); none for a row never
    /// assessed.
    pub fn signal_codes(&self) -> Vec<String> {
        /// Only the field wanted; the rest of the response is skipped.
        #[derive(serde::Deserialize)]
        struct Signals {
            signals: Vec<String>,
        }
        if let Some(codes) = self.signals.as_deref().and_then(|s| serde_json::from_str(s).ok()) {
            return codes;
        }
        self.response
            .as_deref()
            .and_then(|r| serde_json::from_str::<Signals>(r).ok())
            .map(|s| s.signals)
            .unwrap_or_default()
    }
}

/// A stored response for an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct IdempotentReplay {
    /// Hash of the request that produced it.
    pub request_hash: String,
    /// The response body.
    pub response: String,
}

/// What happened to one row of a batch insert.
#[derive(Debug, Clone, PartialEq)]
pub enum InsertOutcome {
    /// Written.
    Inserted,
    /// Another transaction already holds this idempotency key.
    IdempotencyConflict,
}

/// A page of results and the number of rows matching the filter.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows matching the filter across every page.
    pub total: i64,
}

/// Everything the server asks of its database: the core below, plus one
/// trait per management resource.
#[async_trait]
pub trait Store:
    UserStore
    + BlocklistStore
    + CaseStore
    + AuditStore
    + RuleStore
    + OverviewStore
    + OutboxStore
    + WebhookStore
    + ProviderStore
    + IngestStore
    + NotificationStore
    + SessionStore
    + SubmerchantStore
    + SimulationStore
    + TransactionStore
    + KeyStore
    + Send
    + Sync
    + 'static
{
    /// Which backend (`sqlite` or `postgres`), for logs and health.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> StoreResult<()>;
    /// A connection of its own for the group-commit writer's thread
    /// (SQLite on a file); `None` when batches go through the pool.
    fn batch_writer(&self) -> StoreResult<Option<sqlite_writer::SqliteBatchWriter>>;
    /// Tells every replica listening on the database that something changed
    /// (PostgreSQL `NOTIFY`; a no-op on SQLite, which has one node).
    async fn notify_change(&self, payload: &str) -> StoreResult<()>;
    /// The PostgreSQL pool to LISTEN on, if this backend has replicas.
    fn listen_pool(&self) -> Option<sqlx::PgPool>;
    /// Connections of the pool: `(open, idle, max)`.
    fn pool_state(&self) -> (u32, u32, u32);
    /// Round trip to the database (health check).
    async fn ping(&self) -> StoreResult<()>;

    /// Reads a server setting.
    async fn setting(&self, name: &str) -> StoreResult<Option<String>>;
    /// Writes a server setting unless it exists; returns the stored value.
    async fn init_setting(&self, name: &str, value: &str) -> StoreResult<String>;

    /// Number of organisations.
    async fn count_organizations(&self) -> StoreResult<i64>;
    /// Creates an organisation with its first user and keys, atomically.
    async fn create_organization(
        &self,
        org: &OrganizationRow,
        admin: &UserRow,
        keys: &[ApiKeyRow],
    ) -> StoreResult<()>;
    /// Every organisation.
    async fn organizations(&self) -> StoreResult<Vec<OrganizationRow>>;
    /// One organisation.
    async fn organization(&self, id: &str) -> StoreResult<Option<OrganizationRow>>;
    /// Replaces an organisation's policy document.
    async fn set_policy(&self, org_id: &str, policy: &str) -> StoreResult<bool>;

    /// Every key that is neither revoked nor expired at `now`.
    async fn active_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKeyRow>>;
    /// Adds a key.
    async fn insert_api_key(&self, key: &ApiKeyRow) -> StoreResult<()>;

    /// Enabled rules of one organisation, by priority.
    async fn enabled_rules(&self, org_id: &str) -> StoreResult<Vec<RuleRow>>;
    /// Adds rules in one transaction.
    async fn insert_rules(&self, rows: &[RuleRow]) -> StoreResult<()>;

    /// Writes a batch of transactions in one database transaction. A row
    /// whose idempotency key is taken is skipped and reported, the others
    /// are written.
    async fn insert_transactions(&self, rows: &[TransactionRow])
    -> StoreResult<Vec<InsertOutcome>>;
    /// As [`Store::insert_transactions`], and in the same database
    /// transaction announces `events[i]` when row `i` was inserted (a row
    /// skipped for its idempotency key announces nothing).
    async fn insert_transactions_with_events(
        &self,
        rows: &[TransactionRow],
        events: &[Option<OutboxEventRow>],
    ) -> StoreResult<Vec<InsertOutcome>>;
    /// The stored response for an idempotency key.
    async fn idempotent_replay(
        &self,
        org_id: &str,
        key: &str,
    ) -> StoreResult<Option<IdempotentReplay>>;
    /// Transactions since `since` (unix ms), oldest first, to rebuild
    /// velocity and payer history on start.
    async fn transactions_since(&self, since: i64) -> StoreResult<Vec<TransactionRow>>;
    /// One transaction.
    async fn transaction(&self, org_id: &str, id: &str) -> StoreResult<Option<TransactionRow>>;
    /// Marks an assessed transaction released (its checkout or transfer
    /// was abandoned) and frees its idempotency key. Returns when it was
    /// released (the first time, on a repeat), `None` when there is no such
    /// assessed transaction.
    async fn release_transaction(
        &self,
        org_id: &str,
        id: &str,
        at: i64,
    ) -> StoreResult<Option<i64>>;
    /// Number of transactions of an organisation.
    async fn count_transactions(&self, org_id: &str) -> StoreResult<i64>;
}
