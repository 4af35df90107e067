//! Payout validation: field paths of refusals, the two `channel`/`rail`
//! spellings, the beneficiary identity rule and the storage round trip.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::*;
use crate::wire::{EXAMPLE_PAYOUT_JSON, Flow};

fn example() -> Value {
    serde_json::from_str(EXAMPLE_PAYOUT_JSON).unwrap()
}

fn parse(v: Value) -> Result<Transaction, FieldError> {
    Transaction::from_payout_wire(&serde_json::from_value(v).expect("wire shape"))
}

/// A minimal payout with `beneficiary` replaced.
fn with_beneficiary(b: Value) -> Result<Transaction, FieldError> {
    parse(json!({"amount": 100, "currency": "MXN", "beneficiary": b}))
}

fn refused_field(v: Value) -> String {
    parse(v).expect_err("refused").field
}

#[test]
fn the_example_normalises() {
    let t = parse(example()).unwrap();
    assert_eq!(t.flow(), Flow::Payout);
    assert_eq!(t.amount.minor(), 2_500_000);
    assert_eq!(t.transaction_type, "payout");
    assert_eq!(t.customer_id.as_deref(), Some("party_001"));
    assert_eq!(t.payment_id.as_deref(), Some("pay_spei_7781"));
    assert!(t.email.is_none() && t.device.ip.is_none() && t.order_id.is_none());
    let p = t.payout.as_ref().unwrap();
    assert_eq!(p.beneficiary.clabe.as_ref().unwrap().bank_code(), "002");
    assert_eq!(p.beneficiary.swift_bic.as_ref().unwrap().as_str(), "BNMXMXMM");
    assert_eq!(p.origin.account_id.as_deref(), Some("acct_orig_01"));
    assert_eq!(p.origin.country.unwrap().as_str(), "MX");
    assert_eq!((p.channel, p.rail.as_deref()), (Some(PayoutChannel::Api), Some("spei")));
    assert_eq!(p.initiated_by.as_deref(), Some("ops@bank.com"));
    assert_eq!(p.first_to_beneficiary, Some(false));
}

#[test]
fn transaction_type_defaults_to_payout() {
    let t = with_beneficiary(json!({"id": "ben_1"})).unwrap();
    assert_eq!(t.transaction_type, "payout");
    assert_eq!(t.amount_unit, crate::wire::AmountUnit::Minor);
}

#[test]
fn both_guides_spellings_of_spei_read_alike() {
    let details = |d: Value| {
        let t = parse(json!({"amount": 1, "currency": "MXN",
            "beneficiary": {"clabe": "032180000118359719"}, "payout": d}))
        .unwrap();
        let p = t.payout.unwrap();
        (p.channel, p.rail)
    };
    let spei = Some("spei".to_owned());
    // Payout guide: the rail is the network, the channel how it was ordered.
    assert_eq!(
        details(json!({"rail": "spei", "channel": "api"})),
        (Some(PayoutChannel::Api), spei.clone())
    );
    // Bank guide: the network in `channel`.
    assert_eq!(details(json!({"channel": "spei"})), (Some(PayoutChannel::Spei), spei.clone()));
    // Rail alone: a channel name doubles as the channel.
    assert_eq!(details(json!({"rail": " SPEI "})), (Some(PayoutChannel::Spei), spei));
    assert_eq!(
        details(json!({"channel": "wire"})),
        (Some(PayoutChannel::Wire), Some("wire".into()))
    );
    // Rails that are not channels, and channels that are not rails.
    assert_eq!(details(json!({"rail": "sepa"})), (None, Some("sepa".into())));
    assert_eq!(details(json!({"channel": "api"})), (Some(PayoutChannel::Api), None));
    assert_eq!(
        details(json!({"rail": "ach", "channel": "wire"})),
        (Some(PayoutChannel::Wire), Some("ach".into()))
    );
    assert_eq!(details(json!({})), (None, None));
}

