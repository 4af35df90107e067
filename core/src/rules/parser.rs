//! Recursive-descent parser: tokens to an untyped syntax tree plus the
//! action. Field paths are resolved here (so an unknown field is reported at
//! its position); types are checked afterwards, in `check`.

use super::Action;
use super::error::{ParseError, quote};
use super::fields::Field;
use super::lexer::{CmpOp, Kw, Tok, Token, lex};
use super::suggest::suggest;
use super::tree::{Lit, TextOp};
use crate::scoring::Decision;

/// Parenthesis and `not` nesting limit: keeps recursion (here, in the
/// checker and in evaluation) far from the stack's end on hostile input.
const MAX_DEPTH: usize = 48;

/// A syntax tree node. Positions are byte offsets into the source.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    Any(Vec<Expr>),
    All(Vec<Expr>),
    Not(Box<Expr>),
    /// An operand used as a whole condition.
    Bare(Operand),
    Compare {
        lhs: Operand,
        op: CmpOp,
        rhs: Operand,
    },
    In {
        lhs: Operand,
        negated: bool,
        list: Vec<(Lit, usize)>,
    },
    Text {
        lhs: Operand,
        op: TextOp,
        pattern: String,
    },
}

/// An operand with its source span, for messages that quote it.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Operand {
    pub kind: OperandKind,
    pub start: usize,
    pub end: usize,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum OperandKind {
    Lit(Lit),
    Field(Field),
    Group(Box<Expr>),
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    depth: usize,
}

/// Parses a whole rule: `when <expr> then <action>`.
pub(super) fn parse(src: &str) -> Result<(Expr, Action), ParseError> {
    let mut p = Parser { src, toks: lex(src)?, pos: 0, depth: 0 };
    p.expect(Tok::Kw(Kw::When), "`when`")?;
    let expr = p.expr()?;
    p.expect(Tok::Kw(Kw::Then), "`then`")?;
    let action = p.action()?;
    if p.peek() != &Tok::Eof {
        return Err(p.unexpected("the end of the rule"));
    }
    Ok((expr, action))
}

