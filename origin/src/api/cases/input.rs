//! Request bodies of the cases API and the checks their fields share.
//!
//! Enumerations are parsed by hand rather than by serde's derive so that a
//! wrong value answers with the list of allowed ones (serde's own message
//! quotes them, and quoted text is redacted from error messages).

use clausum_core::{
    cases::{CaseStatus, IncidentType, Jurisdiction, Priority},
    normalize::{Currency, Email},
};
use poem_openapi::{Enum, Object, types::MaybeUndefined};
use serde::{Deserialize, Deserializer, de::Error as _};

use crate::{api::common::clean_text, error::ApiError};

/// Longest `title`.
pub const MAX_TITLE: usize = 200;
/// Longest case `description`.
pub const MAX_DESCRIPTION: usize = 4_000;
/// Longest `victim_name`.
pub const MAX_VICTIM_NAME: usize = 200;
/// Longest evidence `url`.
pub const MAX_URL: usize = 2_048;
/// Longest evidence `description`.
pub const MAX_EVIDENCE_DESCRIPTION: usize = 1_000;

/// An enumeration with wire names.
pub trait WireEnum: Sized {
    /// Parses a wire name.
    fn parse_wire(s: &str) -> Option<Self>;
    /// Every wire name, for error messages.
    fn names() -> Vec<&'static str>;
}

macro_rules! wire_enum {
    ($t:ty) => {
        impl WireEnum for $t {
            fn parse_wire(s: &str) -> Option<Self> {
                <$t>::parse(s)
            }
            fn names() -> Vec<&'static str> {
                <$t>::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
    };
}
wire_enum!(CaseStatus);
wire_enum!(Priority);
wire_enum!(IncidentType);
wire_enum!(Jurisdiction);
wire_enum!(EvidenceKind);

/// Parses a wire name; the message lists the allowed values.
pub fn parse_enum<T: WireEnum>(s: &str) -> Result<T, String> {
    T::parse_wire(s)
        .ok_or_else(|| format!("unknown value; expected one of: {}", T::names().join(", ")))
}

/// An optional query filter with wire names; the error names the parameter.
pub fn query_enum<T: WireEnum>(field: &str, s: Option<String>) -> Result<Option<T>, ApiError> {
    s.filter(|s| !s.trim().is_empty())
        .map(|s| {
            parse_enum(s.trim()).map_err(|m| ApiError::field(field, format!("`{field}`: {m}")))
        })
        .transpose()
}

fn de_enum<'de, D: Deserializer<'de>, T: WireEnum>(d: D) -> Result<T, D::Error> {
    parse_enum(&String::deserialize(d)?).map_err(D::Error::custom)
}

fn de_opt_enum<'de, D: Deserializer<'de>, T: WireEnum>(d: D) -> Result<Option<T>, D::Error> {
    Option::<String>::deserialize(d)?.map(|s| parse_enum(&s).map_err(D::Error::custom)).transpose()
}

fn de_maybe_enum<'de, D: Deserializer<'de>, T: WireEnum>(
    d: D,
) -> Result<MaybeUndefined<T>, D::Error> {
    match Option::<String>::deserialize(d)? {
        None => Ok(MaybeUndefined::Null),
        Some(s) => parse_enum(&s).map(MaybeUndefined::Value).map_err(D::Error::custom),
    }
}

/// What a piece of evidence is.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
#[oai(rename_all = "lowercase")]
pub enum EvidenceKind {
    /// A link to where the evidence lives (never fetched by Clausum).
    Url,
    /// A written note.
    Note,
}

impl EvidenceKind {
    const ALL: [EvidenceKind; 2] = [EvidenceKind::Url, EvidenceKind::Note];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::Url => "url",
            EvidenceKind::Note => "note",
        }
    }

    fn parse(s: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A new case. It starts as `borrador` with source `manual`.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewCase {
    /// Short title (required, at most 200 characters).
    #[oai(validator(max_length = 200))]
    pub title: String,
    /// What kind of incident.
    #[serde(deserialize_with = "de_enum")]
    pub incident_type: IncidentType,
    /// Day of the incident, `YYYY-MM-DD`.
    #[serde(default)]
    pub incident_date: Option<String>,
    /// Amount involved, an integer in the currency's minor unit (centavos
    /// for MXN, whole pesos for CLP), 0 or more. Needs a currency: `currency`
    /// or the jurisdiction's.
    #[serde(default)]
    #[oai(validator(minimum(value = "0")))]
    pub amount: Option<i64>,
    /// ISO 4217 currency of `amount`. Defaults to the jurisdiction's local
    /// currency (CLP, MXN, BRL, PEN, COP, UYU, ARS); another valid currency
    /// may be given.
    #[serde(default)]
    pub currency: Option<String>,
    /// The regulator's country: `CL`, `MX`, `BR`, `PE`, `CO`, `UY` or `AR`
    /// (any case). Needed to submit the case.
    #[serde(default, deserialize_with = "de_opt_enum")]
    pub jurisdiction: Option<Jurisdiction>,
    /// The victim's name (at most 200 characters).
    #[serde(default)]
    pub victim_name: Option<String>,
    /// The victim's email; stored lower-cased.
    #[serde(default)]
    pub victim_email: Option<String>,
    /// `baja`, `media` (default), `alta` or `urgente`.
    #[serde(default, deserialize_with = "de_opt_enum")]
    pub priority: Option<Priority>,
    /// Free text (at most 4000 characters; card numbers are redacted).
    #[serde(default)]
    #[oai(validator(max_length = 4000))]
    pub description: Option<String>,
}

/// Changes to a case. Absent fields stay as they are; `null` clears the
/// nullable ones. Archived cases are read-only.
#[derive(Object, Deserialize, Debug, Clone, Default)]
#[serde(deny_unknown_fields)]
pub struct CasePatch {
    /// Move the case to this status; the lifecycle decides what is allowed
    /// (see the case's `allowed_transitions`). `enviado` needs a
    /// jurisdiction and sets `submitted_at`; `resuelto` sets `resolved_at`.
    #[serde(default, deserialize_with = "de_opt_enum")]
    pub status: Option<CaseStatus>,
    /// New title (at most 200 characters; cannot be cleared).
    #[serde(default)]
    #[oai(validator(max_length = 200))]
    pub title: Option<String>,
    /// New description; `null` clears it.
    #[serde(default)]
    pub description: MaybeUndefined<String>,
    /// New priority.
    #[serde(default, deserialize_with = "de_opt_enum")]
    pub priority: Option<Priority>,
    /// New incident type.
    #[serde(default, deserialize_with = "de_opt_enum")]
    pub incident_type: Option<IncidentType>,
    /// New incident day, `YYYY-MM-DD`; `null` clears it.
    #[serde(default)]
    pub incident_date: MaybeUndefined<String>,
    /// New jurisdiction; `null` clears it. A case without a currency takes
    /// the jurisdiction's; an existing currency is kept.
    #[serde(default, deserialize_with = "de_maybe_enum")]
    pub jurisdiction: MaybeUndefined<Jurisdiction>,
    /// New ISO 4217 currency; `null` clears it (only possible without an amount).
    #[serde(default)]
    pub currency: MaybeUndefined<String>,
    /// New amount in minor units (0 or more); `null` clears it.
    #[serde(default)]
    #[oai(validator(minimum(value = "0")))]
    pub amount: MaybeUndefined<i64>,
    /// New victim name; `null` clears it.
    #[serde(default)]
    pub victim_name: MaybeUndefined<String>,
    /// New victim email; `null` clears it.
    #[serde(default)]
    pub victim_email: MaybeUndefined<String>,
}

/// New evidence. A `url` needs `url`; a `note` needs `description`.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct NewEvidence {
    /// `url` or `note`.
    #[serde(deserialize_with = "de_enum")]
    pub kind: EvidenceKind,
    /// Absolute http(s) URL (at most 2048 characters); stored, never fetched.
    #[serde(default)]
    #[oai(validator(max_length = 2048))]
    pub url: Option<String>,
    /// What it is (at most 1000 characters).
    #[serde(default)]
    #[oai(validator(max_length = 1000))]
    pub description: Option<String>,
}

