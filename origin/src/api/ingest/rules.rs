//! `/api/v1/ingestion-rules`: which ingested events open a case, raise an
//! alert, wait for review or are ignored. Changes are audited in the same
//! database transaction and apply to the next event processed.

use std::sync::Arc;

use clausum_core::roles::Action;
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::wire::{
    IngestionRule, IngestionRuleList, IngestionRulePatch, MAX_RULES, NewIngestionRule,
};
use crate::{
    api::{
        Tag,
        common::{audit_row, not_found},
    },
    auth::{DashboardToken, Principal},
    error::ApiError,
    payload::JsonBody,
    state::AppState,
    store::IngestionRuleRow,
    time::now_ms,
};

/// Created.
#[derive(ApiResponse)]
pub enum IngestionRuleCreated {
    /// The rule was added; it applies to the next event processed.
    #[oai(status = 201)]
    Created(Json<IngestionRule>),
}

/// A deleted ingestion rule.
#[derive(Object, Debug)]
pub struct IngestionRuleDeleted {
    /// Always `true`.
    pub deleted: bool,
    /// The deleted rule's id.
    pub id: String,
}

/// Ingestion rules (dashboard token; admins and analysts change, every role reads).
pub struct IngestionRulesApi;

#[OpenApi(prefix_path = "/api/v1/ingestion-rules", tag = "Tag::Integrations")]
impl IngestionRulesApi {
    /// List ingestion rules
    ///
    /// Every ingestion rule of the organisation, in evaluation order
    /// (priority, lower first, then age). Roles: every role.
    #[oai(path = "/", method = "get")]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
    ) -> Result<Json<IngestionRuleList>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadRules)?;
        let rows = state.store.ingestion_rules(p.org()).await?;
        Ok(Json(IngestionRuleList { data: rows.iter().map(IngestionRule::from).collect() }))
    }

    /// Add an ingestion rule
    ///
    /// Conditions: `event_type` (exact, or `*`), `amount_gte`, `amount_lte`
    /// (on `data.amount`, minor units); every condition given must hold.
    /// Actions: `create_expediente` (open a case), `create_alert` (record an
    /// alert), `flag_review` (status `review`), `ignore`. An unknown
    /// condition or action answers 400. At most 500 rules. Audited. Roles:
    /// admin, analyst.
    #[oai(path = "/", method = "post")]
    async fn create(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        body: JsonBody<NewIngestionRule>,
    ) -> Result<IngestionRuleCreated, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let now = now_ms();
        let row = body.value.into_row(p.org(), now)?;
        if state.store.count_ingestion_rules(p.org()).await? >= MAX_RULES {
            return Err(ApiError::field(
                "rules",
                format!(
                    "An organisation holds at most {MAX_RULES} ingestion rules; delete one first."
                ),
            ));
        }
        let out = IngestionRule::from(&row);
        let audit = audit_row(
            &p,
            "ingestion_rule.create",
            "ingestion_rule",
            Some(&row.id),
            None::<&()>,
            Some(&out),
            now,
        );
        state.store.create_ingestion_rule(&row, &audit).await?;
        Ok(IngestionRuleCreated::Created(Json(out)))
    }

    /// Get an ingestion rule
    ///
    /// One rule of the caller's organisation (404 for any other). Roles:
    /// every role.
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`irule_…`).
        id: Path<String>,
    ) -> Result<Json<IngestionRule>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadRules)?;
        Ok(Json(IngestionRule::from(&load(&state, &p, &id.0).await?)))
    }

    /// Change an ingestion rule
    ///
    /// Name, priority, enabled flag, conditions (replaced whole) or action;
    /// absent fields stay as they are. Audited. Roles: admin, analyst.
    #[oai(path = "/:id", method = "patch")]
    async fn update(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`irule_…`).
        id: Path<String>,
        body: JsonBody<IngestionRulePatch>,
    ) -> Result<Json<IngestionRule>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let before = load(&state, &p, &id.0).await?;
        let now = now_ms();
        let after = body.value.apply(&before, now)?;
        let (b, a) = (IngestionRule::from(&before), IngestionRule::from(&after));
        let audit = audit_row(
            &p,
            "ingestion_rule.update",
            "ingestion_rule",
            Some(&after.id),
            Some(&b),
            Some(&a),
            now,
        );
        if !state.store.update_ingestion_rule(&after, &audit).await? {
            return Err(not_found("ingestion rule"));
        }
        Ok(Json(a))
    }

    /// Delete an ingestion rule
    ///
    /// Events already processed keep the id of the rule that matched them.
    /// Audited. Roles: admin, analyst.
    #[oai(path = "/:id", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The rule's id (`irule_…`).
        id: Path<String>,
    ) -> Result<Json<IngestionRuleDeleted>, ApiError> {
        let p = auth.0;
        p.require(Action::WriteRules)?;
        let before = load(&state, &p, &id.0).await?;
        let b = IngestionRule::from(&before);
        let audit = audit_row(
            &p,
            "ingestion_rule.delete",
            "ingestion_rule",
            Some(&before.id),
            Some(&b),
            None::<&()>,
            now_ms(),
        );
        if !state.store.delete_ingestion_rule(p.org(), &before.id, &audit).await? {
            return Err(not_found("ingestion rule"));
        }
        Ok(Json(IngestionRuleDeleted { deleted: true, id: before.id }))
    }
}

async fn load(state: &AppState, p: &Principal, id: &str) -> Result<IngestionRuleRow, ApiError> {
    state.store.ingestion_rule(p.org(), id).await?.ok_or_else(|| not_found("ingestion rule"))
}
