//! Cases (expedientes): their evidence, linked transactions and blocklist
//! entries, activity log — and the fraud report, which touches all of them
//! in one database transaction.

use async_trait::async_trait;

use super::{
    AuditRow, BlocklistRow, Page, PgStore, SqliteStore, StoreResult, TransactionRow,
    audit::insert_audit,
    blocklists::BLOCKLIST_COLUMNS,
    sql::{TX_COLUMNS, on_unique},
    webhooks::emit,
};

/// A case.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct CaseRow {
    /// `case_…`.
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `CLM-XXXXXX`, unique.
    pub reference_number: String,
    /// Lifecycle status.
    pub status: String,
    /// `baja`, `media`, `alta` or `urgente`.
    pub priority: String,
    /// Incident type wire name.
    pub incident_type: String,
    /// `YYYY-MM-DD`.
    pub incident_date: Option<String>,
    /// ISO country of the jurisdiction.
    pub jurisdiction: Option<String>,
    /// ISO currency of `amount_minor`.
    pub currency: Option<String>,
    /// Amount involved, minor units.
    pub amount_minor: Option<i64>,
    /// Victim's name.
    pub victim_name: Option<String>,
    /// Victim's email.
    pub victim_email: Option<String>,
    /// Short title.
    pub title: String,
    /// Free text.
    pub description: Option<String>,
    /// `manual` or `fraud_report`.
    pub source: String,
    /// Reason of the fraud report that opened it.
    pub fraud_reason: Option<String>,
    /// The reported transaction, for cases opened by a fraud report.
    pub source_transaction_id: Option<String>,
    /// JSON object of the parties to notify.
    pub notify: String,
    /// `user:<id>` or `key:<id>`.
    pub created_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
    /// Unix ms when submitted to the regulator.
    pub submitted_at: Option<i64>,
    /// Unix ms when resolved.
    pub resolved_at: Option<i64>,
}

/// A piece of evidence on a case (a link; the server never fetches it).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct EvidenceRow {
    /// `ev_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `url` or `note`.
    pub kind: String,
    /// Where the evidence lives.
    pub url: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// `user:<id>` or `key:<id>`.
    pub added_by: String,
    /// Unix ms.
    pub created_at: i64,
}

/// One line of a case's activity log.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ActivityRow {
    /// `act_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// `user:<id>` or `key:<id>`.
    pub actor: String,
    /// What happened, e.g. `status_changed`.
    pub action: String,
    /// JSON details.
    pub details: String,
    /// Unix ms.
    pub created_at: i64,
}

/// Case listing filters.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// Only this status.
    pub status: Option<String>,
    /// Only this priority.
    pub priority: Option<String>,
    /// Only this jurisdiction.
    pub jurisdiction: Option<String>,
    /// Only this incident type.
    pub incident_type: Option<String>,
    /// Case-insensitive substring of reference, title, description or victim.
    pub search: Option<String>,
    /// Created at or after (unix ms).
    pub from_ms: Option<i64>,
    /// Created before (unix ms).
    pub to_ms: Option<i64>,
    /// Column to sort by: one of [`SORTABLE`].
    pub sort_by: &'static str,
    /// Newest / largest first.
    pub descending: bool,
    /// Page size.
    pub limit: i64,
    /// Rows to skip.
    pub offset: i64,
}

/// Columns a case listing may be sorted by (anything else is refused
/// before it reaches SQL).
pub const SORTABLE: [&str; 5] = ["created_at", "updated_at", "priority", "status", "amount_minor"];

/// Counts for the dashboard.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseStats {
    /// Every case.
    pub total: i64,
    /// `(status, count)`.
    pub by_status: Vec<(String, i64)>,
    /// `(priority, count)`.
    pub by_priority: Vec<(String, i64)>,
    /// `(jurisdiction, count)`; cases without one are counted as `""`.
    pub by_jurisdiction: Vec<(String, i64)>,
    /// `(incident type, count)`.
    pub by_incident_type: Vec<(String, i64)>,
}

