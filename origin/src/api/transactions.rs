//! `/api/v1/transactions`: the transaction monitor — recorded assessments
//! with their decision, score and signals, and each one's request as it
//! was received. Personal data is masked for roles that may read the
//! monitor but not the people in it (viewers).

use std::sync::Arc;

use clausum_core::{
    keys::PERM_TRANSACTIONS_READ,
    normalize::{Email, IpAddress},
    roles::Action,
    scoring::Decision,
    wire::{Flow, SignalDetail},
};
use poem::web::Data;
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    param::{Path, Query},
    payload::Json,
};

use super::{
    Tag,
    common::{
        Pagination, PersonalData, clean_text, iso, iso_opt, not_found, page, parse_time_or_date,
        parse_time_or_end_of_date,
    },
};
use crate::{
    auth::Caller,
    error::ApiError,
    state::AppState,
    store::{TransactionFilter, TransactionRow},
};

/// The caller's organisation once it may read transactions, and how
/// personal data is shown to it (a secret key reads what its organisation
/// sent; a user as their role allows).
fn authorize(caller: &Caller) -> Result<(&str, PersonalData), ApiError> {
    let (org, role) = caller.authorize(
        Action::ReadTransactions,
        PERM_TRANSACTIONS_READ,
        "Transactions are read",
    )?;
    Ok((org, PersonalData::for_role(role)))
}

/// One recorded transaction.
#[derive(Object, Debug, Clone)]
pub struct Transaction {
    /// `txn_…`.
    pub id: String,
    /// `payin` or `payout`.
    pub flow: String,
    /// `assess`, or `fraud_report` for a transaction first seen in a fraud report.
    pub source: String,
    /// Session id of the assessment.
    pub session_id: Option<String>,
    /// When it was assessed (RFC 3339).
    pub created_at: String,
    /// Amount in minor units of `currency`.
    pub amount_minor: i64,
    /// ISO 4217 currency.
    pub currency: String,
    /// `approve`, `review`, `challenge` or `decline` (`null` for a reported-only transaction).
    pub decision: Option<String>,
    /// 0–100.
    pub risk_score: Option<i64>,
    /// Payer email (masked for viewers).
    pub email: Option<String>,
    /// Card BIN.
    pub card_bin: Option<String>,
    /// Card last four digits.
    pub card_last4: Option<String>,
    /// Payer IP (masked for viewers).
    pub ip: Option<String>,
    /// Your customer id (masked for viewers).
    pub customer_id: Option<String>,
    /// PSP submerchant.
    pub submerchant_id: Option<String>,
    /// What forced a decline, if anything.
    pub blocked_by: Option<String>,
    /// Codes of the signals that fired.
    pub signals: Vec<String>,
    /// Confirmed fraud (reported).
    pub is_fraudulent: bool,
    /// When the caller released it (abandoned checkout or transfer), RFC 3339.
    pub released_at: Option<String>,
}

/// One transaction with everything recorded about it.
#[derive(Object, Debug, Clone)]
pub struct TransactionDetail {
    /// The listing's fields.
    #[oai(flatten)]
    pub transaction: Transaction,
    /// Your order id.
    pub order_id: Option<String>,
    /// Your payment id.
    pub payment_id: Option<String>,
    /// Device fingerprint (masked for viewers).
    pub device_fingerprint: Option<String>,
    /// A payout's origin account (masked for viewers).
    pub account_id: Option<String>,
    /// Reason of the fraud report, if reported.
    pub fraud_reason: Option<String>,
    /// Whether personal data in this answer is masked for your role.
    pub masked: bool,
    /// Every signal that fired, with the points it added and why.
    pub signal_details: Vec<SignalDetail>,
    /// The request as received (normalised, card numbers removed).
    pub request: serde_json::Value,
    /// The response sent (`null` for a reported-only transaction).
    pub response: Option<serde_json::Value>,
}

/// A page of transactions.
#[derive(Object, Debug)]
pub struct TransactionPage {
    /// Newest first.
    pub data: Vec<Transaction>,
    /// Totals and position.
    pub pagination: Pagination,
}

#[derive(ApiResponse)]
enum Found {
    /// The transaction.
    #[oai(status = 200)]
    Ok(Json<TransactionDetail>),
}

/// The transaction monitor.
pub struct TransactionsApi;

