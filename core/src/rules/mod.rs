//! Custom rules: a small language operators write as text, compiled once and
//! evaluated on every request.
//!
//! ```text
//! when amount > 500000 and payment_method.card_country != billing.country
//! then add 40 as foreign_card_high_amount
//!
//! when email.domain in ["mailinator.com", "yopmail.com"] or velocity.email.count_1h >= 5
//! then decline                      # comments run to the end of the line
//! ```
//!
//! # Grammar
//!
//! Keywords are case-insensitive; field names are lower-case.
//!
//! ```text
//! rule    := 'when' expr 'then' action EOF
//! action  := 'add' INT 'as' CODE                   -- INT in -100..=100
//!          | ('review' | 'challenge' | 'decline') ('as' CODE)?
//! expr    := and ('or' and)*
//! and     := unary ('and' unary)*
//! unary   := 'not' unary | cmp
//! cmp     := operand ( ('==' | '!=' | '<' | '<=' | '>' | '>=') operand
//!                    | 'in' list | 'not' 'in' list
//!                    | ('contains' | 'starts_with' | 'ends_with') STRING )?
//! operand := NUMBER | STRING | 'true' | 'false' | 'null' | PATH | '(' expr ')'
//! list    := '[' (literal (',' literal)*)? ','? ']'  -- numbers, strings, true, false
//! PATH    := [a-z_][a-z0-9_]* ('.' [a-z0-9_]+)*      -- no spaces around dots
//! CODE    := [a-z][a-z0-9_]{0,63}
//! NUMBER  := '-'? [0-9]+ ('.' [0-9]+)?
//! STRING  := '"' … '"'  with escapes \" \\ \n \t \u{1F600}; one line only
//! ```
//!
//! So `a or b and c` is `a or (b and c)`, and `not` binds tighter than
//! `and`. Nesting of parentheses and `not` is limited to 48 levels. The
//! fields are listed in [`Field`]; unknown fields are compile errors.
//!
//! # Semantics
//!
//! - `==` and `!=` take any types. An absent field is `null`, so
//!   `device.ip == null` tests for absence. Values of different types are
//!   never equal.
//! - `<`, `<=`, `>`, `>=` take numbers; if a side is absent the comparison is
//!   false (and its `not` is true).
//! - `x in [...]` holds if `x` equals an element; an absent `x` is in no
//!   list. `x not in [...]` is `not (x in [...])`.
//! - `contains`, `starts_with`, `ends_with` take strings; absent is false.
//! - A bool field (`device.webdriver`, `signal.<code>`) can stand alone as
//!   a condition; it holds when the field is `true`.
//! - Strings compare case-sensitively, against values the engine has
//!   already normalised: write literals normalised too. To spare authors the
//!   most common slip, string literals compared with `currency`, a
//!   `*country` field, `beneficiary.iban` or `beneficiary.swift_bic` are
//!   upper-cased, and literals compared with `email`, `email.domain`,
//!   `email.tld`, `flow`, `payout.channel`, `payout.rail` or
//!   `beneficiary.account_hash` are lower-cased, at compile time.
//! - Payout fields (`beneficiary.*`, `origin.*`, `payout.*`) are null on a
//!   pay-in, and pay-in fields (`email`, `device.*`, …) null on a payout;
//!   `flow == "payout"` tells them apart.
//! - Types are checked at compile time (`amount > "abc"`, `email < 3`,
//!   `device.webdriver in ["x"]` and `amount` as a whole condition are
//!   errors). `metadata.<key>` is whatever the merchant sent, so it is not
//!   checked; a mismatch at run time is simply false.
//! - Every matching rule applies: see [`RuleSet::evaluate`]. A rule can add
//!   a weight or force `review`, `challenge` or `decline`, never `approve`.
//!
//! # Compilation
//!
//! Source is lexed (`lexer`), parsed with fields resolved (`parser`), type
//! checked with literals normalised (`check`, giving a `tree`), then lowered
//! (`lower`) to a flat branching `program`: one test per op, each with a
//! jump target for true and for false, so `and`, `or` and `not` cost
//! nothing at run time. A [`RuleSet`] lowers all its rules into one program
//! and reads each field once per request. Conditions have no side effects,
//! so the operands of `and`/`or` are tested cheapest first; that never
//! changes a result.
//!
//! On a typical request, a set of 1,000 varied rules evaluates in under
//! 10 µs (7.75 µs measured; see `core/benches/rules.rs` and the README).

