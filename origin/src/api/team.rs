//! `/api/v1/team`: members, roles and invitations.

use std::sync::Arc;

use clausum_core::{
    keys::hash_key,
    normalize::Email,
    roles::{Action, Role},
    wire::ErrorCode,
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};
use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{
    Tag,
    auth::UserOut,
    common::{audit_row, iso, new_id, not_found},
};
use crate::{
    auth::DashboardToken, error::ApiError, payload::JsonBody, state::AppState, store::InviteRow,
    time::now_ms,
};

/// How long an invitation stays valid.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// An invitation to send.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct NewInvite {
    /// Invitee's email.
    #[oai(validator(max_length = 320))]
    pub email: String,
    /// `admin`, `analyst`, `viewer` or `compliance_officer`.
    pub role: Role,
}

/// An invitation.
#[derive(Object, Serialize, Debug)]
pub struct InviteOut {
    /// `inv_…`.
    pub id: String,
    /// Invitee's email.
    pub email: String,
    /// Role granted on acceptance.
    pub role: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; after it the token no longer works.
    pub expires_at: String,
    /// `pending`, `accepted`, `expired` or `revoked`.
    pub status: String,
}

impl InviteOut {
    fn from_row(r: &InviteRow, now: i64) -> Self {
        let status = if r.accepted_at.is_some() {
            "accepted"
        } else if r.revoked_at.is_some() {
            "revoked"
        } else if r.expires_at <= now {
            "expired"
        } else {
            "pending"
        };
        InviteOut {
            id: r.id.clone(),
            email: r.email.clone(),
            role: r.role.clone(),
            created_at: iso(r.created_at),
            expires_at: iso(r.expires_at),
            status: status.into(),
        }
    }
}

/// A new invitation with its token, shown once.
#[derive(Object, Debug)]
pub struct InviteCreated {
    /// The invitation.
    pub invite: InviteOut,
    /// Secret token; the dashboard link is `/invite/<token>`. Shown once.
    pub token: String,
}

/// Created.
#[derive(ApiResponse)]
pub enum InviteOk {
    /// Invitation created.
    #[oai(status = 201)]
    Created(Json<InviteCreated>),
}

/// A change to a member.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct MemberPatch {
    /// New role.
    pub role: Option<Role>,
    /// `true` removes the member's access; `false` restores it.
    pub disabled: Option<bool>,
}

/// Team management.
pub struct TeamApi;

#[OpenApi(prefix_path = "/api/v1/team", tag = "Tag::Team")]
impl TeamApi {
    /// List members
    ///
    /// Every member of the organisation, removed ones included (`disabled`).
    #[oai(path = "/members", method = "get")]
    async fn members(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<Vec<UserOut>>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadTeam)?;
        Ok(Json(state.store.users(p.org()).await?.iter().map(UserOut::from).collect()))
    }

    /// Change a member
    ///
    /// Changes a member's role, or removes (disables) them; a removed
    /// member's tokens stop working at once. Admins only; an admin cannot
    /// demote or disable themselves, so an organisation always keeps an
    /// admin.
    #[oai(path = "/members/:id", method = "patch")]
    async fn update_member(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The member's user id (`usr_…`).
        id: Path<String>,
        body: JsonBody<MemberPatch>,
    ) -> Result<Json<UserOut>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageTeam)?;
        let before = state
            .store
            .user(&id.0)
            .await?
            .filter(|u| u.organization_id == p.org())
            .ok_or_else(|| not_found("member"))?;
        let patch = body.value;
        if before.id == p.user.id
            && (patch.role.is_some_and(|r| r != Role::Admin) || patch.disabled == Some(true))
        {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                "Admins cannot demote or remove themselves; ask another admin.",
            ));
        }
        let now = now_ms();
        let mut after = before.clone();
        if let Some(role) = patch.role {
            after.role = role.as_str().into();
        }
        match patch.disabled {
            Some(true) if after.disabled_at.is_none() => after.disabled_at = Some(now),
            Some(false) => after.disabled_at = None,
            _ => {}
        }
        let (b, a) = (UserOut::from(&before), UserOut::from(&after));
        let audit = audit_row(&p, "team.update", "user", Some(&after.id), Some(&b), Some(&a), now);
        if !state.store.update_user(&after, &audit).await? {
            return Err(not_found("member"));
        }
        Ok(Json(a))
    }

    /// List invitations
    ///
    /// Invitations, newest first, with their status (`pending`, `accepted`,
    /// `expired`, `revoked`).
    #[oai(path = "/invites", method = "get")]
    async fn invites(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<Vec<InviteOut>>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadTeam)?;
        let now = now_ms();
        Ok(Json(
            state
                .store
                .invites(p.org())
                .await?
                .iter()
                .map(|r| InviteOut::from_row(r, now))
                .collect(),
        ))
    }

    /// Invite a member
    ///
    /// Admins only. The answer carries the secret token of the invitation
    /// link once (it is stored only as a hash); it expires after 7 days.
    #[oai(path = "/invites", method = "post")]
    async fn invite(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewInvite>,
    ) -> Result<InviteOk, ApiError> {
        let p = auth.0;
        p.require(Action::InviteUsers)?;
        let req = body.value;
        let email =
            Email::parse(&req.email).map_err(|e| ApiError::field("email", e.to_string()))?;
        if state.store.user_by_email(email.as_str()).await?.is_some() {
            return Err(ApiError::new(
                ErrorCode::Duplicate,
                "A user with this email already exists.",
            ));
        }
        let mut random = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut random);
        let token = format!("inv_{}", hex::encode(random));
        let now = now_ms();
        let row = InviteRow {
            id: new_id("inv"),
            organization_id: p.org().to_owned(),
            email: email.as_str().to_owned(),
            role: req.role.as_str().into(),
            token_hash: hash_key(&token),
            invited_by: p.user.id.clone(),
            created_at: now,
            expires_at: now + INVITE_TTL_MS,
            accepted_at: None,
            revoked_at: None,
        };
        let out = InviteOut::from_row(&row, now);
        let audit =
            audit_row(&p, "team.invite", "invite", Some(&row.id), None::<&()>, Some(&out), now);
        state.store.insert_invite(&row, &audit).await?;
        Ok(InviteOk::Created(Json(InviteCreated { invite: out, token })))
    }
}
