//! `/api/v1/auth`: dashboard sign-in, the signed-in user, accepting an
//! invitation.

use std::sync::Arc;

use clausum_core::{
    keys::hash_key,
    roles::{Action, Role},
    wire::ErrorCode,
};
use poem::web::{Data, RemoteAddr};
use poem_openapi::{ApiResponse, Object, OpenApi, payload::Json};
use serde::Deserialize;

use super::{
    Tag,
    common::{audit_row, iso, new_id},
};
use crate::{
    auth::{DashboardToken, Principal, password},
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::{StoreError, UserRow},
    time::now_ms,
};

/// Login attempts per minute per email address.
pub const LOGIN_ATTEMPTS_PER_MINUTE: u32 = 10;
/// Login attempts per minute per client address (higher: an office or a
/// carrier NAT shares one address).
pub const LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE: u32 = 60;

/// Email and password.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Login email.
    #[oai(validator(max_length = 320))]
    pub email: String,
    /// Password.
    #[oai(validator(max_length = 256))]
    pub password: String,
}

/// A dashboard user.
#[derive(Object, Debug, serde::Serialize)]
pub struct UserOut {
    /// `usr_…`.
    pub id: String,
    /// Organisation.
    pub organization_id: String,
    /// Login email.
    pub email: String,
    /// Display name.
    pub name: Option<String>,
    /// `admin`, `analyst`, `viewer` or `compliance_officer`.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
    /// Whether the user was removed from the team.
    pub disabled: bool,
    /// Every management action the role allows (`Role::can`): the
    /// dashboard shows only what the API would accept.
    pub permissions: Vec<Action>,
}

impl From<&UserRow> for UserOut {
    fn from(u: &UserRow) -> Self {
        UserOut {
            id: u.id.clone(),
            organization_id: u.organization_id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            role: u.role.clone(),
            created_at: iso(u.created_at),
            disabled: u.disabled_at.is_some(),
            permissions: Role::parse(&u.role)
                .map(|r| Action::ALL.into_iter().filter(|a| r.can(*a)).collect())
                .unwrap_or_default(),
        }
    }
}

/// A dashboard token.
#[derive(Object, Debug)]
pub struct TokenOut {
    /// Send as `Authorization: Bearer <access_token>` to the management API.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Seconds until it expires.
    pub expires_in: u64,
    /// Who it is for.
    pub user: UserOut,
}

/// Accepting an invitation: choose a password.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct AcceptInvite {
    /// The token from the invitation link.
    #[oai(validator(max_length = 128))]
    pub token: String,
    /// Display name.
    pub name: Option<String>,
    /// Password (12–256 characters).
    pub password: String,
}

/// Created.
#[derive(ApiResponse)]
pub enum AcceptOk {
    /// The account exists; here is a token for it.
    #[oai(status = 201)]
    Created(Json<TokenOut>),
}

/// Dashboard authentication.
pub struct AuthApi;

