//! Property tests: compilation never panics, whatever the input; the
//! compiled logic agrees with `not`, `and` and `or` as written, with the
//! reference tree evaluator, and between a rule alone and in a set.

use proptest::prelude::*;
use proptest::sample::select;

use super::testkit::MapFacts;
use super::tree::reference;
use super::{Rule, RuleSet, Value};

/// Tokens that are each valid on their own, to reach deep parser states
/// that random text rarely gets past the lexer into.
const TOKENS: &[&str] = &[
    "when",
    "then",
    "and",
    "or",
    "not",
    "in",
    "contains",
    "starts_with",
    "ends_with",
    "true",
    "false",
    "null",
    "add",
    "as",
    "review",
    "challenge",
    "decline",
    "approve",
    "(",
    ")",
    "[",
    "]",
    ",",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
    "amount",
    "email",
    "email.domain",
    "device.webdriver",
    "metadata.k",
    "velocity.ip.count_1h",
    "signal.risky_tld",
    "amout",
    "\"x\"",
    "\"MX\"",
    "5",
    "-3",
    "2.5",
    "101",
    "code_1",
    "#",
    "\n",
];

fn facts() -> MapFacts {
    MapFacts::of(&[
        ("amount", Value::Num(150_000.0)),
        ("score", Value::Num(12.0)),
        ("velocity.email.count_1h", Value::Num(3.0)),
        ("metadata.n", Value::Num(3.0)),
        ("metadata.s", Value::Str("web")),
        ("email", Value::Str("ana@x.mx")),
        ("billing.country", Value::Str("MX")),
        ("device.webdriver", Value::Bool(false)),
        ("signal.short_session", Value::Bool(true)),
    ])
}

/// A type-correct comparison over fields present in [`facts`] and absent ones.
fn leaf() -> impl Strategy<Value = String> {
    let num_field = select(
        &[
            "amount",
            "score",
            "velocity.email.count_1h",
            "history.fraud_reports",
            "metadata.n",
            "metadata.s",
        ][..],
    );
    let str_field = select(&["email", "billing.country", "device.ip", "metadata.s"][..]);
    let bool_field = select(&["device.webdriver", "signal.short_session", "signal.risky_tld"][..]);
    let num = select(&["-1", "0", "3", "12", "2.5", "150000", "999999"][..]);
    let text =
        select(&["\"ana@x.mx\"", "\"MX\"", "\"mx\"", "\"\"", "\"x\"", "\"web\"", "\"@\""][..]);
    let ops = select(&["==", "!=", "<", "<=", ">", ">="][..]);
    let text_op = select(&["==", "!=", "contains", "starts_with", "ends_with"][..]);
    prop_oneof![
        (num_field.clone(), ops, num.clone()).prop_map(|(f, o, n)| format!("{f} {o} {n}")),
        (num.clone(), select(&["<", ">="][..]), num_field.clone())
            .prop_map(|(n, o, f)| format!("{n} {o} {f}")),
        (str_field.clone(), text_op, text.clone()).prop_map(|(f, o, t)| format!("{f} {o} {t}")),
        (str_field.clone(), any::<bool>(), prop::collection::vec(text, 0..12)).prop_map(
            |(f, neg, items)| format!(
                "{f} {}in [{}]",
                if neg { "not " } else { "" },
                items.join(", ")
            )
        ),
        (num_field.clone(), prop::collection::vec(num, 0..4))
            .prop_map(|(f, items)| format!("{f} in [{}]", items.join(", "))),
        bool_field.clone().prop_map(str::to_owned),
        (bool_field, any::<bool>()).prop_map(|(f, b)| format!("{f} == {b}")),
        (prop_oneof![num_field, str_field], select(&["==", "!="][..]))
            .prop_map(|(f, o)| format!("{f} {o} null")),
    ]
}

/// Leaves combined with `and`, `or` and `not`, fully parenthesised.
fn expr() -> impl Strategy<Value = String> {
    leaf().prop_recursive(4, 24, 3, |inner| {
        prop_oneof![
            inner.clone().prop_map(|e| format!("not ({e})")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) and ({b})")),
            (inner.clone(), inner).prop_map(|(a, b)| format!("({a}) or ({b})")),
        ]
    })
}

fn compile(cond: &str) -> Rule {
    Rule::compile(&format!("when {cond}\nthen review")).unwrap_or_else(|e| panic!("{cond}: {e}"))
}

fn eval(cond: &str) -> bool {
    compile(cond).matches(&facts())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn compile_never_panics_on_text(src in any::<String>()) {
        let _ = Rule::compile(&src);
    }

    #[test]
    fn compile_never_panics_on_rule_like_text(body in "[ -~\n]{0,80}") {
        let _ = Rule::compile(&format!("when {body}"));
    }

    #[test]
    fn compile_never_panics_on_token_sequences(toks in prop::collection::vec(select(TOKENS), 0..80)) {
        let _ = Rule::compile(&toks.join(" "));
        let _ = Rule::compile(&format!("when {}", toks.join(" ")));
    }

    #[test]
    fn not_is_exact_negation(e in expr()) {
        prop_assert_ne!(eval(&e), eval(&format!("not ({e})")), "{}", e);
    }

    #[test]
    fn and_or_agree_with_their_parts(a in expr(), b in expr()) {
        let (x, y) = (eval(&a), eval(&b));
        prop_assert_eq!(eval(&format!("({a}) and ({b})")), x && y);
        prop_assert_eq!(eval(&format!("({a}) or ({b})")), x || y);
    }

    #[test]
    fn program_agrees_with_the_reference(e in expr()) {
        let rule = compile(&e);
        prop_assert_eq!(rule.matches(&facts()), reference::eval(&rule.tree, &facts()), "{}", e);
    }

    #[test]
    fn a_set_fires_exactly_the_matching_rules(es in prop::collection::vec(expr(), 0..12)) {
        let rules: Vec<(String, Rule)> = es.iter().enumerate().map(|(i, e)| (format!("r{i}"), compile(e))).collect();
        let want: Vec<String> = rules.iter().filter(|(_, r)| r.matches(&facts())).map(|(n, _)| n.clone()).collect();
        let set = RuleSet::new(rules);
        let got: Vec<String> = set.evaluate(&facts()).iter().map(|f| f.name.to_owned()).collect();
        prop_assert_eq!(got, want);
    }
}
