//! `POST /api/v1/report-fraud`: confirmed fraud comes back.

use std::sync::Arc;

use clausum_core::{
    cases::{FraudReason, Jurisdiction},
    keys::{self, KeyKind},
    normalize::{CardBin, CardLast4, Email, IpAddress},
    wire::{AmountUnit, ErrorCode},
};
use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi};
use serde::{Deserialize, Serialize};

use super::{
    Tag,
    common::{clean_text, iso, iso_opt},
};
use crate::{
    auth::PartnerKey,
    error::ApiError,
    payload::{JsonBody, JsonBytes},
    report::{self, Inline, Report, Target},
    state::{AppState, KeyInfo},
    time::now_ms,
};

/// Evidence links a report may carry.
const MAX_EVIDENCE_URLS: usize = 20;

/// Parties to alert.
#[derive(Object, Serialize, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// The merchant.
    #[serde(default)]
    pub merchant: bool,
    /// The acquirer.
    #[serde(default)]
    pub acquirer: bool,
    /// The card issuer.
    #[serde(default)]
    pub issuer: bool,
    /// Compliance.
    #[serde(default)]
    pub compliance: bool,
}

/// A fraud report. Name the transaction with `transaction_id`, or
/// `external_transaction_id` (+ `provider`); with neither — or when no
/// stored transaction matches the external id — `amount`, `currency` and
/// `email` create one.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct FraudReportRequest {
    /// Clausum transaction id (`txn_…`, as returned by assess).
    pub transaction_id: Option<String>,
    /// The payment provider's id of the transaction (matched against the
    /// `payment_id` sent to assess), e.g. `pi_3Nxyz`.
    pub external_transaction_id: Option<String>,
    /// The provider, e.g. `stripe`.
    pub provider: Option<String>,
    /// `chargeback`, `friendly_fraud`, `card_testing`, `account_takeover`,
    /// `identity_theft` or `other`.
    pub reason: FraudReason,
    /// Free text for the case (card numbers are redacted).
    pub description: Option<String>,
    /// Day of the incident, `YYYY-MM-DD`.
    pub incident_date: Option<String>,
    /// Jurisdiction of the case: CL, MX, BR, PE, CO, UY or AR.
    pub jurisdiction: Option<String>,
    /// Inline amount (with `currency`), to create the transaction.
    pub amount: Option<f64>,
    /// `minor` (default) or `major`.
    pub amount_unit: Option<AmountUnit>,
    /// ISO 4217 currency of `amount`.
    pub currency: Option<String>,
    /// Payer email: blocklisted (`block`).
    pub email: Option<String>,
    /// Card BIN: blocklisted (`flag`).
    pub card_bin: Option<String>,
    /// Card last 4 (inline creation only).
    pub card_last4: Option<String>,
    /// Payer IP: blocklisted (`block`).
    pub ip_address: Option<String>,
    /// Merchant customer id (inline creation only).
    pub customer_id: Option<String>,
    /// Links to evidence; stored on the case, never fetched by Clausum.
    #[serde(default)]
    pub evidence_urls: Vec<String>,
    /// Who to alert.
    pub notify: Option<Notify>,
}

/// The case the report opened (or the existing one).
#[derive(Object, Serialize, Debug)]
pub struct ReportedCase {
    /// `case_…`.
    pub id: String,
    /// `CLM-XXXXXX`.
    pub reference_number: String,
    /// Case status (`borrador` for a new report).
    pub status: String,
    /// `baja`, `media`, `alta` or `urgente`, from amount and reason.
    pub priority: String,
    /// Incident type mapped from the reason.
    pub incident_type: String,
    /// RFC 3339.
    pub created_at: String,
}

/// The reported transaction.
#[derive(Object, Serialize, Debug)]
pub struct ReportedTransaction {
    /// `txn_…`.
    pub id: String,
    /// The provider's id, if known.
    pub external_id: Option<String>,
    /// The provider, if known.
    pub provider: Option<String>,
    /// Always `true` after a report.
    pub is_fraudulent: bool,
    /// The reason.
    pub fraud_reason: Option<String>,
    /// RFC 3339 time of the report.
    pub fraud_reported_at: Option<String>,
    /// `assess`, or `fraud_report` when the report created it.
    pub source: String,
}

/// A blocklist entry touched by the report.
#[derive(Object, Serialize, Debug)]
pub struct ReportedEntry {
    /// `bl_…`.
    pub id: String,
    /// List type.
    pub list_type: String,
    /// Severity.
    pub severity: String,
    /// `true` if this report added it; `false` if it existed and was linked.
    pub added: bool,
}

/// What the report did to the blocklists.
#[derive(Object, Serialize, Debug)]
pub struct ReportedBlocklist {
    /// Entries this report added.
    pub entries_added: u32,
    /// Their list types.
    pub types: Vec<String>,
    /// Every entry linked to the case (added or already present).
    pub entries: Vec<ReportedEntry>,
}

