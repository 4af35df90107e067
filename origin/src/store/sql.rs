//! The SQLite and PostgreSQL implementations of [`Store`].
//!
//! Both schemas use the same portable column types (text ids, BIGINT unix
//! milliseconds, text JSON), so one body of runtime-checked queries serves
//! both: `sql_store!` expands it once per backend, each expansion fully
//! typed against its own sqlx driver. Runtime `query_as` (as atuin does)
//! rather than `query!` keeps the build free of a database connection.

use std::{
    str::FromStr,
    sync::{
        Arc, OnceLock,
        atomic::{AtomicBool, Ordering},
    },
};

use async_trait::async_trait;
use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use super::sqlite_writer::SqliteBatchWriter;
use super::users::insert_user;
use super::webhooks::emit;
use super::*;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static PG_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

/// The embedded default: one SQLite file.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(super) pool: SqlitePool,
    /// The database file and its `synchronous` setting, for the group
    /// commit writer's own connection; `None` in memory, where a second
    /// connection would open a different database.
    file: Option<(std::path::PathBuf, &'static str)>,
    /// Set by the checkpointer after each pass, for the writer to copy
    /// back what it appended meanwhile ([`SqliteBatchWriter`]).
    tail_due: Arc<AtomicBool>,
    /// Stops the background WAL checkpointer with the last handle.
    _checkpointer: Option<Arc<Checkpointer>>,
}

/// How often the WAL is copied back into the database file. Each pass
/// ends with a sync of the database file, and on one disk a commit's sync
/// waits behind it: frequent small passes make short waits (measured, 500
/// ms passes took 20–40 ms and stalled commits as long; 100 ms passes took
/// 1–10 ms; 50 ms passes brought assess's p99 at half load from 5.6–6.9 ms
/// to 4.4–5.3 ms).
const CHECKPOINT_EVERY: std::time::Duration = std::time::Duration::from_millis(50);

/// The background checkpointer's task, aborted on drop.
#[derive(Debug)]
struct Checkpointer(tokio::task::AbortHandle);

impl Drop for Checkpointer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `url` (`sqlite://path` or
    /// `sqlite::memory:`). WAL mode lets readers run beside the writer;
    /// `synchronous = FULL` (the default) syncs every committed batch to
    /// disk before it is acknowledged. `CLAUSUM_SQLITE_SYNCHRONOUS=normal`
    /// trades that for speed: a committed batch survives a crash of the
    /// process but not of the machine.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        /// Rows buffered between the driver's thread and the reader.
        const ROW_BUFFER: usize = 1_024;
        let (synchronous, sync_name) = match std::env::var("CLAUSUM_SQLITE_SYNCHRONOUS").as_deref()
        {
            Ok("normal") => (SqliteSynchronous::Normal, "NORMAL"),
            _ => (SqliteSynchronous::Full, "FULL"),
        };
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(synchronous)
            .foreign_keys(true)
            .busy_timeout(std::time::Duration::from_secs(5))
            // SQLite checkpoints the WAL inside whichever commit crosses
            // 1,000 pages: the group-commit writer then copies pages and
            // syncs the database file while every waiting assessment
            // waits too (the latency tail). A background task checkpoints
            // instead, beside the writer (PASSIVE never blocks it).
            .pragma("wal_autocheckpoint", "0")
            // Rows cross from the driver's thread in a bounded channel; at
            // sqlx's default of 50, a backtest's page of thousands of rows
            // is a thread switch every few dozen rows (a tenth of its time).
            .row_buffer_size(ROW_BUFFER);
        // An in-memory database exists per connection: keep exactly one.
        let memory = url.contains(":memory:");
        let file = (!memory).then(|| (opts.get_filename().to_owned(), sync_name));
        // A ping before every acquire would add a round trip to each write.
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 4 })
            .test_before_acquire(false)
            .connect_with(opts)
            .await?;
        let tail_due = Arc::new(AtomicBool::new(false));
        let checkpointer = (!memory).then(|| {
            let (pool, tail_due) = (pool.clone(), tail_due.clone());
            let task = tokio::spawn(async move {
                let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                loop {
                    tick.tick().await;
                    if let Err(e) = checkpoint(&pool, &tail_due).await {
                        tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
                    }
                }
            });
            Arc::new(Checkpointer(task.abort_handle()))
        });
        Ok(SqliteStore { pool, file, tail_due, _checkpointer: checkpointer })
    }
}