#[test]
fn clabe_check_digits_are_verified() {
    // Banxico's published example, then one digit changed, too short, too long.
    assert!(with_beneficiary(json!({"clabe": "032180000118359719"})).is_ok());
    assert!(with_beneficiary(json!({"clabe": "032 180 000118359719"})).is_ok());
    for bad in
        ["032180000118359718", "032180000119359719", "03218000011835971", "0321800001183597190"]
    {
        let err = with_beneficiary(json!({"clabe": bad})).unwrap_err();
        assert_eq!(err.field, "beneficiary.clabe", "{bad}");
        assert!(!err.reason.contains(bad), "the reason never echoes the account");
    }
    let err = with_beneficiary(json!({"clabe": "032180000118359718"})).unwrap_err();
    assert_eq!(err.reason, "the CLABE check digit is wrong: expected 9");
}

#[test]
fn iban_check_digits_and_lengths_are_verified() {
    for ok in ["DE89370400440532013000", "GB82 WEST 1234 5698 7654 32", "es9121000418450200051332"]
    {
        let t = with_beneficiary(json!({"iban": ok})).unwrap();
        assert!(t.payout.unwrap().beneficiary.iban.is_some(), "{ok}");
    }
    let why = |iban: &str| with_beneficiary(json!({"iban": iban})).unwrap_err();
    // One digit changed.
    let e = why("DE89370400440532013001");
    assert_eq!(e.field, "beneficiary.iban");
    assert!(e.reason.contains("check digits are wrong"), "{}", e.reason);
    assert!(why("GB82WEST12345698765433").reason.contains("check digits are wrong"));
    // Wrong length for its country: a German BBAN is 18 digits.
    let e = why("DE8937040044053201300");
    assert_eq!(e.reason, "wrong length for an IBAN from DE: it has exactly 22 characters");
    // A valid-looking German IBAN under the Dutch code (NL is 18 characters).
    assert!(why("NL89370400440532013000").reason.contains("from NL: it has exactly 18"));
    // A country without IBANs.
    assert_eq!(why("MX12345678901234567890").reason, "country MX does not use IBANs");
}

#[test]
fn every_payout_field_error_names_its_path() {
    let cases = [
        ("beneficiary.id", json!({"beneficiary": {"id": "ben 1"}})),
        ("beneficiary.name", json!({"beneficiary": {"id": "b", "name": "a\nb"}})),
        ("beneficiary.country", json!({"beneficiary": {"id": "b", "country": "ZZ"}})),
        ("beneficiary.swift_bic", json!({"beneficiary": {"id": "b", "swift_bic": "DEUTDE"}})),
        ("beneficiary.account_hash", json!({"beneficiary": {"account_hash": "ab cd"}})),
        ("origin.account_id", json!({"beneficiary": {"id": "b"}, "origin": {"account_id": "a b"}})),
        ("origin.country", json!({"beneficiary": {"id": "b"}, "origin": {"country": "Mexico"}})),
        ("payout.rail", json!({"beneficiary": {"id": "b"}, "payout": {"rail": "sepa instant"}})),
        (
            "payout.initiated_by",
            json!({"beneficiary": {"id": "b"}, "payout": {"initiated_by": "a\u{202E}b"}}),
        ),
        ("customer_id", json!({"beneficiary": {"id": "b"}, "customer_id": "c c"})),
        ("transaction_type", json!({"beneficiary": {"id": "b"}, "transaction_type": "pay-out"})),
        ("metadata", json!({"beneficiary": {"id": "b"}, "metadata": {"": 1}})),
    ];
    for (path, mut body) in cases {
        body["amount"] = json!(1);
        body["currency"] = json!("MXN");
        assert_eq!(refused_field(body), path);
    }
    let mut v = example();
    v["amount"] = json!(25000.001);
    assert_eq!(refused_field(v), "amount");
    let mut v = example();
    v["currency"] = json!("MXX");
    assert_eq!(refused_field(v), "currency");
}

#[test]
fn the_beneficiary_needs_an_identity() {
    for b in [
        json!({}),
        json!({"name": "Beneficiary SA", "country": "MX"}),
        json!({"swift_bic": "BNMXMXMM"}),
        json!({"clabe": "  ", "id": ""}),
    ] {
        let err = with_beneficiary(b.clone()).unwrap_err();
        assert_eq!(err.field, "beneficiary", "{b}");
        assert_eq!(err.reason, "must carry at least one of id, clabe, iban or account_hash");
    }
    for b in [
        json!({"id": "ben_1"}),
        json!({"clabe": "032180000118359719"}),
        json!({"iban": "DE89370400440532013000"}),
        json!({"account_hash": "AB12"}),
    ] {
        assert!(with_beneficiary(b.clone()).is_ok(), "{b}");
    }
}

