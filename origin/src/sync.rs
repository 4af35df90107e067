//! Keeping replicas' in-memory state in step.
//!
//! Several origin processes share one PostgreSQL database; each holds its
//! own blocklist indexes, rules, weights, keys and webhook subscriptions in
//! memory. A replica that changes any of them announces the change with
//! `NOTIFY` ([`Change`], JSON); every replica `LISTEN`s and re-reads the
//! changed state from the database — so notifications are idempotent and
//! their order does not matter. A periodic reconcile rebuilds whatever a
//! lost notification (a dropped connection) could have left stale.

use std::{sync::Arc, time::Duration};

use serde::{Deserialize, Serialize};

use crate::{state::AppState, store::CHANGES_CHANNEL};

/// One blocklist entry that changed: re-read it by id; if it is gone or
/// inactive, its `(list type, value)` leaves the index.
///
/// The value travels as its keyed digest (`NOTIFY` payloads can reach
/// PostgreSQL's statement logs, and blocklists hold emails and phone
/// numbers); only an `ip_range`, which the index keeps by its network,
/// travels as text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EntryRef {
    /// `bl_…`.
    pub id: String,
    /// List type wire name.
    pub list_type: String,
    /// Hex of the value's digest (`BlocklistIndex::digest`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// The normalised value: an `ip_range` only (and every type from
    /// replicas older than the digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// What changed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Some blocklist entries of an organisation.
    Entries {
        /// The organisation.
        org: String,
        /// The entries.
        entries: Vec<EntryRef>,
    },
    /// Too many entries to list (an import): reload the organisation's blocklist.
    Blocklist {
        /// The organisation.
        org: String,
    },
    /// An organisation's policy or rules.
    Settings {
        /// The organisation.
        org: String,
    },
    /// API keys.
    Keys,
    /// Webhook endpoints (who listens to which events).
    Subscriptions,
    /// A fraud report marked a transaction fraudulent: its payer's history.
    Fraud {
        /// The organisation.
        org: String,
        /// The reported transaction (`txn_…`).
        transaction: String,
    },
}

/// A notification: the change and the replica that made it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Notice {
    /// The announcing replica's id (it has applied the change already).
    pub node: String,
    /// The change.
    #[serde(flatten)]
    pub change: Change,
}

/// Entries per notification at most: `NOTIFY` payloads stay under 8 kB.
pub const MAX_ENTRIES_PER_NOTICE: usize = 20;

/// How often every organisation's state is rebuilt from the database when
/// replicas share it.
pub const RECONCILE_EVERY: Duration = Duration::from_secs(300);

/// Starts listening for other replicas' changes (PostgreSQL only).
pub fn spawn_listener(state: Arc<AppState>) {
    let Some(pool) = state.store.listen_pool() else { return };
    tokio::spawn(async move {
        loop {
            match listen(&state, &pool).await {
                Ok(()) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "change listener lost its connection; reconnecting");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
            }
        }
    });
}

async fn listen(state: &Arc<AppState>, pool: &sqlx::PgPool) -> Result<(), sqlx::Error> {
    let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
    listener.listen(CHANGES_CHANNEL).await?;
    // Anything announced while we were not listening is only in the database.
    reconcile(state).await;
    loop {
        let n = listener.recv().await?;
        match serde_json::from_str::<Notice>(n.payload()) {
            Ok(notice) if notice.node != state.node_id => {
                if let Err(e) = state.apply_remote(&notice.change).await {
                    tracing::warn!(error = %e, "applying a replica's change failed; the reconcile will catch up");
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "ignoring a malformed change notification"),
        }
    }
}

/// Rebuilds every organisation's state from the database.
pub async fn reconcile(state: &AppState) {
    let orgs = match state.store.organizations().await {
        Ok(o) => o,
        Err(e) => {
            tracing::warn!(error = %e, "reconcile could not list organisations");
            return;
        }
    };
    for org in orgs {
        if let Err(e) = state.reload_org(&org.id).await {
            tracing::warn!(error = %e, org = %org.id, "reconcile could not reload an organisation");
        }
    }
    let _ = state.reload_keys().await;
    let _ = state.reload_subscriptions().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_travel_by_digest_and_older_notices_still_read() {
        let change = Change::Entries {
            org: "org_1".into(),
            entries: vec![EntryRef {
                id: "bl_1".into(),
                list_type: "email".into(),
                digest: Some("00ff".repeat(8)),
                value: None,
            }],
        };
        let text = serde_json::to_string(&change).unwrap();
        assert!(!text.contains("\"value\""), "{text}");
        // A replica older than the digest sends the value.
        let old = r#"{"kind":"entries","org":"org_1","entries":[{"id":"bl_1","list_type":"email","value":"a@b.mx"}]}"#;
        let Change::Entries { entries, .. } = serde_json::from_str(old).unwrap() else {
            panic!("entries")
        };
        assert_eq!(
            (entries[0].digest.as_deref(), entries[0].value.as_deref()),
            (None, Some("a@b.mx"))
        );
    }
}
