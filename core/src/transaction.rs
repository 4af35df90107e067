//! The validated request, pay-in or payout.
//!
//! [`Transaction::from_wire`] is the single place where an
//! [`AssessRequest`] is checked and normalised, and
//! [`Transaction::from_payout_wire`] (in [`payout`]) the single place for a
//! [`crate::wire::PayoutRequest`]. Everything downstream —
//! scoring, blocklists, velocity, custom rules, storage — works on the
//! resulting [`Transaction`], so it never sees an unparsed email, a raw IP
//! string or a card number.
//!
//! Optional fields that are empty (or only whitespace) are treated as absent:
//! integrators often serialise "no value" as `""`, and refusing those would
//! turn a missing signal into a failed payment.

use serde_json::Value;

use crate::normalize::{
    Amount, CardBin, CardLast4, Country, Currency, Email, Invalid, IpAddress, Phone, clean_text,
    clean_token, redact_json, redact_pans,
};
use crate::wire::{
    Address, AmountUnit, AssessRequest, Behavior, Device, Flow, Metadata, PaymentMethod,
};

pub mod payout;

pub use payout::{BeneficiaryInfo, OriginInfo, PayoutInfo};

/// Most keys `metadata` may have.
pub const MAX_METADATA_KEYS: usize = 50;
/// Longest `metadata` key, in characters.
pub const MAX_METADATA_KEY_CHARS: usize = 64;
/// Largest `metadata` once serialised as JSON (after PAN redaction), in bytes.
pub const MAX_METADATA_BYTES: usize = 8 * 1024;

/// The transaction type when the request does not say.
pub const DEFAULT_TRANSACTION_TYPE: &str = "payment";

/// Where a field error occurred, e.g. "payment_method.card_bin", and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct FieldError {
    /// Dotted path of the field as spelled on the wire, e.g. `device.ip`.
    pub field: String,
    /// Why it was refused. Never contains the value.
    pub reason: String,
}

impl FieldError {
    /// Attaches a field path to a normalisation error.
    pub fn new(field: impl Into<String>, invalid: Invalid) -> Self {
        FieldError { field: field.into(), reason: invalid.reason.into_owned() }
    }
}

/// A validated, normalised request: a pay-in, or a payout when `payout` is
/// set (a payout carries none of the pay-in's payer fields).
#[derive(Debug, Clone, PartialEq)]
pub struct Transaction {
    /// The amount, exact, in minor units of its currency.
    pub amount: Amount,
    /// The unit the amount was sent in; kept so the stored request reads as sent.
    pub amount_unit: AmountUnit,
    /// Lower-case `[a-z0-9_]` token, at most 32 characters; `payment` by default.
    pub transaction_type: String,
    /// Payer email, lower-cased.
    pub email: Option<Email>,
    /// Payer phone, E.164.
    pub phone: Option<Phone>,
    /// Merchant's payer id (no whitespace, ≤ 128 characters).
    pub customer_id: Option<String>,
    /// Merchant's order reference (no whitespace, ≤ 128 characters).
    pub order_id: Option<String>,
    /// Merchant's payment reference (no whitespace, ≤ 128 characters).
    pub payment_id: Option<String>,
    /// Idempotency key from the body (no whitespace, ≤ 255 characters).
    pub idempotency_key: Option<String>,
    /// Browser SDK session id (no whitespace, ≤ 128 characters); its format
    /// is checked by [`crate::session`].
    pub session_id: Option<String>,
    /// PSP submerchant id (no whitespace, ≤ 128 characters).
    pub submerchant_id: Option<String>,
    /// How the payer pays.
    pub payment_method: PaymentMethodInfo,
    /// The payer's device.
    pub device: DeviceInfo,
    /// Behaviour counts from the browser SDK, as sent.
    pub behavior: Behavior,
    /// Billing address.
    pub billing: AddressInfo,
    /// Shipping address.
    pub shipping: AddressInfo,
    /// Merchant metadata with card numbers redacted (keys included); at most
    /// [`MAX_METADATA_KEYS`] keys of ≤ [`MAX_METADATA_KEY_CHARS`] characters
    /// and ≤ [`MAX_METADATA_BYTES`] serialised.
    pub metadata: Metadata,
    /// The payout fields; `None` for a pay-in.
    pub payout: Option<PayoutInfo>,
}

/// The normalised payment method.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaymentMethodInfo {
    /// `card`, `bank_transfer`, … lower-cased, no whitespace, ≤ 32 characters.
    pub kind: Option<String>,
    /// First 6 or 8 digits of the card.
    pub card_bin: Option<CardBin>,
    /// Last 4 digits of the card.
    pub card_last4: Option<CardLast4>,
    /// Country of the issuing bank.
    pub card_country: Option<Country>,
    /// Card brand, lower-cased, ≤ 32 characters.
    pub card_brand: Option<String>,
    /// Bank code, no whitespace, ≤ 16 characters (case kept).
    pub bank_code: Option<String>,
    /// Wallet, lower-cased, no whitespace, ≤ 32 characters.
    pub wallet_type: Option<String>,
}

