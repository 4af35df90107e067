//! Field catalogue tests: paths round-trip, unknown paths are refused,
//! types.

use super::*;

#[test]
fn fixed_paths_round_trip_and_are_unique() {
    for (i, (path, field)) in FIXED.iter().enumerate() {
        assert_eq!(Field::parse_path(path).as_ref(), Some(field), "{path}");
        assert_eq!(field.path(), *path);
        assert!(FIXED[..i].iter().all(|(p, f)| p != path && f != field), "{path}");
    }
}

#[test]
fn variable_paths_round_trip() {
    for path in [
        "velocity.email.count_1h",
        "velocity.card.sum_24h",
        "velocity.customer.count_10m",
        "velocity.account.sum_24h",
        "metadata.channel",
        "metadata.3ds_version",
        "signal.disposable_email",
    ] {
        assert_eq!(Field::parse_path(path).map(|f| f.path()).as_deref(), Some(path));
    }
    assert_eq!(
        Field::parse_path("velocity.ip.sum_10m"),
        Some(Field::Velocity {
            dimension: Dimension::Ip,
            window: Window::TenMinutes,
            stat: VelocityStat::Sum,
        })
    );
}

#[test]
fn unknown_paths_are_rejected() {
    for path in [
        "",
        "amout",
        "email.",
        "metadata",
        "metadata.",
        "metadata.a.b",
        "signal.nope",
        "velocity.email",
        "velocity.phone.count_1h",
        "velocity.email.count_2h",
        "velocity.email.avg_1h",
        "billing",
    ] {
        assert_eq!(Field::parse_path(path), None, "{path}");
    }
}

#[test]
fn example_paths_are_valid_or_templates() {
    for path in Field::EXAMPLE_PATHS {
        assert!(path.contains('<') || Field::parse_path(path).is_some(), "{path}");
    }
}

#[test]
fn types() {
    assert_eq!(Field::Amount.field_type(), FieldType::Number);
    assert_eq!(Field::parse_path("velocity.ip.count_1h").unwrap().field_type(), FieldType::Number);
    assert_eq!(Field::EmailDomain.field_type(), FieldType::String);
    assert_eq!(Field::DeviceWebdriver.field_type(), FieldType::Bool);
    assert_eq!(Field::Signal("risky_tld".into()).field_type(), FieldType::Bool);
    assert_eq!(Field::Metadata("k".into()).field_type(), FieldType::Dynamic);
    assert_eq!(Field::parse_path("payout.rail").unwrap().field_type(), FieldType::String);
    assert_eq!(Field::PayoutFirstToBeneficiary.field_type(), FieldType::Bool);
    assert_eq!(Field::PayoutBeneficiaryKnown.field_type(), FieldType::Bool);
    assert_eq!(Field::PayoutNewBeneficiaries.field_type(), FieldType::Number);
}

#[test]
fn payout_literals_are_normalised_like_the_values() {
    for (path, case) in [
        ("beneficiary.country", Some(LiteralCase::Upper)),
        ("origin.country", Some(LiteralCase::Upper)),
        ("beneficiary.iban", Some(LiteralCase::Upper)),
        ("beneficiary.swift_bic", Some(LiteralCase::Upper)),
        ("payout.channel", Some(LiteralCase::Lower)),
        ("payout.rail", Some(LiteralCase::Lower)),
        ("flow", Some(LiteralCase::Lower)),
        ("beneficiary.account_hash", Some(LiteralCase::Lower)),
        ("beneficiary.name", None),
        ("origin.account_id", None),
    ] {
        assert_eq!(Field::parse_path(path).unwrap().literal_case(), case, "{path}");
    }
}
