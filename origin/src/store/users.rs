//! Dashboard users and team invitations.

use async_trait::async_trait;

use super::{
    AuditRow, PgStore, SqliteStore, StoreError, StoreResult, UserRow, audit::insert_audit,
    sql::on_unique,
};

/// A team invitation. The token is shown once; only its hash is kept.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct InviteRow {
    /// `inv_…`.
    pub id: String,
    /// Organisation the invitee joins.
    pub organization_id: String,
    /// Invitee's email (lower-case).
    pub email: String,
    /// Role granted on acceptance.
    pub role: String,
    /// Hex SHA-256 of the invitation token.
    pub token_hash: String,
    /// User id of the admin who invited.
    pub invited_by: String,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms after which the token no longer works.
    pub expires_at: i64,
    /// Unix ms when accepted.
    pub accepted_at: Option<i64>,
    /// Unix ms when withdrawn.
    pub revoked_at: Option<i64>,
}

/// Users and invitations.
#[async_trait]
pub trait UserStore {
    /// A user by id (any organisation: the caller scopes it).
    async fn user(&self, id: &str) -> StoreResult<Option<UserRow>>;
    /// A user by login email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>>;
    /// A user by external identity-provider subject.
    async fn user_by_subject(&self, subject: &str) -> StoreResult<Option<UserRow>>;
    /// Records the external subject of a user on first sign-in.
    async fn link_subject(&self, user_id: &str, subject: &str) -> StoreResult<()>;
    /// Members of an organisation, oldest first.
    async fn users(&self, org_id: &str) -> StoreResult<Vec<UserRow>>;
    /// Changes a member's role or disables them; `false` when no such member.
    async fn update_user(&self, user: &UserRow, audit: &AuditRow) -> StoreResult<bool>;
    /// Stores an invitation.
    async fn insert_invite(&self, invite: &InviteRow, audit: &AuditRow) -> StoreResult<()>;
    /// An invitation by the hash of its token.
    async fn invite_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<InviteRow>>;
    /// Pending and past invitations of an organisation, newest first.
    async fn invites(&self, org_id: &str) -> StoreResult<Vec<InviteRow>>;
    /// Accepts an invitation: creates the user and marks the invitation
    /// used, atomically. `Duplicate` when it was already used or the email
    /// already has an account.
    async fn accept_invite(
        &self,
        invite_id: &str,
        user: &UserRow,
        audit: &AuditRow,
        now: i64,
    ) -> StoreResult<()>;
}

const USER_COLUMNS: &str = "id, organization_id, email, name, password_hash, role, \
    external_subject, created_at, disabled_at";
const INVITE_COLUMNS: &str = "id, organization_id, email, role, token_hash, invited_by, \
    created_at, expires_at, accepted_at, revoked_at";

/// Inserts a user on a pool or transaction of either backend.
macro_rules! insert_user {
    ($exec:expr, $u:expr) => {{
        let u: &UserRow = $u;
        sqlx::query(
            "INSERT INTO users (id, organization_id, email, name, password_hash, role, \
             external_subject, created_at, disabled_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(&u.id)
        .bind(&u.organization_id)
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(&u.role)
        .bind(&u.external_subject)
        .bind(u.created_at)
        .bind(u.disabled_at)
        .execute($exec)
        .await
        .map_err(on_unique)?;
    }};
}
pub(crate) use insert_user;

macro_rules! impl_user_store {
    ($store:ty) => {
        #[async_trait]
        impl UserStore for $store {
            async fn user(&self, id: &str) -> StoreResult<Option<UserRow>> {
                Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
                Ok(sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1"))
                    .bind(email)
                    .fetch_optional(&self.pool)
                    .await?)
            }

            async fn user_by_subject(&self, subject: &str) -> StoreResult<Option<UserRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE external_subject = $1"
                ))
                .bind(subject)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn link_subject(&self, user_id: &str, subject: &str) -> StoreResult<()> {
                sqlx::query("UPDATE users SET external_subject = $1 WHERE id = $2")
                    .bind(subject)
                    .bind(user_id)
                    .execute(&self.pool)
                    .await
                    .map_err(on_unique)?;
                Ok(())
            }

            async fn users(&self, org_id: &str) -> StoreResult<Vec<UserRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE organization_id = $1 ORDER BY created_at, id"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn update_user(&self, user: &UserRow, audit: &AuditRow) -> StoreResult<bool> {
                let mut tx = self.begin_write().await?;
                let r = sqlx::query(
                    "UPDATE users SET role = $1, name = $2, disabled_at = $3 \
                     WHERE id = $4 AND organization_id = $5",
                )
                .bind(&user.role)
                .bind(&user.name)
                .bind(user.disabled_at)
                .bind(&user.id)
                .bind(&user.organization_id)
                .execute(&mut *tx)
                .await?;
                if r.rows_affected() != 1 {
                    return Ok(false);
                }
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(true)
            }

            async fn insert_invite(&self, i: &InviteRow, audit: &AuditRow) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                sqlx::query(&format!(
                    "INSERT INTO invites ({INVITE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                ))
                .bind(&i.id)
                .bind(&i.organization_id)
                .bind(&i.email)
                .bind(&i.role)
                .bind(&i.token_hash)
                .bind(&i.invited_by)
                .bind(i.created_at)
                .bind(i.expires_at)
                .bind(i.accepted_at)
                .bind(i.revoked_at)
                .execute(&mut *tx)
                .await
                .map_err(on_unique)?;
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }

            async fn invite_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<InviteRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {INVITE_COLUMNS} FROM invites WHERE token_hash = $1"
                ))
                .bind(token_hash)
                .fetch_optional(&self.pool)
                .await?)
            }

            async fn invites(&self, org_id: &str) -> StoreResult<Vec<InviteRow>> {
                Ok(sqlx::query_as(&format!(
                    "SELECT {INVITE_COLUMNS} FROM invites WHERE organization_id = $1 \
                     ORDER BY created_at DESC, id"
                ))
                .bind(org_id)
                .fetch_all(&self.pool)
                .await?)
            }

            async fn accept_invite(
                &self,
                invite_id: &str,
                user: &UserRow,
                audit: &AuditRow,
                now: i64,
            ) -> StoreResult<()> {
                let mut tx = self.begin_write().await?;
                // The guard in the WHERE clause makes a second acceptance of
                // the same token (even a concurrent one) update nothing.
                let used = sqlx::query(
                    "UPDATE invites SET accepted_at = $1 WHERE id = $2 \
                     AND accepted_at IS NULL AND revoked_at IS NULL AND expires_at > $1",
                )
                .bind(now)
                .bind(invite_id)
                .execute(&mut *tx)
                .await?;
                if used.rows_affected() != 1 {
                    return Err(StoreError::Duplicate("invitation already used".into()));
                }
                insert_user!(&mut *tx, user);
                insert_audit!(&mut *tx, audit);
                tx.commit().await?;
                Ok(())
            }
        }
    };
}

impl_user_store!(SqliteStore);
impl_user_store!(PgStore);