mod check;
mod env;
mod error;
mod fields;
mod lexer;
mod lower;
mod parser;
mod program;
#[cfg(test)]
mod proptests;
mod suggest;
#[cfg(test)]
mod testkit;
mod text;
mod tree;

use serde::Serialize;

pub use error::ParseError;
pub use fields::{Facts, Field, FieldType, Value, VelocityStat};

use crate::scoring::Decision;

/// What a matching rule does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Adds `weight` points (-100..=100) to the score under signal `code`.
    AddWeight {
        /// Points; negative lowers the risk.
        weight: i32,
        /// The signal code reported when the rule fires.
        code: String,
    },
    /// Forces at least this decision (`review`, `challenge` or `decline`).
    Force {
        /// The forced decision; never [`Decision::Approve`].
        decision: Decision,
        /// An optional code reported when the rule fires.
        code: Option<String>,
    },
}

/// A compiled rule.
#[derive(Debug, Clone)]
pub struct Rule {
    /// Kept so a [`RuleSet`] can lower every rule into one shared program.
    tree: tree::Node,
    program: program::Program,
    entry: u32,
    /// Slot `i` of `program` reads `fields[i]`.
    fields: Box<[Field]>,
    action: Action,
}

impl Rule {
    /// Compiles one rule's source text.
    pub fn compile(source: &str) -> Result<Rule, ParseError> {
        let (expr, action) = parser::parse(source)?;
        let (tree, fields) = check::compile(source, expr)?;
        let mut builder = lower::Builder::default();
        let entry = builder.add(&fields, &tree);
        let (program, slots) = builder.finish();
        debug_assert_eq!(slots, fields);
        Ok(Rule { tree, program, entry, fields: fields.into(), action })
    }

    /// What the rule does when it matches.
    pub fn action(&self) -> &Action {
        &self.action
    }

    /// Whether the rule's condition holds for `facts`. Allocates nothing.
    pub fn matches(&self, facts: &dyn Facts) -> bool {
        self.program.run(&env::Direct { facts, fields: &self.fields }, self.entry)
    }

    /// The fields the rule reads, each once, in order of first use (for
    /// tooling: which request fields a rule depends on).
    pub fn fields(&self) -> impl Iterator<Item = &Field> {
        self.fields.iter()
    }
}

/// Rules in priority order, each under a name, compiled together into one
/// program so that evaluating them all reads each field once.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    program: program::Program,
    /// Slot `i` of `program` reads `fields[i]`.
    fields: Box<[Field]>,
    /// Entry point of each rule, parallel to `rules`.
    entries: Box<[u32]>,
    rules: Vec<(Box<str>, Rule)>,
}

/// A rule that matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fired<'a> {
    /// The rule's name.
    pub name: &'a str,
    /// Its action.
    pub action: &'a Action,
}

impl RuleSet {
    /// A set of `(name, rule)` in priority order.
    pub fn new(rules: Vec<(String, Rule)>) -> RuleSet {
        let mut builder = lower::Builder::default();
        let entries = rules.iter().map(|(_, r)| builder.add(&r.fields, &r.tree)).collect();
        let (program, fields) = builder.finish();
        let rules = rules.into_iter().map(|(n, r)| (n.into_boxed_str(), r)).collect();
        RuleSet { program, fields: fields.into(), entries, rules }
    }

    /// Number of rules.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// True when there are no rules.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// The rules with their names, in priority order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Rule)> {
        self.rules.iter().map(|(n, r)| (&**n, r))
    }

    /// Evaluates every rule (no first-match-wins: all matching rules apply)
    /// and returns what fired, in order.
    ///
    /// Each field the set uses is read from `facts` once, up front (beyond
    /// the first 64 distinct fields, where used). Only the returned `Vec`
    /// allocates, and only if something fired.
    pub fn evaluate<'a>(&'a self, facts: &dyn Facts) -> Vec<Fired<'a>> {
        let env = env::Cached::new(facts, &self.fields);
        let mut fired = Vec::new();
        for (&entry, (name, rule)) in self.entries.iter().zip(&self.rules) {
            if self.program.run(&env, entry) {
                fired.push(Fired { name, action: &rule.action });
            }
        }
        fired
    }
}

#[cfg(test)]
#[path = "mod_tests.rs"]
mod tests;
