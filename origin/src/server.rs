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

/// A server running in the background (tests, benchmarks).
pub struct Running {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state.
    pub state: Arc<AppState>,
    /// The server task.
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
}

/// Loads the state for `config` from an opened store.
pub async fn load_state(store: Arc<dyn Store>, config: &Config) -> anyhow::Result<Arc<AppState>> {
    let key = digest_key(store.as_ref(), config.hash_key.as_deref()).await?;
    let geo = GeoIp::from_config(config.geoip_db.as_deref())?;
    match &geo {
        Some(_) => tracing::info!("GeoIP database loaded: IP-country signals are on"),
        None => tracing::info!("no GeoIP database (CLAUSUM_GEOIP_DB): IP-country signals are off"),
    }
    let state =
        AppState::load(store, key, Duration::from_millis(config.assess_timeout_ms), geo).await?;
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
    let app = api::app(state, config.max_body_bytes);
    Server::new_with_acceptor(acceptor)
        .run_with_graceful_shutdown(app, shutdown_signal(), Some(Duration::from_secs(10)))
        .await?;
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
            let now = now_ms();
            state.limiter.sweep(now);
            state.velocity.lock().expect("velocity lock").sweep(now);
        }
    });
}