#[OpenApi(prefix_path = "/api/v1/transactions", tag = "Tag::Transactions")]
impl TransactionsApi {
    /// List transactions
    ///
    /// Recorded assessments, newest first, filtered by any of decision,
    /// flow, score range, dates, email, card BIN (prefix), IP and
    /// submerchant. Simulations are not transactions and never appear
    /// here. Personal data is masked for viewers. Dashboard token (every
    /// role) or a secret key with `transactions:read`.
    #[oai(path = "/", method = "get")]
    #[allow(clippy::too_many_arguments)]
    async fn list(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        /// `approve`, `review`, `challenge` or `decline`.
        decision: Query<Option<Decision>>,
        /// `payin` or `payout`.
        flow: Query<Option<Flow>>,
        /// Lowest risk score (0–100), inclusive.
        min_score: Query<Option<i64>>,
        /// Highest risk score (0–100), inclusive.
        max_score: Query<Option<i64>>,
        /// From this time (RFC 3339, or a date `YYYY-MM-DD` taken as midnight UTC), inclusive.
        from: Query<Option<String>>,
        /// Up to this time: an RFC 3339 timestamp is an exclusive end; a date
        /// `YYYY-MM-DD` is included whole (up to the next midnight UTC).
        to: Query<Option<String>>,
        /// Payer email (exact, any case).
        email: Query<Option<String>>,
        /// Card BIN: 1–8 digits, matching BINs that start with them.
        card_bin: Query<Option<String>>,
        /// Payer IP address (exact).
        ip: Query<Option<String>>,
        /// PSP submerchant id (exact).
        submerchant_id: Query<Option<String>>,
        /// Page size (1–500, default 50).
        limit: Query<Option<i64>>,
        /// Rows to skip.
        offset: Query<Option<i64>>,
    ) -> Result<Json<TransactionPage>, ApiError> {
        let (org, personal) = authorize(&auth)?;
        let (limit, offset) = page(limit.0, offset.0)?;
        let score = |field: &str, v: Option<i64>| match v {
            Some(s) if !(0..=100).contains(&s) => {
                Err(ApiError::field(field, format!("`{field}` must be between 0 and 100")))
            }
            _ => Ok(v),
        };
        let filter = TransactionFilter {
            decision: decision.0.map(|d| d.as_str().to_owned()),
            flow: flow.0.map(|f| f.as_str().to_owned()),
            min_score: score("min_score", min_score.0)?,
            max_score: score("max_score", max_score.0)?,
            from: from.0.as_deref().map(|t| parse_time_or_date("from", t)).transpose()?,
            to: to.0.as_deref().map(|t| parse_time_or_end_of_date("to", t)).transpose()?,
            email: given(email.0)
                .map(|e| {
                    Email::parse(&e)
                        .map(|e| e.as_str().to_owned())
                        .map_err(|_| ApiError::field("email", "`email` is not an email address"))
                })
                .transpose()?,
            card_bin: given(card_bin.0)
                .map(|b| {
                    if (1..=8).contains(&b.len()) && b.bytes().all(|c| c.is_ascii_digit()) {
                        Ok(b)
                    } else {
                        Err(ApiError::field("card_bin", "`card_bin` is 1 to 8 digits"))
                    }
                })
                .transpose()?,
            ip: given(ip.0)
                .map(|i| {
                    IpAddress::parse(&i)
                        .map(|i| i.to_string())
                        .map_err(|_| ApiError::field("ip", "`ip` is not an IP address"))
                })
                .transpose()?,
            submerchant_id: clean_text("submerchant_id", submerchant_id.0, 128)?,
            limit,
            offset,
        };
        let (rows, total) = state.store.list_transactions(org, &filter).await?;
        Ok(Json(TransactionPage {
            data: rows.iter().map(|r| summary(r, personal)).collect(),
            pagination: Pagination { total, limit, offset },
        }))
    }

    /// Get a transaction
    ///
    /// One transaction with every signal that fired (code, weight,
    /// description), the request as received and the response sent.
    /// Personal data is masked for viewers. 404 when your organisation has
    /// no such transaction.
    #[oai(path = "/:id", method = "get")]
    async fn get(
        &self,
        state: Data<&Arc<AppState>>,
        auth: Caller,
        /// `txn_…`.
        id: Path<String>,
    ) -> Result<Found, ApiError> {
        let (org, personal) = authorize(&auth)?;
        let row =
            state.store.transaction(org, &id.0).await?.ok_or_else(|| not_found("transaction"))?;
        Ok(Found::Ok(Json(detail(&row, personal))))
    }
}

/// A trimmed query value; empty means absent.
fn given(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

fn summary(r: &TransactionRow, personal: PersonalData) -> Transaction {
    Transaction {
        id: r.id.clone(),
        flow: r.flow.clone(),
        source: r.source.clone(),
        session_id: r.session_id.clone(),
        created_at: iso(r.created_at),
        amount_minor: r.amount_minor,
        currency: r.currency.clone(),
        decision: r.decision.clone(),
        risk_score: r.risk_score,
        email: personal.value("email", r.email.as_deref()),
        card_bin: r.card_bin.clone(),
        card_last4: r.card_last4.clone(),
        ip: personal.value("ip", r.ip.as_deref()),
        customer_id: personal.value("customer_id", r.customer_id.as_deref()),
        submerchant_id: r.submerchant_id.clone(),
        blocked_by: r.blocked_by.clone(),
        signals: r.signal_codes(),
        is_fraudulent: r.is_fraudulent,
        released_at: iso_opt(r.released_at),
    }
}

fn detail(r: &TransactionRow, personal: PersonalData) -> TransactionDetail {
    // Both documents were written by this server as JSON.
    let mut request: serde_json::Value =
        serde_json::from_str(&r.request).unwrap_or(serde_json::Value::Null);
    personal.document(&mut request);
    let response: Option<serde_json::Value> =
        r.response.as_deref().and_then(|s| serde_json::from_str(s).ok());
    let signal_details = response
        .as_ref()
        .and_then(|v| v.get("signal_details"))
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    let response = response.map(|mut v| {
        personal.document(&mut v);
        v
    });
    TransactionDetail {
        transaction: summary(r, personal),
        order_id: r.order_id.clone(),
        payment_id: r.payment_id.clone(),
        device_fingerprint: personal.value("device_fingerprint", r.device_fingerprint.as_deref()),
        account_id: personal.value("account_id", r.account_id.as_deref()),
        fraud_reason: r.fraud_reason.clone(),
        masked: personal.is_masked(),
        signal_details,
        request,
        response,
    }
}
