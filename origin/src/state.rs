//! The server's in-memory state, kept in step with the database.
//!
//! The assess hot path reads only from here — keys, organisations, policy,
//! rules, blocklists, velocity, payer history — so that an assessment costs
//! no database round trip beyond its durable write. Everything here is
//! rebuilt from the database on start.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, RwLock, atomic::AtomicU64},
};

use clausum_core::{
    blocklist::{BlocklistIndex, EntryMeta, FlowScope, ListType, Severity},
    digest::DigestKey,
    engine::{self, PayerIdentity},
    history::MemoryHistory,
    keys::KeyKind,
    policy::Policy,
    rules::{Rule, RuleSet},
    scoring::Decision,
    velocity::{HORIZON_MS, MemoryVelocity, Observation, VelocityStore},
};

use crate::{
    geo::GeoIp,
    idempotency::Idempotency,
    limiter::RateLimiter,
    store::{
        ApiKeyRow, BlocklistRow, Store, StoreError, StoreResult, TransactionRow, writer::Writer,
    },
    time::now_ms,
};

/// How far back payer history is rebuilt on start.
pub const HISTORY_REBUILD_MS: i64 = 90 * 24 * 60 * 60 * 1000;

/// A usable API key, as the hot path needs it.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// Key id (`key_…`).
    pub id: String,
    /// Owning organisation.
    pub organization_id: String,
    /// Secret, publishable or ingest.
    pub kind: KeyKind,
    /// Granted permissions.
    pub permissions: Vec<String>,
    /// Per sliding minute.
    pub rate_limit_per_minute: u32,
    /// Per sliding day, if limited.
    pub rate_limit_per_day: Option<u32>,
    /// Unix ms after which the key stops working.
    pub expires_at: Option<i64>,
}

impl KeyInfo {
    fn from_row(row: &ApiKeyRow) -> Option<KeyInfo> {
        Some(KeyInfo {
            id: row.id.clone(),
            organization_id: row.organization_id.clone(),
            kind: KeyKind::parse(&row.kind)?,
            permissions: serde_json::from_str(&row.permissions).ok()?,
            rate_limit_per_minute: u32::try_from(row.rate_limit_per_minute).unwrap_or(0),
            rate_limit_per_day: row.rate_limit_per_day.and_then(|d| u32::try_from(d).ok()),
            expires_at: row.expires_at,
        })
    }
}

/// Policy and compiled rules of one organisation; replaced whole on change.
#[derive(Debug)]
pub struct OrgSettings {
    /// The policy.
    pub policy: Policy,
    /// Enabled rules, compiled, in priority order.
    pub rules: RuleSet,
}

/// One organisation's live state.
#[derive(Debug)]
pub struct OrgRuntime {
    /// `org_…`.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Swapped atomically when policy or rules change.
    pub settings: RwLock<Arc<OrgSettings>>,
    /// Edited in place: rebuilding a million-entry index per change would be too slow.
    pub blocklist: RwLock<BlocklistIndex>,
}

/// Shared server state.
pub struct AppState {
    /// The database.
    pub store: Arc<dyn Store>,
    /// Keys digests of values in memory.
    pub digest_key: DigestKey,
    /// Active keys by SHA-256 of their text.
    pub keys: RwLock<HashMap<String, Arc<KeyInfo>>>,
    /// Organisations by id.
    pub orgs: RwLock<HashMap<String, Arc<OrgRuntime>>>,
    /// Velocity of every organisation (keys are organisation-scoped digests).
    pub velocity: Mutex<MemoryVelocity>,
    /// Payer history of every organisation.
    pub history: Mutex<MemoryHistory>,
    /// Per-key rate limits.
    pub limiter: RateLimiter,
    /// Idempotency: recent responses and requests in flight.
    pub idempotency: Idempotency,
    /// Batched, durable transaction writes.
    pub writer: Writer,
    /// Ids for velocity observations.
    pub observation_seq: AtomicU64,
    /// Assess deadline.
    pub assess_timeout: std::time::Duration,
    /// IP → country, when a database is configured.
    pub geo: Option<GeoIp>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState").field("backend", &self.store.backend()).finish_non_exhaustive()
    }
}

impl AppState {
    /// Loads everything from the database.
    pub async fn load(
        store: Arc<dyn Store>,
        digest_key: DigestKey,
        assess_timeout: std::time::Duration,
        geo: Option<GeoIp>,
    ) -> StoreResult<Arc<Self>> {
        let state = Arc::new(AppState {
            writer: Writer::spawn(store.clone()),
            store,
            digest_key,
            keys: RwLock::default(),
            orgs: RwLock::default(),
            velocity: Mutex::new(MemoryVelocity::new()),
            history: Mutex::new(MemoryHistory::new()),
            limiter: RateLimiter::default(),
            idempotency: Idempotency::default(),
            observation_seq: AtomicU64::new(1),
            assess_timeout,
            geo,
        });
        state.reload_keys().await?;
        for org in state.store.organizations().await? {
            state.reload_org(&org.id).await?;
        }
        state.rebuild_velocity_and_history().await?;
        Ok(state)
    }

