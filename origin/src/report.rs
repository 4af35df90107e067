//! The fraud-report pipeline: find (or create) the transaction, plan the
//! case and blocklist entries, write everything in one database
//! transaction, then teach the live state — blocklist index and payer
//! history — before answering, so the very next assess sees it.

use clausum_core::{
    blocklist::{FlowScope, ListType, Severity, Source},
    cases::{CaseStatus, FraudReason, Priority, ReferenceNumber},
    normalize::{Amount, CardBin, CardLast4, Currency, Email, IpAddress},
    wire::{AmountUnit, ErrorCode, Flow},
};
use rand::RngCore;

use clausum_core::webhook::EventType;

use crate::{
    api::common::new_id,
    error::ApiError,
    events,
    state::{AppState, KeyInfo},
    store::{
        ActivityRow, AuditRow, BlocklistRow, CaseRow, EvidenceRow, FraudReportOutcome,
        FraudReportPlan, PlannedEntry, ReportTarget, StoreError, TransactionRow,
    },
    time::now_ms,
};

/// A validated fraud report.
#[derive(Debug, Clone)]
pub struct Report {
    /// Which transaction.
    pub target: Target,
    /// Why it is fraud.
    pub reason: FraudReason,
    /// Free text for the case.
    pub description: Option<String>,
    /// `YYYY-MM-DD` of the incident, if known.
    pub incident_date: Option<String>,
    /// Jurisdiction of the case (ISO country).
    pub jurisdiction: Option<String>,
    /// Values to blocklist beyond (or instead of) the transaction's own.
    pub email: Option<Email>,
    /// See `email`.
    pub card_bin: Option<CardBin>,
    /// See `email`.
    pub ip: Option<IpAddress>,
    /// Evidence links (stored, never fetched).
    pub evidence_urls: Vec<String>,
    /// Parties to alert, as a JSON object.
    pub notify: serde_json::Value,
}

/// How the report names its transaction.
#[derive(Debug, Clone)]
pub enum Target {
    /// A Clausum transaction id.
    Id(String),
    /// The provider's id (with the provider, if given); if no stored
    /// transaction matches and `inline` is present, one is created.
    External {
        /// The provider's transaction id.
        external_id: String,
        /// `stripe`, `adyen`, …
        provider: Option<String>,
        /// Data to create the transaction from when none matches.
        inline: Option<Inline>,
    },
    /// A transaction Clausum never saw, created from the report.
    Inline(Inline),
}

/// Enough to create a transaction from a report: amount and email at least.
#[derive(Debug, Clone)]
pub struct Inline {
    /// The amount.
    pub amount: Amount,
    /// Payer email.
    pub email: Email,
    /// Card BIN.
    pub card_bin: Option<CardBin>,
    /// Card last 4.
    pub card_last4: Option<CardLast4>,
    /// Payer IP.
    pub ip: Option<IpAddress>,
    /// Merchant customer id.
    pub customer_id: Option<String>,
}

impl Inline {
    /// Parses inline amount fields; errors name the field.
    pub fn amount(
        value: f64,
        unit: Option<AmountUnit>,
        currency: &str,
    ) -> Result<Amount, ApiError> {
        let currency =
            Currency::parse(currency).map_err(|e| ApiError::field("currency", e.to_string()))?;
        Amount::from_wire(value, unit.unwrap_or_default(), currency)
            .map_err(|e| ApiError::field("amount", e.to_string()))
    }
}

/// What the caller gets back.
pub type Outcome = FraudReportOutcome;

