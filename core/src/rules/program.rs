//! The compiled form: a flat branching program, and its evaluation.
//!
//! Each [`Op`] is one test with two jump targets; `and`, `or` and `not`
//! exist only as those targets, so evaluating a rule is a short loop over a
//! contiguous array — no recursion, no pointer chasing, no allocation.
//! A rule set concatenates every rule's ops into one program, so a pass over
//! 1,000 rules reads memory front to back.
//!
//! Fields are read through an [`Env`] by slot number; string equality and
//! list membership compare the value's hash before its bytes.

use super::env::Env;
use super::fields::Value;
use super::text::{bytes_eq, str_eq, text_test};
use super::tree::{OrdOp, TextOp};

/// Jump target meaning "the condition holds".
pub(super) const TRUE: u32 = u32::MAX;
/// Jump target meaning "the condition does not hold".
pub(super) const FALSE: u32 = u32::MAX - 1;

/// One test and where to go next.
#[derive(Debug, Clone, Copy)]
pub(super) struct Op {
    pub test: Test,
    pub on_true: u32,
    pub on_false: u32,
}

/// A test. `slot` numbers a field of the program's field list; `lit` and
/// `start` index [`Program::lits`]; `set` indexes [`Program::sets`].
/// Variants with a `slot` are the frequent shapes, evaluated inline.
#[derive(Debug, Clone, Copy)]
pub(super) enum Test {
    /// `field == true` (also a bool field standing alone) or `== false`.
    IsBool {
        slot: u32,
        value: bool,
    },
    /// `field == null`: the field is absent.
    IsNull {
        slot: u32,
    },
    /// `field <op> number`.
    NumCmp {
        slot: u32,
        op: OrdOp,
        rhs: f64,
    },
    /// `field == "text"`; `hash` is the literal's.
    StrEq {
        slot: u32,
        lit: u32,
        hash: u64,
    },
    /// A field against a short list of strings.
    StrList {
        slot: u32,
        start: u32,
        len: u32,
    },
    /// A field against a long list of strings.
    InSet {
        slot: u32,
        set: u32,
    },
    /// Any other ordering: two fields, or two literals.
    Order {
        lhs: Operand,
        op: OrdOp,
        rhs: Operand,
    },
    /// Any other equality.
    Eq {
        lhs: Operand,
        rhs: Operand,
    },
    /// Any other membership: numbers, bools, mixed lists for metadata.
    InList {
        arg: Operand,
        start: u32,
        len: u32,
    },
    Text {
        arg: Operand,
        op: TextOp,
        lit: u32,
    },
}

/// An operand of the generic tests.
#[derive(Debug, Clone, Copy)]
pub(super) enum Operand {
    Slot(u32),
    Lit(u32),
    /// The bool result of the sub-program starting at this op.
    Cond(u32),
}

/// A literal; strings live in [`Program::text`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum LitV {
    Null,
    Bool(bool),
    Num(f64),
    Str { start: u32, len: u32, hash: u64 },
}

/// An open-addressing set of string literals. The table is at least twice
/// as long as the set, so a probe meets an empty entry soon, and its entries
/// are 8 bytes, so a probe rarely leaves one cache line.
#[derive(Debug, Clone)]
pub(super) struct StrSet {
    /// Shift giving the home index: `hash >> shift`.
    pub shift: u32,
    /// `(low 32 bits of the hash, index in lits)`; `EMPTY` index: no entry.
    pub table: Box<[(u32, u32)]>,
}

pub(super) const EMPTY: u32 = u32::MAX;

/// Ops, literals, string text and sets of one rule or one rule set.
#[derive(Debug, Clone, Default)]
pub(super) struct Program {
    pub ops: Vec<Op>,
    pub lits: Vec<LitV>,
    pub text: String,
    pub sets: Vec<StrSet>,
}

impl Program {
    /// A literal's text, as bytes: slicing bytes skips the char-boundary
    /// checks (two more memory reads) that slicing the `String` would do.
    #[inline]
    fn bytes(&self, start: u32, len: u32) -> &[u8] {
        &self.text.as_bytes()[start as usize..(start + len) as usize]
    }

    /// A string literal's bytes (empty for other literals, which the
    /// lowering never puts where a string is expected).
    #[inline]
    fn lit_bytes(&self, i: u32) -> &[u8] {
        match self.lits[i as usize] {
            LitV::Str { start, len, .. } => self.bytes(start, len),
            _ => &[],
        }
    }

    /// A literal as a value, for the generic tests.
    fn str(&self, start: u32, len: u32) -> &str {
        &self.text[start as usize..(start + len) as usize]
    }

