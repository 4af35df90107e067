//! Cases, their evidence, linked transactions and activity on the wire.
//! Statuses and other enumerations are sent as their wire names
//! (`borrador`, `alta`, `MX`, …), exactly as stored.

use clausum_core::cases::CaseStatus;
use poem_openapi::Object;
use serde::Serialize;

use crate::{
    api::{
        blocklists::BlocklistEntry,
        common::{Pagination, PersonalData, iso, iso_opt},
    },
    store::{ActivityRow, CaseRow, EvidenceRow, TransactionRow},
};

/// A case (expediente).
#[derive(Object, Serialize, Debug, Clone)]
pub struct Case {
    /// `case_…`.
    pub id: String,
    /// `CLM-XXXXXX`: the number quoted to the regulator and the victim.
    pub reference_number: String,
    /// `borrador` (draft), `en_revision` (internal review), `enviado`
    /// (submitted to the regulator), `resuelto` (resolved) or `archivado`
    /// (archived; final and read-only).
    pub status: String,
    /// `baja`, `media`, `alta` or `urgente`.
    pub priority: String,
    /// `phishing`, `ingenieria_social`, `transferencia_no_autorizada`,
    /// `robo_identidad`, `fraude_interno` or `otro`.
    pub incident_type: String,
    /// Day of the incident, `YYYY-MM-DD`.
    pub incident_date: Option<String>,
    /// The regulator's country: `CL`, `MX`, `BR`, `PE`, `CO`, `UY` or `AR`.
    /// Required before the case can be submitted.
    pub jurisdiction: Option<String>,
    /// ISO 4217 currency of `amount_minor`.
    pub currency: Option<String>,
    /// Amount involved, in the currency's minor unit (centavos for MXN,
    /// whole pesos for CLP).
    pub amount_minor: Option<i64>,
    /// The victim's name (masked for viewers).
    pub victim_name: Option<String>,
    /// The victim's email, lower-cased (masked for viewers).
    pub victim_email: Option<String>,
    /// Short title.
    pub title: String,
    /// Free text (card numbers are redacted).
    pub description: Option<String>,
    /// `manual` (created in the dashboard or this API) or `fraud_report`
    /// (opened by `POST /api/v1/report-fraud`).
    pub source: String,
    /// Reason of the fraud report that opened the case, if any.
    pub fraud_reason: Option<String>,
    /// The reported transaction, for cases opened by a fraud report.
    pub source_transaction_id: Option<String>,
    /// Parties to alert, e.g. `{"merchant": true, "issuer": false, …}`;
    /// `{}` for manual cases.
    pub notify: serde_json::Value,
    /// `user:<id>` or `key:<id>` of whoever opened it.
    pub created_by: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339 time of the last change.
    pub updated_at: String,
    /// RFC 3339 time it was submitted to the regulator (`enviado`).
    pub submitted_at: Option<String>,
    /// RFC 3339 time it was resolved (`resuelto`).
    pub resolved_at: Option<String>,
    /// The statuses a `PATCH` may move the case to now, in lifecycle
    /// order; empty once archived.
    pub allowed_transitions: Vec<String>,
}

impl From<&CaseRow> for Case {
    fn from(r: &CaseRow) -> Self {
        let allowed = CaseStatus::parse(&r.status).map_or(&[][..], CaseStatus::allowed_next);
        Case {
            id: r.id.clone(),
            reference_number: r.reference_number.clone(),
            status: r.status.clone(),
            priority: r.priority.clone(),
            incident_type: r.incident_type.clone(),
            incident_date: r.incident_date.clone(),
            jurisdiction: r.jurisdiction.clone(),
            currency: r.currency.clone(),
            amount_minor: r.amount_minor,
            victim_name: r.victim_name.clone(),
            victim_email: r.victim_email.clone(),
            title: r.title.clone(),
            description: r.description.clone(),
            source: r.source.clone(),
            fraud_reason: r.fraud_reason.clone(),
            source_transaction_id: r.source_transaction_id.clone(),
            notify: json_object(&r.notify),
            created_by: r.created_by.clone(),
            created_at: iso(r.created_at),
            updated_at: iso(r.updated_at),
            submitted_at: iso_opt(r.submitted_at),
            resolved_at: iso_opt(r.resolved_at),
            allowed_transitions: allowed.iter().map(|s| s.as_str().to_owned()).collect(),
        }
    }
}

impl Case {
    /// The case as a reader of the management API may see it: the
    /// victim's name and email masked for roles that do not see personal
    /// data. Audit rows and events keep the case as stored.
    pub fn for_reader(mut self, personal: PersonalData) -> Case {
        self.victim_name = personal.value("victim_name", self.victim_name.as_deref());
        self.victim_email = personal.value("victim_email", self.victim_email.as_deref());
        self
    }
}

/// Stored JSON text as an object; anything unreadable becomes `{}`.
fn json_object(text: &str) -> serde_json::Value {
    match serde_json::from_str(text) {
        Ok(v @ serde_json::Value::Object(_)) => v,
        _ => serde_json::Value::Object(serde_json::Map::new()),
    }
}