/// Which transaction a fraud report is about.
#[derive(Debug, Clone)]
pub enum ReportTarget {
    /// A stored transaction, by id.
    Existing(String),
    /// A transaction first seen in the report: inserted with it.
    New(Box<TransactionRow>),
}

/// A blocklist entry a fraud report wants; an existing entry with the same
/// type and value is linked instead.
#[derive(Debug, Clone)]
pub struct PlannedEntry {
    /// The entry to insert if absent.
    pub row: BlocklistRow,
}

/// Everything one fraud report writes.
#[derive(Debug, Clone)]
pub struct FraudReportPlan {
    /// The reported transaction.
    pub target: ReportTarget,
    /// Fraud reason wire name.
    pub reason: String,
    /// Provider and external id to record on the transaction, if given.
    pub provider: Option<String>,
    /// See `provider`.
    pub external_id: Option<String>,
    /// The case to open (its `source_transaction_id` is the target).
    pub case: CaseRow,
    /// Blocklist entries to add or link.
    pub entries: Vec<PlannedEntry>,
    /// Evidence links.
    pub evidence: Vec<EvidenceRow>,
    /// The case's first activity line.
    pub activity: ActivityRow,
    /// The audit row.
    pub audit: AuditRow,
    /// The events to announce (`fraud.detected`, `case.created`).
    pub events: Vec<super::OutboxEventRow>,
}

/// What a fraud report did.
#[derive(Debug, Clone)]
pub struct FraudReportOutcome {
    /// The case (the existing one when the transaction was already reported).
    pub case: CaseRow,
    /// `false` when the transaction had been reported before: nothing was written.
    pub created: bool,
    /// The transaction as stored after the report.
    pub transaction: TransactionRow,
    /// Entries inserted by this report.
    pub added: Vec<BlocklistRow>,
    /// Entries that already existed and were linked to the case.
    pub linked: Vec<BlocklistRow>,
}