/// The normalised device.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceInfo {
    /// Payer IP, IPv4-mapped IPv6 folded to IPv4.
    pub ip: Option<IpAddress>,
    /// Device fingerprint, no whitespace, ≤ 128 characters.
    pub fingerprint: Option<String>,
    /// User agent, ≤ 512 characters, card numbers redacted.
    pub user_agent: Option<String>,
    /// IANA time zone name, no whitespace, ≤ 64 characters.
    pub timezone: Option<String>,
    /// `navigator.webdriver` as reported.
    pub webdriver: Option<bool>,
}

/// A normalised billing or shipping address.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AddressInfo {
    /// ISO 3166-1 alpha-2 country.
    pub country: Option<Country>,
    /// City, ≤ 128 characters, card numbers redacted.
    pub city: Option<String>,
    /// Postal code, ≤ 16 characters, card numbers redacted.
    pub postal_code: Option<String>,
}

impl Transaction {
    /// Validates and normalises every field; the first invalid field is reported with its dotted path.
    pub fn from_wire(req: &AssessRequest) -> Result<Transaction, FieldError> {
        let (amount, amount_unit) = wire_amount(req.amount, &req.currency, req.amount_unit)?;
        let transaction_type = transaction_type(&req.transaction_type)?
            .unwrap_or_else(|| DEFAULT_TRANSACTION_TYPE.to_owned());

        let token = |max: usize| move |s: &str| clean_token(s, max);
        Ok(Transaction {
            amount,
            amount_unit,
            transaction_type,
            email: optional("email", &req.email, Email::parse)?,
            phone: optional("phone", &req.phone, Phone::parse)?,
            customer_id: optional("customer_id", &req.customer_id, token(128))?,
            order_id: optional("order_id", &req.order_id, token(128))?,
            payment_id: optional("payment_id", &req.payment_id, token(128))?,
            idempotency_key: optional("idempotency_key", &req.idempotency_key, token(255))?,
            session_id: optional("session_id", &req.session_id, token(128))?,
            submerchant_id: optional("submerchant_id", &req.submerchant_id, token(128))?,
            payment_method: PaymentMethodInfo::from_wire(req.payment_method.as_ref())?,
            device: DeviceInfo::from_wire(req.device.as_ref())?,
            behavior: req.behavior.clone().unwrap_or_default(),
            billing: AddressInfo::from_wire("billing", req.billing.as_ref())?,
            shipping: AddressInfo::from_wire("shipping", req.shipping.as_ref())?,
            metadata: clean_metadata(req.metadata.as_ref())
                .map_err(|e| FieldError::new("metadata", e))?,
            payout: None,
        })
    }

    /// Which way the money moves: `payout` exactly when [`Transaction::payout`] is set.
    pub fn flow(&self) -> Flow {
        if self.payout.is_some() { Flow::Payout } else { Flow::Payin }
    }

    /// The idempotency key the body carries, when no `Idempotency-Key`
    /// header does: its `idempotency_key`, else a stable `order_id` +
    /// `payment_id` pair. The origin de-duplicates on it, and the edge
    /// forwards every request that has one (only the origin knows what a
    /// retry must be answered).
    pub fn body_idempotency_key(&self) -> Option<String> {
        if let Some(k) = &self.idempotency_key {
            return Some(k.clone());
        }
        match (&self.order_id, &self.payment_id) {
            (Some(o), Some(p)) => Some(format!("order:{o}:payment:{p}")),
            _ => None,
        }
    }

    /// The serialisable, PAN-free view of a pay-in as received after
    /// normalisation — used for storage. A payout's view is
    /// [`Transaction::to_payout_wire`]: this one would drop its payout fields.
    pub fn to_wire(&self) -> AssessRequest {
        AssessRequest {
            amount: self.wire_amount_value(),
            currency: self.amount.currency().code().to_owned(),
            amount_unit: Some(self.amount_unit),
            transaction_type: Some(self.transaction_type.clone()),
            email: self.email.as_ref().map(|e| e.as_str().to_owned()),
            phone: self.phone.as_ref().map(|p| p.as_str().to_owned()),
            customer_id: self.customer_id.clone(),
            order_id: self.order_id.clone(),
            payment_id: self.payment_id.clone(),
            idempotency_key: self.idempotency_key.clone(),
            session_id: self.session_id.clone(),
            submerchant_id: self.submerchant_id.clone(),
            payment_method: self.payment_method.to_wire(),
            device: self.device.to_wire(),
            behavior: (self.behavior != Behavior::default()).then(|| self.behavior.clone()),
            billing: self.billing.to_wire(),
            shipping: self.shipping.to_wire(),
            metadata: (!self.metadata.is_empty()).then(|| self.metadata.clone()),
        }
    }

    /// The amount in the unit it was sent in.
    fn wire_amount_value(&self) -> f64 {
        match self.amount_unit {
            // ≤ 10^15 < 2^53: exact.
            AmountUnit::Minor => self.amount.minor() as f64,
            AmountUnit::Major => self.amount.major_f64(),
        }
    }
}

