//! Checker tests: type errors with positions, literal normalisation, the
//! compiled shapes, and operator semantics (Null included) end to end.

use super::*;
use crate::rules::testkit::MapFacts;
use crate::rules::{Rule, Value};

fn rule(cond: &str) -> Rule {
    Rule::compile(&format!("when {cond} then decline")).unwrap_or_else(|e| panic!("{cond}: {e}"))
}

fn node(cond: &str) -> Node {
    rule(cond).tree
}

/// (line, column, message) of the error for the condition `cond`.
fn fails(cond: &str) -> (u32, u32, String) {
    let e = Rule::compile(&format!("when {cond} then decline")).unwrap_err();
    (e.line, e.column.saturating_sub(5), e.message) // column within `cond`
}

fn holds(cond: &str, facts: &[(&str, Value<'static>)]) -> bool {
    rule(cond).matches(&MapFacts::of(facts))
}

#[test]
fn ordering_type_errors() {
    assert_eq!(
        fails("amount > \"abc\""),
        (1, 10, "`>` compares numbers, but `\"abc\"` is a string".into())
    );
    assert_eq!(fails("email < 3"), (1, 1, "`<` compares numbers, but `email` is a string".into()));
    assert_eq!(fails("amount <= null"), (1, 11, "`<=` compares numbers, but `null` is null; use `== null` to test whether a field is absent".into()));
    assert_eq!(
        fails("(amount > 1) >= 0"),
        (1, 1, "`>=` compares numbers, but `(amount > 1)` is a bool".into())
    );
    assert_eq!(
        fails("device.webdriver > false").2,
        "`>` compares numbers, but `device.webdriver` is a bool"
    );
}

#[test]
fn equality_type_errors() {
    assert_eq!(fails("amount == \"5\""), (1, 11, "cannot compare `amount` (a number) with `\"5\"` (a string): values of different types are never equal".into()));
    assert_eq!(
        fails("billing.country != 52").2,
        "cannot compare `billing.country` (a string) with `52` (a number): values of different types are never equal"
    );
    assert_eq!(fails("amount == email").1, 11);
    assert_eq!(fails("signal.risky_tld == \"true\"").1, 21);
}

#[test]
fn list_text_and_condition_type_errors() {
    assert_eq!(
        fails("device.webdriver in [\"x\"]"),
        (1, 22, "`device.webdriver` is a bool, but this list item is a string".into())
    );
    assert_eq!(
        fails("amount in [1, \"2\"]"),
        (1, 15, "`amount` is a number, but this list item is a string".into())
    );
    assert_eq!(
        fails("null in [1]"),
        (1, 1, "`null` is never in a list; use `== null` to test whether a field is absent".into())
    );
    assert_eq!(
        fails("amount contains \"1\""),
        (1, 1, "`contains` works on strings, but `amount` is a number".into())
    );
    assert_eq!(
        fails("amount"),
        (
            1,
            1,
            "`amount` is a number, not a condition; compare it, e.g. with `==`, `>` or `in`".into()
        )
    );
    assert_eq!(fails("signal.risky_tld and \"yes\"").1, 22);
    assert_eq!(
        fails("null").2,
        "`null` is null, not a condition; compare it, e.g. with `==`, `>` or `in`"
    );
    // Multi-line: the position is on the line of the culprit.
    let e = Rule::compile("when amount > 5\n   and email.domain == 3\nthen review").unwrap_err();
    assert_eq!((e.line, e.column), (2, 24));
}

#[test]
fn valid_mixtures() {
    for cond in [
        "payment_method.card_country != billing.country",
        "amount > velocity.email.sum_1h",
        "5 < amount",
        "1 == 1",
        "device.webdriver",
        "not signal.disposable_email",
        "device.webdriver == null",
        "(amount > 1) == true",
        "true",
        "metadata.a > 5 and metadata.a == \"x\" and metadata.a in [1, \"x\", true]",
        "metadata.a contains \"x\" or metadata.a or metadata.a == metadata.b",
        "email in []",
    ] {
        assert!(Rule::compile(&format!("when {cond} then decline")).is_ok(), "{cond}");
    }
}

#[test]
fn literals_are_normalised_for_case_folded_fields() {
    let mx = [("billing.country", Value::Str("MX")), ("currency", Value::Str("MXN"))];
    assert!(holds("currency == \"mxn\"", &mx));
    assert!(holds("\"mx\" == billing.country", &mx));
    assert!(holds("billing.country in [\"us\", \"Mx\"]", &mx));
    assert!(holds("currency starts_with \"mx\"", &mx));
    let big: Vec<String> = (0..20).map(|i| format!("\"D{i}.COM\"")).collect();
    let mail = [("email.domain", Value::Str("d7.com")), ("email", Value::Str("ana@d7.com"))];
    assert!(holds(&format!("email.domain in [{}]", big.join(", ")), &mail));
    assert!(holds("email ends_with \"@D7.Com\" and email == \"ANA@d7.com\"", &mail));
    // Other fields, and metadata, compare exactly as written.
    let web =
        [("metadata.channel", Value::Str("web")), ("device.user_agent", Value::Str("Mozilla/5.0"))];
    assert!(!holds("metadata.channel == \"WEB\"", &web));
    assert!(holds("device.user_agent contains \"Mozilla\"", &web));
    assert!(!holds("device.user_agent contains \"mozilla\"", &web));
}

#[test]
fn checked_shapes() {
    let amount = || Arg::Field(Field::Amount);
    assert_eq!(
        node("amount > 5"),
        Node::Order { lhs: amount(), op: OrdOp::Gt, rhs: Arg::Lit(Lit::Num(5.0)) }
    );
    let eq = Node::Eq { lhs: Arg::Field(Field::Email), rhs: Arg::Lit(Lit::Str("x".into())) };
    assert_eq!(node("email != \"x\""), Node::Not(Box::new(eq)));
    let member = Node::In { arg: Arg::Field(Field::Email), items: vec![Lit::Str("a".into())] };
    assert_eq!(node("email not in [\"a\"]"), Node::Not(Box::new(member)));
    assert_eq!(node("true"), Node::Const(true));
    assert_eq!(node("(device.webdriver)"), Node::IsTrue(Field::DeviceWebdriver));
    assert!(
        matches!(node("amount > 1 and (amount < 9 or email == null)"), Node::All(v) if v.len() == 2)
    );
    assert!(matches!(node("(amount > 1) == true"), Node::Eq { lhs: Arg::Cond(_), .. }));
}

#[test]
fn fields_are_collected_once_in_order() {
    let r = rule(
        "amount > 5 and (billing.country != payment_method.card_country or amount < 9) and email in [\"a\"]",
    );
    let paths: Vec<String> = r.fields().map(Field::path).collect();
    assert_eq!(paths, ["amount", "billing.country", "payment_method.card_country", "email"]);
}

#[test]
fn semantics_with_absent_fields() {
    let none: &[(&str, Value<'static>)] = &[];
    for (cond, want) in [
        ("amount > 5", false),
        ("amount <= 5", false),
        ("not (amount > 5)", true),
        ("amount > velocity.email.sum_1h", false),
        ("amount == null", true),
        ("amount != null", false),
        ("amount != 5", true),
        ("amount == 5", false),
        ("email in [\"a\"]", false),
        ("email not in [\"a\"]", true),
        ("email contains \"\"", false),
        ("email starts_with \"a\" or email ends_with \"a\"", false),
        ("device.webdriver", false),
        ("not device.webdriver", true),
        ("device.webdriver == false", false),
        ("metadata.x", false),
        ("metadata.x > 0 or metadata.x == \"\"", false),
    ] {
        assert_eq!(holds(cond, none), want, "{cond}");
    }
}

#[test]
fn semantics_with_present_fields() {
    let f = [
        ("amount", Value::Num(100.0)),
        ("velocity.email.sum_1h", Value::Num(250.0)),
        ("email", Value::Str("ana@x.io")),
        ("device.webdriver", Value::Bool(true)),
        ("metadata.n", Value::Num(3.0)),
        ("metadata.s", Value::Str("3")),
    ];
    for (cond, want) in [
        ("amount == 100 and amount >= 100 and amount <= 100.0", true),
        ("amount < 100 or amount > 100 or amount != 100", false),
        ("amount < velocity.email.sum_1h", true),
        ("amount in [1, 100]", true),
        ("amount not in [1, 100]", false),
        ("email contains \"@x\" and email starts_with \"ana\" and email ends_with \".io\"", true),
        ("email contains \"@y\"", false),
        ("device.webdriver and device.webdriver == true", true),
        ("metadata.n > 2 and metadata.n in [3] and metadata.n == 3", true),
        // Run-time type mismatches on metadata are simply false.
        ("metadata.s > 2 or metadata.s == 3 or metadata.n contains \"3\"", false),
        ("metadata.s in [3, \"3\"] and metadata.n != metadata.s", true),
        ("(amount > 5) == device.webdriver", true),
        ("1 < 2 and not (\"a\" == \"b\")", true),
    ] {
        assert_eq!(holds(cond, &f), want, "{cond}");
    }
}
