//! Starting the server: open the database, load the state, bind, serve.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use anyhow::Context as _;
use clausum_core::digest::DigestKey;
use poem::{
    Server,
    listener::{Acceptor, Listener, TcpListener},
};
use rand::RngCore;

use crate::{
    api,
    auth::jwt::{ExternalProvider, JwksCache, ProviderKeys, Tokens},
    config::Config,
    geo::GeoIp,
    state::AppState,
    store::{PgStore, SqliteStore, Store},
    time::now_ms,
};

/// Opens the backend named by the URL's scheme and applies its migrations.
pub async fn open_store(url: &str) -> anyhow::Result<Arc<dyn Store>> {
    let store: Arc<dyn Store> =
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Arc::new(PgStore::connect(url).await.context("connecting to PostgreSQL")?)
        } else if url.starts_with("sqlite:") {
            Arc::new(SqliteStore::connect(url).await.context("opening SQLite")?)
        } else {
            anyhow::bail!("CLAUSUM_DATABASE_URL must start with sqlite: or postgres://");
        };
    store.migrate().await.context("applying migrations")?;
    Ok(store)
}

/// The digest key: `CLAUSUM_HASH_KEY` when set, else the one generated on
/// first start and kept in the database (so digests survive restarts).
pub async fn digest_key(store: &dyn Store, configured: Option<&str>) -> anyhow::Result<DigestKey> {
    let hex_key = match configured {
        Some(k) => k.to_owned(),
        None => {
            let mut fresh = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut fresh);
            store.init_setting("digest_key", &hex::encode(fresh)).await?
        }
    };
    let bytes: [u8; 16] = hex::decode(hex_key.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .context("CLAUSUM_HASH_KEY must be 32 hex characters")?;
    Ok(DigestKey::new(bytes))
}

/// The dashboard token issuer/verifier for `config`: the signing secret is
/// `CLAUSUM_JWT_SECRET` or one generated on first start and kept in the
/// database; the external provider is configured by `CLAUSUM_IDP_*`.
pub async fn tokens(store: &dyn Store, config: &Config) -> anyhow::Result<Tokens> {
    let secret = match &config.jwt_secret {
        Some(s) if s.len() >= 32 => s.clone(),
        Some(_) => anyhow::bail!("CLAUSUM_JWT_SECRET must have at least 32 characters"),
        None => {
            let mut fresh = [0u8; 32];
            rand::rngs::OsRng.fill_bytes(&mut fresh);
            store.init_setting("jwt_secret", &hex::encode(fresh)).await?
        }
    };
    let external = match &config.idp_issuer {
        None => None,
        Some(issuer) => {
            let keys = match (&config.idp_jwks_url, &config.idp_hs256_secret) {
                (Some(url), None) => ProviderKeys::Jwks(JwksCache::new(url.clone())),
                (None, Some(secret)) => ProviderKeys::Hs256(secret.as_bytes().to_vec()),
                _ => anyhow::bail!(
                    "with CLAUSUM_IDP_ISSUER set exactly one of CLAUSUM_IDP_JWKS_URL and \
                     CLAUSUM_IDP_HS256_SECRET must be set"
                ),
            };
            Some(ExternalProvider {
                issuer: issuer.clone(),
                audience: config.idp_audience.clone(),
                keys,
            })
        }
    };
    Ok(Tokens::new(secret.into_bytes(), Duration::from_secs(config.jwt_ttl_secs.max(60)), external))
}

/// A server running in the background (tests, benchmarks).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub state: Arc<AppState>,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Redis for velocity and rate limits, when configured. Replicas sharing
/// PostgreSQL must count together: without Redis they refuse to start,
/// unless `CLAUSUM_SINGLE_NODE` says this is the only one.
pub async fn shared_counters(
    store: &dyn Store,
    config: &Config,
) -> anyhow::Result<Option<crate::counters::RedisCounters>> {
    match &config.redis_url {
        Some(url) => {
            let counters = crate::counters::RedisCounters::connect(url, "clausum:")
                .await
                .context("connecting to Redis (CLAUSUM_REDIS_URL)")?;
            counters.ping().await.context("Redis does not answer (CLAUSUM_REDIS_URL)")?;
            tracing::info!("velocity and rate limits are shared through Redis");
            Ok(Some(counters))
        }
        None if store.listen_pool().is_some() && !config.single_node => anyhow::bail!(
            "replicas sharing PostgreSQL must share their counters: set CLAUSUM_REDIS_URL, \
             or CLAUSUM_SINGLE_NODE=true when this process is the only one"
        ),
        None => Ok(None),
    }
}