/// Parses `currency` then `amount` in `unit` (minor by default). Currency
/// first: the amount's allowed decimals depend on it.
fn wire_amount(
    amount: f64,
    currency: &str,
    unit: Option<AmountUnit>,
) -> Result<(Amount, AmountUnit), FieldError> {
    let currency = Currency::parse(currency).map_err(|e| FieldError::new("currency", e))?;
    let unit = unit.unwrap_or_default();
    let amount =
        Amount::from_wire(amount, unit, currency).map_err(|e| FieldError::new("amount", e))?;
    Ok((amount, unit))
}

/// `transaction_type`, when sent: a lower-case `[a-z0-9_]` token of ≤ 32 characters.
fn transaction_type(raw: &Option<String>) -> Result<Option<String>, FieldError> {
    optional("transaction_type", raw, |s| snake_token(s, 32))
}

impl PaymentMethodInfo {
    fn from_wire(pm: Option<&PaymentMethod>) -> Result<Self, FieldError> {
        let Some(pm) = pm else {
            return Ok(Self::default());
        };
        Ok(PaymentMethodInfo {
            kind: optional("payment_method.type", &pm.kind, |s| lower_token(s, 32))?,
            card_bin: optional("payment_method.card_bin", &pm.card_bin, CardBin::parse)?,
            card_last4: optional("payment_method.card_last4", &pm.card_last4, CardLast4::parse)?,
            card_country: optional(
                "payment_method.card_country",
                &pm.card_country,
                Country::parse,
            )?,
            card_brand: optional("payment_method.card_brand", &pm.card_brand, |s| {
                free_text(&s.to_lowercase(), 32)
            })?,
            bank_code: optional("payment_method.bank_code", &pm.bank_code, |s| clean_token(s, 16))?,
            wallet_type: optional("payment_method.wallet_type", &pm.wallet_type, |s| {
                lower_token(s, 32)
            })?,
        })
    }

    fn to_wire(&self) -> Option<PaymentMethod> {
        let pm = PaymentMethod {
            kind: self.kind.clone(),
            card_bin: self.card_bin.as_ref().map(|b| b.as_str().to_owned()),
            card_last4: self.card_last4.as_ref().map(|l| l.as_str().to_owned()),
            card_country: self.card_country.map(|c| c.as_str().to_owned()),
            card_brand: self.card_brand.clone(),
            bank_code: self.bank_code.clone(),
            wallet_type: self.wallet_type.clone(),
        };
        (pm != PaymentMethod::default()).then_some(pm)
    }
}

impl DeviceInfo {
    fn from_wire(device: Option<&Device>) -> Result<Self, FieldError> {
        let Some(d) = device else {
            return Ok(Self::default());
        };
        Ok(DeviceInfo {
            ip: optional("device.ip", &d.ip, IpAddress::parse)?,
            fingerprint: optional("device.fingerprint", &d.fingerprint, |s| clean_token(s, 128))?,
            user_agent: optional("device.user_agent", &d.user_agent, |s| free_text(s, 512))?,
            timezone: optional("device.timezone", &d.timezone, |s| clean_token(s, 64))?,
            webdriver: d.webdriver,
        })
    }

    fn to_wire(&self) -> Option<Device> {
        let d = Device {
            ip: self.ip.map(|ip| ip.to_string()),
            fingerprint: self.fingerprint.clone(),
            user_agent: self.user_agent.clone(),
            timezone: self.timezone.clone(),
            webdriver: self.webdriver,
        };
        (d != Device::default()).then_some(d)
    }
}

impl AddressInfo {
    fn from_wire(prefix: &str, address: Option<&Address>) -> Result<Self, FieldError> {
        let Some(a) = address else {
            return Ok(Self::default());
        };
        Ok(AddressInfo {
            country: optional(&format!("{prefix}.country"), &a.country, Country::parse)?,
            city: optional(&format!("{prefix}.city"), &a.city, |s| free_text(s, 128))?,
            postal_code: optional(&format!("{prefix}.postal_code"), &a.postal_code, |s| {
                free_text(s, 16)
            })?,
        })
    }

    fn to_wire(&self) -> Option<Address> {
        let a = Address {
            country: self.country.map(|c| c.as_str().to_owned()),
            city: self.city.clone(),
            postal_code: self.postal_code.clone(),
        };
        (a != Address::default()).then_some(a)
    }
}

/// Parses an optional field, treating absent and blank alike.
fn optional<T>(
    field: &str,
    value: &Option<String>,
    parse: impl FnOnce(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, FieldError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(s) => parse(s).map(Some).map_err(|e| FieldError::new(field, e)),
    }
}

/// A lower-cased identifier with no whitespace. Lower-cased *before* the
/// length check: lower-casing can lengthen a string (`İ` → `i̇`), and the
/// stored value must pass the same check again.
fn lower_token(s: &str, max: usize) -> Result<String, Invalid> {
    clean_token(&s.to_lowercase(), max)
}