#[test]
fn account_hash_is_compared_like_blocklist_entries() {
    let t = with_beneficiary(json!({"account_hash": " AbC123 "})).unwrap();
    let hash = t.payout.unwrap().beneficiary.account_hash.unwrap();
    assert_eq!(Some(hash.as_str()), ListType::AccountHash.normalize("abc123").ok().as_deref());
}

#[test]
fn identity_prefers_the_account_over_the_merchant_id() {
    let b = |v: Value| with_beneficiary(v).unwrap().payout.unwrap().beneficiary;
    let full = b(json!({"id": "ben_1", "account_hash": "h1", "iban": "DE89370400440532013000",
        "clabe": "032180000118359719"}));
    assert_eq!(full.identity(), Some((ListType::Clabe, "032180000118359719")));
    let no_clabe =
        b(json!({"id": "ben_1", "account_hash": "h1", "iban": "DE89370400440532013000"}));
    assert_eq!(no_clabe.identity(), Some((ListType::Iban, "DE89370400440532013000")));
    assert_eq!(
        b(json!({"id": "ben_1", "account_hash": "H1"})).identity(),
        Some((ListType::AccountHash, "h1"))
    );
    assert_eq!(b(json!({"id": "ben_1"})).identity(), Some((ListType::BeneficiaryId, "ben_1")));
}

#[test]
fn effective_country_falls_back_on_the_account() {
    let country = |v: Value| {
        with_beneficiary(v)
            .unwrap()
            .payout
            .unwrap()
            .beneficiary
            .effective_country()
            .map(|c| c.as_str())
    };
    assert_eq!(country(json!({"id": "b", "country": "co"})), Some("CO"));
    assert_eq!(country(json!({"iban": "DE89370400440532013000"})), Some("DE"));
    assert_eq!(country(json!({"clabe": "032180000118359719"})), Some("MX"));
    assert_eq!(country(json!({"id": "b", "swift_bic": "DEUTDEFF500"})), Some("DE"));
    // What was sent wins over what the account implies.
    assert_eq!(country(json!({"iban": "DE89370400440532013000", "country": "AT"})), Some("AT"));
    assert_eq!(country(json!({"id": "b"})), None);
}

#[test]
fn names_are_redacted_and_blanks_are_absent() {
    let t = parse(json!({"amount": 1, "currency": "MXN",
        "beneficiary": {"id": "b", "name": "Pay 4111111111111111", "iban": " "},
        "origin": {"account_id": "", "country": " "},
        "payout": {"initiated_by": "  ", "rail": ""}}))
    .unwrap();
    let p = t.payout.as_ref().unwrap();
    assert_eq!(p.beneficiary.name.as_deref(), Some("Pay 411111******1111"));
    assert_eq!(p.beneficiary.iban, None);
    assert_eq!(p.origin, OriginInfo::default());
    assert_eq!((p.initiated_by.as_ref(), p.rail.as_ref()), (None, None));
    let stored = serde_json::to_string(&t.to_payout_wire().unwrap()).unwrap();
    assert!(!stored.contains("4111111111111111"), "{stored}");
    // Empty sub-objects are not stored.
    let stored: Value = serde_json::from_str(&stored).unwrap();
    assert!(stored.get("origin").is_none() && stored.get("payout").is_none(), "{stored}");
}

#[test]
fn a_payout_round_trips_through_storage() {
    for v in [
        example(),
        json!({"amount": 10, "currency": "usd", "beneficiary": {"iban": "gb82 west 1234 5698 7654 32",
            "swift_bic": "deutdeffxxx", "country": "gb"}, "payout": {"channel": "spei"}}),
        json!({"amount": 1, "currency": "MXN", "beneficiary": {"account_hash": "FF00"},
            "payout": {"rail": "wire", "first_to_beneficiary": true}}),
    ] {
        let t = parse(v).unwrap();
        let stored = t.to_payout_wire().expect("a payout");
        let json = serde_json::to_value(&stored).unwrap();
        let again = parse(json).unwrap();
        assert_eq!(again, t);
        assert_eq!(again.to_payout_wire(), Some(stored));
    }
    let stored = parse(example()).unwrap().to_payout_wire().unwrap();
    assert_eq!(stored.amount, 25000.0);
    assert_eq!(stored.beneficiary.swift_bic.as_deref(), Some("BNMXMXMM"));
}

