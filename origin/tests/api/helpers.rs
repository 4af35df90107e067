//! Test harness: a real server on `127.0.0.1:0` over a fresh database of
//! either backend, driven over HTTP.

use std::sync::Arc;

use clausum_core::catalog::Segment;
use clausum_origin::{
    bootstrap::{self, Credentials, NewOrganization},
    config::Config,
    server,
    state::AppState,
    store::Store,
};
use reqwest::{StatusCode, header::HeaderMap};
use serde_json::Value;

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Where the PostgreSQL test server is (`scripts/test.sh` starts it).
pub fn postgres_admin_url() -> String {
    std::env::var("CLAUSUM_TEST_POSTGRES_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

/// The GeoIP database `scripts/fetch-geoip.sh` fetches (the test script
/// runs it first); every test server uses it so results do not depend on
/// whether it happens to be present.
pub fn geoip_db() -> std::path::PathBuf {
    let p =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/geo-whois-asn-country.mmdb");
    assert!(
        p.exists(),
        "{} is missing: run scripts/fetch-geoip.sh (scripts/test.sh does)",
        p.display()
    );
    p
}

/// A fresh, uniquely named database; dropped with the guard.
pub struct Database {
    pub url: String,
    cleanup: Option<Box<dyn FnOnce() + Send + Sync>>,
}

impl Drop for Database {
    fn drop(&mut self) {
        if let Some(f) = self.cleanup.take() {
            f();
        }
    }
}

impl Database {
    pub async fn fresh(backend: Backend) -> Database {
        let name = format!("clausum_test_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(&name);
                std::fs::create_dir_all(&dir).unwrap();
                let url = format!("sqlite://{}/clausum.db", dir.display());
                Database {
                    url,
                    cleanup: Some(Box::new(move || drop(std::fs::remove_dir_all(dir)))),
                }
            }
            Backend::Postgres => {
                use sqlx::Connection;
                let admin = postgres_admin_url();
                let mut conn = sqlx::PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!("PostgreSQL is not reachable at {admin} ({e}); run scripts/test.sh, which starts it")
                });
                sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut conn).await.unwrap();
                let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b).to_owned();
                let url = format!("{base}/{name}");
                // Dropped on a thread of its own: Drop cannot await, and the
                // test's runtime may already be gone.
                let cleanup = move || {
                    let _ = std::thread::spawn(move || {
                        let rt = tokio::runtime::Builder::new_current_thread()
                            .enable_all()
                            .build()
                            .unwrap();
                        rt.block_on(async move {
                            if let Ok(mut c) = sqlx::PgConnection::connect(&admin).await {
                                let _ = sqlx::query(&format!(
                                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                                ))
                                .execute(&mut c)
                                .await;
                            }
                        });
                    })
                    .join();
                };
                Database { url, cleanup: Some(Box::new(cleanup)) }
            }
        }
    }
}

