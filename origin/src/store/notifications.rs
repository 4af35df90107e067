//! Email alerts: each organisation's recipients per party, and the outbox
//! of alert emails.
//!
//! Alert emails are created in the same database transaction as their
//! `fraud.detected` event ([`email_fan_out`], called by
//! `store::webhooks::emit!`), so a committed fraud report always has its
//! alerts queued. Workers claim them with a lease (`claimed_until`) — on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED` — exactly as webhook deliveries.

use async_trait::async_trait;

use super::{AuditRow, Page, PgStore, SqliteStore, StoreResult, audit::insert_audit};

/// One alert email.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EmailRow {
    /// `eml_…`; also the message's `Message-ID`, the same on every attempt.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// The `fraud.detected` event it alerts of.
    pub event_id: String,
    /// `merchant`, `acquirer`, `issuer` or `compliance`.
    pub party: String,
    /// The address it goes to.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub body_text: String,
    /// `pending`, `sent`, `failed` or `recorded` (kept without SMTP).
    pub status: String,
    /// SMTP attempts made.
    pub attempts: i64,
    /// Unix ms of the next attempt.
    pub next_attempt_at: i64,
    /// A worker holds it until then.
    pub claimed_until: Option<i64>,
    /// Why the last attempt failed (or why it was only recorded).
    pub last_error: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms of the accepted send.
    pub sent_at: Option<i64>,
}

/// What an attempt (or the lack of a transport) decided about an email.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailOutcome {
    /// The SMTP server accepted it.
    Sent,
    /// Failed; try again at this unix ms.
    Retry(i64),
    /// Failed for good (permanent refusal or the schedule ran out).
    Failed,
    /// No SMTP transport is configured: kept as `recorded`, not attempted.
    Recorded,
}