/// Payload of the answer.
#[derive(Object, Serialize, Debug)]
pub struct FraudReportData {
    /// The case.
    pub case: ReportedCase,
    /// The transaction.
    pub transaction: ReportedTransaction,
    /// Blocklist changes.
    pub blocklist: ReportedBlocklist,
    /// `true` when this transaction had been reported before: the existing
    /// case is returned and nothing was changed.
    pub already_reported: bool,
}

/// The answer.
#[derive(Object, Serialize, Debug)]
pub struct FraudReportResponse {
    /// Always `true` on 200/201.
    pub success: bool,
    /// What happened.
    pub data: FraudReportData,
}

/// Outcomes of a report.
#[derive(ApiResponse)]
pub enum ReportOk {
    /// Recorded: the case is open and the blocklists are updated.
    #[oai(status = 201)]
    Created(JsonBytes<FraudReportResponse>),
    /// The transaction had already been reported: its case is returned.
    #[oai(status = 200)]
    AlreadyReported(JsonBytes<FraudReportResponse>),
}

/// Fraud reports (secret key with `fraud:report`).
pub struct ReportApi;

#[OpenApi(prefix_path = "/api/v1", tag = "Tag::Fraud")]
impl ReportApi {
    /// Report confirmed fraud
    ///
    /// Flags the transaction, opens a case with a reference number, adds the
    /// email (`block`), card BIN (`flag`) and IP (`block`) to the blocklists
    /// — the next assess sees them — and queues a `fraud.detected` event,
    /// all in one database transaction. Reporting the same transaction again
    /// returns its case (200) and changes nothing. Needs a secret key with
    /// the `fraud:report` permission.
    #[oai(path = "/report-fraud", method = "post")]
    async fn report(
        &self,
        state: Data<&Arc<AppState>>,
        auth: PartnerKey,
        body: JsonBody<FraudReportRequest>,
    ) -> Result<ReportOk, ApiError> {
        let key = auth.0;
        authorize(&state, &key).await?;
        let report = validate(body.value)?;
        let outcome = report::record(&state, &key, report).await?;
        let body = FraudReportResponse { success: true, data: data(&outcome) };
        Ok(if outcome.created {
            ReportOk::Created(JsonBytes::new(&body))
        } else {
            ReportOk::AlreadyReported(JsonBytes::new(&body))
        })
    }
}

async fn authorize(state: &AppState, key: &KeyInfo) -> Result<(), ApiError> {
    match key.kind {
        KeyKind::Ingest => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "Event-ingest keys (clm_wh_) can only ingest events; report fraud with a secret key (clm_sk_).",
            ));
        }
        KeyKind::Publishable => {
            return Err(ApiError::new(
                ErrorCode::SecretKeyRequired,
                "Fraud reports need a secret key (clm_sk_); publishable keys never report.",
            ));
        }
        KeyKind::Secret => {}
    }
    if !keys::grants(&key.permissions, keys::PERM_FRAUD_REPORT) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "This API key lacks the `fraud:report` permission.",
        ));
    }
    let admission = state.admit_key(key, now_ms()).await?;
    if !admission.allowed {
        return Err(ApiError::rate_limited(ErrorCode::RateLimitExceeded, &admission));
    }
    Ok(())
}

fn opt_token(field: &str, v: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    v.filter(|s| !s.trim().is_empty())
        .map(|s| {
            clausum_core::normalize::clean_token(&s, max)
                .map_err(|e| ApiError::field(field, e.to_string()))
        })
        .transpose()
}