/// A case with what hangs off it.
#[derive(Object, Debug)]
pub struct CaseDetail {
    /// The case's fields.
    #[oai(flatten)]
    pub case: Case,
    /// Blocklist entries linked to the case (those a fraud report added or
    /// found already listed).
    pub blocklist_entries: Vec<BlocklistEntry>,
    /// Pieces of evidence (`GET /api/v1/cases/{id}/evidence`).
    pub evidence_count: i64,
    /// Linked transactions (`GET /api/v1/cases/{id}/transactions`).
    pub transaction_count: i64,
}

/// A page of cases.
#[derive(Object, Debug)]
pub struct CasePage {
    /// The cases, in the requested order.
    pub data: Vec<Case>,
    /// Totals and position.
    pub pagination: Pagination,
}

/// A piece of evidence: a link or a note. Links are stored, never fetched.
#[derive(Object, Debug, Serialize)]
pub struct Evidence {
    /// `ev_…`.
    pub id: String,
    /// The case.
    pub case_id: String,
    /// `url` or `note`.
    pub kind: String,
    /// Where the evidence lives (absolute http(s) URL).
    pub url: Option<String>,
    /// What it is.
    pub description: Option<String>,
    /// `user:<id>` or `key:<id>` of whoever added it.
    pub added_by: String,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&EvidenceRow> for Evidence {
    fn from(r: &EvidenceRow) -> Self {
        Evidence {
            id: r.id.clone(),
            case_id: r.case_id.clone(),
            kind: r.kind.clone(),
            url: r.url.clone(),
            description: r.description.clone(),
            added_by: r.added_by.clone(),
            created_at: iso(r.created_at),
        }
    }
}

/// A case's evidence, oldest first.
#[derive(Object, Debug)]
pub struct EvidenceList {
    /// The evidence.
    pub data: Vec<Evidence>,
}

/// A transaction linked to a case. Card data is limited to BIN and last
/// four digits: full card numbers are never stored.
#[derive(Object, Debug)]
pub struct CaseTransaction {
    /// `txn_…`.
    pub id: String,
    /// `assess`, or `fraud_report` for a transaction first seen in a report.
    pub source: String,
    /// Amount in the currency's minor unit.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// `approve`, `review`, `challenge` or `decline`; null for reported-only
    /// transactions.
    pub decision: Option<String>,
    /// 0–100; null for reported-only transactions.
    pub risk_score: Option<i64>,
    /// Confirmed fraud.
    pub is_fraudulent: bool,
    /// Reason of the fraud report, if reported.
    pub fraud_reason: Option<String>,
    /// Payer email, as stored (normalised; masked for viewers).
    pub email: Option<String>,
    /// Card BIN.
    pub card_bin: Option<String>,
    /// Card last four digits.
    pub card_last4: Option<String>,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&TransactionRow> for CaseTransaction {
    fn from(t: &TransactionRow) -> Self {
        CaseTransaction {
            id: t.id.clone(),
            source: t.source.clone(),
            amount_minor: t.amount_minor,
            currency: t.currency.clone(),
            decision: t.decision.clone(),
            risk_score: t.risk_score,
            is_fraudulent: t.is_fraudulent,
            fraud_reason: t.fraud_reason.clone(),
            email: t.email.clone(),
            card_bin: t.card_bin.clone(),
            card_last4: t.card_last4.clone(),
            created_at: iso(t.created_at),
        }
    }
}

impl CaseTransaction {
    /// The transaction as a reader may see it: the payer's email masked for
    /// roles that do not see personal data, as the transaction monitor
    /// masks it.
    pub fn for_reader(mut self, personal: PersonalData) -> CaseTransaction {
        self.email = personal.value("email", self.email.as_deref());
        self
    }
}

/// A case's linked transactions, in the order they were linked.
#[derive(Object, Debug)]
pub struct TransactionList {
    /// The transactions.
    pub data: Vec<CaseTransaction>,
}

/// One line of a case's activity log.
#[derive(Object, Debug)]
pub struct Activity {
    /// `act_…`.
    pub id: String,
    /// `user:<id>` or `key:<id>` of whoever did it.
    pub actor: String,
    /// `created`, `opened_by_fraud_report`, `updated`, `status_changed`,
    /// `submitted`, `evidence_added` or `transaction_linked`.
    pub action: String,
    /// What changed, e.g. `{"from": "borrador", "to": "en_revision"}` or
    /// `{"fields": ["title"]}`.
    pub details: serde_json::Value,
    /// RFC 3339.
    pub created_at: String,
}

impl From<&ActivityRow> for Activity {
    fn from(r: &ActivityRow) -> Self {
        Activity {
            id: r.id.clone(),
            actor: r.actor.clone(),
            action: r.action.clone(),
            details: json_object(&r.details),
            created_at: iso(r.created_at),
        }
    }
}

impl Activity {
    /// The line as a reader may see it: personal data in its details
    /// masked, field by field, for roles that do not see it.
    pub fn for_reader(mut self, personal: PersonalData) -> Activity {
        personal.document(&mut self.details);
        self
    }
}

/// A page of activity, newest first.
#[derive(Object, Debug)]
pub struct ActivityPage {
    /// The lines.
    pub data: Vec<Activity>,
    /// Totals and position.
    pub pagination: Pagination,
}