#[test]
fn a_payin_has_no_payout_view() {
    let req: crate::wire::AssessRequest =
        serde_json::from_value(json!({"amount": 1, "currency": "MXN"})).unwrap();
    let t = Transaction::from_wire(&req).unwrap();
    assert_eq!((t.flow(), t.to_payout_wire()), (Flow::Payin, None));
}

/// A valid payout built from generated parts, with `"  "` standing for
/// blank optional fields.
fn valid_payout() -> impl Strategy<Value = Value> {
    let opt = |s: &'static str| prop_oneof![1 => Just(None), 1 => Just(Some("  ".to_owned())), 3 => s.prop_map(Some)];
    (
        (0u64..1_000_000_000, prop::bool::ANY),
        "[0-9]{17}",
        prop::option::of(0usize..4),
        opt("[A-Za-z0-9_-]{1,20}"),
        opt("[A-Za-z]{1,10}( [A-Za-z]{1,10})?"),
        opt("(mx|US|de|Br)"),
        opt("[a-fA-F0-9]{8,64}"),
        opt("(DEUTDEFF|BNMXMXMM|deutdeff500|NWBKGB2LXXX)"),
        (opt("[a-z0-9_]{1,12}"), opt("(mx|US|de)")),
        (prop::option::of(prop::sample::select(PayoutChannel::ALL.to_vec())), opt("(spei|SPEI|wire|api|ach|sepa)")),
        (opt("[a-z.@]{1,20}"), prop::option::of(prop::bool::ANY)),
    )
        .prop_map(|((amount, major), body, iban, id, name, country, hash, bic, origin, (channel, rail), (by, first))| {
            let ibans = ["DE89370400440532013000", "GB82WEST12345698765432", "NO9386011117947", "ES9121000418450200051332"];
            // Always some identity: the id when nothing else is there.
            let clabe = (amount % 3 == 0).then(|| Clabe::from_body(&body).unwrap().as_str().to_owned());
            let iban = iban.map(|k| ibans[k].to_owned());
            let id = if clabe.is_none() && iban.is_none() && hash.as_deref().is_none_or(|h| h.trim().is_empty()) {
                Some("ben_fallback".to_owned())
            } else {
                id
            };
            let amount = if major { json!(amount as f64 / 100.0) } else { json!(amount) };
            json!({
                "amount": amount, "currency": "MXN", "amount_unit": if major { "major" } else { "minor" },
                "beneficiary": {"id": id, "name": name, "country": country, "clabe": clabe,
                    "iban": iban, "account_hash": hash, "swift_bic": bic},
                "origin": {"account_id": origin.0, "country": origin.1},
                "payout": {"channel": channel, "rail": rail, "initiated_by": by, "first_to_beneficiary": first},
            })
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn valid_payouts_normalise_idempotently(v in valid_payout()) {
        let t = parse(v).unwrap();
        let stored = serde_json::to_value(t.to_payout_wire().unwrap()).unwrap();
        prop_assert_eq!(parse(stored), Ok(t));
    }

    /// One arbitrary string in a payout field: either accepted and stable,
    /// or refused naming that very field.
    #[test]
    fn a_bad_payout_field_is_blamed(
        v in valid_payout(),
        idx in 0usize..10,
        s in prop_oneof![any::<String>(), "[ -~]{0,40}", "[0-9]{10,20}"],
    ) {
        let mut v = v;
        let (obj, key) = [
            ("beneficiary", "id"), ("beneficiary", "name"), ("beneficiary", "country"),
            ("beneficiary", "clabe"), ("beneficiary", "iban"), ("beneficiary", "account_hash"),
            ("beneficiary", "swift_bic"), ("origin", "account_id"), ("origin", "country"),
            ("payout", "initiated_by"),
        ][idx];
        v[obj][key] = json!(s);
        match parse(v) {
            Ok(t) => {
                let stored = serde_json::to_value(t.to_payout_wire().unwrap()).unwrap();
                prop_assert_eq!(parse(stored), Ok(t));
            }
            // Blanking the only identity blames the beneficiary as a whole.
            Err(e) => prop_assert!(e.field == format!("{obj}.{key}") || e.field == "beneficiary", "{}", e),
        }
    }
}