#[OpenApi(prefix_path = "/api/v1/auth", tag = "Tag::Auth")]
impl AuthApi {
    /// Sign in
    ///
    /// Email and password in, a short-lived dashboard token out. A wrong
    /// email and a wrong password answer the same 401. At most 10 attempts
    /// per minute per email and 60 per client address (429 `RATE_LIMITED`).
    #[oai(path = "/login", method = "post")]
    async fn login(
        &self,
        state: Data<&Arc<AppState>>,
        remote: &RemoteAddr,
        body: JsonBody<LoginRequest>,
    ) -> Result<Json<TokenOut>, ApiError> {
        let req = body.value;
        let email = req.email.trim().to_ascii_lowercase();
        let now = now_ms();
        // Buckets are named by keyed digests: the shared counter store
        // (Redis) sees no email or address. The address without its port,
        // or every new connection would get a fresh budget.
        let address =
            remote.as_socket_addr().map_or_else(|| remote.to_string(), |a| a.ip().to_string());
        let named = |tag: &str, value: &str| {
            hex::encode(state.digest_key.digest(tag, &[value.as_bytes()]).0)
        };
        let buckets = [
            (format!("login:{}", named("login-email", &email)), LOGIN_ATTEMPTS_PER_MINUTE),
            (
                format!("login-from:{}", named("login-address", &address)),
                LOGIN_ATTEMPTS_PER_ADDRESS_PER_MINUTE,
            ),
        ];
        for (bucket, limit) in buckets {
            let a = state.admit_bucket(&bucket, limit, now).await?;
            if !a.allowed {
                return Err(ApiError::rate_limited(ErrorCode::RateLimited, &a));
            }
        }
        let user = state.store.user_by_email(&email).await?;
        // Verify against a decoy when the user is unknown, so the answer
        // takes as long either way and does not reveal which emails exist.
        let hash = user
            .as_ref()
            .and_then(|u| u.password_hash.as_deref())
            .unwrap_or(password::decoy_hash());
        let ok = password::verify(&req.password, hash);
        let user = match user {
            Some(u) if ok && u.disabled_at.is_none() && u.password_hash.is_some() => u,
            _ => return Err(ApiError::new(ErrorCode::Unauthorized, "Wrong email or password.")),
        };
        Ok(Json(token_for(&state, &user, now)))
    }

    /// The signed-in user
    ///
    /// Who the token speaks for: id, organisation, email, name and role.
    #[oai(path = "/me", method = "get")]
    async fn me(&self, auth: DashboardToken) -> Result<Json<UserOut>, ApiError> {
        Ok(Json(UserOut::from(auth.0.user.as_ref())))
    }

    /// Accept an invitation
    ///
    /// Creates the account with the invited role and signs it in. An
    /// expired, withdrawn or already-used token answers 401.
    #[oai(path = "/accept-invite", method = "post")]
    async fn accept_invite(
        &self,
        state: Data<&Arc<AppState>>,
        body: JsonBody<AcceptInvite>,
    ) -> Result<AcceptOk, ApiError> {
        let req = body.value;
        password::check_new(&req.password).map_err(|m| ApiError::field("password", m))?;
        let now = now_ms();
        let invalid = || {
            ApiError::new(
                ErrorCode::Unauthorized,
                "This invitation is invalid, expired or already used.",
            )
        };
        let invite = state
            .store
            .invite_by_token_hash(&hash_key(req.token.trim()))
            .await?
            .ok_or_else(invalid)?;
        if invite.accepted_at.is_some() || invite.revoked_at.is_some() || invite.expires_at <= now {
            return Err(invalid());
        }
        let role = Role::parse(&invite.role).ok_or_else(invalid)?;
        let user = UserRow {
            id: new_id("usr"),
            organization_id: invite.organization_id.clone(),
            email: invite.email.clone(),
            name: super::common::clean_text("name", req.name, 200)?,
            password_hash: Some(password::hash(&req.password)),
            role: role.as_str().into(),
            external_subject: None,
            created_at: now,
            disabled_at: None,
        };
        let principal = Principal { user: Arc::new(user.clone()), role };
        let out = UserOut::from(&user);
        let audit = audit_row(
            &principal,
            "team.join",
            "user",
            Some(&user.id),
            None::<&()>,
            Some(&out),
            now,
        );
        state.store.accept_invite(&invite.id, &user, &audit, now).await.map_err(|e| match e {
            StoreError::Duplicate(_) => invalid(),
            other => other.into(),
        })?;
        Ok(AcceptOk::Created(Json(token_for(&state, &user, now))))
    }
}

fn token_for(state: &AppState, user: &UserRow, now: i64) -> TokenOut {
    TokenOut {
        access_token: state.tokens.issue(&user.id, &user.organization_id, now / 1000),
        token_type: "Bearer".into(),
        expires_in: state.tokens.ttl().as_secs(),
        user: UserOut::from(user),
    }
}
