//! Browser SDK sessions: the signals a checkout page registered, keyed by
//! organisation and session id. A page re-registers the same session as
//! behaviour accumulates; the latest signals win, the first time stays.

use async_trait::async_trait;

use super::{PgStore, SqliteStore, StoreResult};

/// One stored session.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SdkSessionRow {
    /// Owning organisation (of the publishable key that registered it).
    pub organization_id: String,
    /// `ps_<ms>_<random>`, issued by the SDK.
    pub id: String,
    /// The publishable key that last registered it.
    pub api_key_id: String,
    /// Device fingerprint (`fp_…`), for lookups.
    pub fingerprint: Option<String>,
    /// The `SessionSignals` document (JSON).
    pub signals: String,
    /// Unix ms of the first registration.
    pub created_at: i64,
    /// Unix ms of the latest one.
    pub updated_at: i64,
}

/// Session storage.
#[async_trait]
pub trait SessionStore {
    /// Inserts the session, or replaces its signals (keeping `created_at`).
    /// Returns the stored row.
    async fn upsert_sdk_session(&self, row: &SdkSessionRow) -> StoreResult<SdkSessionRow>;
    /// One session of an organisation.
    async fn sdk_session(&self, org_id: &str, id: &str) -> StoreResult<Option<SdkSessionRow>>;
}

const COLUMNS: &str =
    "organization_id, id, api_key_id, fingerprint, signals, created_at, updated_at";

macro_rules! impl_session_store {
    ($store:ty) => {
        #[async_trait]
        impl SessionStore for $store {
            async fn upsert_sdk_session(&self, row: &SdkSessionRow) -> StoreResult<SdkSessionRow> {
                Ok(sqlx::query_as(&format!(
                    "INSERT INTO sdk_sessions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (organization_id, id) DO UPDATE SET \
                     api_key_id = excluded.api_key_id, fingerprint = excluded.fingerprint, \
                     signals = excluded.signals, updated_at = excluded.updated_at \
                     RETURNING {COLUMNS}"
                ))
                .bind(&row.organization_id)
                .bind(&row.id)
                .bind(&row.api_key_id)
                .bind(&row.fingerprint)
                .bind(&row.signals)
                .bind(row.created_at)
                .bind(row.updated_at)
                .fetch_one(&self.pool)
                .await?)
            }

            async fn sdk_session(
                &self,
                org_id: &str,
                id: &str,
            ) -> StoreResult<Option<SdkSessionRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM sdk_sessions WHERE organization_id = $1 AND id = $2"
                ))
                .bind(org_id)
                .bind(id)
                .fetch_optional(&self.pool)
                .await?)
            }
        }
    };
}

impl_session_store!(SqliteStore);
impl_session_store!(PgStore);