    /// Replaces the key cache with the database's active keys.
    pub async fn reload_keys(&self) -> StoreResult<()> {
        let rows = self.store.active_api_keys(now_ms()).await?;
        let map = rows
            .iter()
            .filter_map(|r| KeyInfo::from_row(r).map(|k| (r.key_hash.clone(), Arc::new(k))))
            .collect();
        *self.keys.write().expect("keys lock") = map;
        Ok(())
    }

    /// Looks a key up by the SHA-256 of its text.
    pub fn key(&self, hash: &str) -> Option<Arc<KeyInfo>> {
        self.keys.read().expect("keys lock").get(hash).cloned()
    }

    /// The live state of an organisation.
    pub fn org(&self, id: &str) -> Option<Arc<OrgRuntime>> {
        self.orgs.read().expect("orgs lock").get(id).cloned()
    }

    /// (Re)loads one organisation: policy, rules and blocklist.
    pub async fn reload_org(&self, org_id: &str) -> StoreResult<()> {
        let Some(row) = self.store.organizations().await?.into_iter().find(|o| o.id == org_id)
        else {
            return Ok(());
        };
        let mut policy: Policy = serde_json::from_str(&row.policy)
            .map_err(|e| StoreError::Corrupt(format!("policy of {org_id}: {e}")))?;
        if let Some(segment) = clausum_core::catalog::Segment::parse(&row.segment) {
            policy.segment = segment;
        }
        let rules = self.compile_rules(org_id).await?;
        let mut index = BlocklistIndex::new(self.digest_key.clone());
        for entry in self.store.active_blocklist(org_id, now_ms()).await? {
            insert_row(&mut index, &entry);
        }
        let runtime = Arc::new(OrgRuntime {
            id: row.id.clone(),
            name: row.name,
            settings: RwLock::new(Arc::new(OrgSettings { policy, rules })),
            blocklist: RwLock::new(index),
        });
        self.orgs.write().expect("orgs lock").insert(row.id, runtime);
        Ok(())
    }

    async fn compile_rules(&self, org_id: &str) -> StoreResult<RuleSet> {
        let mut compiled = Vec::new();
        for r in self.store.enabled_rules(org_id).await? {
            match Rule::compile(&r.source) {
                Ok(rule) => compiled.push((r.name, rule)),
                // Rules are validated when saved; one that no longer compiles
                // (after a language change) is skipped loudly, not fatally.
                Err(e) => {
                    tracing::warn!(org = org_id, rule = %r.name, error = %e, "skipping rule that does not compile")
                }
            }
        }
        Ok(RuleSet::new(compiled))
    }

    /// Adds blocklist entries to the live index of their organisation.
    pub fn apply_blocklist_rows(&self, rows: &[BlocklistRow]) {
        for row in rows {
            if let Some(org) = self.org(&row.organization_id) {
                insert_row(&mut org.blocklist.write().expect("blocklist lock"), row);
            }
        }
    }

    /// Replays recent transactions into velocity (last 24 h) and payer
    /// history (last 90 days), so a restart forgets nothing it should know.
    async fn rebuild_velocity_and_history(&self) -> StoreResult<()> {
        let now = now_ms();
        let rows = self.store.transactions_since(now - HISTORY_REBUILD_MS).await?;
        let mut velocity = self.velocity.lock().expect("velocity lock");
        let mut history = self.history.lock().expect("history lock");
        for row in &rows {
            let keys = engine::payer_keys(&self.digest_key, &row.organization_id, &payer_of(row));
            if row.created_at > now - HORIZON_MS {
                let id = self.observation_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                velocity.observe(&Observation {
                    keys: engine::velocity_keys(&keys),
                    at_ms: row.created_at,
                    amount_minor: row.amount_minor,
                    id,
                });
            }
            let decision = Decision::parse(&row.decision).unwrap_or(Decision::Review);
            history.record(&keys, row.amount_minor, decision, row.created_at);
            if row.is_fraudulent {
                history.record_fraud(&keys);
            }
        }
        tracing::info!(transactions = rows.len(), "rebuilt velocity and payer history");
        Ok(())
    }
}

fn insert_row(index: &mut BlocklistIndex, row: &BlocklistRow) {
    let (Some(list_type), Some(severity), Some(flow_scope)) = (
        ListType::parse(&row.list_type),
        Severity::parse(&row.severity),
        FlowScope::parse(&row.flow_scope),
    ) else {
        tracing::warn!(entry = %row.id, "skipping blocklist entry with unknown enumerations");
        return;
    };
    index.insert(
        &row.value,
        EntryMeta { list_type, severity, flow_scope, expires_at_ms: row.expires_at },
    );
}

/// The payer identity of a stored transaction (its values are stored normalised).
fn payer_of(row: &TransactionRow) -> PayerIdentity<'_> {
    PayerIdentity {
        email: row.email.as_deref(),
        card: row.card_bin.as_deref().zip(row.card_last4.as_deref()),
        ip: row.ip.as_deref(),
        device: row.device_fingerprint.as_deref(),
        customer: row.customer_id.as_deref(),
    }
}
