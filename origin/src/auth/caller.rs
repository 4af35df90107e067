//! Management routes a merchant's backend may call too: a dashboard user
//! whose role allows the action, or a secret API key carrying the
//! permission.

use clausum_core::{
    keys::{self, KeyKind},
    roles::{Action, Role},
    wire::ErrorCode,
};
use poem_openapi::SecurityScheme;

use super::{DashboardToken, PartnerKey};
use crate::error::ApiError;

/// A dashboard user or a secret API key.
#[derive(SecurityScheme)]
pub enum Caller {
    /// Dashboard session token.
    Token(DashboardToken),
    /// Secret API key (`clm_sk_…`).
    Key(PartnerKey),
}

impl Caller {
    /// The caller's organisation once it may act — a user whose role allows
    /// `action`, or a secret key granted `permission` — and the user's role
    /// (`None` for a key). `resource` names what is refused to other keys
    /// ("Submerchants are managed", "Transactions are read").
    pub fn authorize(
        &self,
        action: Action,
        permission: &str,
        resource: &str,
    ) -> Result<(&str, Option<Role>), ApiError> {
        match self {
            Caller::Token(t) => {
                t.0.require(action)?;
                Ok((t.0.org(), Some(t.0.role)))
            }
            Caller::Key(k) => {
                if k.0.kind != KeyKind::Secret {
                    return Err(ApiError::new(
                        ErrorCode::SecretKeyRequired,
                        format!("{resource} with a secret key (clm_sk_) or a dashboard token."),
                    ));
                }
                if !keys::grants(&k.0.permissions, permission) {
                    return Err(ApiError::new(
                        ErrorCode::Forbidden,
                        format!("This API key lacks the `{permission}` permission."),
                    ));
                }
                Ok((&k.0.organization_id, None))
            }
        }
    }

    /// Who, for the audit log: `user:<id>` or `api_key:<id>`.
    pub fn actor(&self) -> String {
        match self {
            Caller::Token(t) => t.0.actor(),
            Caller::Key(k) => format!("api_key:{}", k.0.id),
        }
    }
}
