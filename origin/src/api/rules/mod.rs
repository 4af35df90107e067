//! `/api/v1/rules` and `/api/v1/settings/scoring`: custom rules, signal
//! weights and decision thresholds of an organisation.
//!
//! Every change is audited in the same database transaction and then
//! recompiled into this node's live state before the answer is sent, so the
//! next assess here already uses it.

mod settings;
mod wire;

use std::sync::Arc;

use clausum_core::{policy::Policy, roles::Action};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

pub use settings::{ScoreThresholds, ScoringSettings, ScoringUpdate, SignalSetting};
pub use wire::{CustomRule, NewRule, RulePatch, RuleSource, RuleSyntaxError, RuleValidation};

use super::{
    Tag,
    common::{audit_row, not_found},
};
use crate::{
    auth::{DashboardToken, Principal},
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::{RuleRow, StoreError},
    time::now_ms,
};

/// Every rule of the organisation.
#[derive(Object, Debug)]
pub struct RuleList {
    /// The rules, enabled and disabled, by priority then name.
    pub data: Vec<CustomRule>,
}

/// Created.
#[derive(ApiResponse)]
pub enum RuleCreated {
    /// The rule was added and is live.
    #[oai(status = 201)]
    Created(Json<CustomRule>),
}

/// A deleted rule.
#[derive(Object, Debug)]
pub struct RuleDeleted {
    /// Always `true`.
    pub deleted: bool,
    /// The deleted rule's id.
    pub id: String,
}

