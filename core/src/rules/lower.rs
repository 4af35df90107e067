//! Lowering: checked trees to one flat [`Program`].
//!
//! A condition is emitted backwards with its jump targets known: `a and b`
//! is `a` jumping to `b` when true and to the rule's "false" when not;
//! `not a` is `a` with its targets swapped. Each rule's ops are then
//! appended in execution order. The commonest shapes get dedicated tests
//! (`field <op> number`, `field == "text"`, `field == true`, string lists
//! and sets), and the operands of `and`/`or` are tested cheapest first.

use std::collections::{HashMap, HashSet};

use super::fields::Field;
use super::program::{EMPTY, FALSE, LitV, Op, Operand, Program, StrSet, TRUE, Test};
use super::text::hash_str;
use super::tree::{Arg, Lit, Node};

/// String lists longer than this become hash sets; shorter ones scan faster.
pub(super) const SET_THRESHOLD: usize = 8;

/// Builds one program from any number of rules.
#[derive(Default)]
pub(super) struct Builder {
    program: Program,
    fields: Vec<Field>,
    slots: HashMap<Field, u32>,
    /// The rule being emitted, in reverse execution order.
    local: Vec<Op>,
}

impl Builder {
    /// Adds a rule reading `fields` (in first-use order, so slots follow it)
    /// and returns its entry point.
    pub(super) fn add(&mut self, fields: &[Field], tree: &Node) -> u32 {
        for field in fields {
            self.slot(field);
        }
        self.local.clear();
        let entry = self.emit(tree, TRUE, FALSE);
        let base = u32::try_from(self.program.ops.len()).expect("fewer than 4 billion ops");
        let last = self.local.len() as u32 - u32::from(!self.local.is_empty());
        // Local index `i` lands at `base + last - i`; verdicts stay as they are.
        let at = |t: u32| if t >= FALSE { t } else { base + last - t };
        for op in self.local.iter().rev() {
            let mut op = *op;
            op.on_true = at(op.on_true);
            op.on_false = at(op.on_false);
            let relocate = |o: &mut Operand| {
                if let Operand::Cond(pc) = o {
                    *pc = at(*pc);
                }
            };
            match &mut op.test {
                Test::Order { lhs, rhs, .. } | Test::Eq { lhs, rhs } => {
                    relocate(lhs);
                    relocate(rhs);
                }
                Test::InList { arg, .. } | Test::Text { arg, .. } => relocate(arg),
                _ => {}
            }
            self.program.ops.push(op);
        }
        at(entry)
    }

    /// The program and the field of each slot.
    pub(super) fn finish(self) -> (Program, Vec<Field>) {
        (self.program, self.fields)
    }

    fn slot(&mut self, field: &Field) -> u32 {
        if let Some(&slot) = self.slots.get(field) {
            return slot;
        }
        let slot = self.fields.len() as u32;
        self.fields.push(field.clone());
        self.slots.insert(field.clone(), slot);
        slot
    }

    fn push(&mut self, test: Test, on_true: u32, on_false: u32) -> u32 {
        self.local.push(Op { test, on_true, on_false });
        self.local.len() as u32 - 1
    }

    fn text(&mut self, s: &str) -> (u32, u32) {
        let start = self.program.text.len();
        u32::try_from(start + s.len()).expect("less than 4 GiB of literal text");
        self.program.text.push_str(s);
        (start as u32, s.len() as u32)
    }

    fn lit(&mut self, lit: &Lit) -> u32 {
        let v = match lit {
            Lit::Null => LitV::Null,
            Lit::Bool(b) => LitV::Bool(*b),
            Lit::Num(n) => LitV::Num(*n),
            Lit::Str(s) => {
                let (start, len) = self.text(s);
                LitV::Str { start, len, hash: hash_str(s) }
            }
        };
        self.program.lits.push(v);
        self.program.lits.len() as u32 - 1
    }

    fn lits(&mut self, items: &[Lit]) -> (u32, u32) {
        let start = self.program.lits.len() as u32;
        for item in items {
            self.lit(item);
        }
        (start, items.len() as u32)
    }

    fn operand(&mut self, arg: &Arg) -> Operand {
        match arg {
            Arg::Field(f) => Operand::Slot(self.slot(f)),
            Arg::Lit(l) => Operand::Lit(self.lit(l)),
            Arg::Cond(node) => Operand::Cond(self.emit(node, TRUE, FALSE)),
        }
    }