/// A lower-case `[a-z0-9_]` identifier, e.g. `transaction_type`.
fn snake_token(s: &str, max: usize) -> Result<String, Invalid> {
    let t = lower_token(s, max)?;
    if !t.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_') {
        return Err(Invalid::new("may contain only letters, digits and underscores"));
    }
    Ok(t)
}

/// Free text with any card number masked: these fields are stored and shown
/// in the dashboard, and a PAN pasted into them must not be.
fn free_text(s: &str, max: usize) -> Result<String, Invalid> {
    let t = clean_text(s, max)?;
    Ok(match redact_pans(&t) {
        std::borrow::Cow::Borrowed(_) => t,
        std::borrow::Cow::Owned(redacted) => redacted,
    })
}

/// Checks the shape of `metadata` and returns a PAN-redacted copy.
pub fn clean_metadata(raw: Option<&Metadata>) -> Result<Metadata, Invalid> {
    let Some(raw) = raw else {
        return Ok(Metadata::new());
    };
    if raw.len() > MAX_METADATA_KEYS {
        return Err(Invalid::new(format!("must have at most {MAX_METADATA_KEYS} keys")));
    }
    for key in raw.keys() {
        // Keys are named in rules as `metadata.<key>`, so they must be
        // non-empty and printable. The key itself is never echoed: it could
        // be personal data.
        if key.is_empty() {
            return Err(Invalid::new("keys must not be empty"));
        }
        if key.chars().nth(MAX_METADATA_KEY_CHARS).is_some() {
            return Err(Invalid::new(format!(
                "keys must be at most {MAX_METADATA_KEY_CHARS} characters"
            )));
        }
        if key.chars().any(char::is_control) {
            return Err(Invalid::new("keys must not contain control characters"));
        }
    }
    // Bound the size before redacting, which is only linear for sane input.
    if serialized_len(raw)? > MAX_METADATA_BYTES {
        return Err(too_big());
    }
    let mut clean = Metadata::new();
    for (key, value) in raw {
        let mut value: Value = value.clone();
        redact_json(&mut value);
        clean.insert(redact_pans(key).into_owned(), value);
    }
    // Checked again: a PAN sent as a JSON number becomes a longer string.
    if serialized_len(&clean)? > MAX_METADATA_BYTES {
        return Err(too_big());
    }
    Ok(clean)
}

fn serialized_len(metadata: &Metadata) -> Result<usize, Invalid> {
    serde_json::to_vec(metadata)
        .map(|v| v.len())
        .map_err(|_| Invalid::new("is not serialisable as JSON"))
}

