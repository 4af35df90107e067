//! Parser tests: precedence, actions, and every syntax error with its exact
//! position.

use super::*;

/// An S-expression of the tree; metadata keys print bare for brevity.
fn show(e: &Expr) -> String {
    let list = |tag: &str, items: &[Expr]| {
        let inner: Vec<String> = items.iter().map(show).collect();
        format!("({tag} {})", inner.join(" "))
    };
    match e {
        Expr::Any(items) => list("or", items),
        Expr::All(items) => list("and", items),
        Expr::Not(inner) => format!("(not {})", show(inner)),
        Expr::Bare(op) => operand(op),
        Expr::Compare { lhs, op, rhs } => {
            format!("({} {} {})", op.as_str(), operand(lhs), operand(rhs))
        }
        Expr::In { lhs, negated, list } => {
            let items: Vec<String> = list.iter().map(|(l, _)| lit(l)).collect();
            let tag = if *negated { "not-in" } else { "in" };
            format!("({tag} {} [{}])", operand(lhs), items.join(" "))
        }
        Expr::Text { lhs, op, pattern } => {
            format!("({} {} {pattern:?})", op.as_str(), operand(lhs))
        }
    }
}

fn operand(op: &Operand) -> String {
    match &op.kind {
        OperandKind::Lit(l) => lit(l),
        OperandKind::Field(f) => f.path().trim_start_matches("metadata.").to_owned(),
        OperandKind::Group(e) => format!("{{{}}}", show(e)),
    }
}

fn lit(l: &Lit) -> String {
    match l {
        Lit::Null => "null".into(),
        Lit::Bool(b) => b.to_string(),
        Lit::Num(n) => n.to_string(),
        Lit::Str(s) => format!("{s:?}"),
    }
}

fn tree(cond: &str) -> String {
    let (e, _) = parse(&format!("when {cond} then decline")).unwrap_or_else(|e| panic!("{e}"));
    show(&e)
}

fn action(act: &str) -> Action {
    parse(&format!("when signal.risky_tld then {act}")).unwrap().1
}

/// (line, column, message) of the error for `src`.
fn fails(src: &str) -> (u32, u32, String) {
    let e = parse(src).unwrap_err();
    (e.line, e.column, e.message)
}

#[test]
fn precedence() {
    assert_eq!(tree("metadata.a or metadata.b and metadata.c"), "(or a (and b c))");
    assert_eq!(tree("metadata.a and metadata.b or metadata.c"), "(or (and a b) c)");
    assert_eq!(tree("not metadata.a and metadata.b"), "(and (not a) b)");
    assert_eq!(tree("not not metadata.a == 1"), "(not (not (== a 1)))");
    assert_eq!(tree("not (metadata.a or metadata.b)"), "(not {(or a b)})");
    assert_eq!(tree("metadata.a or metadata.b or metadata.c"), "(or a b c)");
    assert_eq!(tree("(metadata.a == 1) == true"), "(== {(== a 1)} true)");
    assert_eq!(tree("amount >= -2.5"), "(>= amount -2.5)");
    assert_eq!(tree("null != metadata.a"), "(!= null a)");
}

#[test]
fn lists_text_and_keyword_case() {
    assert_eq!(tree("metadata.a in [1, \"x\", true, false,]"), "(in a [1 \"x\" true false])");
    assert_eq!(tree("metadata.a NOT IN []"), "(not-in a [])");
    assert_eq!(tree("email contains \"+\""), "(contains email \"+\")");
    assert_eq!(
        tree("email starts_with \"a\" and email ends_with \"b\""),
        "(and (starts_with email \"a\") (ends_with email \"b\"))"
    );
    let (e, a) = parse("WHEN metadata.a Or metadata.b THEN Decline").unwrap();
    assert_eq!(show(&e), "(or a b)");
    assert_eq!(a, Action::Force { decision: Decision::Decline, code: None });
}

#[test]
fn actions() {
    assert_eq!(
        action("add 40 as foreign_card"),
        Action::AddWeight { weight: 40, code: "foreign_card".into() }
    );
    assert_eq!(
        action("add -100 as trusted"),
        Action::AddWeight { weight: -100, code: "trusted".into() }
    );
    assert_eq!(action("review"), Action::Force { decision: Decision::Review, code: None });
    assert_eq!(
        action("challenge as step_up"),
        Action::Force { decision: Decision::Challenge, code: Some("step_up".into()) }
    );
    // A keyword is a fine code.
    assert_eq!(
        action("decline as review"),
        Action::Force { decision: Decision::Decline, code: Some("review".into()) }
    );
    let long = "c".repeat(64);
    assert_eq!(action(&format!("add 0 as {long}")), Action::AddWeight { weight: 0, code: long });
}

#[test]
fn structure_errors() {
    assert_eq!(fails(""), (1, 1, "expected `when`, found the end of the rule".into()));
    assert_eq!(fails("  # nothing\n"), (2, 1, "expected `when`, found the end of the rule".into()));
    assert_eq!(fails("if amount > 5"), (1, 1, "expected `when`, found `if`".into()));
    assert_eq!(
        fails("when amount > 5 add 40 as x"),
        (1, 17, "expected `then`, found `add`".into())
    );
    assert_eq!(
        fails("when amount > then decline"),
        (1, 15, "expected a field, a value or `(`, found `then`".into())
    );
    assert_eq!(
        fails("when (amount > 5 then decline"),
        (1, 18, "expected `)`, found `then`".into())
    );
    assert_eq!(
        fails("when amount > 5 then decline extra"),
        (1, 30, "expected the end of the rule, found `extra`".into())
    );
    assert_eq!(
        fails("when amount > 5 then decline )"),
        (1, 30, "expected the end of the rule, found `)`".into())
    );
    assert_eq!(
        fails("when amount > 5 then"),
        (
            1,
            21,
            "expected `add`, `review`, `challenge` or `decline`, found the end of the rule".into()
        )
    );
    assert_eq!(
        fails("when amount > 5 then block"),
        (1, 22, "expected `add`, `review`, `challenge` or `decline`, found `block`".into())
    );
}

