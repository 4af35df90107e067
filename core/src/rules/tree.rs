//! The checked condition tree: types are settled, literals normalised and
//! pre-converted, fields resolved. It is what `check` produces and what
//! `lower` turns into a [`super::program::Program`].
//!
//! Under `cfg(test)` it also has a direct recursive evaluator: the reference
//! semantics the compiled program is tested against.

use super::fields::Field;

/// A literal value.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Lit {
    Null,
    Bool(bool),
    Num(f64),
    Str(Box<str>),
}

/// `contains`, `starts_with`, `ends_with`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum TextOp {
    Contains,
    StartsWith,
    EndsWith,
}

impl TextOp {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            TextOp::Contains => "contains",
            TextOp::StartsWith => "starts_with",
            TextOp::EndsWith => "ends_with",
        }
    }
}

/// An ordering comparison between numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OrdOp {
    Lt,
    Le,
    Gt,
    Ge,
}

impl OrdOp {
    /// The operator with its sides swapped: `5 < x` is `x > 5`.
    pub(super) fn flip(self) -> OrdOp {
        match self {
            OrdOp::Lt => OrdOp::Gt,
            OrdOp::Le => OrdOp::Ge,
            OrdOp::Gt => OrdOp::Lt,
            OrdOp::Ge => OrdOp::Le,
        }
    }

    #[inline]
    pub(super) fn test(self, a: f64, b: f64) -> bool {
        match self {
            OrdOp::Lt => a < b,
            OrdOp::Le => a <= b,
            OrdOp::Gt => a > b,
            OrdOp::Ge => a >= b,
        }
    }
}

/// One side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Arg {
    Field(Field),
    Lit(Lit),
    /// A parenthesised condition used as a bool value.
    Cond(Box<Node>),
}

/// A checked condition.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Node {
    Const(bool),
    All(Vec<Node>),
    Any(Vec<Node>),
    Not(Box<Node>),
    /// A bool (or metadata) field as a whole condition: holds if it is `true`.
    IsTrue(Field),
    Order {
        lhs: Arg,
        op: OrdOp,
        rhs: Arg,
    },
    Eq {
        lhs: Arg,
        rhs: Arg,
    },
    /// Membership; the list never holds `Null`, so an absent value is in none.
    In {
        arg: Arg,
        items: Vec<Lit>,
    },
    Text {
        arg: Arg,
        op: TextOp,
        pattern: Box<str>,
    },
}

#[cfg(test)]
pub(super) mod reference {
    //! The semantics, written as plainly as possible.

    use super::*;
    use crate::rules::fields::{Facts, Value};

    fn lit(l: &Lit) -> Value<'_> {
        match l {
            Lit::Null => Value::Null,
            Lit::Bool(b) => Value::Bool(*b),
            Lit::Num(n) => Value::Num(*n),
            Lit::Str(s) => Value::Str(s),
        }
    }

    fn arg<'v>(a: &'v Arg, facts: &'v dyn Facts) -> Value<'v> {
        match a {
            Arg::Field(f) => facts.get(f),
            Arg::Lit(l) => lit(l),
            Arg::Cond(n) => Value::Bool(eval(n, facts)),
        }
    }

    /// Whether `node` holds for `facts`.
    pub(in crate::rules) fn eval(node: &Node, facts: &dyn Facts) -> bool {
        match node {
            Node::Const(b) => *b,
            Node::All(items) => items.iter().all(|n| eval(n, facts)),
            Node::Any(items) => items.iter().any(|n| eval(n, facts)),
            Node::Not(n) => !eval(n, facts),
            Node::IsTrue(f) => facts.get(f) == Value::Bool(true),
            Node::Order { lhs, op, rhs } => match (arg(lhs, facts), arg(rhs, facts)) {
                (Value::Num(a), Value::Num(b)) => op.test(a, b),
                _ => false,
            },
            Node::Eq { lhs, rhs } => arg(lhs, facts) == arg(rhs, facts),
            Node::In { arg: a, items } => {
                let v = arg(a, facts);
                items.iter().any(|i| lit(i) == v)
            }
            Node::Text { arg: a, op, pattern } => match (arg(a, facts), op) {
                (Value::Str(s), TextOp::Contains) => s.contains(&**pattern),
                (Value::Str(s), TextOp::StartsWith) => s.starts_with(&**pattern),
                (Value::Str(s), TextOp::EndsWith) => s.ends_with(&**pattern),
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn operators() {
        assert_eq!(OrdOp::Lt.flip(), OrdOp::Gt);
        assert_eq!(OrdOp::Ge.flip(), OrdOp::Le);
        assert!(OrdOp::Le.test(5.0, 5.0) && !OrdOp::Lt.test(5.0, 5.0));
        assert!(OrdOp::Ge.test(5.0, 5.0) && !OrdOp::Gt.test(5.0, 5.0));
        assert!(!OrdOp::Gt.test(f64::NAN, 0.0));
    }
}
