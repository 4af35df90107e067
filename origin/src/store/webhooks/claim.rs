//! The claim query of each backend.
//!
//! Both mark up to `$3` due deliveries as leased until `$2` and return
//! them with their event. PostgreSQL skips rows another worker has locked
//! (`FOR UPDATE SKIP LOCKED`), so concurrent workers never wait on nor
//! double-claim each other's rows; SQLite has one writer at a time and the
//! claim runs in a `BEGIN IMMEDIATE` transaction, which gives the same
//! guarantee.

/// `$1` now, `$2` lease end, `$3` limit.
pub(super) const PG_CLAIM: &str = "WITH due AS ( \
        SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
          AND (d.claimed_until IS NULL OR d.claimed_until < $1) AND w.enabled \
        ORDER BY d.next_attempt_at LIMIT $3 FOR UPDATE OF d SKIP LOCKED) \
    UPDATE webhook_deliveries SET claimed_until = $2 FROM due WHERE webhook_deliveries.id = due.id \
    RETURNING webhook_deliveries.id";

/// The same for SQLite (inside `BEGIN IMMEDIATE`).
pub(super) const SQLITE_CLAIM: &str = "UPDATE webhook_deliveries SET claimed_until = $2 \
    WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints w ON w.id = d.endpoint_id \
        WHERE d.status = 'pending' AND d.next_attempt_at <= $1 \
          AND (d.claimed_until IS NULL OR d.claimed_until < $1) AND w.enabled \
        ORDER BY d.next_attempt_at LIMIT $3) \
    RETURNING id";

/// The claimed rows with their events, by id list (`$1` … bound one by one).
pub(super) fn due_sql(n: usize) -> String {
    let params: Vec<String> = (1..=n).map(|i| format!("${i}")).collect();
    format!(
        "SELECT d.id, d.organization_id, d.endpoint_id, d.attempts, d.event_id, e.event_type, \
         e.payload, e.created_at AS event_created_at, e.request_id FROM webhook_deliveries d \
         JOIN outbox_events e ON e.id = d.event_id WHERE d.id IN ({}) ORDER BY d.next_attempt_at, d.id",
        params.join(", ")
    )
}