/// Case storage.
#[async_trait]
pub trait CaseStore {
    /// Opens a case.
    async fn insert_case(
        &self,
        case: &CaseRow,
        activity: &ActivityRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    /// One case of an organisation.
    async fn case(&self, org_id: &str, id: &str) -> StoreResult<Option<CaseRow>>;
    /// A page of cases.
    async fn cases_page(&self, org_id: &str, filter: &CaseFilter) -> StoreResult<Page<CaseRow>>;
    /// Saves a changed case if its status is still `expected_status`
    /// (so two concurrent transitions cannot both win); `false` otherwise.
    async fn update_case(
        &self,
        case: &CaseRow,
        expected_status: &str,
        activity: &ActivityRow,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Evidence of a case, oldest first.
    async fn evidence(&self, org_id: &str, case_id: &str) -> StoreResult<Vec<EvidenceRow>>;
    /// Adds evidence, with its activity line and audit row.
    async fn insert_evidence(
        &self,
        evidence: &EvidenceRow,
        activity: &ActivityRow,
        audit: &AuditRow,
    ) -> StoreResult<()>;
    /// Transactions linked to a case, oldest first.
    async fn case_transactions(
        &self,
        org_id: &str,
        case_id: &str,
    ) -> StoreResult<Vec<TransactionRow>>;
    /// Links a transaction of the same organisation, with its activity line
    /// and audit row; `false` when already linked.
    async fn link_transaction(
        &self,
        case_id: &str,
        transaction_id: &str,
        activity: &ActivityRow,
        audit: &AuditRow,
    ) -> StoreResult<bool>;
    /// Blocklist entries linked to a case.
    async fn case_entries(&self, org_id: &str, case_id: &str) -> StoreResult<Vec<BlocklistRow>>;
    /// A page of a case's activity, newest first.
    async fn activity_page(
        &self,
        org_id: &str,
        case_id: &str,
        limit: i64,
        offset: i64,
    ) -> StoreResult<Page<ActivityRow>>;
    /// Counts by status, priority, jurisdiction and incident type.
    async fn case_stats(&self, org_id: &str) -> StoreResult<CaseStats>;
    /// Records a fraud report atomically: flags the transaction (inserting
    /// it first if new), opens the case, adds or links the blocklist
    /// entries, stores evidence, activity and audit. A transaction that
    /// already has a fraud-report case gets that case back and nothing is
    /// written.
    async fn report_fraud(&self, plan: &FraudReportPlan) -> StoreResult<FraudReportOutcome>;
    /// A transaction by the provider's id (`external_id`, or else the
    /// `payment_id` sent to assess), newest first.
    async fn transaction_by_external_id(
        &self,
        org_id: &str,
        external_id: &str,
        provider: Option<&str>,
    ) -> StoreResult<Option<TransactionRow>>;
}

pub(super) const CASE_COLUMNS: &str = "id, organization_id, reference_number, status, priority, incident_type, \
    incident_date, jurisdiction, currency, amount_minor, victim_name, victim_email, title, \
    description, source, fraud_reason, source_transaction_id, notify, created_by, created_at, \
    updated_at, submitted_at, resolved_at";

const CASE_FILTER: &str = "WHERE organization_id = $1 AND ($2 IS NULL OR status = $2) \
    AND ($3 IS NULL OR priority = $3) AND ($4 IS NULL OR jurisdiction = $4) \
    AND ($5 IS NULL OR LOWER(reference_number) LIKE $5 ESCAPE '\\' OR LOWER(title) LIKE $5 ESCAPE '\\' \
         OR LOWER(COALESCE(description, '')) LIKE $5 ESCAPE '\\' \
         OR LOWER(COALESCE(victim_name, '')) LIKE $5 ESCAPE '\\') \
    AND ($6 IS NULL OR created_at >= $6) AND ($7 IS NULL OR created_at < $7) \
    AND ($8 IS NULL OR incident_type = $8)";

/// Inserts a case on a transaction.
macro_rules! insert_case_row {
    ($exec:expr, $c:expr) => {{
        let c: &CaseRow = $c;
        sqlx::query(&format!(
            "INSERT INTO cases ({CASE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, \
             $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23)"
        ))
        .bind(&c.id)
        .bind(&c.organization_id)
        .bind(&c.reference_number)
        .bind(&c.status)
        .bind(&c.priority)
        .bind(&c.incident_type)
        .bind(&c.incident_date)
        .bind(&c.jurisdiction)
        .bind(&c.currency)
        .bind(c.amount_minor)
        .bind(&c.victim_name)
        .bind(&c.victim_email)
        .bind(&c.title)
        .bind(&c.description)
        .bind(&c.source)
        .bind(&c.fraud_reason)
        .bind(&c.source_transaction_id)
        .bind(&c.notify)
        .bind(&c.created_by)
        .bind(c.created_at)
        .bind(c.updated_at)
        .bind(c.submitted_at)
        .bind(c.resolved_at)
        .execute($exec)
        .await
        .map_err(on_unique)?;
    }};
}

macro_rules! insert_activity {
    ($exec:expr, $a:expr) => {{
        let a: &ActivityRow = $a;
        sqlx::query(
            "INSERT INTO case_activity (id, case_id, organization_id, actor, action, details, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&a.id)
        .bind(&a.case_id)
        .bind(&a.organization_id)
        .bind(&a.actor)
        .bind(&a.action)
        .bind(&a.details)
        .bind(a.created_at)
        .execute($exec)
        .await?;
    }};
}

macro_rules! insert_evidence_row {
    ($exec:expr, $e:expr) => {{
        let e: &EvidenceRow = $e;
        sqlx::query(
            "INSERT INTO case_evidence (id, case_id, organization_id, kind, url, description, added_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(&e.case_id)
        .bind(&e.organization_id)
        .bind(&e.kind)
        .bind(&e.url)
        .bind(&e.description)
        .bind(&e.added_by)
        .bind(e.created_at)
        .execute($exec)
        .await?;
    }};
}

// Provider events open cases in their own transactions (`providers.rs`, `ingest.rs`).
pub(super) use {insert_activity, insert_case_row};

/// `(key, count)` pairs of a GROUP BY over one organisation's cases.
macro_rules! group_counts {
    ($exec:expr, $org:expr, $column:literal) => {{
        let rows: Vec<(String, i64)> = sqlx::query_as(concat!(
            "SELECT COALESCE(",
            $column,
            ", ''), COUNT(*) FROM cases WHERE organization_id = $1 GROUP BY COALESCE(",
            $column,
            ", '') ORDER BY 1"
        ))
        .bind($org)
        .fetch_all($exec)
        .await?;
        rows
    }};
}

mod report;
use report::report_fraud_in;

macro_rules! impl_case_store {
    ($store:ty) => {
        #[async_trait]
        impl CaseStore for $store {
            async fn insert_case(&self, case: &CaseRow, activity: &ActivityRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                insert_case_row!(&mut *tx, case);
                insert_activity!(&mut *tx, activity);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn case(&self, org_id: &str, id: &str) -> StoreResult<Option<CaseRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {CASE_COLUMNS} FROM cases WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn cases_page(&self, org_id: &str, f: &CaseFilter) -> StoreResult<Page<CaseRow>> {
                let search = f.search.as_deref().map(super::blocklists::like_pattern);
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM cases {CASE_FILTER}"))
                    .bind(org_id)
                    .bind(&f.status)
                    .bind(&f.priority)
                    .bind(&f.jurisdiction)
                    .bind(&search)
                    .bind(f.from_ms)
                    .bind(f.to_ms)
                    .bind(&f.incident_type)
                    .fetch_one(&mut *tx)
                    .await?;
                // `sort_by` is one of SORTABLE (checked by the caller), never client text.
                debug_assert!(SORTABLE.contains(&f.sort_by));
                let order = if f.descending { "DESC" } else { "ASC" };
                let sort = match f.sort_by {
                    // Priority sorts by severity, not alphabetically.
                    "priority" => "CASE priority WHEN 'baja' THEN 0 WHEN 'media' THEN 1 \
                                   WHEN 'alta' THEN 2 ELSE 3 END"
                        .to_owned(),
                    other => other.to_owned(),
                };
                let rows = sqlx::query_as(&format!(
                    "SELECT {CASE_COLUMNS} FROM cases {CASE_FILTER} ORDER BY {sort} {order}, id {order} \
                     LIMIT $9 OFFSET $10"
                ))
                .bind(org_id)
                .bind(&f.status)
                .bind(&f.priority)
                .bind(&f.jurisdiction)
                .bind(&search)
                .bind(f.from_ms)
                .bind(f.to_ms)
                .bind(&f.incident_type)
                .bind(f.limit)
                .bind(f.offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn update_case(
                &self,
                c: &CaseRow,
                expected_status: &str,
                activity: &ActivityRow,
                audit: &AuditRow,
            ) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE cases SET status = $1, priority = $2, incident_type = $3, incident_date = $4, \
                     jurisdiction = $5, currency = $6, amount_minor = $7, victim_name = $8, victim_email = $9, \
                     title = $10, description = $11, updated_at = $12, submitted_at = $13, resolved_at = $14 \
                     WHERE organization_id = $15 AND id = $16 AND status = $17",
                )
                .bind(&c.status)
                .bind(&c.priority)
                .bind(&c.incident_type)
                .bind(&c.incident_date)
                .bind(&c.jurisdiction)
                .bind(&c.currency)
                .bind(c.amount_minor)
                .bind(&c.victim_name)
                .bind(&c.victim_email)
                .bind(&c.title)
                .bind(&c.description)
                .bind(c.updated_at)
                .bind(c.submitted_at)
                .bind(c.resolved_at)
                .bind(&c.organization_id)
                .bind(&c.id)
                .bind(expected_status)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_activity!(&mut *tx, activity);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn evidence(&self, org_id: &str, case_id: &str) -> StoreResult<Vec<EvidenceRow>> {
                Ok(sqlx::query_as(
                    "SELECT id, case_id, organization_id, kind, url, description, added_by, created_at \
                     FROM case_evidence WHERE organization_id = $1 AND case_id = $2 ORDER BY created_at, id",
                )
                .bind(org_id)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn insert_evidence(&self, e: &EvidenceRow, activity: &ActivityRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                insert_evidence_row!(&mut *tx, e);
                insert_activity!(&mut *tx, activity);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn case_transactions(&self, org_id: &str, case_id: &str) -> StoreResult<Vec<TransactionRow>> {
                let cols = TX_COLUMNS.split(", ").map(|c| format!("t.{}", c.trim())).collect::<Vec<_>>().join(", ");
                Ok(sqlx::query_as(&format!(
                    "SELECT {cols} FROM case_transactions ct JOIN transactions t ON t.id = ct.transaction_id \
                     WHERE ct.organization_id = $1 AND ct.case_id = $2 ORDER BY ct.created_at, t.id"
                ))
                .bind(org_id)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn link_transaction(&self, case_id: &str, transaction_id: &str, activity: &ActivityRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "INSERT INTO case_transactions (case_id, transaction_id, organization_id, added_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(case_id)
                .bind(transaction_id)
                .bind(&activity.organization_id)
                .bind(&activity.actor)
                .bind(activity.created_at)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_activity!(&mut *tx, activity);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn case_entries(&self, org_id: &str, case_id: &str) -> StoreResult<Vec<BlocklistRow>> {
                let cols = BLOCKLIST_COLUMNS.split(", ").map(|c| format!("b.{}", c.trim())).collect::<Vec<_>>().join(", ");
                Ok(sqlx::query_as(&format!(
                    "SELECT {cols} FROM case_blocklist_entries cb JOIN blocklist_entries b ON b.id = cb.entry_id \
                     WHERE b.organization_id = $1 AND cb.case_id = $2 ORDER BY b.created_at, b.id"
                ))
                .bind(org_id)
                .bind(case_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn activity_page(&self, org_id: &str, case_id: &str, limit: i64, offset: i64) -> StoreResult<Page<ActivityRow>> {
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM case_activity WHERE organization_id = $1 AND case_id = $2",
                )
                .bind(org_id)
                .bind(case_id)
                .fetch_one(&mut *tx)
                .await?;
                let rows = sqlx::query_as(
                    "SELECT id, case_id, organization_id, actor, action, details, created_at FROM case_activity \
                     WHERE organization_id = $1 AND case_id = $2 ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4",
                )
                .bind(org_id)
                .bind(case_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(Page { rows, total })
            }

            async fn case_stats(&self, org_id: &str) -> StoreResult<CaseStats> {
                let mut tx = self.begin_read().await?;
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM cases WHERE organization_id = $1")
                    .bind(org_id)
                    .fetch_one(&mut *tx)
                    .await?;
                let stats = CaseStats {
                    total,
                    by_status: group_counts!(&mut *tx, org_id, "status"),
                    by_priority: group_counts!(&mut *tx, org_id, "priority"),
                    by_jurisdiction: group_counts!(&mut *tx, org_id, "jurisdiction"),
                    by_incident_type: group_counts!(&mut *tx, org_id, "incident_type"),
                };
                tx.commit().await?;
                Ok(stats)
            }

            async fn report_fraud(&self, plan: &FraudReportPlan) -> StoreResult<FraudReportOutcome> {
                let mut tx = self.begin_write().await?;
                let outcome = report_fraud_in!(&mut tx, plan);
                if outcome.created {
                    tx.commit().await?;
                }
                Ok(outcome)
            }

            async fn transaction_by_external_id(
                &self,
                org_id: &str,
                external_id: &str,
                provider: Option<&str>,
            ) -> StoreResult<Option<TransactionRow>> {
                // A provider given by both sides must agree; a transaction
                // assessed without one matches on its payment_id alone.
                Ok(sqlx::query_as(&format!(
                    "SELECT {TX_COLUMNS} FROM transactions WHERE organization_id = $1 \
                     AND ((external_id = $2 AND ($3 IS NULL OR provider IS NULL OR provider = $3)) \
                          OR (payment_id = $2 AND ($3 IS NULL OR provider IS NULL OR provider = $3))) \
                     ORDER BY created_at DESC, id DESC LIMIT 1"
                ))
                .bind(org_id)
                .bind(external_id)
                .bind(provider)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

impl_case_store!(SqliteStore);
impl_case_store!(PgStore);
