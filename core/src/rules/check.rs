//! Type checking and literal normalisation: the syntax tree becomes the
//! checked [`Node`] tree.
//!
//! Mismatched types are errors rather than silently false conditions: a
//! rule comparing `amount` with `"abc"` can never fire, which is a bug the
//! operator wants to hear about before the rule goes live. Metadata is the
//! exception; its type is only known at run time.

use super::error::{ParseError, quote};
use super::fields::{Field, FieldType, LiteralCase};
use super::lexer::CmpOp;
use super::parser::{Expr, Operand, OperandKind};
use super::tree::{Arg, Lit, Node, OrdOp};

/// A static type; `Null` is the type of the `null` literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Number,
    String,
    Bool,
    Null,
    Dynamic,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Number => "a number",
            Ty::String => "a string",
            Ty::Bool => "a bool",
            Ty::Null => "null",
            Ty::Dynamic => "metadata",
        }
    }

    fn of_lit(lit: &Lit) -> Ty {
        match lit {
            Lit::Null => Ty::Null,
            Lit::Bool(_) => Ty::Bool,
            Lit::Num(_) => Ty::Number,
            Lit::Str(_) => Ty::String,
        }
    }

    /// Whether values of the two types can ever be equal.
    fn comparable(self, other: Ty) -> bool {
        self == other || [self, other].iter().any(|t| matches!(t, Ty::Null | Ty::Dynamic))
    }
}

/// Checks `expr`, returning its tree and the fields it reads in first-use
/// order.
pub(super) fn compile(src: &str, expr: Expr) -> Result<(Node, Vec<Field>), ParseError> {
    let mut c = Checker { src, fields: Vec::new() };
    let node = c.expr(expr)?;
    Ok((node, c.fields))
}

struct Checker<'s> {
    src: &'s str,
    fields: Vec<Field>,
}