impl Parser<'_> {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].tok
    }

    fn token(&self) -> &Token {
        &self.toks[self.pos]
    }

    fn bump(&mut self) -> Token {
        let t = self.toks[self.pos].clone();
        // Eof is never consumed, so `pos` always indexes a token.
        if t.tok != Tok::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, tok: &Tok) -> bool {
        let hit = self.peek() == tok;
        if hit {
            self.bump();
        }
        hit
    }

    fn text(&self, t: &Token) -> &str {
        &self.src[t.start..t.end]
    }

    fn err(&self, at: usize, msg: impl Into<String>) -> ParseError {
        ParseError::at(self.src, at, msg)
    }

    /// "expected X, found Y" at the current token.
    fn unexpected(&self, expected: &str) -> ParseError {
        let t = self.token();
        let found = match t.tok {
            Tok::Eof => "the end of the rule".to_owned(),
            _ => quote(self.text(t)),
        };
        self.err(t.start, format!("expected {expected}, found {found}"))
    }

    fn expect(&mut self, tok: Tok, what: &str) -> Result<Token, ParseError> {
        if self.peek() == &tok { Ok(self.bump()) } else { Err(self.unexpected(what)) }
    }

    fn nest(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err(self.token().start, "expression nested too deeply"));
        }
        Ok(())
    }

    fn expr(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.and()?];
        while self.eat(&Tok::Kw(Kw::Or)) {
            items.push(self.and()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::Any(items) })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut items = vec![self.unary()?];
        while self.eat(&Tok::Kw(Kw::And)) {
            items.push(self.unary()?);
        }
        Ok(if items.len() == 1 { items.remove(0) } else { Expr::All(items) })
    }

    fn unary(&mut self) -> Result<Expr, ParseError> {
        if self.eat(&Tok::Kw(Kw::Not)) {
            self.nest()?;
            let inner = self.unary()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.cmp()
    }

    fn cmp(&mut self) -> Result<Expr, ParseError> {
        let lhs = self.operand()?;
        let expr = match self.peek().clone() {
            Tok::Cmp(op) => {
                self.bump();
                Expr::Compare { lhs, op, rhs: self.operand()? }
            }
            Tok::Kw(Kw::In) => {
                self.bump();
                Expr::In { lhs, negated: false, list: self.list()? }
            }
            Tok::Kw(Kw::Not) if self.toks[self.pos + 1].tok == Tok::Kw(Kw::In) => {
                self.pos += 2;
                Expr::In { lhs, negated: true, list: self.list()? }
            }
            Tok::Kw(kw @ (Kw::Contains | Kw::StartsWith | Kw::EndsWith)) => {
                let op_tok = self.bump();
                let op = match kw {
                    Kw::Contains => TextOp::Contains,
                    Kw::StartsWith => TextOp::StartsWith,
                    _ => TextOp::EndsWith,
                };
                match self.peek().clone() {
                    Tok::Str(pattern) => {
                        self.bump();
                        Expr::Text { lhs, op, pattern }
                    }
                    _ => {
                        let after = quote(self.text(&op_tok));
                        return Err(self.unexpected(&format!("a string after {after}")));
                    }
                }
            }
            _ => Expr::Bare(lhs),
        };
        Ok(expr)
    }

    fn operand(&mut self) -> Result<Operand, ParseError> {
        let t = self.token().clone();
        let kind = match &t.tok {
            Tok::Num(n) => OperandKind::Lit(Lit::Num(*n)),
            Tok::Str(s) => OperandKind::Lit(Lit::Str(s.as_str().into())),
            Tok::Kw(Kw::True) => OperandKind::Lit(Lit::Bool(true)),
            Tok::Kw(Kw::False) => OperandKind::Lit(Lit::Bool(false)),
            Tok::Kw(Kw::Null) => OperandKind::Lit(Lit::Null),
            Tok::Path => OperandKind::Field(self.field(&t)?),
            Tok::LParen => {
                self.bump();
                self.nest()?;
                let inner = self.expr()?;
                self.depth -= 1;
                let close = self.expect(Tok::RParen, "`)`")?;
                let kind = OperandKind::Group(Box::new(inner));
                return Ok(Operand { kind, start: t.start, end: close.end });
            }
            _ => return Err(self.unexpected("a field, a value or `(`")),
        };
        self.bump();
        Ok(Operand { kind, start: t.start, end: t.end })
    }

    fn field(&self, t: &Token) -> Result<Field, ParseError> {
        let path = self.text(t);
        if let Some(field) = Field::parse_path(path) {
            return Ok(field);
        }
        let msg = if path.bytes().any(|b| b.is_ascii_uppercase()) {
            format!("field names are lower-case: write {}", quote(&path.to_ascii_lowercase()))
        } else if let Some(better) = suggest(path) {
            format!("unknown field {}; did you mean {}?", quote(path), quote(&better))
        } else if path.starts_with("metadata.") {
            format!(
                "metadata keys are a single name, like `metadata.channel`; found {}",
                quote(path)
            )
        } else if path.starts_with("signal.") {
            format!("unknown signal {}; see the signal catalogue", quote(path))
        } else {
            let some: Vec<String> = Field::EXAMPLE_PATHS.iter().take(8).map(|p| quote(p)).collect();
            format!("unknown field {}; valid fields include {}, …", quote(path), some.join(", "))
        };
        Err(self.err(t.start, msg))
    }

    fn list(&mut self) -> Result<Vec<(Lit, usize)>, ParseError> {
        self.expect(Tok::LBracket, "`[` to start a list")?;
        let mut items = Vec::new();
        while !self.eat(&Tok::RBracket) {
            let t = self.token().clone();
            let lit = match t.tok {
                Tok::Num(n) => Lit::Num(n),
                Tok::Str(s) => Lit::Str(s.into()),
                Tok::Kw(Kw::True) => Lit::Bool(true),
                Tok::Kw(Kw::False) => Lit::Bool(false),
                _ => return Err(self.unexpected("a number, a string, `true`, `false` or `]`")),
            };
            self.bump();
            items.push((lit, t.start));
            if !self.eat(&Tok::Comma) && self.peek() != &Tok::RBracket {
                return Err(self.unexpected("`,` or `]`"));
            }
        }
        Ok(items)
    }

    fn action(&mut self) -> Result<Action, ParseError> {
        let t = self.bump();
        let decision = match t.tok {
            Tok::Kw(Kw::Add) => {
                let weight = self.weight()?;
                self.expect(Tok::Kw(Kw::As), "`as` and a code after the weight")?;
                return Ok(Action::AddWeight { weight, code: self.code()? });
            }
            Tok::Kw(Kw::Review) => Decision::Review,
            Tok::Kw(Kw::Challenge) => Decision::Challenge,
            Tok::Kw(Kw::Decline) => Decision::Decline,
            Tok::Kw(Kw::Approve) => {
                let msg = "rules cannot force `approve`: a rule can only add weight or force \
                           `review`, `challenge` or `decline`; to lower the risk, add a negative \
                           weight, e.g. `add -20 as trusted_partner`";
                return Err(self.err(t.start, msg));
            }
            _ => {
                self.pos -= usize::from(t.tok != Tok::Eof);
                return Err(self.unexpected("`add`, `review`, `challenge` or `decline`"));
            }
        };
        let code = if self.eat(&Tok::Kw(Kw::As)) { Some(self.code()?) } else { None };
        Ok(Action::Force { decision, code })
    }

    fn weight(&mut self) -> Result<i32, ParseError> {
        let t = self.token().clone();
        let Tok::Num(n) = t.tok else {
            return Err(self.unexpected("a weight (an integer from -100 to 100)"));
        };
        let text = self.text(&t);
        let (min, max) = crate::scoring::WEIGHTS.into_inner();
        if text.contains('.') || !(f64::from(min)..=f64::from(max)).contains(&n) {
            let msg =
                format!("the weight must be an integer from {min} to {max}, found {}", quote(text));
            return Err(self.err(t.start, msg));
        }
        self.bump();
        Ok(n as i32)
    }

    /// A code: `[a-z][a-z0-9_]{0,63}`. Keywords are fine (`as review`).
    fn code(&mut self) -> Result<String, ParseError> {
        let t = self.token().clone();
        let text = self.text(&t).to_owned();
        let b = text.as_bytes();
        let valid = matches!(t.tok, Tok::Path | Tok::Kw(_))
            && b.len() <= 64
            && b.first().is_some_and(u8::is_ascii_lowercase)
            && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_');
        if !valid {
            return Err(self.unexpected(
                "a code (a lower-case letter, then letters, digits or `_`; at most 64)",
            ));
        }
        self.bump();
        Ok(text)
    }
}

#[cfg(test)]
#[path = "parser_tests.rs"]
mod tests;
