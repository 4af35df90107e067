//! Lowering tests: which test each shape becomes, how `and`/`or`/`not`
//! become jumps, and sets.

use super::*;
use crate::rules::env::{CACHED_SLOTS, Cached, Env};
use crate::rules::testkit::MapFacts;
use crate::rules::{Rule, RuleSet, Value};

fn ops(cond: &str) -> (Vec<Op>, u32) {
    let rule = Rule::compile(&format!("when {cond} then review")).unwrap();
    (rule.program.ops.clone(), rule.entry)
}

fn only(cond: &str) -> Test {
    let (ops, entry) = ops(cond);
    assert_eq!((ops.len(), entry), (1, 0), "{cond}");
    ops[0].test
}

fn strings(n: usize) -> String {
    (0..n).map(|i| format!("\"s{i}\"")).collect::<Vec<_>>().join(", ")
}

#[test]
fn shapes() {
    assert!(matches!(only("amount > 5"), Test::NumCmp { slot: 0, rhs, .. } if rhs == 5.0));
    assert!(matches!(only("5 < amount"), Test::NumCmp { op: crate::rules::tree::OrdOp::Gt, .. }));
    assert!(matches!(
        only("amount > velocity.ip.sum_1h"),
        Test::Order { lhs: Operand::Slot(0), rhs: Operand::Slot(1), .. }
    ));
    assert!(matches!(only("\"x\" == email"), Test::StrEq { slot: 0, .. }));
    assert!(matches!(only("email == null"), Test::IsNull { slot: 0 }));
    assert!(matches!(only("null != device.webdriver"), Test::IsNull { slot: 0 }));
    assert!(matches!(only("device.webdriver == false"), Test::IsBool { value: false, .. }));
    assert!(matches!(only("true == device.webdriver"), Test::IsBool { value: true, .. }));
    assert!(matches!(
        only("metadata.k == 1"),
        Test::Eq { lhs: Operand::Slot(0), rhs: Operand::Lit(0) }
    ));
    assert!(matches!(
        only(&format!("email in [{}]", strings(SET_THRESHOLD))),
        Test::StrList { len: 8, .. }
    ));
    assert!(matches!(
        only(&format!("email in [{}]", strings(SET_THRESHOLD + 1))),
        Test::InSet { .. }
    ));
    assert!(matches!(only("email in []"), Test::InList { len: 0, .. }));
    assert!(matches!(only("amount in [1, 2]"), Test::InList { len: 2, .. }));
    assert!(matches!(only("email contains \"@\""), Test::Text { .. }));
    assert!(matches!(only("device.webdriver"), Test::IsBool { slot: 0, value: true }));
}

#[test]
fn logic_becomes_jumps() {
    // `not` swaps the targets.
    let (o, _) = ops("email != \"x\"");
    assert_eq!((o[0].on_true, o[0].on_false), (FALSE, TRUE));
    // a or (b and c): ops in execution order, a first.
    let (o, entry) = ops("amount > 1 or amount > 2 and amount > 3");
    assert_eq!(entry, 0);
    let rhs: Vec<f64> = o
        .iter()
        .map(|op| match op.test {
            Test::NumCmp { rhs, .. } => rhs,
            _ => f64::NAN,
        })
        .collect();
    assert_eq!(rhs, [1.0, 2.0, 3.0]);
    assert_eq!((o[0].on_true, o[0].on_false), (TRUE, 1));
    assert_eq!((o[1].on_true, o[1].on_false), (2, FALSE));
    assert_eq!((o[2].on_true, o[2].on_false), (TRUE, FALSE));
    // Constants need no code at all.
    assert_eq!((ops("true").0.len(), ops("true").1), (0, TRUE));
    assert_eq!(ops("not true").1, FALSE);
    assert_eq!(ops("false or amount > 1").0.len(), 1);
}

#[test]
fn cheap_tests_run_first() {
    let (o, _) = ops("email contains \"x\" and email.domain in [\"a\", \"b\"] and amount > 1");
    let kinds: Vec<&str> = o
        .iter()
        .map(|op| match op.test {
            Test::NumCmp { .. } => "num",
            Test::StrList { .. } => "list",
            Test::Text { .. } => "text",
            _ => "other",
        })
        .collect();
    assert_eq!(kinds, ["num", "list", "text"]);
}

#[test]
fn sub_conditions_are_relocated() {
    let rule =
        Rule::compile("when (amount > 1 and amount < 9) == (email == \"a\") then review").unwrap();
    let facts = |amount: f64, email: &'static str| {
        MapFacts::of(&[("amount", Value::Num(amount)), ("email", Value::Str(email))])
    };
    assert!(rule.matches(&facts(5.0, "a")));
    assert!(rule.matches(&facts(50.0, "b")));
    assert!(!rule.matches(&facts(5.0, "b")));
    // The same rule behind another one in a set: every index shifts.
    let first = Rule::compile("when amount > 1 or email contains \"q\" then review").unwrap();
    let set = RuleSet::new(vec![("first".into(), first), ("second".into(), rule)]);
    assert_eq!(set.evaluate(&facts(5.0, "a")).len(), 2);
    assert_eq!(set.evaluate(&facts(5.0, "b")).len(), 1);
}

#[test]
fn sets_hold_distinct_strings() {
    let list = format!("{}, {}", strings(10), strings(10));
    let rule = Rule::compile(&format!("when email in [{list}] then review")).unwrap();
    let set = &rule.program.sets[0];
    assert_eq!(set.table.len(), 32);
    assert_eq!(set.table.iter().filter(|e| e.1 != EMPTY).count(), 10);
    for (s, want) in [("s0", true), ("s9", true), ("s10", false), ("", false)] {
        assert_eq!(rule.matches(&MapFacts::of(&[("email", Value::Str(s))])), want, "{s}");
    }
}

#[test]
fn slots_beyond_the_cache_are_read_directly() {
    let n = CACHED_SLOTS + 6;
    let rules = (0..n)
        .map(|i| {
            (
                format!("r{i}"),
                Rule::compile(&format!("when metadata.k{i} == \"v{i}\" then review")).unwrap(),
            )
        })
        .collect();
    let set = RuleSet::new(rules);
    assert_eq!(set.fields.len(), n);
    let mut facts = MapFacts::default();
    for i in [3, CACHED_SLOTS - 1, CACHED_SLOTS, n - 1] {
        let (k, v) = (format!("metadata.k{i}"), format!("v{i}"));
        facts.0.insert(Field::parse_path(&k).unwrap(), Value::Str(v.leak()));
    }
    let names: Vec<&str> = set.evaluate(&facts).iter().map(|f| f.name).collect();
    assert_eq!(names, ["r3", "r63", "r64", "r69"]);
    let env = Cached::new(&facts, &set.fields);
    assert_eq!(env.value((n - 1) as u32), Value::Str("v69"));
}
