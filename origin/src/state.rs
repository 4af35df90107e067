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
    beneficiaries::{KnownBeneficiaries, PayoutFacts, PayoutKeys},
    blocklist::{BlocklistIndex, EntryMeta, FlowScope, ListType, Severity},
    catalog::Segment,
    digest::DigestKey,
    engine::{self, PayerIdentity},
    history::MemoryHistory,
    keys::KeyKind,
    policy::Policy,
    rules::{Rule, RuleSet},
    scoring::Decision,
    transaction::Transaction,
    velocity::{HORIZON_MS, MemoryVelocity, Observation, VelocityStore},
    wire::PayoutRequest,
};

use crate::{
    auth::jwt::Tokens,
    geo::GeoIp,
    idempotency::Idempotency,
    limiter::{Admission, RateLimiter},
    store::{
        ApiKeyRow, BlocklistRow, OrganizationRow, Store, StoreError, StoreResult, TransactionRow,
        writer::Writer,
    },
    sync::{self, Change, EntryRef, Notice},
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
    /// Active PSP submerchants: id → name.
    pub submerchants: HashMap<String, String>,
}

impl OrgSettings {
    /// Checks an assess's `submerchant_id` and returns the submerchant's
    /// name. A `psp` organisation with active submerchants must name one
    /// of them (the documented "org-level fallback is rejected"); other
    /// organisations may send any id, and get a name when it is registered.
    pub fn submerchant(&self, id: Option<&str>) -> Result<Option<String>, crate::error::ApiError> {
        use crate::error::ApiError;
        match id {
            None if self.policy.segment == Segment::Psp && !self.submerchants.is_empty() => {
                Err(ApiError::field(
                    "submerchant_id",
                    "submerchant_id is required: this PSP organisation has active submerchants \
                     (register them at /api/v1/submerchants), and org-level assessment is rejected",
                ))
            }
            None => Ok(None),
            Some(id) => match self.submerchants.get(id) {
                Some(name) => Ok(Some(name.clone())),
                None if self.policy.segment == Segment::Psp && !self.submerchants.is_empty() => {
                    Err(ApiError::field(
                        "submerchant_id",
                        "submerchant_id names no active submerchant of this organisation",
                    ))
                }
                None => Ok(None),
            },
        }
    }
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

impl OrgRuntime {
    /// The settings in effect now (a cheap shared copy).
    pub fn settings_now(&self) -> Arc<OrgSettings> {
        self.settings.read().expect("settings lock").clone()
    }
}

/// What the state is built with besides the database.
#[derive(Debug)]
pub struct Services {
    /// IP → country, when a database is configured.
    pub geo: Option<GeoIp>,
    /// Dashboard tokens.
    pub tokens: Tokens,
    /// Largest bulk-import body.
    pub max_import_bytes: usize,
    /// Sends (and vets the URLs of) webhooks.
    pub webhook_sender: crate::webhooks::Sender,
    /// Shared counters, when replicas share Redis.
    pub redis: Option<crate::counters::RedisCounters>,
    /// Assessments allowed in flight at once before new ones are shed.
    pub max_inflight_assess: usize,
    /// Edge deployment support (snapshots, purges).
    pub edge: crate::edge::EdgeHub,
}

/// What a committed change needs re-read ([`AppState::after_commit`]).
#[derive(Debug)]
pub enum Reload {
    /// The API keys.
    Keys,
    /// One organisation's policy, rules and submerchants.
    Settings(String),
    /// Which endpoints want which events.
    Subscriptions,
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
    /// Which beneficiaries each payout origin account has paid (digests only).
    pub beneficiaries: Mutex<KnownBeneficiaries>,
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
    /// Dashboard tokens.
    pub tokens: Tokens,
    /// Largest bulk-import body.
    pub max_import_bytes: usize,
    /// Which event types each organisation's enabled webhook endpoints
    /// want (`None` in the set's place means every event), so assess
    /// enqueues an event only when someone listens.
    pub subscriptions: RwLock<HashMap<String, Option<std::collections::HashSet<String>>>>,
    /// Wakes the webhook delivery worker when deliveries were queued.
    pub deliveries_queued: tokio::sync::Notify,
    /// Sends (and vets the URLs of) webhooks.
    pub webhook_sender: crate::webhooks::Sender,
    /// The running delivery worker, if any.
    pub webhook_worker: crate::background::Slot,
    /// The running email alert worker, if any.
    pub email_worker: crate::background::Slot,
    /// This replica's id in change notifications (`crate::sync`).
    pub node_id: String,
    /// Shared velocity and rate-limit counters, when replicas share Redis;
    /// `None` counts in this process (`velocity`, `limiter`).
    pub redis: Option<crate::counters::RedisCounters>,
    /// Request and decision counters for `/metrics`.
    pub metrics: crate::metrics::Metrics,
    /// Assessments in flight now.
    pub inflight_assess: std::sync::atomic::AtomicUsize,
    /// Past this many in flight, assess answers 503 at once.
    pub max_inflight_assess: usize,
    /// Edge deployment support: snapshots for the worker, purges after changes.
    pub edge: crate::edge::EdgeHub,
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
        services: Services,
    ) -> StoreResult<Arc<Self>> {
        let Services {
            geo,
            tokens,
            max_import_bytes,
            webhook_sender,
            redis,
            max_inflight_assess,
            edge,
        } = services;
        let state = Arc::new(AppState {
            writer: Writer::spawn(store.clone())?,
            store,
            digest_key,
            keys: RwLock::default(),
            orgs: RwLock::default(),
            velocity: Mutex::new(MemoryVelocity::new()),
            history: Mutex::new(MemoryHistory::new()),
            beneficiaries: Mutex::new(KnownBeneficiaries::new()),
            limiter: RateLimiter::default(),
            idempotency: Idempotency::default(),
            observation_seq: AtomicU64::new(1),
            assess_timeout,
            geo,
            tokens,
            max_import_bytes,
            subscriptions: RwLock::default(),
            deliveries_queued: tokio::sync::Notify::new(),
            webhook_sender,
            webhook_worker: crate::background::Slot::default(),
            email_worker: crate::background::Slot::default(),
            node_id: uuid::Uuid::new_v4().simple().to_string(),
            redis,
            metrics: crate::metrics::Metrics::default(),
            inflight_assess: std::sync::atomic::AtomicUsize::new(0),
            max_inflight_assess,
            edge,
        });
        state.reload_keys().await?;
        for org in state.store.organizations().await? {
            state.reload_org(&org.id).await?;
        }
        state.rebuild_velocity_and_history().await?;
        state.refresh_subscriptions().await?;
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

    /// An organisation's live state, loading it first when it was created
    /// by another process (the CLI, another replica) since this one loaded,
    /// rather than waiting for the reconcile.
    pub async fn org_or_load(&self, id: &str) -> Result<Arc<OrgRuntime>, crate::error::ApiError> {
        if let Some(org) = self.org(id) {
            return Ok(org);
        }
        self.reload_org(id).await?;
        self.org(id).ok_or_else(|| {
            crate::error::ApiError::internal(&format!("organisation {id} not found"))
        })
    }

    /// (Re)loads one organisation: policy, rules and blocklist.
    pub async fn reload_org(&self, org_id: &str) -> StoreResult<()> {
        let Some(row) = self.store.organization(org_id).await? else {
            return Ok(());
        };
        let settings = self.load_settings(&row).await?;
        let mut index = BlocklistIndex::new(self.digest_key.clone());
        for entry in self.store.active_blocklist(org_id, now_ms()).await? {
            insert_row(&mut index, &entry);
        }
        let runtime = Arc::new(OrgRuntime {
            id: row.id.clone(),
            name: row.name,
            settings: RwLock::new(Arc::new(settings)),
            blocklist: RwLock::new(index),
        });
        self.orgs.write().expect("orgs lock").insert(row.id, runtime);
        Ok(())
    }

    /// Re-reads a committed change into memory and tells the replicas. The
    /// change is in the database already, so a failure here is not the
    /// caller's to hear ("nothing was changed" would be false, and a new
    /// key's text would be lost): it is logged and retried in the
    /// background until it succeeds.
    pub async fn after_commit(self: &Arc<Self>, what: Reload) {
        let Err(e) = self.reload(&what).await else { return };
        tracing::error!(error = %e, ?what, "re-reading a committed change failed; retrying");
        let state = Arc::clone(self);
        tokio::spawn(async move {
            let mut wait = std::time::Duration::from_millis(250);
            // About ten minutes; past that the failure is not passing (a
            // stored policy that no longer reads, say): the next change or
            // the reconcile tries again.
            for _ in 0..64 {
                tokio::time::sleep(wait).await;
                match state.reload(&what).await {
                    Ok(()) => return,
                    Err(e) => {
                        tracing::warn!(error = %e, ?what, "re-reading a committed change failed again");
                        wait = (wait * 2).min(std::time::Duration::from_secs(10));
                    }
                }
            }
            tracing::error!(?what, "gave up re-reading a committed change");
        });
    }

    async fn reload(&self, what: &Reload) -> StoreResult<()> {
        match what {
            Reload::Keys => self.reload_keys().await,
            Reload::Settings(org) => self.reload_settings(org).await,
            Reload::Subscriptions => self.reload_subscriptions().await,
        }
    }

    /// Reloads an organisation's policy and rules (not its blocklist) after
    /// a change, so the next assess uses them — here and, through a change
    /// notification, on every replica.
    pub async fn reload_settings(&self, org_id: &str) -> StoreResult<()> {
        self.refresh_settings(org_id).await?;
        self.publish(Change::Settings { org: org_id.to_owned() });
        Ok(())
    }

    /// Reloads an organisation's policy and rules on this replica only.
    pub async fn refresh_settings(&self, org_id: &str) -> StoreResult<()> {
        let Some(row) = self.store.organization(org_id).await? else {
            return Ok(());
        };
        let settings = Arc::new(self.load_settings(&row).await?);
        if let Some(org) = self.org(org_id) {
            *org.settings.write().expect("settings lock") = settings;
        }
        Ok(())
    }

    async fn load_settings(&self, row: &OrganizationRow) -> StoreResult<OrgSettings> {
        let mut policy: Policy = serde_json::from_str(&row.policy)
            .map_err(|e| StoreError::Corrupt(format!("policy of {}: {e}", row.id)))?;
        if let Some(segment) = clausum_core::catalog::Segment::parse(&row.segment) {
            policy.segment = segment;
        }
        let rules = self.compile_rules(&row.id).await?;
        let submerchants = self
            .store
            .active_submerchants(&row.id)
            .await?
            .into_iter()
            .map(|s| (s.id, s.name))
            .collect();
        Ok(OrgSettings { policy, rules, submerchants })
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

    /// Adds blocklist entries to the live index of their organisation
    /// (inactive ones are skipped), and announces them to the replicas.
    pub fn apply_blocklist_rows(&self, rows: &[BlocklistRow]) {
        for row in rows.iter().filter(|r| r.is_active) {
            if let Some(org) = self.org(&row.organization_id) {
                insert_row(&mut org.blocklist.write().expect("blocklist lock"), row);
            }
        }
        self.announce_entries(rows);
    }

    /// Takes an entry out of the live index (deleted, or about to be
    /// re-added with changed fields), and announces it.
    pub fn remove_blocklist_row(&self, row: &BlocklistRow) {
        self.remove_local(&row.organization_id, &row.list_type, &row.value);
        self.announce_entries(std::slice::from_ref(row));
    }

    /// Removes `(list type, value)` from an organisation's index, whatever
    /// its flow scope (an organisation lists a type and value once).
    fn remove_local(&self, org_id: &str, list_type: &str, value: &str) {
        let (Some(org), Some(list_type)) = (self.org(org_id), ListType::parse(list_type)) else {
            return;
        };
        let mut index = org.blocklist.write().expect("blocklist lock");
        for scope in [FlowScope::All, FlowScope::Payin, FlowScope::Payout] {
            index.remove(list_type, value, scope);
        }
    }

    /// Removes an entry another replica announced, by digest or by value.
    fn remove_announced(&self, org_id: &str, e: &EntryRef) {
        let digest =
            e.digest.as_deref().and_then(|h| <[u8; 16]>::try_from(hex::decode(h).ok()?).ok());
        match (digest, &e.value) {
            (Some(d), _) => {
                let Some(org) = self.org(org_id) else { return };
                let mut index = org.blocklist.write().expect("blocklist lock");
                for scope in [FlowScope::All, FlowScope::Payin, FlowScope::Payout] {
                    index.remove_digest(clausum_core::digest::Digest(d), scope);
                }
            }
            (None, Some(value)) => self.remove_local(org_id, &e.list_type, value),
            (None, None) => {
                tracing::warn!(entry = %e.id, "a replica announced an entry without its value")
            }
        }
    }

    fn announce_entries(&self, rows: &[BlocklistRow]) {
        let mut by_org: HashMap<&str, Vec<EntryRef>> = HashMap::new();
        for r in rows {
            let (digest, value) = match ListType::parse(&r.list_type) {
                Some(ListType::IpRange) | None => (None, Some(r.value.clone())),
                Some(t) => {
                    let d =
                        clausum_core::blocklist::index::value_digest(&self.digest_key, t, &r.value);
                    (Some(hex::encode(d.0)), None)
                }
            };
            by_org.entry(&r.organization_id).or_default().push(EntryRef {
                id: r.id.clone(),
                list_type: r.list_type.clone(),
                digest,
                value,
            });
        }
        for (org, entries) in by_org {
            self.edge.blocklist_changed(org);
            if entries.len() > 10 * sync::MAX_ENTRIES_PER_NOTICE {
                self.publish(Change::Blocklist { org: org.to_owned() });
                continue;
            }
            for chunk in entries.chunks(sync::MAX_ENTRIES_PER_NOTICE) {
                self.publish(Change::Entries { org: org.to_owned(), entries: chunk.to_vec() });
            }
        }
    }

    /// Announces a change to the other replicas (in the background: the
    /// change is already committed and applied here; a lost notice is
    /// repaired by the periodic reconcile).
    pub fn publish(&self, change: Change) {
        // The edge authenticates keys from its own copy of the manifest:
        // the node where a key changed tells it (the others only re-read).
        if change == Change::Keys {
            self.edge.keys_changed();
        }
        if self.store.listen_pool().is_none() {
            return;
        }
        let payload = serde_json::to_string(&Notice { node: self.node_id.clone(), change })
            .expect("serialises");
        let store = self.store.clone();
        tokio::spawn(async move {
            if let Err(e) = store.notify_change(&payload).await {
                tracing::warn!(error = %e, "announcing a change to the replicas failed");
            }
        });
    }

    /// Applies another replica's change by re-reading the database.
    pub async fn apply_remote(&self, change: &Change) -> StoreResult<()> {
        match change {
            Change::Entries { org, entries } => {
                for e in entries {
                    let row = self.store.blocklist_entry(org, &e.id).await?;
                    self.remove_announced(org, e);
                    if let Some(row) = row.filter(|r| r.is_active)
                        && let Some(runtime) = self.org(org)
                    {
                        insert_row(&mut runtime.blocklist.write().expect("blocklist lock"), &row);
                    }
                }
                Ok(())
            }
            Change::Blocklist { org } => self.reload_org(org).await,
            Change::Settings { org } => self.refresh_settings(org).await,
            Change::Keys => self.reload_keys().await,
            Change::Subscriptions => self.refresh_subscriptions().await,
            Change::Fraud { org, transaction } => {
                if let Some(row) = self.store.transaction(org, transaction).await?
                    && row.is_fraudulent
                {
                    self.record_fraud(&row);
                }
                Ok(())
            }
        }
    }

    /// Admits (and counts) one Partner API request of `key`, in Redis when
    /// replicas share it. Redis unreachable: 503 `RATE_LIMIT_STORE_UNAVAILABLE`.
    pub async fn admit_key(
        &self,
        key: &KeyInfo,
        now: i64,
    ) -> Result<Admission, crate::error::ApiError> {
        let Some(redis) = &self.redis else { return Ok(self.limiter.check(key, now)) };
        let unique = format!(
            "{}:{}",
            self.node_id,
            self.observation_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let minute = redis
            .admit(&key.id, key.rate_limit_per_minute, 60_000, now, &unique)
            .await
            .map_err(|e| counters_unavailable(&e))?;
        let day = match (key.rate_limit_per_day, minute.allowed) {
            (Some(limit), true) => Some(
                redis
                    .admit(&key.id, limit, 86_400_000, now, &unique)
                    .await
                    .map_err(|e| counters_unavailable(&e))?,
            ),
            _ => None,
        };
        Ok(crate::limiter::admission(key.rate_limit_per_minute, minute, day, now))
    }

    /// Admits one request counted under `name` (a user, a login address).
    pub async fn admit_bucket(
        &self,
        name: &str,
        per_minute: u32,
        now: i64,
    ) -> Result<Admission, crate::error::ApiError> {
        let Some(redis) = &self.redis else {
            return Ok(self.limiter.check_bucket(name, per_minute, now));
        };
        let unique = format!(
            "{}:{}",
            self.node_id,
            self.observation_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        );
        let d = redis
            .admit(name, per_minute, 60_000, now, &unique)
            .await
            .map_err(|e| counters_unavailable(&e))?;
        Ok(crate::limiter::admission(per_minute, d, None, now))
    }

    /// Re-reads which organisations' endpoints want which events, here and
    /// on every replica.
    pub async fn reload_subscriptions(&self) -> StoreResult<()> {
        self.refresh_subscriptions().await?;
        self.publish(Change::Subscriptions);
        Ok(())
    }

    /// Re-reads the webhook subscriptions on this replica only.
    pub async fn refresh_subscriptions(&self) -> StoreResult<()> {
        let mut map: HashMap<String, Option<std::collections::HashSet<String>>> = HashMap::new();
        for (org, events) in self.store.subscriptions().await? {
            let types: Vec<String> = serde_json::from_str(&events).unwrap_or_default();
            let entry = map.entry(org).or_insert_with(|| Some(Default::default()));
            match (entry.as_mut(), types.is_empty()) {
                (_, true) => *entry = None,
                (Some(set), false) => set.extend(types),
                (None, false) => {}
            }
        }
        *self.subscriptions.write().expect("subscriptions lock") = map;
        Ok(())
    }

    /// Starts the webhook delivery worker (stopping a running one first).
    pub fn start_webhook_worker(self: &Arc<Self>, config: crate::webhooks::WorkerConfig) {
        self.webhook_worker.set(crate::webhooks::worker::spawn(
            self.clone(),
            self.webhook_sender.clone(),
            config,
        ));
    }

    /// Stops the webhook delivery worker as a crash would: in-flight sends
    /// are dropped, their claims expire after the lease.
    pub fn stop_webhook_worker(&self) {
        self.webhook_worker.abort();
    }

    /// Stops the webhook delivery worker for a shutdown: it claims nothing
    /// more, lets the sends under way finish (for up to `grace`) and gives
    /// back the claims it will not send, so another replica delivers them at
    /// once rather than after the lease. Returns whether it finished in time.
    pub async fn drain_webhook_worker(&self, grace: std::time::Duration) -> bool {
        self.webhook_worker.drain(grace, "webhook").await
    }

    /// Holds `running` as this replica's email alert worker, aborting the
    /// one it replaces (as a crash would).
    pub fn set_email_worker(&self, running: crate::background::Running) {
        self.email_worker.set(running);
    }

    /// Starts an email alert worker sending through `mailer` (`None`:
    /// alerts are recorded, not sent), replacing a running one.
    pub fn start_email_worker(
        &self,
        mailer: Option<crate::notify::Mailer>,
        config: crate::notify::worker::WorkerConfig,
    ) {
        self.email_worker.set(crate::notify::worker::spawn(self.store.clone(), mailer, config));
    }

    /// Stops the email alert worker as a crash would: in-flight sends are
    /// dropped, their claims expire after the lease.
    pub fn stop_email_worker(&self) {
        self.email_worker.abort();
    }

    /// Drains both background workers at once (webhook deliveries and
    /// alert emails), each for up to `grace`. Returns whether both finished
    /// in time.
    pub async fn drain_workers(&self, grace: std::time::Duration) -> bool {
        let (webhooks, emails) = tokio::join!(
            self.webhook_worker.drain(grace, "webhook"),
            self.email_worker.drain(grace, "email")
        );
        webhooks && emails
    }

    /// Whether any enabled endpoint of `org` wants `event_type`.
    pub fn subscribed(&self, org: &str, event_type: &str) -> bool {
        match self.subscriptions.read().expect("subscriptions lock").get(org) {
            None => false,
            Some(None) => true,
            Some(Some(types)) => types.contains(event_type),
        }
    }

    /// Records confirmed fraud in the payer history, so the next assess of
    /// the same email, card, device or customer sees it. The replica that
    /// took the report also announces it ([`Change::Fraud`]).
    pub fn record_fraud(&self, row: &TransactionRow) {
        let keys = engine::payer_keys(&self.digest_key, &row.organization_id, &payer_of(row));
        self.history.lock().expect("history lock").record_fraud(&keys);
    }

    /// Replays recent transactions into velocity (last 24 h), payer
    /// history and known beneficiaries (last 90 days), so a restart
    /// forgets nothing it should know.
    async fn rebuild_velocity_and_history(&self) -> StoreResult<()> {
        let now = now_ms();
        let rows = self.store.transactions_since(now - HISTORY_REBUILD_MS).await?;
        let paid = self.replay(&rows, now);
        // With Redis every replica seeds what it finds; recording is
        // idempotent (the earliest payment wins), so Redis ends up knowing
        // every payout recorded in the window even if it started empty.
        self.remember_payouts(&paid).await;
        tracing::info!(transactions = rows.len(), "rebuilt velocity and payer history");
        Ok(())
    }

    /// Replays `rows` into velocity (unless Redis holds it) and payer
    /// history; returns the payouts that paid a beneficiary, with when.
    fn replay(&self, rows: &[TransactionRow], now: i64) -> Vec<(PayoutKeys, i64)> {
        let mut paid = Vec::new();
        let mut velocity = self.velocity.lock().expect("velocity lock");
        let mut history = self.history.lock().expect("history lock");
        for row in rows {
            let keys = engine::payer_keys(&self.digest_key, &row.organization_id, &payer_of(row));
            // Shared counters live in Redis: replaying them from here would
            // count each transaction once per replica.
            if self.redis.is_none() && row.created_at > now - HORIZON_MS && row.source == "assess" {
                let id = self.observation_seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let settings = self.org(&row.organization_id).map(|o| o.settings_now());
                let keys = match &settings {
                    Some(s) => engine::velocity_keys_for(
                        &self.digest_key,
                        &keys,
                        &s.policy,
                        row.flow == "payout",
                        row.submerchant_id.as_deref(),
                    ),
                    None => engine::velocity_keys(&keys),
                };
                velocity.observe(&Observation {
                    keys,
                    at_ms: row.created_at,
                    amount_minor: row.amount_minor,
                    id,
                });
            }
            // Reported-only rows were never assessed: they carry fraud, not a decision.
            if let Some(decision) = row.decision.as_deref().and_then(Decision::parse) {
                history.record(&keys, row.amount_minor, decision, row.created_at);
            }
            if row.is_fraudulent {
                history.record_fraud(&keys);
            }
            if row.flow == "payout" && row.decision.as_deref().is_some_and(|d| d != "decline") {
                paid.extend(self.paid_beneficiary(row).map(|k| (k, row.created_at)));
            }
        }
        paid
    }

    /// What this replica knows of a payout's beneficiary (see
    /// [`KnownBeneficiaries::facts`]): from Redis when replicas share it
    /// (unreachable: the documented 503), else from this node's memory.
    pub async fn beneficiary_facts(
        &self,
        keys: &PayoutKeys,
        now_ms: i64,
        window_ms: i64,
    ) -> Result<PayoutFacts, crate::error::ApiError> {
        match &self.redis {
            Some(redis) => redis
                .beneficiary_facts(keys, now_ms, window_ms)
                .await
                .map_err(|e| counters_unavailable(&e)),
            None => Ok(self
                .beneficiaries
                .lock()
                .expect("beneficiaries lock")
                .facts(keys, now_ms, window_ms)),
        }
    }

    /// Remembers that a payout that was not declined paid its beneficiary.
    pub async fn remember_payout(&self, keys: &PayoutKeys, at_ms: i64) {
        self.remember_payouts(&[(*keys, at_ms)]).await;
    }

    /// Remembers payouts that paid their beneficiaries, each `(keys, at_ms)`:
    /// in Redis when replicas share it, else in this node's memory. A
    /// failure only leaves a beneficiary new (the transactions are already
    /// recorded), so it is logged, not returned.
    async fn remember_payouts(&self, paid: &[(PayoutKeys, i64)]) {
        match &self.redis {
            Some(redis) => {
                if let Err(e) = redis.remember_beneficiaries(paid, HISTORY_REBUILD_MS).await {
                    tracing::warn!(error = %e, payouts = paid.len(), "recording known beneficiaries in Redis failed; they count as new until paid again");
                }
            }
            None => {
                let mut known = self.beneficiaries.lock().expect("beneficiaries lock");
                for (k, at) in paid {
                    known.record(k, *at);
                }
            }
        }
    }
}

impl AppState {
    /// The digests of the beneficiary a recorded payout paid (read back from
    /// its stored request), so a restart keeps knowing who was paid before.
    fn paid_beneficiary(&self, row: &TransactionRow) -> Option<PayoutKeys> {
        let Some(tx) = serde_json::from_str::<PayoutRequest>(&row.request)
            .ok()
            .and_then(|r| Transaction::from_payout_wire(&r).ok())
        else {
            tracing::warn!(transaction = %row.id, "stored payout request does not parse; skipped");
            return None;
        };
        tx.payout
            .as_ref()
            .and_then(|p| engine::payout_keys(&self.digest_key, &row.organization_id, p))
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
        EntryMeta {
            list_type,
            severity,
            flow_scope,
            expires_at_ms: row.expires_at,
            entry: clausum_core::blocklist::entry_key(&row.id),
        },
    );
}

/// The documented 503 when the shared counters cannot be reached: counting
/// locally instead would let each replica admit the full limit.
pub fn counters_unavailable(e: &dyn std::fmt::Display) -> crate::error::ApiError {
    tracing::error!(error = %e, "the shared counter store (Redis) is unreachable");
    crate::error::ApiError::from_body(clausum_core::wire::ErrorBody::new(
        clausum_core::wire::ErrorCode::RateLimitStoreUnavailable,
        "The rate-limit and velocity store is unavailable; nothing was recorded. Retry shortly.",
    ))
}

/// The payer identity of a stored transaction (its values are stored normalised).
fn payer_of(row: &TransactionRow) -> PayerIdentity<'_> {
    PayerIdentity {
        email: row.email.as_deref(),
        card: row.card_bin.as_deref().zip(row.card_last4.as_deref()),
        ip: row.ip.as_deref(),
        device: row.device_fingerprint.as_deref(),
        customer: row.customer_id.as_deref(),
        account: row.account_id.as_deref(),
    }
}
