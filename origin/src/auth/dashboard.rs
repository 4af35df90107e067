//! The management API's credentials: `Authorization: Bearer <dashboard JWT>`.
//!
//! A verified token names a user; the user's row — read on every request,
//! so a role change or removal applies at once — gives the organisation and
//! role. Every management handler then asks [`Principal::require`] for the
//! action it performs.

use std::sync::Arc;

use clausum_core::{
    roles::{Action, Role},
    wire::ErrorCode,
};
use poem::Request;
use poem_openapi::{SecurityScheme, auth::Bearer};

use super::jwt::{Identity, TokenError};
use crate::{error::ApiError, state::AppState, store::UserRow, time::now_ms};

/// Requests per minute one dashboard user may make.
pub const USER_RATE_LIMIT_PER_MINUTE: u32 = 600;

/// A dashboard token (`POST /api/v1/auth/login`, or the configured external
/// identity provider's) in `Authorization: Bearer`.
#[derive(SecurityScheme)]
#[oai(ty = "bearer", bearer_format = "JWT", key_name = "Authorization", checker = "check_token")]
pub struct DashboardToken(pub Principal);

/// The signed-in user.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The user.
    pub user: Arc<UserRow>,
    /// Their role.
    pub role: Role,
}

impl Principal {
    /// The user's organisation: every query of a handler is scoped by it.
    pub fn org(&self) -> &str {
        &self.user.organization_id
    }

    /// `user:<id>`, as recorded in audit and activity logs.
    pub fn actor(&self) -> String {
        format!("user:{}", self.user.id)
    }

    /// 403 `FORBIDDEN` unless the role may perform `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if self.role.can(action) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("The `{}` role may not perform `{}`.", self.role.as_str(), action.as_str()),
            ))
        }
    }
}

fn unauthorized(message: impl Into<String>) -> poem::Error {
    ApiError::new(ErrorCode::Unauthorized, message).into()
}

async fn check_token(req: &Request, bearer: Bearer) -> poem::Result<Principal> {
    let state = req.data::<Arc<AppState>>().expect("state is installed");
    let identity = state.tokens.verify(bearer.token.trim()).await.map_err(|e| match e {
        TokenError::JwksUnavailable => ApiError::Unavailable(
            poem_openapi::payload::Json(clausum_core::wire::ErrorBody::new(
                ErrorCode::AssessMaintenance,
                "The identity provider's signing keys could not be fetched; retry shortly.",
            )),
            30,
        )
        .into(),
        other => unauthorized(other.to_string()),
    })?;
    let user = match identity {
        Identity::User(id) => state.store.user(&id).await.map_err(ApiError::from)?,
        Identity::External { subject, email } => {
            external_user(state, &subject, email.as_deref()).await?
        }
    };
    let user = user
        .filter(|u| u.disabled_at.is_none())
        .ok_or_else(|| unauthorized("This user no longer has access."))?;
    let role = Role::parse(&user.role)
        .ok_or_else(|| ApiError::internal(&format!("user {} has an unknown role", user.id)))?;
    let admission = state
        .admit_bucket(&format!("user:{}", user.id), USER_RATE_LIMIT_PER_MINUTE, now_ms())
        .await?;
    if !admission.allowed {
        return Err(ApiError::rate_limited(ErrorCode::RateLimited, &admission).into());
    }
    Ok(Principal { user: Arc::new(user), role })
}

/// The Clausum user behind an external identity: linked by subject, or on
/// first sign-in by the token's email (the user must have been invited or
/// created here first — a valid token alone grants nothing).
async fn external_user(
    state: &AppState,
    subject: &str,
    email: Option<&str>,
) -> poem::Result<Option<UserRow>> {
    if let Some(u) = state.store.user_by_subject(subject).await.map_err(ApiError::from)? {
        return Ok(Some(u));
    }
    let Some(email) = email else {
        return Err(unauthorized("No Clausum user is linked to this identity."));
    };
    match state.store.user_by_email(email).await.map_err(ApiError::from)? {
        Some(u) if u.external_subject.is_none() => {
            state.store.link_subject(&u.id, subject).await.map_err(ApiError::from)?;
            Ok(Some(u))
        }
        _ => Err(unauthorized("No Clausum user is linked to this identity.")),
    }
}
