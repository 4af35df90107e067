//! `/api/v1/integrations/{provider}`: the webhook signing secret an
//! organisation stores for a payment provider. Write-only: reads show
//! whether it is set and a hint, never the secret.

use std::sync::Arc;

use clausum_core::roles::Action;
use poem::web::Data;
use poem_openapi::{OpenApi, param::Path, payload::Json};

use super::wire::{Integration, IntegrationSecret};
use crate::{
    api::{
        Tag,
        common::{audit_row, not_found},
    },
    auth::DashboardToken,
    error::ApiError,
    payload::JsonBody,
    providers::{self, Provider},
    state::AppState,
    store::ProviderSecretRow,
    time::now_ms,
};

/// Payment-provider integrations (dashboard token; admins change, admins and analysts read).
pub struct IntegrationsApi;

#[OpenApi(prefix_path = "/api/v1/integrations", tag = "Tag::Integrations")]
impl IntegrationsApi {
    /// Show a provider integration
    ///
    /// Whether the provider's webhook signing secret is stored (with a
    /// hint), and the webhook path to configure at the provider. Providers:
    /// `stripe`. Roles: admin, analyst.
    #[oai(path = "/:provider", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The provider: `stripe`.
        provider: Path<String>,
    ) -> Result<Json<Integration>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadKeys)?;
        let provider = known(&provider.0)?;
        let row = state.store.provider_secret(p.org(), provider.name()).await?;
        Ok(Json(Integration::new(provider.name(), p.org(), row.as_ref())))
    }

    /// Store a provider's webhook secret
    ///
    /// Stores (or replaces) the signing secret of the provider's webhook
    /// endpoint; deliveries are verified with it from now on. Stripe
    /// secrets start with `whsec_` — anything else (an API key pasted by
    /// mistake) is refused with 400. The answer never shows the secret.
    /// Audited. Admins only.
    #[oai(path = "/:provider", method = "put")]
    async fn put(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The provider: `stripe`.
        provider: Path<String>,
        body: JsonBody<IntegrationSecret>,
    ) -> Result<Json<Integration>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let provider = known(&provider.0)?;
        let secret = body.value.secret.trim().to_owned();
        provider.check_secret(&secret).map_err(|m| ApiError::field("secret", m))?;
        let before = state.store.provider_secret(p.org(), provider.name()).await?;
        let now = now_ms();
        let row = ProviderSecretRow {
            organization_id: p.org().to_owned(),
            provider: provider.name().to_owned(),
            secret,
            created_at: before.as_ref().map_or(now, |b| b.created_at),
            updated_at: now,
        };
        let (b, a) = (
            before.as_ref().map(|r| Integration::new(provider.name(), p.org(), Some(r))),
            Integration::new(provider.name(), p.org(), Some(&row)),
        );
        let audit = audit_row(
            &p,
            "integration.update",
            "integration",
            Some(provider.name()),
            b.as_ref(),
            Some(&a),
            now,
        );
        state.store.save_provider_secret(&row, &audit).await?;
        Ok(Json(a))
    }

    /// Remove a provider's webhook secret
    ///
    /// Deliveries from the provider are refused (401) from now on. 404 when
    /// no secret is stored. Audited. Admins only.
    #[oai(path = "/:provider", method = "delete")]
    async fn delete(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// The provider: `stripe`.
        provider: Path<String>,
    ) -> Result<Json<Integration>, ApiError> {
        let p = auth.0;
        p.require(Action::ManageKeys)?;
        let provider = known(&provider.0)?;
        let Some(before) = state.store.provider_secret(p.org(), provider.name()).await? else {
            return Err(not_found("integration secret"));
        };
        let b = Integration::new(provider.name(), p.org(), Some(&before));
        let audit = audit_row(
            &p,
            "integration.delete",
            "integration",
            Some(provider.name()),
            Some(&b),
            None::<&()>,
            now_ms(),
        );
        if !state.store.delete_provider_secret(p.org(), provider.name(), &audit).await? {
            return Err(not_found("integration secret"));
        }
        Ok(Json(Integration::new(provider.name(), p.org(), None)))
    }
}

fn known(name: &str) -> Result<&'static dyn Provider, ApiError> {
    providers::provider(name).ok_or_else(|| not_found("provider"))
}