/// Loads the state for `config` from an opened store.
pub async fn load_state(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<Arc<AppState>> {
    let key = digest_key(store.as_ref(), config.hash_key.as_deref()).await?;
    let geo = GeoIp::from_config(config.geoip_db.as_deref())?;
    match &geo {
        Some(_) => tracing::info!("GeoIP database loaded: IP-country signals are on"),
        None => tracing::info!("no GeoIP database (CLAUSUM_GEOIP_DB): IP-country signals are off"),
    }
    let tokens = tokens(store.as_ref(), config).await?;
    let redis = shared_counters(store.as_ref(), config).await?;
    let webhook_sender = crate::webhooks::Sender::new(
        config.webhooks_allow_http_loopback,
        crate::webhooks::sender::parse_overrides(&config.webhook_resolve)
            .map_err(|e| anyhow::anyhow!("CLAUSUM_WEBHOOK_RESOLVE: {e}"))?,
    );
    let services = crate::state::Services {
        geo,
        tokens,
        max_import_bytes: config.max_import_bytes,
        webhook_sender,
        redis,
        max_inflight_assess: config.max_inflight_assess.max(1),
        edge: crate::edge::EdgeHub::new(config.edge_token.clone(), config.edge_purge_url.clone())?,
    };
    let state =
        AppState::load(store, key, Duration::from_millis(config.assess_timeout_ms), services)
            .await?;
    if config.webhook_worker {
        state.start_webhook_worker(config.webhook_worker_config());
    }
    if config.email_worker {
        state.set_email_worker(crate::notify::worker::start(state.store.clone(), config)?);
    }
    // Replicas sharing PostgreSQL: follow each other's changes.
    crate::sync::spawn_listener(state.clone());
    spawn_reconcile(state.clone());
    // Ingested events a previous process stored but never processed.
    crate::ingest::spawn_recovery(&state);
    spawn_maintenance(state.clone());
    Ok(state)
}

/// Binds `config.listen` and serves in the background.
pub async fn start(config: &Config, state: Arc<AppState>) -> anyhow::Result<Running> {
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .context("binding the listen address")?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no address")?;
    let app = api::app(state.clone(), config.max_body_bytes);
    let task = tokio::spawn(Server::new_with_acceptor(acceptor).run(app));
    Ok(Running { addr, state, task })
}

/// Serves until Ctrl-C / SIGTERM, then finishes in-flight requests.
pub async fn serve_forever(config: &Config, state: Arc<AppState>) -> anyhow::Result<()> {
    let acceptor = TcpListener::bind(config.listen)
        .into_acceptor()
        .await
        .context("binding the listen address")?;
    let app = api::app(state.clone(), config.max_body_bytes);
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown_signal(), Some(Duration::from_secs(10)))
        .await?;
    // In-flight requests are answered; now the webhook and email sends under
    // way, and whatever this replica claimed but will not send goes back to
    // the others.
    state.drain_workers(Duration::from_secs(10)).await;
    tracing::info!("stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("shutting down: finishing in-flight requests");
}

/// The safety net under change notifications: every few minutes, when
/// replicas share the database, rebuild the in-memory state from it.
fn spawn_reconcile(state: Arc<AppState>) {
    if state.store.listen_pool().is_none() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(crate::sync::RECONCILE_EVERY);
        tick.tick().await;
        loop {
            tick.tick().await;
            crate::sync::reconcile(&state).await;
        }
    });
}

/// Periodic upkeep: refresh keys (revocations made elsewhere), drop idle
/// rate-limit windows and velocity series.
fn spawn_maintenance(state: Arc<AppState>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(30));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = state.reload_keys().await {
                tracing::warn!(error = %e, "key refresh failed; keeping the cached keys");
            }
            // Endpoints changed through another replica.
            if let Err(e) = state.refresh_subscriptions().await {
                tracing::warn!(error = %e, "webhook subscription refresh failed");
            }
            let now = now_ms();
            state.limiter.sweep(now);
            state.velocity.lock().expect("velocity lock").sweep(now);
            state.beneficiaries.lock().expect("beneficiaries lock").sweep(now);
        }
    });
}
