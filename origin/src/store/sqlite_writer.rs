//! The SQLite group-commit writer's own connection, driven from one OS
//! thread.
//!
//! Through sqlx every statement of a batch (`BEGIN`, the insert, `COMMIT`)
//! is a round trip between the writer task and the driver's thread. Each
//! hop waits for a free core, and on a busy two-core machine those waits,
//! not SQLite, set how long a batch takes: measured, a batch of five rows
//! took 0.7 ms and kept the writer busy 90 % of the time at half load. Here
//! one thread owns the connection and runs the whole batch — begin, one
//! prepared insert per row, commit and sync — without handing off, so a
//! batch costs what SQLite and the disk cost.
//!
//! It also finishes each checkpoint. The store's checkpointer copies the
//! WAL back into the database beside the writer, but under steady load the
//! writer appends while it copies, so the WAL is never wholly copied and
//! SQLite never starts it over: it grew by gigabytes in a minute of load,
//! and every commit paid for new file pages. After each of the
//! checkpointer's passes the writer copies back the little it appended
//! meanwhile, between two batches; its next commit then starts the WAL
//! from the beginning.
//!
//! The SQL is the same text the sqlx path runs ([`values_sql`],
//! [`INSERT_EVENT_SQL`], [`FAN_OUT_SQL`]), so both write the same rows.

use std::{
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, ToSql, TransactionBehavior, named_params, params};

use super::{
    InsertOutcome, OutboxEventRow, TransactionRow,
    outbox::INSERT_EVENT_SQL,
    packed::PackedDocs,
    sql::{Placeholders, TX_INSERT_COLUMNS, values_sql},
    webhooks::{FAN_OUT_SQL, fan_out_pattern},
};

/// A connection that writes batches of assessed transactions.
#[derive(Debug)]
pub struct SqliteBatchWriter {
    conn: Connection,
    insert: String,
    /// Set by the checkpointer after a pass.
    tail_due: Arc<AtomicBool>,
}

impl SqliteBatchWriter {
    /// Opens the database file at `path` (created and migrated already by
    /// the sqlx pool) with the pool's settings: WAL, `synchronous` as
    /// given (`FULL` or `NORMAL`), foreign keys enforced, a 5 s busy
    /// timeout for the moments another connection holds the write lock,
    /// and no automatic checkpoints (the store's checkpointer runs them
    /// and sets `tail_due` after each pass).
    pub fn open(
        path: &Path,
        synchronous: &str,
        tail_due: Arc<AtomicBool>,
    ) -> rusqlite::Result<Self> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", synchronous)?;
        conn.pragma_update(None, "foreign_keys", true)?;
        conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let insert = values_sql("transactions", TX_INSERT_COLUMNS, 1, Placeholders::Anonymous);
        Ok(SqliteBatchWriter { conn, insert, tail_due })
    }

    /// Writes `rows` in one transaction, each with its request and
    /// response as `packed` when given (see [`super::packed`]; as the
    /// row's text otherwise), announcing `events[i]` when row
    /// `i` was inserted, and commits (syncing it to disk under `FULL`).
    /// A row whose idempotency key is taken is skipped and reported; any
    /// other failure rolls the whole batch back.
    ///
    /// Only transaction events travel here (`transaction.created`,
    /// `transaction.blocked`): they fan out to webhook endpoints. A batch
    /// carrying an alert event (which also fans out to email recipients)
    /// is refused whole.
    pub fn write(
        &mut self,
        rows: &[TransactionRow],
        packed: &[Option<PackedDocs>],
        events: &[Option<OutboxEventRow>],
    ) -> rusqlite::Result<Vec<InsertOutcome>> {
        assert!(
            rows.len() == packed.len() && rows.len() == events.len(),
            "one packed-documents slot and one event slot per row"
        );
        // Alert events also fan out to email recipients, which only the
        // sqlx path does: refuse them rather than drop their emails.
        if events.iter().flatten().any(|e| crate::notify::alert::Alert::of_event(e).is_some()) {
            return Err(rusqlite::Error::ToSqlConversionFailure(
                "alert events are not written by the transaction writer".into(),
            ));
        }
        let tx = self.conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut out = Vec::with_capacity(rows.len());
        {
            let mut insert = tx.prepare_cached(&self.insert)?;
            for (r, docs) in rows.iter().zip(packed) {
                let (request, response): (&dyn ToSql, &dyn ToSql) = match docs {
                    Some(d) => (&d.request, &d.response),
                    None => (&r.request, &r.response),
                };
                let written = insert.execute(params![
                    r.id,
                    r.organization_id,
                    r.api_key_id,
                    r.flow,
                    r.session_id,
                    r.amount_minor,
                    r.currency,
                    r.email,
                    r.card_bin,
                    r.card_last4,
                    r.ip,
                    r.device_fingerprint,
                    r.customer_id,
                    r.account_id,
                    r.order_id,
                    r.payment_id,
                    r.submerchant_id,
                    r.decision,
                    r.risk_score,
                    r.blocked_by,
                    r.signals,
                    request,
                    response,
                    r.idempotency_key,
                    r.request_hash,
                    r.is_fraudulent,
                    r.created_at,
                ])?;
                // Nothing written: a uniqueness constraint held. Ids are
                // fresh, so that is the idempotency key — unless this very
                // row is already there (as the sqlx path also reads it).
                out.push(if written == 1 || self::exists(&tx, &r.id)? {
                    InsertOutcome::Inserted
                } else {
                    InsertOutcome::IdempotencyConflict
                });
            }
        }
        for (outcome, event) in out.iter().zip(events) {
            if let (InsertOutcome::Inserted, Some(e)) = (outcome, event) {
                tx.prepare_cached(INSERT_EVENT_SQL)?.execute(named_params! {
                    "$1": e.id,
                    "$2": e.organization_id,
                    "$3": e.event_type,
                    "$4": e.payload,
                    "$5": e.created_at,
                    "$6": e.request_id,
                })?;
                tx.prepare_cached(FAN_OUT_SQL)?.execute(named_params! {
                    "$1": e.id,
                    "$2": e.created_at,
                    "$3": e.organization_id,
                    "$4": fan_out_pattern(&e.event_type),
                })?;
            }
        }
        tx.commit()?;
        Ok(out)
    }

    /// Copies back into the database what the WAL holds beyond the
    /// checkpointer's last pass, if it has made one since the last call.
    /// Call between batches: no other writer is appending then, so the
    /// copy completes and the next commit restarts the WAL.
    pub fn finish_checkpoint(&mut self) {
        if !self.tail_due.load(Ordering::Relaxed) {
            return;
        }
        // (busy, frames in the WAL, frames copied back)
        let done = self.conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, i64>(2)?))
        });
        match done {
            // Another connection was checkpointing: try after the next batch.
            Ok((1, _, _)) => {}
            Ok((_, frames, copied)) => {
                self.tail_due.store(false, Ordering::Relaxed);
                if copied < frames {
                    // A reader was in the way; the next pass tries again.
                    tracing::debug!(frames, copied, "WAL checkpoint left frames behind");
                }
            }
            Err(e) => {
                self.tail_due.store(false, Ordering::Relaxed);
                tracing::warn!(error = %e, "finishing a WAL checkpoint failed");
            }
        }
    }
}

fn exists(tx: &rusqlite::Transaction<'_>, id: &str) -> rusqlite::Result<bool> {
    tx.prepare_cached("SELECT 1 FROM transactions WHERE id = ?")?.exists([id])
}