/// Custom rules, signal weights and decision thresholds (dashboard token).
pub struct RulesApi;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Rules")]
impl RulesApi {
    /// List custom rules.
    ///
    /// Every rule of the organisation, enabled or not, by priority (lower
    /// first) then name. Not paginated: an organisation holds at most 5,000
    /// rules. Roles: all.
    #[oai(path = "/rules", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<RuleList>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadRules)?;
        let rows = state.store.rules(p.org()).await?;
        Ok(Json(RuleList { data: rows.iter().map(CustomRule::from).collect() }))
    }

    /// Add a custom rule.
    ///
    /// The text must compile: otherwise 400 `VALIDATION_ERROR` with
    /// `details: {"field": "source", "line", "column", "expected"}`. A name
    /// already used in the organisation answers 409 `DUPLICATE`; beyond
    /// 5,000 rules, 400. The rule applies from the next assessment. Roles:
    /// admin, analyst.
    #[oai(path = "/rules", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewRule>,
    ) -> Result<RuleCreated, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let now = now_ms();
        let row = body.value.into_row(p.org(), now)?;
        if state.store.count_rules(p.org()).await? >= wire::MAX_RULES as i64 {
            return Err(ApiError::field(
                "rules",
                format!(
                    "An organisation holds at most {} rules; delete one first.",
                    wire::MAX_RULES
                ),
            ));
        }
        let out = CustomRule::from(&row);
        let audit =
            audit_row(&p, "rule.create", "rule", Some(&row.id), None::<&()>, Some(&out), now);
        state.store.create_rule(&row, &audit).await.map_err(|e| duplicate(e, &row))?;
        state.after_commit(crate::state::Reload::Settings(p.org().to_owned())).await;
        Ok(RuleCreated::Created(Json(out)))
    }

    /// Check rule text without saving it.
    ///
    /// Answers `valid: true`, or `valid: false` with the line, column,
    /// message and expectation of the first error, so an editor can
    /// underline it. Text over 10,000 characters answers 400. Roles: all.
    #[oai(path = "/rules/validate", method = "post")]
    async fn validate(
        &self,
        auth: DashboardToken,
        body: JsonBody<RuleSource>,
    ) -> Result<Json<RuleValidation>, ApiError> {
        auth.0.require(Action::ReadRules)?;
        wire::validate(&body.value.source).map(Json)
    }

    /// One custom rule.
    ///
    /// A rule of another organisation answers 404 like a missing one.
    /// Roles: all.
    #[oai(path = "/rules/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`rule_…`).
        id: Path<String>,
    ) -> Result<Json<CustomRule>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadRules)?;
        let row = find(&state, &p, &id.0).await?;
        Ok(Json(CustomRule::from(&row)))
    }

    /// Change a custom rule.
    ///
    /// Any of `name`, `source`, `priority`, `enabled`; the others stay.
    /// New text must compile (400 with its position otherwise); a name taken
    /// by another rule answers 409 `DUPLICATE`. The change applies from the
    /// next assessment. Roles: admin, analyst.
    #[oai(path = "/rules/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`rule_…`).
        id: Path<String>,
        body: JsonBody<RulePatch>,
    ) -> Result<Json<CustomRule>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let before = find(&state, &p, &id.0).await?;
        let now = now_ms();
        let after = body.value.apply(&before, now)?;
        let (b, a) = (CustomRule::from(&before), CustomRule::from(&after));
        let audit = audit_row(&p, "rule.update", "rule", Some(&after.id), Some(&b), Some(&a), now);
        if !state.store.update_rule(&after, &audit).await.map_err(|e| duplicate(e, &after))? {
            return Err(not_found("rule"));
        }
        state.after_commit(crate::state::Reload::Settings(p.org().to_owned())).await;
        Ok(Json(a))
    }

    /// Delete a custom rule.
    ///
    /// It stops applying from the next assessment; its audit record keeps
    /// what it was. Roles: admin, analyst.
    #[oai(path = "/rules/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`rule_…`).
        id: Path<String>,
    ) -> Result<Json<RuleDeleted>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let before = find(&state, &p, &id.0).await?;
        let now = now_ms();
        let b = CustomRule::from(&before);
        let audit =
            audit_row(&p, "rule.delete", "rule", Some(&before.id), Some(&b), None::<&()>, now);
        if !state.store.delete_rule(p.org(), &before.id, &audit).await? {
            return Err(not_found("rule"));
        }
        state.after_commit(crate::state::Reload::Settings(p.org().to_owned())).await;
        Ok(Json(RuleDeleted { deleted: true, id: before.id }))
    }

    /// Scoring settings.
    ///
    /// The decision thresholds, the weight overrides, and the whole signal
    /// catalogue with each signal's default and effective weight. Roles: all.
    #[oai(path = "/settings/scoring", method = "get")]
    async fn scoring(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<ScoringSettings>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadSettings)?;
        let policy = stored_policy(&state, p.org()).await?;
        Ok(Json(ScoringSettings::of(&policy)))
    }

    /// Change scoring settings.
    ///
    /// `thresholds` replaces all three thresholds (strictly increasing,
    /// 1–100); `weights` replaces the whole set of overrides (−100–100 each;
    /// unknown codes are refused and named in `details.unknown`). Fields left
    /// out stay as they are; nothing changes when anything is invalid. The
    /// audit record keeps the policy before and after. The new settings
    /// apply from the next assessment. Roles: admin.
    #[oai(path = "/settings/scoring", method = "put")]
    async fn set_scoring(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<ScoringUpdate>,
    ) -> Result<Json<ScoringSettings>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteSettings)?;
        let before = stored_policy(&state, p.org()).await?;
        let after = body.value.apply(&before)?;
        let json = serde_json::to_string(&after).map_err(|e| ApiError::internal(&e))?;
        let now = now_ms();
        let audit = audit_row(
            &p,
            "settings.scoring.update",
            "scoring_settings",
            Some(p.org()),
            Some(&before),
            Some(&after),
            now,
        );
        if !state.store.save_policy(p.org(), &json, &audit).await? {
            return Err(not_found("organisation"));
        }
        state.after_commit(crate::state::Reload::Settings(p.org().to_owned())).await;
        Ok(Json(ScoringSettings::of(&after)))
    }
}

/// A rule of the principal's organisation, or 404.
async fn find(state: &AppState, p: &Principal, id: &str) -> Result<RuleRow, ApiError> {
    state.store.rule(p.org(), id).await?.ok_or_else(|| not_found("rule"))
}

/// 409 naming the taken rule name.
fn duplicate(e: StoreError, row: &RuleRow) -> ApiError {
    match e {
        StoreError::Duplicate(_) => ApiError::new(
            clausum_core::wire::ErrorCode::Duplicate,
            format!("This organisation already has a rule named `{}`.", row.name),
        ),
        other => other.into(),
    }
}

/// The organisation's policy as stored (the source of truth, not the
/// node's cache, so a change made on another replica is not undone).
async fn stored_policy(state: &AppState, org_id: &str) -> Result<Policy, ApiError> {
    let row = state.store.organization(org_id).await?.ok_or_else(|| not_found("organisation"))?;
    serde_json::from_str(&row.policy)
        .map_err(|e| ApiError::from(StoreError::Corrupt(format!("policy of {org_id}: {e}"))))
}
