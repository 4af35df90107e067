//! Provider webhooks and integrations on the wire.

use poem_openapi::Object;
use serde::{Deserialize, Serialize};

use crate::{api::common::iso, store::ProviderSecretRow};

/// A Stripe event, as Stripe sends it (only the fields Clausum reads are
/// described; the rest is accepted and ignored).
#[derive(Object, Debug)]
pub struct StripeEvent {
    /// Stripe's event id (`evt_…`): each is applied once. Stripe always
    /// sends it; an event without one answers 400.
    pub id: Option<String>,
    /// Stripe's event type, e.g. `charge.dispute.created`.
    #[oai(rename = "type")]
    pub event_type: String,
    /// `{"object": …}`: the charge, payment intent, dispute or early fraud
    /// warning the event is about.
    pub data: serde_json::Value,
}

/// What a provider's delivery did.
#[derive(Object, Serialize, Debug)]
pub struct ReceivedAck {
    /// Always `true`: the event is recorded.
    pub received: bool,
    /// `true` when this event id was received before: nothing changed.
    pub duplicate: bool,
    /// `applied`; `unmatched` (no Clausum transaction matches the payment,
    /// so nothing was announced); or `ignored` (an event type Clausum does
    /// not act on).
    pub outcome: String,
}

/// The inbound pipeline's identity.
#[derive(Object, Debug)]
pub struct PipelineInfo {
    /// `2.0`.
    pub version: String,
    /// `processProviderInboundWebhook`.
    pub pipeline: String,
}

/// A provider integration: whether its webhook secret is stored.
#[derive(Object, Serialize, Debug, Clone)]
pub struct Integration {
    /// `stripe`.
    pub provider: String,
    /// Whether a webhook signing secret is stored.
    pub configured: bool,
    /// `whsec_…` and the secret's last four characters, to tell secrets
    /// apart; the secret itself is never shown.
    pub secret_hint: Option<String>,
    /// The path to configure at the provider (prefix it with this server's
    /// public URL).
    pub webhook_path: String,
    /// RFC 3339 time the secret was first stored.
    pub created_at: Option<String>,
    /// RFC 3339 time it was last replaced.
    pub updated_at: Option<String>,
}

impl Integration {
    /// The view of `provider` for `org`, with its secret row if stored.
    pub fn new(provider: &str, org: &str, row: Option<&ProviderSecretRow>) -> Integration {
        Integration {
            provider: provider.to_owned(),
            configured: row.is_some(),
            secret_hint: row.map(|r| hint(&r.secret)),
            webhook_path: format!("/api/webhooks/{provider}?org_id={org}"),
            created_at: row.map(|r| iso(r.created_at)),
            updated_at: row.map(|r| iso(r.updated_at)),
        }
    }
}

fn hint(secret: &str) -> String {
    let prefix = secret.split_once('_').map_or("", |(p, _)| p);
    let tail: String = secret.chars().rev().take(4).collect::<Vec<_>>().into_iter().rev().collect();
    format!("{prefix}_…{tail}")
}

/// A webhook signing secret to store.
#[derive(Object, Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct IntegrationSecret {
    /// The provider's webhook signing secret (Stripe: `whsec_…`, from the
    /// endpoint's page in the Stripe Dashboard). Write-only.
    pub secret: String,
}

#[cfg(test)]
mod tests {
    #[test]
    fn hints_show_the_prefix_and_the_last_four() {
        assert_eq!(super::hint("whsec_abcdefghijkl1234"), "whsec_…1234");
    }
}