/// A running server with one organisation.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub creds: Credentials,
    pub state: Arc<AppState>,
    pub store: Arc<dyn Store>,
    pub config: Config,
    pub backend: Backend,
    pub task: tokio::task::JoinHandle<std::io::Result<()>>,
    // Declared last: dropped after the server is gone.
    pub db: Database,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> TestApp {
        Self::spawn_with(backend, Segment::Comercio).await
    }

    pub async fn spawn_with(backend: Backend, segment: Segment) -> TestApp {
        Self::spawn_configured(backend, segment, |_| {}).await
    }

    /// A server whose configuration `tweak` adjusts (external identity
    /// provider, limits, …).
    pub async fn spawn_configured(
        backend: Backend,
        segment: Segment,
        tweak: impl FnOnce(&mut Config),
    ) -> TestApp {
        let db = Database::fresh(backend).await;
        let mut config = Config::for_database(&db.url);
        config.geoip_db = Some(geoip_db());
        tweak(&mut config);
        let store = server::open_store(&config.database_url).await.expect("store");
        let creds = bootstrap::create_organization(
            store.as_ref(),
            NewOrganization {
                name: "Test Shop".into(),
                segment,
                admin_email: None,
                rate_limit_per_minute: 10_000,
            },
        )
        .await
        .expect("organisation");
        Self::start(backend, db, config, store, creds).await
    }

    async fn start(
        backend: Backend,
        db: Database,
        config: Config,
        store: Arc<dyn Store>,
        creds: Credentials,
    ) -> TestApp {
        let state = server::load_state(store.clone(), &config).await.expect("state");
        let running = server::start(&config, state.clone()).await.expect("server");
        TestApp {
            base: format!("http://{}", running.addr),
            client: reqwest::Client::new(),
            creds,
            state,
            store,
            config,
            backend,
            task: running.task,
            db,
        }
    }

    /// Stops this server and starts a new one on the same database, as a
    /// restart would: the old process's workers are drained as
    /// `serve_forever` does on exit, so they do not run on beside the new
    /// ones like a second replica.
    pub async fn restart(self) -> TestApp {
        self.task.abort();
        let _ = self.task.await;
        self.state.drain_workers(std::time::Duration::from_secs(10)).await;
        let TestApp { backend, db, config, creds, .. } = self;
        let store = server::open_store(&config.database_url).await.expect("store");
        Self::start(backend, db, config, store, creds).await
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn secret(&self) -> &str {
        &self.creds.keys.secret
    }

    /// POSTs JSON to `/api/v1/assess` with `key`.
    pub async fn assess_with(&self, key: &str, body: &Value) -> Reply {
        let res = self
            .client
            .post(self.url("/api/v1/assess"))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .unwrap();
        Reply::read(res).await
    }

    /// POSTs JSON to `/api/v1/assess` with the secret key.
    pub async fn assess(&self, body: &Value) -> Reply {
        self.assess_with(self.secret(), body).await
    }

    /// Sends `method path` with an optional bearer token and JSON body.
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
    ) -> Reply {
        let mut req = self.client.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        Reply::read(req.send().await.unwrap()).await
    }

    /// GET with a dashboard token.
    pub async fn get(&self, token: &str, path: &str) -> Reply {
        self.call(reqwest::Method::GET, path, Some(token), None).await
    }

    /// POST JSON with a token.
    pub async fn post(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::POST, path, Some(token), Some(body)).await
    }

    /// PATCH JSON with a token.
    pub async fn patch(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::PATCH, path, Some(token), Some(body)).await
    }

    /// PUT JSON with a token.
    pub async fn put(&self, token: &str, path: &str, body: &Value) -> Reply {
        self.call(reqwest::Method::PUT, path, Some(token), Some(body)).await
    }

    /// DELETE with a token.
    pub async fn delete(&self, token: &str, path: &str) -> Reply {
        self.call(reqwest::Method::DELETE, path, Some(token), None).await
    }

    /// Signs in; panics unless it works.
    pub async fn login(&self, email: &str, password: &str) -> String {
        let r = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/login",
                None,
                Some(&serde_json::json!({"email": email, "password": password})),
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "login failed: {}", r.json);
        r.json["access_token"].as_str().expect("token").to_owned()
    }

    /// A dashboard token of the organisation's admin.
    pub async fn admin_token(&self) -> String {
        self.login(&self.creds.admin_email, &self.creds.admin_password).await
    }

    /// A dashboard token of a new member with `role`, through the invite flow.
    pub async fn member_token(&self, role: &str) -> String {
        let admin = self.admin_token().await;
        let email = format!("{role}-{}@example.com", uuid::Uuid::new_v4().simple());
        let r = self
            .post(
                &admin,
                "/api/v1/team/invites",
                &serde_json::json!({"email": email, "role": role}),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        let token = r.json["token"].as_str().unwrap().to_owned();
        let r = self
            .call(
                reqwest::Method::POST,
                "/api/v1/auth/accept-invite",
                None,
                Some(&serde_json::json!({"token": token, "password": "a long enough password"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::CREATED, "{}", r.json);
        r.json["access_token"].as_str().unwrap().to_owned()
    }

    /// A second organisation on the same server: its credentials and admin token.
    pub async fn other_org(&self) -> (Credentials, String) {
        let creds = bootstrap::create_organization(
            self.store.as_ref(),
            NewOrganization {
                name: "Other Shop".into(),
                segment: Segment::Comercio,
                admin_email: None,
                rate_limit_per_minute: 10_000,
            },
        )
        .await
        .expect("organisation");
        self.state.reload_keys().await.unwrap();
        self.state.reload_org(&creds.organization_id).await.unwrap();
        let token = self.login(&creds.admin_email, &creds.admin_password).await;
        (creds, token)
    }

    /// A new organisation whose secret key admits `per_minute` requests;
    /// returns that key.
    pub async fn other_org_with_rate_limit(&self, per_minute: i64) -> String {
        let creds = bootstrap::create_organization(
            self.store.as_ref(),
            NewOrganization {
                name: "Limited Shop".into(),
                segment: Segment::Comercio,
                admin_email: None,
                rate_limit_per_minute: per_minute,
            },
        )
        .await
        .expect("organisation");
        self.state.reload_keys().await.unwrap();
        self.state.reload_org(&creds.organization_id).await.unwrap();
        creds.keys.secret
    }

    pub async fn count_transactions(&self) -> i64 {
        self.store.count_transactions(&self.creds.organization_id).await.unwrap()
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub raw: bytes::Bytes,
    pub json: Value,
}

impl Reply {
    pub async fn read(res: reqwest::Response) -> Reply {
        let status = res.status();
        let headers = res.headers().clone();
        let raw = res.bytes().await.unwrap();
        let json = serde_json::from_slice(&raw).unwrap_or(Value::Null);
        Reply { status, headers, raw, json }
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Asserts the documented error body and returns its code.
    pub fn error_code(&self) -> &str {
        let e = &self.json["error"];
        assert!(
            e.is_object(),
            "not an error body: {} {}",
            self.status,
            String::from_utf8_lossy(&self.raw)
        );
        assert!(e["message"].is_string(), "error without message: {}", self.json);
        assert!(e.get("details").is_some(), "error without details: {}", self.json);
        e["code"].as_str().expect("code")
    }
}

/// Runs each listed story against both backends.
#[macro_export]
macro_rules! stories {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::TestApp::spawn($crate::helpers::Backend::Postgres).await).await;
                }
            )*
        }
    };
}