impl Checker<'_> {
    fn ty(&self, op: &Operand) -> Ty {
        match &op.kind {
            OperandKind::Lit(lit) => Ty::of_lit(lit),
            OperandKind::Group(_) => Ty::Bool,
            OperandKind::Field(f) => match f.field_type() {
                FieldType::Number => Ty::Number,
                FieldType::String => Ty::String,
                FieldType::Bool => Ty::Bool,
                FieldType::Dynamic => Ty::Dynamic,
            },
        }
    }

    /// "`amount` is a number", quoting the operand's source.
    fn describe(&self, op: &Operand) -> String {
        format!("{} is {}", quote(&self.src[op.start..op.end]), self.ty(op).name())
    }

    /// "`amount` (a number)".
    fn labelled(&self, op: &Operand) -> String {
        format!("{} ({})", quote(&self.src[op.start..op.end]), self.ty(op).name())
    }

    fn err(&self, op: &Operand, msg: String) -> ParseError {
        ParseError::at(self.src, op.start, msg)
    }

    fn expr(&mut self, expr: Expr) -> Result<Node, ParseError> {
        Ok(match expr {
            Expr::Any(items) => Node::Any(self.each(items)?),
            Expr::All(items) => Node::All(self.each(items)?),
            Expr::Not(inner) => Node::Not(Box::new(self.expr(*inner)?)),
            Expr::Bare(op) => match self.ty(&op) {
                Ty::Bool | Ty::Dynamic => match op.kind {
                    OperandKind::Lit(lit) => Node::Const(lit == Lit::Bool(true)),
                    OperandKind::Group(inner) => self.expr(*inner)?,
                    OperandKind::Field(f) => {
                        self.note(&f);
                        Node::IsTrue(f)
                    }
                },
                _ => {
                    let msg = format!(
                        "{}, not a condition; compare it, e.g. with `==`, `>` or `in`",
                        self.describe(&op)
                    );
                    return Err(self.err(&op, msg));
                }
            },
            Expr::Compare { lhs, op, rhs } => self.compare(lhs, op, rhs)?,
            Expr::In { lhs, negated, list } => {
                let node = self.member(lhs, list)?;
                if negated { Node::Not(Box::new(node)) } else { node }
            }
            Expr::Text { lhs, op, pattern } => {
                if !matches!(self.ty(&lhs), Ty::String | Ty::Dynamic) {
                    let msg =
                        format!("`{}` works on strings, but {}", op.as_str(), self.describe(&lhs));
                    return Err(self.err(&lhs, msg));
                }
                let pattern = normalise(case_of(&lhs), &pattern).into();
                Node::Text { arg: self.arg(lhs.kind)?, op, pattern }
            }
        })
    }

    fn each(&mut self, items: Vec<Expr>) -> Result<Vec<Node>, ParseError> {
        items.into_iter().map(|e| self.expr(e)).collect()
    }

    /// Records a field the rule reads, once.
    fn note(&mut self, field: &Field) {
        if !self.fields.contains(field) {
            self.fields.push(field.clone());
        }
    }

    fn arg(&mut self, kind: OperandKind) -> Result<Arg, ParseError> {
        Ok(match kind {
            OperandKind::Lit(lit) => Arg::Lit(lit),
            OperandKind::Field(f) => {
                self.note(&f);
                Arg::Field(f)
            }
            OperandKind::Group(inner) => Arg::Cond(Box::new(self.expr(*inner)?)),
        })
    }

    fn compare(
        &mut self,
        mut lhs: Operand,
        op: CmpOp,
        mut rhs: Operand,
    ) -> Result<Node, ParseError> {
        let (lt, rt) = (self.ty(&lhs), self.ty(&rhs));
        let ord = match op {
            CmpOp::Eq | CmpOp::Ne => None,
            CmpOp::Lt => Some(OrdOp::Lt),
            CmpOp::Le => Some(OrdOp::Le),
            CmpOp::Gt => Some(OrdOp::Gt),
            CmpOp::Ge => Some(OrdOp::Ge),
        };
        if let Some(ord) = ord {
            for side in [&lhs, &rhs] {
                let hint = match self.ty(side) {
                    Ty::Number | Ty::Dynamic => continue,
                    Ty::Null => "; use `== null` to test whether a field is absent",
                    _ => "",
                };
                let msg = format!(
                    "`{}` compares numbers, but {}{hint}",
                    op.as_str(),
                    self.describe(side)
                );
                return Err(self.err(side, msg));
            }
            let (lhs, rhs) = (self.arg(lhs.kind)?, self.arg(rhs.kind)?);
            return Ok(Node::Order { lhs, op: ord, rhs });
        }
        if !lt.comparable(rt) {
            let msg = format!(
                "cannot compare {} with {}: values of different types are never equal",
                self.labelled(&lhs),
                self.labelled(&rhs)
            );
            return Err(self.err(&rhs, msg));
        }
        normalise_lit(case_of(&rhs), &mut lhs.kind);
        normalise_lit(case_of(&lhs), &mut rhs.kind);
        let eq = Node::Eq { lhs: self.arg(lhs.kind)?, rhs: self.arg(rhs.kind)? };
        Ok(if op == CmpOp::Ne { Node::Not(Box::new(eq)) } else { eq })
    }

    fn member(&mut self, lhs: Operand, list: Vec<(Lit, usize)>) -> Result<Node, ParseError> {
        let lt = self.ty(&lhs);
        if lt == Ty::Null {
            let msg = "`null` is never in a list; use `== null` to test whether a field is absent";
            return Err(self.err(&lhs, msg.into()));
        }
        let case = case_of(&lhs);
        let mut items = Vec::with_capacity(list.len());
        for (lit, at) in list {
            let it = Ty::of_lit(&lit);
            if lt != Ty::Dynamic && it != lt {
                let msg = format!("{}, but this list item is {}", self.describe(&lhs), it.name());
                return Err(ParseError::at(self.src, at, msg));
            }
            items.push(match lit {
                Lit::Str(s) => Lit::Str(normalise(case, &s).into()),
                other => other,
            });
        }
        Ok(Node::In { arg: self.arg(lhs.kind)?, items })
    }
}

fn case_of(op: &Operand) -> Option<LiteralCase> {
    match &op.kind {
        OperandKind::Field(f) => f.literal_case(),
        _ => None,
    }
}

/// The engine feeds countries and currencies upper-case and emails
/// lower-case, so literals compared with them are normalised the same way.
fn normalise(case: Option<LiteralCase>, s: &str) -> String {
    match case {
        Some(LiteralCase::Upper) => s.to_uppercase(),
        Some(LiteralCase::Lower) => s.to_lowercase(),
        None => s.to_owned(),
    }
}

fn normalise_lit(case: Option<LiteralCase>, kind: &mut OperandKind) {
    if let (Some(_), OperandKind::Lit(Lit::Str(s))) = (case, &mut *kind) {
        *s = normalise(case, s).into();
    }
}

#[cfg(test)]
#[path = "check_tests.rs"]
mod tests;