impl SqliteStore {
    /// Opens a write transaction. `BEGIN IMMEDIATE` takes the write lock up
    /// front: a deferred transaction that reads first and writes later can
    /// deadlock with another such transaction, and SQLite then fails one
    /// of them at once (busy_timeout does not apply to lock upgrades).
    pub(super) async fn begin_write(
        &self,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin_with("BEGIN IMMEDIATE").await
    }

    /// Opens a read transaction: one snapshot for a listing's count and
    /// rows. A deferred transaction takes no lock; in WAL mode its reads
    /// share the snapshot taken at the first read.
    pub(super) async fn begin_read(
        &self,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Sqlite>> {
        self.pool.begin().await
    }

    /// Opens the group-commit writer's own connection to the file.
    fn open_batch_writer(&self) -> StoreResult<Option<SqliteBatchWriter>> {
        let Some((path, synchronous)) = &self.file else { return Ok(None) };
        Ok(Some(SqliteBatchWriter::open(path, synchronous, self.tail_due.clone())?))
    }
}

/// Passes of one checkpoint at most, before the writer takes what is left.
const CHECKPOINT_PASSES: usize = 6;
/// Frames the writer may be left to copy back (about 1 MB of pages).
const TAIL_FRAMES: i64 = 256;

/// Copies the WAL back into the database beside the writer, then asks the
/// writer to copy the rest ([`SqliteBatchWriter::finish_checkpoint`]).
///
/// Each pass copies what the WAL held when it began; what the writer
/// appended meanwhile is left for the next. Passes repeat, each shorter
/// than the last, until the rest is small enough for the writer to copy
/// between two batches without a noticeable pause.
async fn checkpoint(pool: &SqlitePool, tail_due: &AtomicBool) -> sqlx::Result<()> {
    let mut before = None;
    for _ in 0..CHECKPOINT_PASSES {
        // (busy, frames in the WAL, frames copied back)
        let (busy, frames, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(pool).await?;
        // Nothing to copy, or the writer is finishing the last checkpoint.
        if frames <= 0 || busy == 1 {
            return Ok(());
        }
        // Appended since the last pass (a smaller count: the WAL restarted).
        let appended = match before {
            Some(b) if frames >= b => frames - b,
            _ => frames,
        };
        if appended <= TAIL_FRAMES {
            break;
        }
        before = Some(frames);
    }
    tail_due.store(true, Ordering::Relaxed);
    Ok(())
}

/// `NOTIFY` reaches every session that LISTENs on the channel.
impl Replicas for PgStore {
    async fn announce(&self, payload: &str) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify($1, $2)")
            .bind(CHANGES_CHANNEL)
            .bind(payload)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    fn pg_pool(&self) -> Option<PgPool> {
        Some(self.pool.clone())
    }
}

impl PgStore {
    /// Opens a write transaction (row locks and constraints serialise
    /// conflicting writers on PostgreSQL).
    pub(super) async fn begin_write(
        &self,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin().await
    }

    /// Opens a read transaction: one snapshot for a listing's count and
    /// rows (under READ COMMITTED each statement would see its own).
    pub(super) async fn begin_read(
        &self,
    ) -> sqlx::Result<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await
    }

    /// PostgreSQL batches go through the pool.
    fn open_batch_writer(&self) -> StoreResult<Option<SqliteBatchWriter>> {
        Ok(None)
    }
}

/// The channel replicas announce state changes on.
pub const CHANGES_CHANNEL: &str = "clausum_changes";

/// What differs between the backends beyond SQL: replicas.
trait Replicas {
    /// Announces a change to the other replicas.
    async fn announce(&self, payload: &str) -> StoreResult<()>;
    /// The pool to LISTEN on.
    fn pg_pool(&self) -> Option<PgPool>;
}

/// SQLite serves one node: nothing to announce.
impl Replicas for SqliteStore {
    async fn announce(&self, _: &str) -> StoreResult<()> {
        Ok(())
    }