fn too_big() -> Invalid {
    Invalid::new("must be at most 8 KiB when serialised as JSON")
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;

    fn req(v: Value) -> AssessRequest {
        serde_json::from_value(v).expect("valid wire request")
    }

    fn example() -> Value {
        serde_json::from_str(crate::wire::EXAMPLE_REQUEST_JSON).expect("valid JSON")
    }

    fn with(path: &str, value: Value) -> AssessRequest {
        let mut v = example();
        let mut target = &mut v;
        let parts: Vec<&str> = path.split('.').collect();
        for p in &parts[..parts.len() - 1] {
            target = target.get_mut(*p).expect("path exists");
        }
        target[parts[parts.len() - 1]] = value;
        req(v)
    }

    #[test]
    fn example_request_parses() {
        let t = Transaction::from_wire(&req(example())).unwrap();
        assert_eq!(t.amount.minor(), 1500);
        assert_eq!(t.amount.currency().code(), "MXN");
        assert_eq!(t.amount_unit, AmountUnit::Minor);
        assert_eq!(t.transaction_type, "payment");
        assert_eq!(t.email.as_ref().unwrap().as_str(), "customer@example.com");
        assert_eq!(t.phone.as_ref().unwrap().as_str(), "+5215512345678");
        assert_eq!(t.customer_id.as_deref(), Some("cus_abc123"));
        assert_eq!(t.order_id.as_deref(), Some("ORD-123"));
        assert_eq!(t.session_id.as_deref(), Some("ps_1716998400000_a1b2c3d4e"));
        assert_eq!(t.payment_method.kind.as_deref(), Some("card"));
        assert_eq!(t.payment_method.card_bin.as_ref().unwrap().as_str(), "411111");
        assert_eq!(t.payment_method.card_last4.as_ref().unwrap().as_str(), "4242");
        assert_eq!(t.payment_method.card_country.unwrap().as_str(), "MX");
        assert_eq!(t.payment_method.bank_code.as_deref(), Some("012"));
        assert_eq!(t.payment_method.wallet_type.as_deref(), Some("apple_pay"));
        assert_eq!(t.device.ip.unwrap().to_string(), "201.150.10.22");
        assert_eq!(t.device.timezone.as_deref(), Some("America/Mexico_City"));
        assert_eq!(t.device.webdriver, Some(false));
        assert_eq!(t.behavior.mouse_movements, Some(142));
        assert_eq!(t.billing.postal_code.as_deref(), Some("06600"));
        assert_eq!(t.shipping.city.as_deref(), Some("CDMX"));
        assert_eq!(t.metadata.get("channel"), Some(&json!("web")));
        assert_eq!(Transaction::from_wire(&t.to_wire()), Ok(t));
    }

    #[test]
    fn minimal_request_gets_defaults() {
        let t = Transaction::from_wire(&req(
            json!({"amount": 150.5, "currency": " mxn ", "amount_unit": "major"}),
        ))
        .unwrap();
        assert_eq!(t.amount.minor(), 15050);
        assert_eq!(t.transaction_type, "payment");
        assert_eq!(t.payment_method, PaymentMethodInfo::default());
        assert!(t.metadata.is_empty());
        let wire = t.to_wire();
        assert_eq!((wire.amount, wire.currency.as_str()), (150.5, "MXN"));
        assert!(wire.payment_method.is_none() && wire.device.is_none() && wire.metadata.is_none());
        assert_eq!(Transaction::from_wire(&wire), Ok(t));
    }

    #[test]
    fn normalises_case_and_blank_optionals() {
        let mut v = example();
        v["email"] = json!("  Customer@Example.COM ");
        v["transaction_type"] = json!("Refund");
        v["payment_method"]["type"] = json!("CARD");
        v["payment_method"]["card_brand"] = json!("American Express");
        v["device"]["ip"] = json!("::ffff:201.150.10.22");
        v["billing"]["country"] = json!("mx");
        v["phone"] = json!("   ");
        v["order_id"] = json!("");
        v["device"]["fingerprint"] = json!(" \t ");
        v["shipping"]["country"] = json!("");
        let t = Transaction::from_wire(&req(v)).unwrap();
        assert_eq!(t.email.unwrap().as_str(), "customer@example.com");
        assert_eq!(t.transaction_type, "refund");
        assert_eq!(t.payment_method.kind.as_deref(), Some("card"));
        assert_eq!(t.payment_method.card_brand.as_deref(), Some("american express"));
        assert_eq!(t.device.ip.unwrap().to_string(), "201.150.10.22");
        assert_eq!(t.billing.country.unwrap().as_str(), "MX");
        assert_eq!(
            (t.phone, t.order_id, t.device.fingerprint, t.shipping.country),
            (None, None, None, None)
        );
    }

    #[test]
    fn invalid_fields_are_reported_with_their_path() {
        let cases: Vec<(&str, Value)> = vec![
            ("amount", json!(-1)),
            ("amount", json!(15.5)),
            ("currency", json!("XYZ")),
            ("currency", json!("")),
            ("transaction_type", json!("pay-ment")),
            ("transaction_type", json!("x".repeat(33))),
            ("email", json!("not-an-email")),
            ("phone", json!("5512345678")),
            ("customer_id", json!("cus 1")),
            ("order_id", json!("o".repeat(129))),
            ("payment_id", json!("pay\n1")),
            ("idempotency_key", json!("k".repeat(256))),
            ("session_id", json!("ps 1")),
            ("submerchant_id", json!("sub\u{0}")),
            ("payment_method.type", json!("bank transfer")),
            ("payment_method.card_bin", json!("41111")),
            ("payment_method.card_last4", json!("42")),
            ("payment_method.card_country", json!("XX")),
            ("payment_method.card_brand", json!("v".repeat(33))),
            ("payment_method.bank_code", json!("b".repeat(17))),
            ("payment_method.wallet_type", json!("apple pay")),
            ("device.ip", json!("1.2.3.4:80")),
            ("device.fingerprint", json!("fp 1")),
            ("device.user_agent", json!("u".repeat(513))),
            ("device.timezone", json!("America/Mexico City")),
            ("billing.country", json!("Mexico")),
            ("billing.city", json!("c".repeat(129))),
            ("billing.postal_code", json!("p".repeat(17))),
            ("shipping.country", json!("ZZ")),
            ("shipping.city", json!("a\u{202E}b")),
            ("shipping.postal_code", json!("066\r\n00")),
        ];
        for (path, value) in cases {
            let err = Transaction::from_wire(&with(path, value.clone())).unwrap_err();
            assert_eq!(err.field, path, "{path} = {value}: {err}");
            assert!(err.to_string().starts_with(&format!("{path}: ")));
        }
    }

    #[test]
    fn full_card_number_in_card_bin_is_refused_without_echo() {
        for pan in ["4111111111111111", "4111 1111 1111 1111", "5555-5555-5555-4444"] {
            let err =
                Transaction::from_wire(&with("payment_method.card_bin", json!(pan))).unwrap_err();
            assert_eq!(err.field, "payment_method.card_bin");
            let text = err.to_string();
            assert!(text.contains("never a full card number"), "{text}");
            let digits: String = pan.chars().filter(char::is_ascii_digit).collect();
            assert!(
                !text.contains(&digits) && !text.contains(pan) && !text.contains("1111"),
                "{text}"
            );
        }
    }

    #[test]
    fn metadata_is_redacted() {
        let t = Transaction::from_wire(&with(
            "metadata",
            json!({
                "note": "customer card 4111 1111 1111 1111",
                "pan": 5555555555554444u64,
                "4111111111111111": true,
                "nested": {"list": ["378282246310005"]},
                "card_hash": "ab4012888888881881cd0123456789abcdef0123456789abcdef0123456789ab",
                "channel": "web"
            }),
        ))
        .unwrap();
        let m = &t.metadata;
        assert_eq!(m["note"], json!("customer card 411111******1111"));
        assert_eq!(m["pan"], json!("555555******4444"));
        assert_eq!(m["411111******1111"], json!(true));
        assert_eq!(m["nested"], json!({"list": ["378282*****0005"]}));
        assert_eq!(
            m["card_hash"],
            json!("ab4012888888881881cd0123456789abcdef0123456789abcdef0123456789ab")
        );
        let stored = serde_json::to_string(&t.to_wire()).unwrap();
        for pan in ["4111111111111111", "5555555555554444", "378282246310005"] {
            assert!(!stored.contains(pan), "{stored}");
        }
    }

    #[test]
    fn free_text_fields_are_redacted() {
        let mut v = example();
        v["device"]["user_agent"] = json!("Mozilla/5.0 4111111111111111");
        v["billing"]["postal_code"] = json!("4111111111111111");
        let t = Transaction::from_wire(&req(v)).unwrap();
        assert_eq!(t.device.user_agent.as_deref(), Some("Mozilla/5.0 411111******1111"));
        assert_eq!(t.billing.postal_code.as_deref(), Some("411111******1111"));
    }

    #[test]
    fn metadata_limits() {
        let many: serde_json::Map<String, Value> =
            (0..51).map(|i| (format!("k{i}"), json!(i))).collect();
        let err = Transaction::from_wire(&with("metadata", Value::Object(many))).unwrap_err();
        assert_eq!(err.field, "metadata");

        let secret_key = "k".repeat(65);
        let err = Transaction::from_wire(&with("metadata", json!({ secret_key.clone(): 1 })))
            .unwrap_err();
        assert_eq!(err.field, "metadata");
        assert!(!err.to_string().contains(&secret_key));
        assert!(Transaction::from_wire(&with("metadata", json!({ "k".repeat(64): 1 }))).is_ok());
        assert!(Transaction::from_wire(&with("metadata", json!({ "": 1 }))).is_err());
        assert!(Transaction::from_wire(&with("metadata", json!({ "a\nb": 1 }))).is_err());

        let err =
            Transaction::from_wire(&with("metadata", json!({ "blob": "x".repeat(8 * 1024) })))
                .unwrap_err();
        assert_eq!(err.field, "metadata");
        assert!(err.reason.contains("8 KiB"));
        let fits = "x".repeat(8 * 1024 - r#"{"blob":""}"#.len());
        assert!(Transaction::from_wire(&with("metadata", json!({ "blob": fits }))).is_ok());
    }

    /// `Some` of an arbitrary string, `Some` of a plausible value, or `None`.
    fn field(plausible: &'static str) -> impl Strategy<Value = Option<String>> {
        prop_oneof![
            1 => Just(None),
            1 => any::<String>().prop_map(Some),
            2 => plausible.prop_map(Some),
        ]
    }

    /// `Some` of a value that is valid or blank (never invalid), or `None`.
    fn valid(pattern: &'static str) -> impl Strategy<Value = Option<String>> {
        prop_oneof![1 => Just(None), 1 => Just(Some(" ".to_owned())), 4 => pattern.prop_map(Some)]
    }

    fn metadata(
        keys: &'static str,
        strings: &'static str,
    ) -> impl Strategy<Value = Option<Metadata>> {
        let value = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<u64>().prop_map(Value::from),
            (-1e20f64..1e20).prop_map(Value::from),
            Just(json!(4111111111111111u64)),
            strings.prop_map(Value::from),
            prop::collection::vec(strings.prop_map(Value::from), 0..3).prop_map(Value::from),
        ];
        prop::option::of(prop::collection::btree_map(keys, value, 0..6))
    }

    #[allow(clippy::too_many_arguments)]
    fn request(
        amount: impl Strategy<Value = f64>,
        unit: impl Strategy<Value = Option<AmountUnit>>,
        currency: impl Strategy<Value = String>,
        top: impl Strategy<Value = [Option<String>; 10]>,
        pm: impl Strategy<Value = [Option<String>; 7]>,
        dev: impl Strategy<Value = [Option<String>; 4]>,
        addr: impl Strategy<Value = [Option<String>; 6]>,
        meta: impl Strategy<Value = Option<Metadata>>,
    ) -> impl Strategy<Value = AssessRequest> {
        (
            amount,
            unit,
            currency,
            top,
            pm,
            dev,
            addr,
            meta,
            prop::option::of(any::<bool>()),
            any::<[Option<u64>; 4]>(),
        )
            .prop_map(
                |(amount, amount_unit, currency, top, pm, dev, addr, metadata, webdriver, b)| {
                    let [
                        transaction_type,
                        email,
                        phone,
                        customer_id,
                        order_id,
                        payment_id,
                        idempotency_key,
                        session_id,
                        submerchant_id,
                        _,
                    ] = top;
                    let [
                        kind,
                        card_bin,
                        card_last4,
                        card_country,
                        card_brand,
                        bank_code,
                        wallet_type,
                    ] = pm;
                    let [ip, fingerprint, user_agent, timezone] = dev;
                    let [bc, bcity, bpost, sc, scity, spost] = addr;
                    AssessRequest {
                        amount,
                        currency,
                        amount_unit,
                        transaction_type,
                        email,
                        phone,
                        customer_id,
                        order_id,
                        payment_id,
                        idempotency_key,
                        session_id,
                        submerchant_id,
                        payment_method: Some(PaymentMethod {
                            kind,
                            card_bin,
                            card_last4,
                            card_country,
                            card_brand,
                            bank_code,
                            wallet_type,
                        }),
                        device: Some(Device { ip, fingerprint, user_agent, timezone, webdriver }),
                        behavior: Some(Behavior {
                            session_duration_ms: b[0],
                            mouse_movements: b[1],
                            keyboard_events: b[2],
                            copy_paste_events: b[3],
                        }),
                        billing: Some(Address { country: bc, city: bcity, postal_code: bpost }),
                        shipping: Some(Address { country: sc, city: scity, postal_code: spost }),
                        metadata,
                    }
                },
            )
    }

    fn arbitrary_request() -> impl Strategy<Value = AssessRequest> {
        let s = || field("[ -~]{0,20}");
        request(
            // Mostly valid amounts, so validation gets past them to the
            // string fields.
            prop_oneof![1 => any::<f64>(), 4 => (0..1_000_000u32).prop_map(f64::from)],
            prop::option::of(prop_oneof![Just(AmountUnit::Minor), Just(AmountUnit::Major)]),
            prop_oneof![
                1 => any::<String>(),
                4 => Just("MXN".to_owned()),
                1 => Just(" jpy".to_owned())
            ],
            [
                s(),
                field("[^ ]{1,5}@[a-z]{1,5}\\.com"),
                field("\\+[0-9 ]{6,17}"),
                s(),
                s(),
                s(),
                s(),
                s(),
                s(),
                s(),
            ],
            [s(), field("[0-9 -]{4,20}"), field("[0-9]{3,5}"), field("[a-zA-Z]{2}"), s(), s(), s()],
            [field("[0-9.:a-f]{2,40}"), s(), s(), s()],
            [field("[a-zA-Z]{2}"), s(), s(), field("[a-zA-Z]{2}"), s(), s()],
            metadata("(.{0,70})|4111111111111111", "(.{0,30})|[0-9 -]{10,25}"),
        )
    }

    fn valid_request() -> impl Strategy<Value = AssessRequest> {
        let id = || valid("[A-Za-z0-9_.:-]{1,40}");
        request(
            prop_oneof![
                (0..=1_000_000_000_000_000i64).prop_map(|m| m as f64),
                (0..=1_000_000_000_000_000i64).prop_map(|m| m as f64 / 100.0),
                (0..=1_000_000_000_000_000i64).prop_map(|m| m as f64 / 1000.0),
            ],
            prop::option::of(prop_oneof![Just(AmountUnit::Minor), Just(AmountUnit::Major)]),
            prop_oneof![Just("MXN".to_owned()), Just(" jpy ".to_owned()), Just("Kwd".to_owned())],
            [
                valid("[A-Za-z0-9_]{1,32}"),
                valid(
                    " ?[A-Za-zÀ-ÿ0-9._%+-]{1,20}@[a-z0-9]([A-Za-z0-9-]{0,8}[a-z0-9])?\\.(com|MX|xn--p1ai) ?",
                ),
                valid("\\+[1-9][0-9]{2} \\(?[0-9]{3}\\)?[-.][0-9]{2,8}"),
                id(),
                id(),
                id(),
                id(),
                id(),
                id(),
                id(),
            ],
            [
                valid("[A-Za-zİ_]{1,16}"),
                valid("[0-9]{6}|[0-9]{4}-[0-9]{4}"),
                valid("[0-9]{4}"),
                valid("(mx|US|Br|ar)"),
                valid("[A-Za-z ]{0,10}[A-Za-z]"),
                valid("[A-Z0-9]{1,16}"),
                valid("[A-Za-z_]{1,32}"),
            ],
            [
                valid("(1\\.2\\.3\\.4|::ffff:10\\.0\\.0\\.1|2001:DB8::1|10\\.[1-9]?[0-9]\\.0\\.1)"),
                id(),
                valid("[ -~]{0,100}[!-~]|Mozilla 4111 1111 1111 1111 12"),
                valid("[A-Za-z_]{1,20}/[A-Za-z_]{1,20}"),
            ],
            [
                valid("(mx|US|Br|ar)"),
                valid("[A-Za-zÀ-ÿ .]{0,30}[a-z]"),
                valid("[0-9A-Z -]{0,9}[0-9]|4111111111111111"),
                valid("(mx|US|Br|ar)"),
                valid("[A-Za-zÀ-ÿ .]{0,30}[a-z]"),
                valid("[0-9A-Z -]{0,9}[0-9]"),
            ],
            metadata("[a-z_]{1,10}|4111111111111111", "[ -~]{0,30}|[0-9 -]{10,25}"),
        )
    }

    /// Number of string fields [`set_string_field`] knows.
    const STRING_FIELDS: usize = 28;

    /// Overwrites the `idx`-th string field of `r` (currency included) and
    /// returns its dotted path.
    fn set_string_field(r: &mut AssessRequest, idx: usize, v: String) -> &'static str {
        let pm = r.payment_method.get_or_insert_with(PaymentMethod::default);
        let dev = r.device.get_or_insert_with(Device::default);
        let (path, slot): (&str, &mut Option<String>) = match idx {
            0 => {
                r.currency = v;
                return "currency";
            }
            1 => ("transaction_type", &mut r.transaction_type),
            2 => ("email", &mut r.email),
            3 => ("phone", &mut r.phone),
            4 => ("customer_id", &mut r.customer_id),
            5 => ("order_id", &mut r.order_id),
            6 => ("payment_id", &mut r.payment_id),
            7 => ("idempotency_key", &mut r.idempotency_key),
            8 => ("session_id", &mut r.session_id),
            9 => ("submerchant_id", &mut r.submerchant_id),
            10 => ("payment_method.type", &mut pm.kind),
            11 => ("payment_method.card_bin", &mut pm.card_bin),
            12 => ("payment_method.card_last4", &mut pm.card_last4),
            13 => ("payment_method.card_country", &mut pm.card_country),
            14 => ("payment_method.card_brand", &mut pm.card_brand),
            15 => ("payment_method.bank_code", &mut pm.bank_code),
            16 => ("payment_method.wallet_type", &mut pm.wallet_type),
            17 => ("device.ip", &mut dev.ip),
            18 => ("device.fingerprint", &mut dev.fingerprint),
            19 => ("device.user_agent", &mut dev.user_agent),
            20 => ("device.timezone", &mut dev.timezone),
            21 => ("billing.country", &mut r.billing.get_or_insert_with(Address::default).country),
            22 => ("billing.city", &mut r.billing.get_or_insert_with(Address::default).city),
            23 => (
                "billing.postal_code",
                &mut r.billing.get_or_insert_with(Address::default).postal_code,
            ),
            24 => {
                ("shipping.country", &mut r.shipping.get_or_insert_with(Address::default).country)
            }
            25 => ("shipping.city", &mut r.shipping.get_or_insert_with(Address::default).city),
            26 => (
                "shipping.postal_code",
                &mut r.shipping.get_or_insert_with(Address::default).postal_code,
            ),
            _ => {
                r.metadata.get_or_insert_with(Metadata::new).insert(v, Value::from(1));
                return "metadata";
            }
        };
        *slot = Some(v);
        path
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn from_wire_never_panics(r in arbitrary_request()) {
            if let Ok(t) = Transaction::from_wire(&r) {
                prop_assert_eq!(Transaction::from_wire(&t.to_wire()), Ok(t));
            }
        }

        /// One arbitrary string in an otherwise valid request: the error, if
        /// any, names that field and never echoes the value.
        #[test]
        fn one_bad_field_is_blamed(
            r in valid_request(),
            idx in 0..STRING_FIELDS,
            v in prop_oneof![any::<String>(), "[ -~]{0,20}", "[0-9]{13,19}"],
        ) {
            let mut r = r;
            // Keep the amount valid whatever the currency.
            r.amount = 0.0;
            let path = set_string_field(&mut r, idx, v.clone());
            match Transaction::from_wire(&r) {
                Ok(t) => prop_assert_eq!(Transaction::from_wire(&t.to_wire()), Ok(t)),
                Err(e) => {
                    prop_assert_eq!(&e.field, path);
                    // Digit strings cannot collide with the wording of a reason.
                    if v.bytes().filter(u8::is_ascii_digit).count() >= 6 {
                        prop_assert!(!e.reason.contains(v.trim()), "{} echoes the value", e);
                    }
                }
            }
        }

        #[test]
        fn normalisation_is_idempotent(r in valid_request()) {
            match Transaction::from_wire(&r) {
                Ok(t) => {
                    let again = Transaction::from_wire(&t.to_wire());
                    prop_assert_eq!(again, Ok(t.clone()));
                    // The stored view is PAN-free.
                    let stored = serde_json::to_string(&t.to_wire()).unwrap();
                    prop_assert!(!stored.contains("4111111111111111"));
                }
                // Only the amount may legitimately be refused (too many
                // decimals for JPY/MXN); every other field is valid by construction.
                Err(e) => prop_assert_eq!(e.field, "amount"),
            }
        }
    }
}