    fn lit(&self, i: u32) -> Value<'_> {
        match self.lits[i as usize] {
            LitV::Null => Value::Null,
            LitV::Bool(b) => Value::Bool(b),
            LitV::Num(n) => Value::Num(n),
            LitV::Str { start, len, .. } => Value::Str(self.str(start, len)),
        }
    }

    /// Runs the program from `pc` to a verdict. Inlined so that a rule set's
    /// loop sets up once for all its rules, not once per rule.
    #[inline(always)]
    pub(super) fn run<'f, E: Env<'f>>(&self, env: &E, mut pc: u32) -> bool {
        while pc < FALSE {
            let op = &self.ops[pc as usize];
            pc = if self.test(env, &op.test) { op.on_true } else { op.on_false };
        }
        pc == TRUE
    }

    /// A sub-condition used as a value; out of line, as recursion must be.
    #[inline(never)]
    fn run_nested<'f, E: Env<'f>>(&self, env: &E, pc: u32) -> bool {
        self.run(env, pc)
    }

    fn operand<'v, 'f: 'v, E: Env<'f>>(&'v self, env: &E, o: Operand) -> Value<'v> {
        match o {
            Operand::Slot(slot) => env.value(slot),
            Operand::Lit(i) => self.lit(i),
            Operand::Cond(pc) => Value::Bool(self.run_nested(env, pc)),
        }
    }

    /// The frequent, cheap tests, inlined into [`Program::run`]'s loop.
    #[inline(always)]
    fn test<'f, E: Env<'f>>(&self, env: &E, test: &Test) -> bool {
        match *test {
            Test::IsBool { slot, value } => env.value(slot) == Value::Bool(value),
            Test::NumCmp { slot, op, rhs } => match env.value(slot) {
                Value::Num(x) => op.test(x, rhs),
                _ => false,
            },
            // The hash settles almost every mismatch without touching the literal.
            Test::StrEq { slot, lit, hash } => match env.value(slot) {
                Value::Str(s) => {
                    env.hash(slot, s) == hash && bytes_eq(s.as_bytes(), self.lit_bytes(lit))
                }
                _ => false,
            },
            Test::InSet { slot, set } => match env.value(slot) {
                Value::Str(s) => self.contains(&self.sets[set as usize], s, env.hash(slot, s)),
                _ => false,
            },
            Test::StrList { slot, start, len } => match env.value(slot) {
                Value::Str(s) => {
                    let (h, s) = (env.hash(slot, s), s.as_bytes());
                    self.lits[start as usize..(start + len) as usize].iter().any(|l| match *l {
                        LitV::Str { start, len, hash } => {
                            hash == h && bytes_eq(s, self.bytes(start, len))
                        }
                        _ => false,
                    })
                }
                _ => false,
            },
            Test::Text { arg: Operand::Slot(slot), op, lit } => match env.value(slot) {
                Value::Str(s) => text_test(op, s, self.lit_bytes(lit)),
                _ => false,
            },
            _ => self.test_other(env, test),
        }
    }

    /// The rest, kept out of line so the loop stays small.
    #[inline(never)]
    fn test_other<'f, E: Env<'f>>(&self, env: &E, test: &Test) -> bool {
        match *test {
            Test::IsNull { slot } => env.value(slot) == Value::Null,
            Test::Order { lhs, op, rhs } => {
                match (self.operand(env, lhs), self.operand(env, rhs)) {
                    (Value::Num(a), Value::Num(b)) => op.test(a, b),
                    _ => false,
                }
            }
            Test::Eq { lhs, rhs } => match (self.operand(env, lhs), self.operand(env, rhs)) {
                (Value::Str(a), Value::Str(b)) => str_eq(a, b),
                (a, b) => a == b,
            },
            Test::InList { arg, start, len } => {
                let v = self.operand(env, arg);
                (start..start + len).any(|i| self.lit(i) == v)
            }
            Test::Text { arg, op, lit } => match self.operand(env, arg) {
                Value::Str(s) => text_test(op, s, self.lit_bytes(lit)),
                _ => false,
            },
            Test::IsBool { .. }
            | Test::NumCmp { .. }
            | Test::StrEq { .. }
            | Test::InSet { .. }
            | Test::StrList { .. } => self.test(env, test),
        }
    }

    fn contains(&self, set: &StrSet, s: &str, hash: u64) -> bool {
        let mask = set.table.len() - 1;
        let mut i = (hash >> set.shift) as usize;
        loop {
            let (low, lit) = set.table[i];
            if lit == EMPTY {
                return false;
            }
            if low == hash as u32 && bytes_eq(s.as_bytes(), self.lit_bytes(lit)) {
                return true;
            }
            i = (i + 1) & mask;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn op_stays_small() {
        // Two ops per cache line: the rule set streams through them.
        assert!(std::mem::size_of::<Op>() <= 32, "{}", std::mem::size_of::<Op>());
    }
}