    fn pg_pool(&self) -> Option<PgPool> {
        None
    }
}

/// PostgreSQL, the shared source of truth for several replicas.
#[derive(Clone, Debug)]
pub struct PgStore {
    pub(super) pool: PgPool,
}

impl PgStore {
    /// Connects to `url` (`postgres://…`).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .test_before_acquire(false)
            .acquire_timeout(std::time::Duration::from_secs(5))
            .connect(url)
            .await?;
        Ok(PgStore { pool })
    }
}

/// Maps a unique-constraint violation to [`StoreError::Duplicate`].
pub(super) fn on_unique(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Duplicate(db.message().to_owned())
        }
        _ => StoreError::Database(e),
    }
}

/// Columns the assess writer fills, in bind order. The others (`source`
/// and the fraud-report columns) keep their defaults on the hot path.
pub(super) const TX_INSERT_COLUMNS: &str = "id, organization_id, api_key_id, flow, session_id, \
    amount_minor, currency, email, card_bin, card_last4, ip, device_fingerprint, customer_id, \
    account_id, order_id, payment_id, submerchant_id, decision, risk_score, blocked_by, signals, \
    request, response, idempotency_key, request_hash, is_fraudulent, created_at";

/// Every column of `transactions`, for reads.
pub(super) const TX_COLUMNS: &str = "id, organization_id, api_key_id, source, flow, session_id, \
    amount_minor, currency, email, card_bin, card_last4, ip, device_fingerprint, customer_id, \
    account_id, order_id, payment_id, submerchant_id, decision, risk_score, blocked_by, signals, \
    request, response, idempotency_key, request_hash, is_fraudulent, created_at, provider, \
    external_id, fraud_reason, fraud_reported_at, released_at";

