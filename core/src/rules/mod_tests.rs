//! End-to-end tests of [`Rule`] and [`RuleSet`], and a timing of 1,000 rules
//! (ignored by default; run it in release mode).

use super::testkit::{MapFacts, Typical, rule_set, rule_sources};
use super::*;

const FOREIGN: &str = "when amount > 500000 and payment_method.card_country != billing.country\n\
                       then add 40 as foreign_card_high_amount";
const DISPOSABLE: &str = "when email.domain in [\"mailinator.com\", \"yopmail.com\"] or velocity.email.count_1h >= 5\n\
                          then decline";
const TOO_FAST: &str = "when not (device.webdriver == true) and metadata.channel == \"web\" and behavior.session_duration_ms < 2000 then review as too_fast";

#[test]
fn the_documented_examples() {
    let foreign = Rule::compile(FOREIGN).unwrap();
    assert_eq!(
        foreign.action(),
        &Action::AddWeight { weight: 40, code: "foreign_card_high_amount".into() }
    );
    let f = |amount: f64, card: &'static str| {
        MapFacts::of(&[
            ("amount", Value::Num(amount)),
            ("payment_method.card_country", Value::Str(card)),
            ("billing.country", Value::Str("MX")),
        ])
    };
    assert!(foreign.matches(&f(600_000.0, "US")));
    assert!(!foreign.matches(&f(600_000.0, "MX")));
    assert!(!foreign.matches(&f(500_000.0, "US")));

    let disposable = Rule::compile(DISPOSABLE).unwrap();
    assert_eq!(disposable.action(), &Action::Force { decision: Decision::Decline, code: None });
    assert!(disposable.matches(&MapFacts::of(&[("email.domain", Value::Str("yopmail.com"))])));
    assert!(disposable.matches(&MapFacts::of(&[("velocity.email.count_1h", Value::Num(5.0))])));
    assert!(!disposable.matches(&MapFacts::of(&[("velocity.email.count_1h", Value::Num(4.0))])));

    let too_fast = Rule::compile(TOO_FAST).unwrap();
    let mut facts = MapFacts::of(&[
        ("metadata.channel", Value::Str("web")),
        ("behavior.session_duration_ms", Value::Num(1500.0)),
    ]);
    assert!(too_fast.matches(&facts), "an absent webdriver flag is not `true`");
    facts.0.insert(Field::DeviceWebdriver, Value::Bool(true));
    assert!(!too_fast.matches(&facts));
    let paths: Vec<String> = too_fast.fields().map(Field::path).collect();
    assert_eq!(paths, ["device.webdriver", "metadata.channel", "behavior.session_duration_ms"]);
}

#[test]
fn every_matching_rule_fires_in_order() {
    let rules = [
        ("big", "when amount > 100 then add 10 as big"),
        ("never", "when amount > 1000000 then decline"),
        ("web", "when metadata.channel == \"web\" then review as web"),
        ("also_big", "when amount >= 500 then challenge"),
    ];
    let set = RuleSet::new(
        rules.iter().map(|(n, s)| ((*n).to_owned(), Rule::compile(s).unwrap())).collect(),
    );
    assert_eq!(set.len(), 4);
    assert!(!set.is_empty());
    let facts =
        MapFacts::of(&[("amount", Value::Num(500.0)), ("metadata.channel", Value::Str("web"))]);
    let fired = set.evaluate(&facts);
    let names: Vec<&str> = fired.iter().map(|f| f.name).collect();
    assert_eq!(names, ["big", "web", "also_big"]);
    assert_eq!(
        fired[1].action,
        &Action::Force { decision: Decision::Review, code: Some("web".into()) }
    );
    assert_eq!(set.iter().map(|(n, _)| n).collect::<Vec<_>>(), ["big", "never", "web", "also_big"]);
    assert!(RuleSet::new(Vec::new()).evaluate(&facts).is_empty());
    assert!(RuleSet::default().is_empty());
}

#[test]
fn compiled_types_are_shareable() {
    fn check<T: Send + Sync + Clone + std::fmt::Debug>() {}
    check::<Rule>();
    check::<RuleSet>();
    check::<Action>();
    check::<ParseError>();
}

#[test]
fn actions_and_errors_serialize() {
    let add = Action::AddWeight { weight: -5, code: "trusted".into() };
    assert_eq!(
        serde_json::to_value(&add).unwrap(),
        serde_json::json!({"kind": "add_weight", "weight": -5, "code": "trusted"})
    );
    let force = Action::Force { decision: Decision::Challenge, code: None };
    assert_eq!(
        serde_json::to_value(&force).unwrap(),
        serde_json::json!({"kind": "force", "decision": "challenge", "code": null})
    );
    let e = Rule::compile("when").unwrap_err();
    assert_eq!(
        serde_json::to_value(&e).unwrap(),
        serde_json::json!({"line": 1, "column": 5, "message": "expected a field, a value or `(`, found the end of the rule"})
    );
}

#[test]
fn the_benchmark_workload_matches_five_percent() {
    let sources = rule_sources(1000);
    let set = rule_set(1000);
    assert_eq!(set.len(), 1000);
    let fired = set.evaluate(&Typical::new());
    assert_eq!(fired.len(), 50);
    // Every rule shape contributes hits, so no single shape dominates.
    for shape in 0..10 {
        assert!(fired.iter().any(|f| f.name.ends_with(&shape.to_string())), "shape {shape}");
    }
    // The lists are as long as promised.
    assert!(
        sources[1].matches("\", \"").count() == 19 && sources[2].matches(".com\"").count() >= 50
    );
}