/// A transaction to link to a case.
#[derive(Object, Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct LinkTransaction {
    /// `txn_…` of a transaction of the same organisation.
    #[oai(validator(max_length = 64))]
    pub transaction_id: String,
}

/// A required title.
pub fn title(raw: String) -> Result<String, ApiError> {
    clean_text("title", Some(raw), MAX_TITLE)?
        .ok_or_else(|| ApiError::field("title", "`title` must not be empty"))
}

/// A `YYYY-MM-DD` day.
pub fn date(field: &str, raw: &str) -> Result<String, ApiError> {
    raw.trim()
        .parse::<jiff::civil::Date>()
        .map(|d| d.to_string())
        .map_err(|_| ApiError::field(field, format!("`{field}` must be a date such as 2026-11-21")))
}

/// An ISO 4217 code, upper-cased.
pub fn currency(raw: &str) -> Result<String, ApiError> {
    Currency::parse(raw)
        .map(|c| c.code().to_owned())
        .map_err(|e| ApiError::field("currency", e.to_string()))
}

/// An email, lower-cased; never echoed back in the error.
pub fn email(field: &str, raw: &str) -> Result<String, ApiError> {
    Email::parse(raw)
        .map(|e| e.as_str().to_owned())
        .map_err(|e| ApiError::field(field, e.to_string()))
}

/// An amount in minor units, 0 or more.
pub fn amount(value: i64) -> Result<i64, ApiError> {
    if value < 0 {
        return Err(ApiError::field("amount", "`amount` must be 0 or more (minor units)"));
    }
    Ok(value)
}

/// An absolute http(s) URL with a host, without spaces or credentials.
pub fn url(raw: &str) -> Result<String, ApiError> {
    let bad = || {
        ApiError::field("url", "`url` must be an absolute http(s) URL, e.g. https://example.com/x")
    };
    let u = raw.trim();
    if u.chars().count() > MAX_URL {
        return Err(ApiError::field("url", format!("`url` has at most {MAX_URL} characters")));
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let lower = u.to_ascii_lowercase();
    let rest =
        lower.strip_prefix("https://").or_else(|| lower.strip_prefix("http://")).ok_or_else(bad)?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once(':').map_or(authority, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) { h } else { authority }
    });
    if host.is_empty() || authority.contains('@') || host.starts_with('.') {
        return Err(bad());
    }
    Ok(u.to_owned())
}
