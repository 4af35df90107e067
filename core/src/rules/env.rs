//! Where a program reads field values from: straight from the facts (one
//! rule on its own), or from a per-request cache (a whole rule set).

use super::fields::{Facts, Field, Value};
use super::text::hash_str;

/// Where a program reads field values from.
pub(super) trait Env<'f> {
    /// The value in `slot`.
    fn value(&self, slot: u32) -> Value<'f>;
    /// The hash of `s`, the string value in `slot`.
    fn hash(&self, slot: u32, s: &str) -> u64;
}

/// Reads straight from the facts: for one rule on its own.
pub(super) struct Direct<'f> {
    pub facts: &'f dyn Facts,
    pub fields: &'f [Field],
}

impl<'f> Env<'f> for Direct<'f> {
    #[inline]
    fn value(&self, slot: u32) -> Value<'f> {
        self.facts.get(&self.fields[slot as usize])
    }

    #[inline]
    fn hash(&self, _: u32, s: &str) -> u64 {
        hash_str(s)
    }
}

/// Slots read up front by [`Cached`]; the rest are read on use. A fixed array
/// keeps evaluation free of allocation.
pub(super) const CACHED_SLOTS: usize = 64;

/// Every field read once, string values hashed once: for a rule set.
pub(super) struct Cached<'f> {
    direct: Direct<'f>,
    values: [(Value<'f>, u64); CACHED_SLOTS],
}

impl<'f> Cached<'f> {
    pub(super) fn new(facts: &'f dyn Facts, fields: &'f [Field]) -> Cached<'f> {
        let mut values = [(Value::Null, 0); CACHED_SLOTS];
        for (slot, field) in values.iter_mut().zip(fields) {
            let v = facts.get(field);
            *slot = (v, if let Value::Str(s) = v { hash_str(s) } else { 0 });
        }
        Cached { direct: Direct { facts, fields }, values }
    }
}

impl<'f> Env<'f> for Cached<'f> {
    #[inline]
    fn value(&self, slot: u32) -> Value<'f> {
        match self.values.get(slot as usize) {
            Some(v) => v.0,
            None => self.direct.value(slot),
        }
    }

    #[inline]
    fn hash(&self, slot: u32, s: &str) -> u64 {
        match self.values.get(slot as usize) {
            Some(v) => v.1,
            None => hash_str(s),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Counts reads, to show the cache reads each field once.
    struct Counting(Cell<usize>);

    impl Facts for Counting {
        fn get(&self, field: &Field) -> Value<'_> {
            self.0.set(self.0.get() + 1);
            match field {
                Field::Email => Value::Str("a@b.c"),
                Field::Amount => Value::Num(1.0),
                _ => Value::Null,
            }
        }
    }

    #[test]
    fn cached_reads_each_field_once_and_hashes_strings() {
        let facts = Counting(Cell::new(0));
        let fields = [Field::Email, Field::Amount, Field::Phone];
        let env = Cached::new(&facts, &fields);
        for _ in 0..3 {
            assert_eq!(env.value(0), Value::Str("a@b.c"));
            assert_eq!(env.value(1), Value::Num(1.0));
            assert_eq!(env.value(2), Value::Null);
        }
        assert_eq!(facts.0.get(), 3);
        assert_eq!(env.hash(0, "a@b.c"), hash_str("a@b.c"));
        let direct = Direct { facts: &facts, fields: &fields };
        assert_eq!(direct.value(1), Value::Num(1.0));
        assert_eq!(direct.hash(0, "x"), hash_str("x"));
        assert_eq!(facts.0.get(), 4);
    }
}
