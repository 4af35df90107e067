//! The custom rules language: any text either compiles or is refused with
//! a line and column inside the text; a compiled rule evaluates (alone and
//! in a set, through the jump program) without panicking whatever the facts.
#![no_main]

use clausum_core::rules::{Facts, Field, Rule, RuleSet, Value};
use libfuzzer_sys::fuzz_target;

/// Every field reads the same value, chosen by the input's first byte.
struct Same(Value<'static>);

impl Facts for Same {
    fn get(&self, _field: &Field) -> Value<'_> {
        self.0
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, text)) = data.split_first() else { return };
    let Ok(source) = std::str::from_utf8(text) else { return };
    let rule = match Rule::compile(source) {
        Ok(rule) => rule,
        Err(e) => {
            let lines = source.split('\n').count();
            assert!(e.line >= 1 && e.line as usize <= lines, "line {} of {lines}: {e}", e.line);
            return;
        }
    };
    let facts = match pick % 5 {
        0 => Same(Value::Null),
        1 => Same(Value::Bool(true)),
        2 => Same(Value::Num(f64::from(pick) * 1e6 - 3.5)),
        3 => Same(Value::Num(f64::NAN)),
        _ => Same(Value::Str("es-MX@example.com")),
    };
    let alone = rule.matches(&facts);
    let set = RuleSet::new(vec![("fuzzed".to_owned(), rule)]);
    let fired = set.evaluate(&facts);
    assert_eq!(alone, !fired.is_empty(), "the rule and its compiled program disagree");
});