/// Inserts one API key on a pool or transaction of either backend.
macro_rules! insert_key {
    ($exec:expr, $k:expr) => {{
        let k: &ApiKeyRow = $k;
        sqlx::query(
            "INSERT INTO api_keys (id, organization_id, kind, name, key_hash, display_prefix, permissions, \
             rate_limit_per_minute, rate_limit_per_day, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&k.id).bind(&k.organization_id).bind(&k.kind).bind(&k.name).bind(&k.key_hash)
        .bind(&k.display_prefix).bind(&k.permissions).bind(k.rate_limit_per_minute)
        .bind(k.rate_limit_per_day).bind(k.created_at).bind(k.expires_at).bind(k.revoked_at)
        .execute($exec)
        .await
        .map_err(on_unique)?;
    }};
}
pub(super) use insert_key;

/// Rows per multi-row insert statement at most. Statements are prepared
/// per row count, so this also bounds the prepared-statement cache (sqlx
/// keeps 100 per connection).
pub const MAX_INSERT_ROWS: usize = 64;

/// How a backend spells bind parameters.
#[derive(Clone, Copy)]
pub(super) enum Placeholders {
    /// `$1, $2, …` (PostgreSQL).
    Numbered,
    /// `?, ?, …` (SQLite). SQLite resolves each *named* parameter (`$1`
    /// counts as a name) by a linear scan of the statement's parameter list,
    /// which makes binding a 1,664-parameter insert quadratic; anonymous
    /// `?` parameters bind by position.
    Anonymous,
}

/// `INSERT INTO <table> (<columns>) VALUES (…), (…) ON CONFLICT DO NOTHING`
/// for `rows` rows: a row that breaks a uniqueness constraint is skipped,
/// not an error.
pub(super) fn values_sql(table: &str, columns: &str, rows: usize, style: Placeholders) -> String {
    let cols = columns.split(',').count();
    let tuples: Vec<String> = (0..rows)
        .map(|r| {
            let params: Vec<String> = (1..=cols)
                .map(|c| match style {
                    Placeholders::Numbered => format!("${}", r * cols + c),
                    Placeholders::Anonymous => "?".to_owned(),
                })
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    format!("INSERT INTO {table} ({columns}) VALUES {} ON CONFLICT DO NOTHING", tuples.join(", "))
}

/// Gives back claims a worker took under lease `$1` and will not use:
/// `UPDATE <table> SET claimed_until = NULL` for the ids `$2, $3, …` that
/// are still in one of `statuses` (an SQL list) and still carry exactly
/// that lease, so another worker's later claim is left alone. Bind the
/// lease, then each id.
pub(super) fn release_claims_sql(table: &str, statuses: &str, ids: usize) -> String {
    let list: Vec<String> = (0..ids).map(|i| format!("${}", i + 2)).collect();
    format!(
        "UPDATE {table} SET claimed_until = NULL WHERE status IN ({statuses}) \
         AND claimed_until = $1 AND id IN ({})",
        list.join(", ")
    )
}

/// Runs [`release_claims_sql`] in a write transaction of `$store`; the
/// number of claims given back.
macro_rules! release_claims {
    ($store:expr, $table:expr, $statuses:expr, $ids:expr, $lease_until:expr) => {{
        let ids: &[String] = $ids;
        if ids.is_empty() {
            return Ok(0);
        }
        let sql = $crate::store::sql::release_claims_sql($table, $statuses, ids.len());
        let mut q = sqlx::query(&sql).bind($lease_until);
        for id in ids {
            q = q.bind(id);
        }
        let mut tx = $store.begin_write().await?;
        let released = q.execute(&mut *tx).await?.rows_affected();
        tx.commit().await?;
        Ok(released)
    }};
}
pub(super) use release_claims;

/// The transaction insert for `n` rows (1 ≤ n ≤ [`MAX_INSERT_ROWS`]),
/// built once per size: it is on the hot path.
fn insert_sql(n: usize, style: Placeholders) -> &'static str {
    static NUMBERED: OnceLock<Vec<String>> = OnceLock::new();
    static ANONYMOUS: OnceLock<Vec<String>> = OnceLock::new();
    let cell = match style {
        Placeholders::Numbered => &NUMBERED,
        Placeholders::Anonymous => &ANONYMOUS,
    };
    let all = cell.get_or_init(|| {
        (1..=MAX_INSERT_ROWS)
            .map(|rows| values_sql("transactions", TX_INSERT_COLUMNS, rows, style))
            .collect()
    });
    &all[n - 1]
}

/// Inserts up to [`MAX_INSERT_ROWS`] rows with one statement on `$exec`,
/// then — only if fewer rows were written than sent, i.e. an idempotency
/// key was taken — looks up which ones made it.
macro_rules! insert_chunk {
    ($exec:expr, $rows:expr, $style:expr) => {{
        let rows: &[TransactionRow] = $rows;
        let mut q = sqlx::query(insert_sql(rows.len(), $style));
        for r in rows {
            q = q
                .bind(&r.id)
                .bind(&r.organization_id)
                .bind(&r.api_key_id)
                .bind(&r.flow)
                .bind(&r.session_id)
                .bind(r.amount_minor)
                .bind(&r.currency)
                .bind(&r.email)
                .bind(&r.card_bin)
                .bind(&r.card_last4)
                .bind(&r.ip)
                .bind(&r.device_fingerprint)
                .bind(&r.customer_id)
                .bind(&r.account_id)
                .bind(&r.order_id)
                .bind(&r.payment_id)
                .bind(&r.submerchant_id)
                .bind(&r.decision)
                .bind(r.risk_score)
                .bind(&r.blocked_by)
                .bind(&r.signals)
                .bind(&r.request)
                .bind(&r.response)
                .bind(&r.idempotency_key)
                .bind(&r.request_hash)
                .bind(r.is_fraudulent)
                .bind(r.created_at);
        }
        let written = q.execute($exec).await?.rows_affected();
        let mut out = Vec::with_capacity(rows.len());
        if written == rows.len() as u64 {
            out.resize(rows.len(), InsertOutcome::Inserted);
        } else {
            for r in rows {
                let kept: Option<String> =
                    sqlx::query_scalar("SELECT id FROM transactions WHERE id = $1")
                        .bind(&r.id)
                        .fetch_optional($exec)
                        .await?;
                out.push(if kept.is_some() {
                    InsertOutcome::Inserted
                } else {
                    InsertOutcome::IdempotencyConflict
                });
            }
        }
        StoreResult::Ok(out)
    }};
}

macro_rules! sql_store {
    ($store:ty, $name:literal, $migrator:expr, $placeholders:expr) => {
        #[async_trait]
        impl Store for $store {
            fn backend(&self) -> &'static str {
                $name
            }

            fn batch_writer(&self) -> StoreResult<Option<SqliteBatchWriter>> {
                self.open_batch_writer()
            }

            async fn notify_change(&self, payload: &str) -> StoreResult<()> {
                Replicas::announce(self, payload).await
            }

            fn listen_pool(&self) -> Option<sqlx::PgPool> {
                Replicas::pg_pool(self)
            }

            fn pool_state(&self) -> (u32, u32, u32) {
                let idle = u32::try_from(self.pool.num_idle()).unwrap_or(u32::MAX);
                (self.pool.size(), idle, self.pool.options().get_max_connections())
            }

            async fn migrate(&self) -> StoreResult<()> {
                $migrator.run(&self.pool).await?;
                Ok(())
            }

            async fn ping(&self) -> StoreResult<()> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn setting(&self, name: &str) -> StoreResult<Option<String>> {
                Ok(sqlx::query_scalar("SELECT value FROM server_settings WHERE name = $1")
                    .bind(name)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn init_setting(&self, name: &str, value: &str) -> StoreResult<String> {
                sqlx::query("INSERT INTO server_settings (name, value) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(name)
                    .bind(value)
                    .execute(&self.pool)
                    .await?;
                self.setting(name).await?.ok_or_else(|| StoreError::Corrupt(format!("setting {name} vanished")))
            }

            async fn count_organizations(&self) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM organizations").fetch_one(&self.pool).await?)
            }

            async fn create_organization(
                &self,
                org: &OrganizationRow,
                admin: &UserRow,
                keys: &[ApiKeyRow],
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("INSERT INTO organizations (id, name, segment, policy, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&org.id).bind(&org.name).bind(&org.segment).bind(&org.policy).bind(org.created_at)
                    .execute(&mut *tx).await.map_err(on_unique)?;
                insert_user!(&mut *tx, admin);
                for k in keys {
                    insert_key!(&mut *tx, k);
                }
                tx.commit().await?;
                Ok(())
            }

            async fn organizations(&self) -> StoreResult<Vec<OrganizationRow>> {
                Ok(sqlx::query_as::<_, OrganizationRow>(
                    "SELECT id, name, segment, policy, created_at FROM organizations ORDER BY created_at")
                    .fetch_all(&self.pool).await?)
            }

            async fn organization(&self, id: &str) -> StoreResult<Option<OrganizationRow>> {
                Ok(sqlx::query_as::<_, OrganizationRow>(
                    "SELECT id, name, segment, policy, created_at FROM organizations WHERE id = $1")
                    .bind(id).fetch_optional(&self.pool).await?)
            }

            async fn set_policy(&self, org_id: &str, policy: &str) -> StoreResult<bool> {
                let r = sqlx::query("UPDATE organizations SET policy = $1 WHERE id = $2")
                    .bind(policy).bind(org_id).execute(&self.pool).await?;
                Ok(r.rows_affected() == 1)
            }

            async fn active_api_keys(&self, now: i64) -> StoreResult<Vec<ApiKeyRow>> {
                Ok(sqlx::query_as::<_, ApiKeyRow>(
                    "SELECT id, organization_id, kind, name, key_hash, display_prefix, permissions, \
                     rate_limit_per_minute, rate_limit_per_day, created_at, expires_at, revoked_at \
                     FROM api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $1)")
                    .bind(now).fetch_all(&self.pool).await?)
            }

            async fn insert_api_key(&self, key: &ApiKeyRow) -> StoreResult<()> {
                insert_key!(&self.pool, key);
                Ok(())
            }

            async fn enabled_rules(&self, org_id: &str) -> StoreResult<Vec<RuleRow>> {
                Ok(sqlx::query_as::<_, RuleRow>(
                    "SELECT id, organization_id, name, source, priority, enabled, created_at, updated_at \
                     FROM rules WHERE organization_id = $1 AND enabled ORDER BY priority, name")
                    .bind(org_id).fetch_all(&self.pool).await?)
            }

            async fn insert_rules(&self, rows: &[RuleRow]) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                for r in rows {
                    sqlx::query(
                        "INSERT INTO rules (id, organization_id, name, source, priority, enabled, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
                        .bind(&r.id).bind(&r.organization_id).bind(&r.name).bind(&r.source)
                        .bind(r.priority).bind(r.enabled).bind(r.created_at).bind(r.updated_at)
                        .execute(&mut *tx).await.map_err(on_unique)?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn insert_transactions(&self, rows: &[TransactionRow]) -> StoreResult<Vec<InsertOutcome>> {
                // sqlx runs each statement as a round trip to the driver, and
                // under load every round trip waits for a scheduler slot. So a
                // batch of up to MAX_INSERT_ROWS rows is one multi-row statement
                // — atomic on its own, one round trip, one sync — and only a
                // larger batch opens an explicit transaction around several.
                if rows.is_empty() {
                    return Ok(Vec::new());
                }
                if rows.len() <= MAX_INSERT_ROWS {
                    let mut conn = self.pool.acquire().await?;
                    return insert_chunk!(&mut *conn, rows, $placeholders);
                }
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(rows.len());
                for chunk in rows.chunks(MAX_INSERT_ROWS) {
                    out.extend(insert_chunk!(&mut *tx, chunk, $placeholders)?);
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn insert_transactions_with_events(
                &self,
                rows: &[TransactionRow],
                events: &[Option<OutboxEventRow>],
            ) -> StoreResult<Vec<InsertOutcome>> {
                if events.iter().all(Option::is_none) {
                    return self.insert_transactions(rows).await;
                }
                let mut tx = self.begin_write().await?;
                let mut out = Vec::with_capacity(rows.len());
                for chunk in rows.chunks(MAX_INSERT_ROWS) {
                    out.extend(insert_chunk!(&mut *tx, chunk, $placeholders)?);
                }
                for (outcome, event) in out.iter().zip(events) {
                    if let (InsertOutcome::Inserted, Some(e)) = (outcome, event) {
                        emit!(&mut *tx, e);
                    }
                }
                tx.commit().await?;
                Ok(out)
            }

            async fn idempotent_replay(&self, org_id: &str, key: &str) -> StoreResult<Option<IdempotentReplay>> {
                let row: Option<(String, packed::PackedText)> = sqlx::query_as(
                    "SELECT request_hash, response FROM transactions WHERE organization_id = $1 AND idempotency_key = $2 \
                     AND response IS NOT NULL AND request_hash IS NOT NULL")
                    .bind(org_id).bind(key).fetch_optional(&self.pool).await?;
                Ok(row.and_then(|(request_hash, response)| {
                    response.0.map(|response| IdempotentReplay { request_hash, response })
                }))
            }

            async fn transactions_since(&self, since: i64) -> StoreResult<Vec<TransactionRow>> {
                Ok(sqlx::query_as::<_, TransactionRow>(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE created_at >= $1 ORDER BY created_at"))
                    .bind(since).fetch_all(&self.pool).await?)
            }

            async fn transaction(&self, org_id: &str, id: &str) -> StoreResult<Option<TransactionRow>> {
                Ok(sqlx::query_as::<_, TransactionRow>(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE organization_id = $1 AND id = $2"))
                    .bind(org_id).bind(id).fetch_optional(&self.pool).await?)
            }

            async fn release_transaction(&self, org_id: &str, id: &str, at: i64) -> StoreResult<Option<i64>> {
                // The first release's time stands; a repeat is a no-op.
                let mut tx = self.begin_write().await?;
                sqlx::query(
                    "UPDATE transactions SET released_at = $3, idempotency_key = NULL \
                     WHERE organization_id = $1 AND id = $2 AND source = 'assess' AND released_at IS NULL")
                    .bind(org_id).bind(id).bind(at).execute(&mut *tx).await?;
                let released: Option<Option<i64>> = sqlx::query_scalar(
                    "SELECT released_at FROM transactions WHERE organization_id = $1 AND id = $2 AND source = 'assess'")
                    .bind(org_id).bind(id).fetch_optional(&mut *tx).await?;
                tx.commit().await?;
                Ok(released.flatten())
            }

            async fn count_transactions(&self, org_id: &str) -> StoreResult<i64> {
                Ok(sqlx::query_scalar("SELECT COUNT(*) FROM transactions WHERE organization_id = $1")
                    .bind(org_id).fetch_one(&self.pool).await?)
            }
        }
    };
}

sql_store!(SqliteStore, "sqlite", SQLITE_MIGRATIONS, Placeholders::Anonymous);
sql_store!(PgStore, "postgres", PG_MIGRATIONS, Placeholders::Numbered);