/// Email alert storage.
#[async_trait]
pub trait NotificationStore {
    /// `(party, email)` of every recipient of an organisation, in the order
    /// they were configured.
    async fn notification_recipients(&self, org_id: &str) -> StoreResult<Vec<(String, String)>>;
    /// Replaces an organisation's recipients, audited.
    async fn set_notification_recipients(
        &self,
        org_id: &str,
        recipients: &[(String, String)],
        now: i64,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    /// A page of an organisation's alert emails, newest first.
    async fn email_alerts(
        &self,
        org_id: &str,
        status: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<EmailRow>>;
    /// Claims up to `limit` due emails until `lease_until`: `pending` ones,
    /// and `recorded` ones created at or after `recorded_since` when given
    /// (a worker with SMTP sends what was kept while none was configured).
    async fn claim_emails(
        &self,
        now: i64,
        lease_until: i64,
        limit: i64,
        recorded_since: Option<i64>,
    ) -> StoreResult<Vec<EmailRow>>;
    /// Gives back claims a stopping worker will not send: clears
    /// `claimed_until` of the `pending` or `recorded` emails among `ids`
    /// still held under this worker's lease (`claimed_until = lease_until`),
    /// so any worker may claim them at once. A claim another worker has
    /// taken since is left alone. Returns how many were released.
    async fn release_emails(&self, ids: &[String], lease_until: i64) -> StoreResult<u64>;
    /// Records the outcome of an attempt on email `id`; `attempts` is its
    /// new attempt count.
    async fn record_email(
        &self,
        id: &str,
        attempts: i64,
        outcome: &EmailOutcome,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<()>;
}

/// Queues the alert emails of event `$e` on a transaction of either
/// backend: for a `fraud.detected` event, one email per recipient of each
/// party its `notify` flags (an address listed for several of them gets
/// one). The recipients and the payer's email are read in the same
/// transaction; the messages are composed by [`crate::notify::alert`].
macro_rules! email_fan_out {
    ($exec:expr, $e:expr) => {{
        let e: &$crate::store::OutboxEventRow = $e;
        if let Some(alert) = $crate::notify::alert::Alert::of_event(e) {
            let recipients: Vec<(String, String)> = sqlx::query_as(
                "SELECT party, email FROM notification_recipients WHERE organization_id = $1 \
                 ORDER BY position, party, email",
            )
            .bind(&e.organization_id)
            .fetch_all($exec)
            .await?;
            if !recipients.is_empty() {
                let payer: Option<(Option<String>,)> = sqlx::query_as(
                    "SELECT email FROM transactions WHERE organization_id = $1 AND id = $2",
                )
                .bind(&e.organization_id)
                .bind(&alert.transaction_id)
                .fetch_optional($exec)
                .await?;
                let payer = payer.and_then(|(email,)| email);
                for m in alert.emails(e, &recipients, payer.as_deref()) {
                    sqlx::query(
                        "INSERT INTO email_outbox (id, organization_id, event_id, party, recipient, \
                         subject, body_text, status, attempts, next_attempt_at, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $8, $8) \
                         ON CONFLICT DO NOTHING",
                    )
                    .bind(&m.id)
                    .bind(&m.organization_id)
                    .bind(&m.event_id)
                    .bind(&m.party)
                    .bind(&m.recipient)
                    .bind(&m.subject)
                    .bind(&m.body_text)
                    .bind(m.created_at)
                    .execute($exec)
                    .await?;
                }
            }
        }
    }};
}
pub(crate) use email_fan_out;

const EMAIL_COLUMNS: &str = "id, organization_id, event_id, party, recipient, subject, body_text, \
    status, attempts, next_attempt_at, claimed_until, last_error, created_at, sent_at";

/// Due emails, locked so concurrent workers skip each other's (PostgreSQL).
const PG_CLAIM: &str = "WITH due AS (\
     SELECT id FROM email_outbox \
     WHERE (status = 'pending' OR (status = 'recorded' AND created_at >= $4)) \
       AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
     ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) \
    UPDATE email_outbox SET claimed_until = $2 FROM due WHERE email_outbox.id = due.id \
    RETURNING email_outbox.id";

/// The same for SQLite (inside `BEGIN IMMEDIATE`, which serialises workers).
const SQLITE_CLAIM: &str = "UPDATE email_outbox SET claimed_until = $2 WHERE id IN (\
     SELECT id FROM email_outbox \
     WHERE (status = 'pending' OR (status = 'recorded' AND created_at >= $4)) \
       AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until < $1) \
     ORDER BY next_attempt_at LIMIT $3) \
    RETURNING id";

macro_rules! impl_notification_store {
    ($store:ty, $claim:expr) => {
        #[async_trait]
        impl NotificationStore for $store {
            async fn notification_recipients(
                &self,
                org_id: &str,
            ) -> StoreResult<Vec<(String, String)>> {
                Ok(sqlx::query_as(
                    "SELECT party, email FROM notification_recipients WHERE organization_id = $1 \
                     ORDER BY position, party, email",
                )
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn set_notification_recipients(
                &self,
                org_id: &str,
                recipients: &[(String, String)],
                now: i64,
                audit: &AuditRow,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query("DELETE FROM notification_recipients WHERE organization_id = $1")
                    .bind(org_id)
                    .execute(&mut *tx)
                    .await?;
                for (position, (party, email)) in recipients.iter().enumerate() {
                    sqlx::query(
                        "INSERT INTO notification_recipients (organization_id, party, email, \
                         position, created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(org_id)
                    .bind(party)
                    .bind(email)
                    .bind(position as i64)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn email_alerts(
                &self,
                org_id: &str,
                status: Option<&str>,
                limit: i64,
                offset: i64,
            ) -> StoreResult<Page<EmailRow>> {
                let filter = "WHERE organization_id = $1 AND ($2 IS NULL OR status = $2)";
                let mut tx = self.begin_read().await?;
                let total: i64 =
                    sqlx::query_scalar(&format!("SELECT COUNT(*) FROM email_outbox {filter}"))
                        .bind(org_id)
                        .bind(status)
                        .fetch_one(&mut *tx)
                        .await?;
                let rows = sqlx::query_as(&format!(
                    "SELECT {EMAIL_COLUMNS} FROM email_outbox {filter} \
                     ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                ))
                .bind(org_id)
                .bind(status)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn claim_emails(
                &self,
                now: i64,
                lease_until: i64,
                limit: i64,
                recorded_since: Option<i64>,
            ) -> StoreResult<Vec<EmailRow>> {
                let mut tx = self.begin_write().await?;
                let ids: Vec<String> = sqlx::query_scalar($claim)
                    .bind(now)
                    .bind(lease_until)
                    .bind(limit)
                    .bind(recorded_since.unwrap_or(i64::MAX))
                    .fetch_all(&mut *tx)
                    .await?;
                let mut due = Vec::with_capacity(ids.len());
                for id in &ids {
                    let row: EmailRow = sqlx::query_as(&format!(
                        "SELECT {EMAIL_COLUMNS} FROM email_outbox WHERE id = $1"
                    ))
                    .bind(id)
                    .fetch_one(&mut *tx)
                    .await?;
                    due.push(row);
                }
                tx.commit().await?;
                due.sort_by_key(|r| r.next_attempt_at);
                Ok(due)
            }

            async fn release_emails(
                &self,
                ids: &[String],
                lease_until: i64,
            ) -> StoreResult<u64> {
                super::sql::release_claims!(self, "email_outbox", "'pending', 'recorded'", ids, lease_until)
            }

            async fn record_email(
                &self,
                id: &str,
                attempts: i64,
                outcome: &EmailOutcome,
                error: Option<&str>,
                now: i64,
            ) -> StoreResult<()> {
                let (status, next, sent) = match outcome {
                    EmailOutcome::Sent => ("sent", now, Some(now)),
                    EmailOutcome::Retry(at) => ("pending", *at, None),
                    EmailOutcome::Failed => ("failed", now, None),
                    EmailOutcome::Recorded => ("recorded", now, None),
                };
                sqlx::query(
                    "UPDATE email_outbox SET status = $1, attempts = $2, next_attempt_at = $3, \
                     claimed_until = NULL, last_error = $4, sent_at = $5 WHERE id = $6",
                )
                .bind(status)
                .bind(attempts)
                .bind(next)
                .bind(error)
                .bind(sent)
                .bind(id)
                .execute(&self.pool)
                .await?;
                Ok(())
            }
        }
    };
}

impl_notification_store!(SqliteStore, SQLITE_CLAIM);
impl_notification_store!(PgStore, PG_CLAIM);