#[test]
fn list_and_text_errors() {
    assert_eq!(
        fails("when amount in 5 then decline"),
        (1, 16, "expected `[` to start a list, found `5`".into())
    );
    assert_eq!(
        fails("when amount in [amount] then decline"),
        (1, 17, "expected a number, a string, `true`, `false` or `]`, found `amount`".into())
    );
    assert_eq!(fails("when amount in [null] then decline").1, 17);
    assert_eq!(
        fails("when amount in [1 2] then decline"),
        (1, 19, "expected `,` or `]`, found `2`".into())
    );
    assert_eq!(
        fails("when amount in [1, 2 then decline"),
        (1, 22, "expected `,` or `]`, found `then`".into())
    );
    assert_eq!(
        fails("when email contains 5 then decline"),
        (1, 21, "expected a string after `contains`, found `5`".into())
    );
    assert_eq!(
        fails("when email ends_with email then decline"),
        (1, 22, "expected a string after `ends_with`, found `email`".into())
    );
    // Multi-line: the stray comma is on line 2, and columns restart there.
    let src = "when amount > 5\n  and email.domain in [\"a\",, \"b\"]\nthen decline";
    assert_eq!(
        fails(src),
        (2, 28, "expected a number, a string, `true`, `false` or `]`, found `,`".into())
    );
    let src = "when amount > 5 # fine\n\tor email == \"x\n then decline";
    assert_eq!(fails(src), (2, 14, "unterminated string".into()));
}

#[test]
fn field_errors() {
    assert_eq!(
        fails("when amout > 5 then decline"),
        (1, 6, "unknown field `amout`; did you mean `amount`?".into())
    );
    assert_eq!(
        fails("when amount > 1 or\n  velocity.email.count_2h > 1 then decline"),
        (
            2,
            3,
            "unknown field `velocity.email.count_2h`; did you mean `velocity.email.count_1h`?"
                .into()
        )
    );
    assert_eq!(
        fails("when Amount > 5 then decline"),
        (1, 6, "field names are lower-case: write `amount`".into())
    );
    assert_eq!(
        fails("when metadata.a.b == 1 then decline"),
        (
            1,
            6,
            "metadata keys are a single name, like `metadata.channel`; found `metadata.a.b`".into()
        )
    );
    assert_eq!(
        fails("when signal.nothing_like_it then decline"),
        (1, 6, "unknown signal `signal.nothing_like_it`; see the signal catalogue".into())
    );
    let (_, _, msg) = fails("when zzzzzz == 1 then decline");
    assert!(
        msg.starts_with(
            "unknown field `zzzzzz`; valid fields include `amount`, `currency`, `email.domain`"
        ),
        "{msg}"
    );
}

#[test]
fn action_errors() {
    let (l, c, msg) = fails("when amount > 5\nthen approve");
    assert_eq!((l, c), (2, 6));
    assert!(msg.starts_with("rules cannot force `approve`"), "{msg}");
    let weight = |w: &str| fails(&format!("when amount > 5 then add {w} as x"));
    assert_eq!(
        weight("101"),
        (1, 26, "the weight must be an integer from -100 to 100, found `101`".into())
    );
    assert_eq!(weight("-101").2, "the weight must be an integer from -100 to 100, found `-101`");
    assert_eq!(weight("1.5").2, "the weight must be an integer from -100 to 100, found `1.5`");
    assert_eq!(
        weight("\"5\""),
        (1, 26, "expected a weight (an integer from -100 to 100), found `\"5\"`".into())
    );
    assert_eq!(
        fails("when amount > 5 then add 5 x"),
        (1, 28, "expected `as` and a code after the weight, found `x`".into())
    );
    let code = "expected a code (a lower-case letter, then letters, digits or `_`; at most 64)";
    assert_eq!(fails("when amount > 5 then add 5 as _x"), (1, 31, format!("{code}, found `_x`")));
    assert_eq!(fails("when amount > 5 then add 5 as Big").2, format!("{code}, found `Big`"));
    assert_eq!(fails("when amount > 5 then add 5 as a.b").2, format!("{code}, found `a.b`"));
    assert_eq!(fails(&format!("when amount > 5 then review as {}", "c".repeat(65))).1, 32);
    assert_eq!(
        fails("when amount > 5 then review as").2,
        format!("{code}, found the end of the rule")
    );
}

#[test]
fn nesting_is_limited() {
    let deep = |n: usize| format!("when {}amount > 1{} then decline", "(".repeat(n), ")".repeat(n));
    assert!(parse(&deep(MAX_DEPTH)).is_ok());
    assert_eq!(fails(&deep(MAX_DEPTH + 1)).2, "expression nested too deeply");
    let nots = |n: usize| format!("when {}amount > 1 then decline", "not ".repeat(n));
    assert!(parse(&nots(MAX_DEPTH)).is_ok());
    assert_eq!(
        fails(&nots(MAX_DEPTH + 1)),
        (1, 6 + 4 * (MAX_DEPTH as u32 + 1), "expression nested too deeply".into())
    );
    // Long flat chains are not nesting.
    let flat = vec!["amount > 1"; 500].join(" and ");
    assert!(parse(&format!("when {flat} then decline")).is_ok());
}