    /// Emits `node` to continue at `t` when it holds and `f` when not;
    /// returns where its code starts (or a verdict, for constants).
    fn emit(&mut self, node: &Node, t: u32, f: u32) -> u32 {
        let test = match node {
            Node::Const(b) => return if *b { t } else { f },
            Node::All(items) => {
                return cheapest_first(items).rev().fold(t, |next, item| self.emit(item, next, f));
            }
            Node::Any(items) => {
                return cheapest_first(items).rev().fold(f, |next, item| self.emit(item, t, next));
            }
            Node::Not(inner) => return self.emit(inner, f, t),
            Node::IsTrue(field) => Test::IsBool { slot: self.slot(field), value: true },
            Node::Order { lhs: Arg::Field(field), op, rhs: Arg::Lit(Lit::Num(n)) } => {
                Test::NumCmp { slot: self.slot(field), op: *op, rhs: *n }
            }
            Node::Order { lhs: Arg::Lit(Lit::Num(n)), op, rhs: Arg::Field(field) } => {
                Test::NumCmp { slot: self.slot(field), op: op.flip(), rhs: *n }
            }
            Node::Order { lhs, op, rhs } => {
                Test::Order { lhs: self.operand(lhs), op: *op, rhs: self.operand(rhs) }
            }
            Node::Eq { lhs: Arg::Field(field), rhs: Arg::Lit(lit @ Lit::Str(s)) }
            | Node::Eq { lhs: Arg::Lit(lit @ Lit::Str(s)), rhs: Arg::Field(field) } => {
                Test::StrEq { slot: self.slot(field), lit: self.lit(lit), hash: hash_str(s) }
            }
            Node::Eq { lhs: Arg::Field(field), rhs: Arg::Lit(Lit::Bool(value)) }
            | Node::Eq { lhs: Arg::Lit(Lit::Bool(value)), rhs: Arg::Field(field) } => {
                Test::IsBool { slot: self.slot(field), value: *value }
            }
            Node::Eq { lhs: Arg::Field(field), rhs: Arg::Lit(Lit::Null) }
            | Node::Eq { lhs: Arg::Lit(Lit::Null), rhs: Arg::Field(field) } => {
                Test::IsNull { slot: self.slot(field) }
            }
            Node::Eq { lhs, rhs } => Test::Eq { lhs: self.operand(lhs), rhs: self.operand(rhs) },
            Node::In { arg: Arg::Field(field), items }
                if !items.is_empty() && items.iter().all(|i| matches!(i, Lit::Str(_))) =>
            {
                let slot = self.slot(field);
                if items.len() > SET_THRESHOLD {
                    Test::InSet { slot, set: self.set(items) }
                } else {
                    let (start, len) = self.lits(items);
                    Test::StrList { slot, start, len }
                }
            }
            Node::In { arg, items } => {
                let arg = self.operand(arg);
                let (start, len) = self.lits(items);
                Test::InList { arg, start, len }
            }
            Node::Text { arg, op, pattern } => {
                let arg = self.operand(arg);
                Test::Text { arg, op: *op, lit: self.lit(&Lit::Str(pattern.clone())) }
            }
        };
        self.push(test, t, f)
    }

    /// A set of the distinct strings of `items`.
    fn set(&mut self, items: &[Lit]) -> u32 {
        let mut seen = HashSet::new();
        let members: Vec<&str> = items
            .iter()
            .filter_map(|i| if let Lit::Str(s) = i { Some(&**s) } else { None })
            .filter(|s| seen.insert(*s))
            .collect();
        let size = (members.len() * 2).next_power_of_two().max(2);
        let shift = 64 - size.trailing_zeros();
        let mut table = vec![(0u32, EMPTY); size].into_boxed_slice();
        for s in members {
            let hash = hash_str(s);
            let lit = self.lit(&Lit::Str(s.into()));
            let mut i = (hash >> shift) as usize;
            while table[i].1 != EMPTY {
                i = (i + 1) & (size - 1);
            }
            table[i] = (hash as u32, lit);
        }
        self.program.sets.push(StrSet { shift, table });
        self.program.sets.len() as u32 - 1
    }
}

/// The operands of an `and`/`or`, cheapest first. Conditions have no side
/// effects, so the order never changes a result, only how soon a cheap
/// test settles it.
fn cheapest_first(items: &[Node]) -> std::vec::IntoIter<&Node> {
    let mut items: Vec<&Node> = items.iter().collect();
    items.sort_by_key(|n| cost(n));
    items.into_iter()
}

/// A rough relative cost of evaluating `node`.
fn cost(node: &Node) -> u32 {
    let arg = |a: &Arg| if let Arg::Cond(n) = a { cost(n) } else { 0 };
    match node {
        Node::Const(_) => 0,
        Node::All(items) | Node::Any(items) => items.iter().map(cost).sum(),
        Node::Not(inner) => cost(inner),
        Node::IsTrue(_) => 1,
        Node::Order { lhs, rhs, .. } | Node::Eq { lhs, rhs } => 1 + arg(lhs) + arg(rhs),
        Node::In { arg: a, items } if items.len() > SET_THRESHOLD => 3 + arg(a),
        Node::In { arg: a, items } => 1 + (items.len() as u32).div_ceil(2) + arg(a),
        Node::Text { arg: a, .. } => 6 + arg(a),
    }
}

#[cfg(test)]
#[path = "lower_tests.rs"]
mod tests;
