//! Custom rules: evaluating a set of 1,000 varied rules against a typical
//! request (the number that matters on every assessment), plus compiling.
//!
//! The workload comes from `src/rules/testkit.rs`, shared with the unit
//! tests: amount thresholds, countries in lists of 20, email domains in
//! lists of 50, velocity and metadata comparisons, text matches, signals,
//! and `and`/`or`/`not` mixtures; one rule in 20 matches the request.

use std::hint::black_box;

use clausum_core::rules::{Facts, Field, Rule, RuleSet, Value};
use criterion::{BatchSize, Criterion, criterion_main};

#[path = "../src/rules/testkit.rs"]
mod testkit;

fn evaluate(c: &mut Criterion) {
    let set = testkit::rule_set(1000);
    let facts = testkit::Typical::new();
    assert_eq!(set.evaluate(&facts).len(), 50, "one rule in 20 matches");
    c.bench_function("rules/evaluate_1000", |b| b.iter(|| set.evaluate(black_box(&facts))));

    let rule = Rule::compile(
        "when email.domain in [\"mailinator.com\", \"yopmail.com\"] or velocity.email.count_1h >= 5\n\
         then decline",
    )
    .expect("valid rule");
    c.bench_function("rules/matches_one", |b| b.iter(|| rule.matches(black_box(&facts))));
}

fn compile(c: &mut Criterion) {
    let sources = testkit::rule_sources(1000);
    c.bench_function("rules/compile_1000", |b| {
        b.iter(|| {
            let rules: Vec<Rule> =
                sources.iter().map(|s| Rule::compile(black_box(s)).expect("valid")).collect();
            rules
        })
    });
    let rules: Vec<(String, Rule)> = sources
        .iter()
        .enumerate()
        .map(|(i, s)| (format!("rule_{i}"), Rule::compile(s).expect("valid")))
        .collect();
    c.bench_function("rules/rule_set_new_1000", |b| {
        b.iter_batched(|| rules.clone(), RuleSet::new, BatchSize::LargeInput)
    });
}

mod group {
    //! The benchmark group (in a module so the macro's `pub fn` needs no docs).
    use super::{compile, evaluate};
    criterion::criterion_group!(benches, evaluate, compile);
}

criterion_main!(group::benches);
