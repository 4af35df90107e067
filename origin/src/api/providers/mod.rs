//! Payment-provider webhooks in (`/api/webhooks/stripe`), and the secrets
//! organisations store for them (`/api/v1/integrations/{provider}`).
//!
//! The two services are joined into the one [`ProvidersApi`] the server
//! registers, as `api::cases` does.

mod integrations;
mod wire;

use std::{collections::HashMap, sync::Arc};

use clausum_core::wire::ErrorCode;
use poem::{Request, endpoint::BoxEndpoint, http::Method, web::Data};
use poem_openapi::{
    ApiResponse, OpenApi,
    param::Query,
    payload::Json,
    registry::{MetaApi, Registry},
};

pub use integrations::IntegrationsApi;
pub use wire::*;

use super::{Tag, raw_body::RawJson};
use crate::{
    error::ApiError,
    providers::{
        Provider,
        apply::{self, Received},
        stripe::Stripe,
    },
    state::AppState,
};

/// Provider webhooks in and the integrations that configure them.
pub struct ProvidersApi;

type Parts = (ProviderWebhooksApi, IntegrationsApi);

impl OpenApi for ProvidersApi {
    fn meta() -> Vec<MetaApi> {
        Parts::meta()
    }

    fn register(registry: &mut Registry) {
        Parts::register(registry);
    }

    fn add_routes(self, route_table: &mut HashMap<String, HashMap<Method, BoxEndpoint<'static>>>) {
        (ProviderWebhooksApi, IntegrationsApi).add_routes(route_table);
    }
}

/// Longest `org_id` looked up.
const MAX_ORG_ID: usize = 100;

/// The provider's delivery was accepted.
#[derive(ApiResponse)]
pub enum ProviderReceived {
    /// Recorded (and applied, if the event means something to Clausum).
    #[oai(status = 200)]
    Ok(Json<ReceivedAck>),
}

/// Webhooks sent by payment providers (authenticated by the provider's signature).
pub struct ProviderWebhooksApi;

#[OpenApi(prefix_path = "/api/webhooks", tag = "Tag::Events")]
impl ProviderWebhooksApi {
    /// Receive a Stripe webhook
    ///
    /// Point a Stripe webhook endpoint here, with your organisation id
    /// (`org_…`) as `org_id`, and store its signing secret with `PUT
    /// /api/v1/integrations/stripe`. The `Stripe-Signature` header is
    /// verified on the raw body (HMAC-SHA256, 300 s tolerance) before
    /// anything reads it; an unknown organisation, a missing secret, a
    /// missing, stale or wrong signature all answer the same 401. Each
    /// Stripe event id is applied once, in one database transaction:
    /// `charge.succeeded` → `transaction.succeeded` and
    /// `payment_intent.payment_failed` → `transaction.failed` for the
    /// transaction named by `metadata.clausum_session_id` (or by the payment
    /// intent / charge id sent to assess as `payment_id`);
    /// `charge.dispute.created` opens a case and sends `dispute.created` and
    /// `case.created`; `charge.dispute.updated` / `charge.dispute.closed`
    /// send `dispute.updated` / `dispute.resolved` naming that case;
    /// `radar.early_fraud_warning.created` opens a case. Other events are
    /// recorded and ignored. A replay answers 200 with `duplicate: true`
    /// and changes nothing. Bodies over 256 KiB answer 413.
    #[oai(path = "/stripe", method = "post")]
    async fn stripe(
        &self,
        state: Data<&Arc<AppState>>,
        req: &Request,
        /// Your organisation id (`org_…`), shown by `GET /api/v1/integrations/stripe`.
        org_id: Query<Option<String>>,
        /// Accepted for compatibility with the dashboard's URLs; each origin
        /// serves one environment.
        environment: Query<Option<String>>,
        body: RawJson<StripeEvent>,
    ) -> Result<ProviderReceived, ApiError> {
        let _ = environment;
        receive(&state, &Stripe, org_id.0.as_deref(), req, &body.bytes).await
    }

    /// Describe the Stripe webhook endpoint
    ///
    /// No authentication. Answers
    /// `{"version": "2.0", "pipeline": "processProviderInboundWebhook"}`, so
    /// a configuration can be checked from a browser.
    #[oai(path = "/stripe", method = "get")]
    async fn stripe_info(&self) -> Json<PipelineInfo> {
        Json(PipelineInfo {
            version: "2.0".into(),
            pipeline: "processProviderInboundWebhook".into(),
        })
    }
}

/// Authenticates and applies one provider delivery.
async fn receive(
    state: &AppState,
    provider: &dyn Provider,
    org_id: Option<&str>,
    req: &Request,
    raw: &[u8],
) -> Result<ProviderReceived, ApiError> {
    let org = org_id.map(str::trim).filter(|o| !o.is_empty() && o.len() <= MAX_ORG_ID);
    let secret = match org {
        Some(org) => state.store.provider_secret(org, provider.name()).await?,
        None => None,
    };
    let now_s = crate::time::now_ms() / 1_000;
    // Without a secret the signature is still checked — against one nobody
    // holds — so the answer takes as long whatever was wrong.
    let key = secret.as_ref().map_or("whsec_nobody_holds_this_secret", |s| s.secret.as_str());
    let authentic = provider.verify(req.headers(), raw, key, now_s);
    let (Some(org), Some(_), true) = (org, &secret, authentic) else {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "The webhook signature could not be verified for this organisation.",
        ));
    };
    let event = provider.parse(raw).map_err(|m| ApiError::new(ErrorCode::ValidationError, m))?;
    let (duplicate, outcome) = match apply::receive(state, provider, org, &event).await? {
        Received::New(outcome) => (false, outcome),
        Received::Duplicate(outcome) => (true, outcome),
    };
    Ok(ProviderReceived::Ok(Json(ReceivedAck { received: true, duplicate, outcome })))
}