fn validate(r: FraudReportRequest) -> Result<Report, ApiError> {
    let email = r
        .email
        .map(|e| Email::parse(&e).map_err(|e| ApiError::field("email", e.to_string())))
        .transpose()?;
    let card_bin = r
        .card_bin
        .map(|b| CardBin::parse(&b).map_err(|e| ApiError::field("card_bin", e.to_string())))
        .transpose()?;
    let card_last4 = r
        .card_last4
        .map(|b| CardLast4::parse(&b).map_err(|e| ApiError::field("card_last4", e.to_string())))
        .transpose()?;
    let ip = r
        .ip_address
        .map(|i| IpAddress::parse(&i).map_err(|e| ApiError::field("ip_address", e.to_string())))
        .transpose()?;
    let jurisdiction = r
        .jurisdiction
        .map(|j| {
            Jurisdiction::parse(&j).map(|j| j.as_str().to_owned()).ok_or_else(|| {
                ApiError::field(
                    "jurisdiction",
                    "`jurisdiction` must be one of CL, MX, BR, PE, CO, UY, AR",
                )
            })
        })
        .transpose()?;
    let incident_date = r
        .incident_date
        .map(|d| {
            d.trim().parse::<jiff::civil::Date>().map(|d| d.to_string()).map_err(|_| {
                ApiError::field(
                    "incident_date",
                    "`incident_date` must be a date such as 2026-11-21",
                )
            })
        })
        .transpose()?;
    if r.evidence_urls.len() > MAX_EVIDENCE_URLS {
        return Err(ApiError::field(
            "evidence_urls",
            format!("at most {MAX_EVIDENCE_URLS} evidence URLs"),
        ));
    }
    let evidence_urls = r
        .evidence_urls
        .into_iter()
        .enumerate()
        .map(|(i, u)| check_url(&u).map_err(|m| ApiError::field(&format!("evidence_urls[{i}]"), m)))
        .collect::<Result<Vec<_>, _>>()?;
    let customer_id = opt_token("customer_id", r.customer_id, 256)?;
    let provider = opt_token("provider", r.provider, 64)?.map(|p| p.to_ascii_lowercase());
    let external_id = opt_token("external_transaction_id", r.external_transaction_id, 256)?;
    let transaction_id = opt_token("transaction_id", r.transaction_id, 64)?;
    let inline = match (r.amount, r.currency.as_deref()) {
        (None, None) => None,
        (Some(amount), Some(currency)) => {
            let email = email.clone().ok_or_else(|| {
                ApiError::field(
                    "email",
                    "`email` is required to create a transaction from a report",
                )
            })?;
            Some(Inline {
                amount: Inline::amount(amount, r.amount_unit, currency)?,
                email,
                card_bin: card_bin.clone(),
                card_last4,
                ip,
                customer_id,
            })
        }
        (Some(_), None) => {
            return Err(ApiError::field("currency", "`currency` is required with `amount`"));
        }
        (None, Some(_)) => {
            return Err(ApiError::field("amount", "`amount` is required with `currency`"));
        }
    };
    let target = match (transaction_id, external_id) {
        (Some(_), Some(_)) => {
            return Err(ApiError::field(
                "transaction_id",
                "send either `transaction_id` or `external_transaction_id`, not both",
            ));
        }
        (Some(id), None) => Target::Id(id),
        (None, Some(external_id)) => Target::External { external_id, provider, inline },
        (None, None) => Target::Inline(inline.ok_or_else(|| {
            ApiError::field(
                "transaction_id",
                "name the transaction (`transaction_id` or `external_transaction_id`), or send `amount`, `currency` and `email` to create it",
            )
        })?),
    };
    Ok(Report {
        target,
        reason: r.reason,
        description: clean_text("description", r.description, 4_000)?,
        incident_date,
        jurisdiction,
        email,
        card_bin,
        ip,
        evidence_urls,
        notify: serde_json::to_value(r.notify.unwrap_or_default()).expect("serialises"),
    })
}

/// Evidence must be an absolute http(s) URL; it is stored, never fetched.
fn check_url(u: &str) -> Result<String, String> {
    let u = u.trim();
    if u.len() > 2_048 {
        return Err("URLs have at most 2048 characters".into());
    }
    let lower = u.to_ascii_lowercase();
    let rest = lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://"));
    match rest {
        Some(host)
            if !host.is_empty() && !u.chars().any(|c| c.is_whitespace() || c.is_control()) =>
        {
            Ok(u.to_owned())
        }
        _ => Err("evidence URLs must be absolute http(s) URLs".into()),
    }
}

fn data(o: &report::Outcome) -> FraudReportData {
    let t = &o.transaction;
    let entries: Vec<ReportedEntry> = o
        .added
        .iter()
        .map(|e| (e, true))
        .chain(o.linked.iter().map(|e| (e, false)))
        .map(|(e, added)| ReportedEntry {
            id: e.id.clone(),
            list_type: e.list_type.clone(),
            severity: e.severity.clone(),
            added,
        })
        .collect();
    FraudReportData {
        case: ReportedCase {
            id: o.case.id.clone(),
            reference_number: o.case.reference_number.clone(),
            status: o.case.status.clone(),
            priority: o.case.priority.clone(),
            incident_type: o.case.incident_type.clone(),
            created_at: iso(o.case.created_at),
        },
        transaction: ReportedTransaction {
            id: t.id.clone(),
            external_id: t.external_id.clone().or_else(|| t.payment_id.clone()),
            provider: t.provider.clone(),
            is_fraudulent: t.is_fraudulent,
            fraud_reason: t.fraud_reason.clone(),
            fraud_reported_at: iso_opt(t.fraud_reported_at),
            source: t.source.clone(),
        },
        blocklist: ReportedBlocklist {
            entries_added: o.added.len() as u32,
            types: o.added.iter().map(|e| e.list_type.clone()).collect(),
            entries,
        },
        already_reported: !o.created,
    }
}