/// Records a report made with `key`.
pub async fn record(state: &AppState, key: &KeyInfo, report: Report) -> Result<Outcome, ApiError> {
    let org = key.organization_id.as_str();
    let (target, row) = resolve(state, org, &report.target).await?;
    let (external_id, provider) = match &report.target {
        Target::External { external_id, provider, .. } => {
            (Some(external_id.clone()), provider.clone())
        }
        _ => (None, None),
    };
    // A reference-number collision (one in a billion) or a concurrent report
    // of the same transaction fails the insert; the retry either gets a
    // fresh reference or finds the case the other report opened.
    let mut last = None;
    for _ in 0..3 {
        let plan = plan(
            key,
            &report,
            &row,
            target.clone(),
            external_id.clone(),
            provider.clone(),
            now_ms(),
        );
        match state.store.report_fraud(&plan).await {
            Ok(outcome) => {
                if outcome.created {
                    state.apply_blocklist_rows(&outcome.added);
                    state.record_fraud(&outcome.transaction);
                    state.publish(crate::sync::Change::Fraud {
                        org: outcome.transaction.organization_id.clone(),
                        transaction: outcome.transaction.id.clone(),
                    });
                }
                return Ok(outcome);
            }
            Err(StoreError::Duplicate(e)) => last = Some(e),
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::internal(&format!("fraud report kept conflicting: {}", last.unwrap_or_default())))
}

/// The stored transaction the report is about, or the row to create;
/// either way with the row, whose values complete the report's.
async fn resolve(
    state: &AppState,
    org: &str,
    target: &Target,
) -> Result<(ReportTarget, TransactionRow), ApiError> {
    let missing = || {
        ApiError::new(
            ErrorCode::NotFound,
            "No transaction matches; send amount, currency and email to create it from the report.",
        )
    };
    match target {
        Target::Id(id) => match state.store.transaction(org, id).await? {
            Some(row) => Ok((ReportTarget::Existing(row.id.clone()), row)),
            None => Err(ApiError::new(ErrorCode::NotFound, "No such transaction.")),
        },
        Target::External { external_id, provider, inline } => {
            match state
                .store
                .transaction_by_external_id(org, external_id, provider.as_deref())
                .await?
            {
                Some(row) => Ok((ReportTarget::Existing(row.id.clone()), row)),
                None => {
                    let row = new_row(org, inline.as_ref().ok_or_else(missing)?, Some(external_id));
                    Ok((ReportTarget::New(Box::new(row.clone())), row))
                }
            }
        }
        Target::Inline(inline) => {
            let row = new_row(org, inline, None);
            Ok((ReportTarget::New(Box::new(row.clone())), row))
        }
    }
}

fn new_row(org: &str, i: &Inline, payment_id: Option<&String>) -> TransactionRow {
    let request = serde_json::json!({
        "amount_minor": i.amount.minor(),
        "currency": i.amount.currency().code(),
        "source": "fraud_report",
    });
    TransactionRow {
        id: crate::api::common::new_id("txn"),
        organization_id: org.to_owned(),
        api_key_id: String::new(),
        source: "fraud_report".into(),
        flow: Flow::Payin.as_str().into(),
        session_id: None,
        amount_minor: i.amount.minor(),
        currency: i.amount.currency().code().into(),
        email: Some(i.email.as_str().into()),
        card_bin: i.card_bin.as_ref().map(|b| b.as_str().into()),
        card_last4: i.card_last4.as_ref().map(|b| b.as_str().into()),
        ip: i.ip.as_ref().map(|ip| ip.to_string()),
        device_fingerprint: None,
        customer_id: i.customer_id.clone(),
        account_id: None,
        order_id: None,
        payment_id: payment_id.cloned(),
        submerchant_id: None,
        decision: None,
        risk_score: None,
        blocked_by: None,
        signals: None,
        request: request.to_string(),
        response: None,
        idempotency_key: None,
        request_hash: None,
        is_fraudulent: false,
        created_at: now_ms(),
        provider: None,
        external_id: None,
        fraud_reason: None,
        fraud_reported_at: None,
        released_at: None,
    }
}

/// Everything the report will write, given the resolved target.
#[allow(clippy::too_many_arguments)]
fn plan(
    key: &KeyInfo,
    report: &Report,
    row: &TransactionRow,
    target: ReportTarget,
    external_id: Option<String>,
    provider: Option<String>,
    now: i64,
) -> FraudReportPlan {
    let org = key.organization_id.clone();
    let actor = format!("key:{}", key.id);
    let mut random = [0u8; 6];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let reference = ReferenceNumber::from_random(random);
    let case_id = new_id("case");
    let txn_id = row.id.clone();
    let target = match target {
        ReportTarget::New(mut new) => {
            new.api_key_id = key.id.clone();
            ReportTarget::New(new)
        }
        existing => existing,
    };
    let priority = Priority::derive(report.reason, row.amount_minor, &row.currency);
    let case = CaseRow {
        id: case_id.clone(),
        organization_id: org.clone(),
        reference_number: reference.as_str().to_owned(),
        status: CaseStatus::Borrador.as_str().into(),
        priority: priority.as_str().into(),
        incident_type: report.reason.incident_type().as_str().into(),
        incident_date: report.incident_date.clone(),
        jurisdiction: report.jurisdiction.clone(),
        currency: Some(row.currency.clone()),
        amount_minor: Some(row.amount_minor),
        victim_name: None,
        victim_email: None,
        title: format!("Fraud report: {}", report.reason.as_str()),
        description: report.description.clone(),
        source: "fraud_report".into(),
        fraud_reason: Some(report.reason.as_str().into()),
        source_transaction_id: Some(txn_id.clone()),
        notify: report.notify.to_string(),
        created_by: actor.clone(),
        created_at: now,
        updated_at: now,
        submitted_at: None,
        resolved_at: None,
    };
    let entry = |list_type: ListType, value: String, severity: Severity| PlannedEntry {
        row: BlocklistRow {
            id: new_id("bl"),
            organization_id: org.clone(),
            list_type: list_type.as_str().into(),
            value,
            severity: severity.as_str().into(),
            flow_scope: FlowScope::All.as_str().into(),
            reason: Some(format!(
                "fraud report {} ({})",
                reference.as_str(),
                report.reason.as_str()
            )),
            source: Source::FraudReport.as_str().into(),
            is_active: true,
            expires_at: None,
            created_at: now,
            created_by: Some(actor.clone()),
            updated_at: now,
        },
    };
    // The report's own values win; the transaction's (stored normalised) fill in.
    let email = report.email.as_ref().map(|e| e.as_str().to_owned()).or_else(|| row.email.clone());
    let bin =
        report.card_bin.as_ref().map(|b| b.as_str().to_owned()).or_else(|| row.card_bin.clone());
    let ip = report.ip.as_ref().map(ToString::to_string).or_else(|| row.ip.clone());
    let mut entries = Vec::new();
    if let Some(e) = email {
        entries.push(entry(ListType::Email, e, Severity::Block));
    }
    if let (Some(bin), Some(sev)) = (bin, report.reason.card_bin_severity()) {
        entries.push(entry(ListType::CardBin, bin, sev));
    }
    if let Some(ip) = ip {
        entries.push(entry(ListType::IpAddress, ip, Severity::Block));
    }
    let evidence = report
        .evidence_urls
        .iter()
        .map(|url| EvidenceRow {
            id: new_id("ev"),
            case_id: case_id.clone(),
            organization_id: org.clone(),
            kind: "url".into(),
            url: Some(url.clone()),
            description: Some("attached to the fraud report".into()),
            added_by: actor.clone(),
            created_at: now,
        })
        .collect();
    let details = serde_json::json!({
        "reason": report.reason.as_str(),
        "transaction_id": txn_id,
        "blocklist_candidates": entries.iter().map(|e| e.row.list_type.clone()).collect::<Vec<_>>(),
    });
    let activity = ActivityRow {
        id: new_id("act"),
        case_id: case_id.clone(),
        organization_id: org.clone(),
        actor: actor.clone(),
        action: "opened_by_fraud_report".into(),
        details: details.to_string(),
        created_at: now,
    };
    let detected = serde_json::json!({
        "case": {"id": case_id, "reference_number": reference.as_str(), "priority": priority.as_str(),
                 "incident_type": report.reason.incident_type().as_str()},
        "transaction": {"id": txn_id, "amount_minor": row.amount_minor, "currency": row.currency,
                        "external_id": external_id.clone().or_else(|| row.payment_id.clone())},
        "reason": report.reason.as_str(),
        "blocklist_types": entries.iter().map(|e| e.row.list_type.clone()).collect::<Vec<_>>(),
        "notify": report.notify,
    });
    let opened = serde_json::json!({
        "id": case_id, "reference_number": reference.as_str(), "status": CaseStatus::Borrador.as_str(),
        "priority": priority.as_str(), "incident_type": report.reason.incident_type().as_str(),
        "source": "fraud_report", "source_transaction_id": txn_id,
    });
    let events = vec![
        events::new_event(&org, EventType::FraudDetected, &detected, now),
        events::new_event(&org, EventType::CaseCreated, &opened, now),
    ];
    let audit = AuditRow {
        id: new_id("aud"),
        organization_id: org,
        actor,
        action: "fraud.report".into(),
        resource_type: "case".into(),
        resource_id: Some(case_id),
        before_state: None,
        after_state: Some(details.to_string()),
        created_at: now,
    };
    FraudReportPlan {
        target,
        reason: report.reason.as_str().into(),
        provider,
        external_id,
        case,
        entries,
        evidence,
        activity,
        audit,
        events,
    }
}
