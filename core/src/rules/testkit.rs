//! Test and benchmark fixtures: a typical request as [`Facts`], a map-backed
//! [`Facts`], and a generator of 1,000 varied, realistic rules.
//!
//! Shared by the unit tests and `benches/rules.rs` (which includes this file
//! with `#[path]`), so the timing test and the benchmark measure the same
//! workload. It only names items its parent module imports, which is why it
//! reads `super::` and never `crate::`.

use std::collections::HashMap;

use super::{Facts, Field, Rule, RuleSet, Value};

/// A typical card payment: 1,500.00 MXN from a Gmail payer in Mexico on the
/// web, first purchase this hour. The engine's real context looks alike:
/// plain fields read by one `match`.
pub struct Typical {
    /// Earlier counts and sums, by dimension, window and stat.
    pub velocity: [[[f64; 2]; 3]; 6],
    /// Signals that fired before rules.
    pub signals: Vec<&'static str>,
    /// The request's metadata.
    pub metadata: Vec<(&'static str, Value<'static>)>,
}

impl Typical {
    /// The typical request.
    pub fn new() -> Typical {
        let mut velocity = [[[0.0; 2]; 3]; 6];
        // Email, card and device each seen once in the last hour and day.
        for d in [0, 1, 3] {
            for w in [1, 2] {
                velocity[d][w] = [1.0, 120_000.0];
            }
        }
        Typical {
            velocity,
            signals: vec!["short_session"],
            metadata: vec![
                ("channel", Value::Str("web")),
                ("segment", Value::Str("retail")),
                ("items", Value::Num(3.0)),
                ("gift", Value::Bool(false)),
            ],
        }
    }
}

impl Facts for Typical {
    fn get(&self, field: &Field) -> Value<'_> {
        use Value::{Bool, Null, Num, Str};
        match field {
            Field::Amount => Num(150_000.0),
            Field::AmountMajor => Num(1_500.0),
            Field::Currency => Str("MXN"),
            Field::TransactionType => Str("payment"),
            Field::Email => Str("ana.garcia@gmail.com"),
            Field::EmailDomain => Str("gmail.com"),
            Field::EmailTld => Str("com"),
            Field::CustomerId => Str("cus_8812"),
            Field::PmType => Str("card"),
            Field::PmCardBin => Str("415231"),
            Field::PmCardCountry
            | Field::BillingCountry
            | Field::ShippingCountry
            | Field::DeviceIpCountry => Str("MX"),
            Field::PmCardBrand => Str("visa"),
            Field::DeviceIp => Str("201.150.10.22"),
            Field::DeviceWebdriver => Bool(false),
            Field::SessionDurationMs => Num(18_230.0),
            Field::MouseMovements => Num(142.0),
            Field::KeyboardEvents => Num(61.0),
            Field::CopyPasteEvents => Num(0.0),
            Field::Velocity { dimension, window, stat } => {
                Num(self.velocity[*dimension as usize][*window as usize][*stat as usize])
            }
            Field::HistoryFraudReports => Num(0.0),
            Field::HistoryApprovedCount => Num(3.0),
            Field::Score => Num(8.0),
            Field::Signal(code) => Bool(self.signals.iter().any(|s| **s == **code)),
            Field::Metadata(key) => {
                self.metadata.iter().find(|(k, _)| **k == **key).map_or(Null, |(_, v)| *v)
            }
            _ => Null,
        }
    }
}

/// Facts from a map; absent keys are `Null`.
#[allow(dead_code)] // the benchmark includes this file but only uses `Typical`
#[derive(Default)]
pub struct MapFacts(pub HashMap<Field, Value<'static>>);

#[allow(dead_code)]
impl MapFacts {
    /// Facts from `(path, value)` pairs.
    pub fn of(pairs: &[(&str, Value<'static>)]) -> MapFacts {
        MapFacts(pairs.iter().map(|(p, v)| (Field::parse_path(p).expect(p), *v)).collect())
    }
}

impl Facts for MapFacts {
    fn get(&self, field: &Field) -> Value<'_> {
        self.0.get(field).copied().unwrap_or(Value::Null)
    }
}

const COUNTRIES: &[&str] = &[
    "AR", "BO", "BR", "CL", "CO", "CR", "CU", "DO", "EC", "SV", "GT", "HN", "NI", "PA", "PY", "PE",
    "PR", "UY", "VE", "US", "CA", "ES", "PT", "FR", "DE", "IT", "GB", "NL", "BE", "CH", "RU", "UA",
    "BY", "KZ", "CN", "HK", "IN", "PK", "BD", "VN", "TH", "ID", "PH", "MY", "NG", "GH", "KE", "ZA",
    "EG", "MA", "TR", "IR", "IQ", "SA", "AE", "IL", "JP", "KR", "AU", "NZ",
];

/// A tiny deterministic generator, so every run measures the same rules.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, below: usize) -> usize {
        self.0 =
            self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % below
    }

    fn countries(&mut self, n: usize, with_mx: bool) -> String {
        let mut picked: Vec<String> = Vec::new();
        while picked.len() < n - usize::from(with_mx) {
            let c = format!("\"{}\"", COUNTRIES[self.next(COUNTRIES.len())]);
            if !picked.contains(&c) {
                picked.push(c);
            }
        }
        if with_mx {
            // Lower-case on purpose: literal normalisation must make it `MX`.
            picked.insert(self.next(picked.len()), "\"mx\"".into());
        }
        picked.join(", ")
    }

    fn domains(&mut self, n: usize, with_gmail: bool) -> String {
        let base = self.next(10_000);
        let mut out: Vec<String> =
            (0..n).map(|k| format!("\"tmp{}mail{}.com\"", base + k, k % 7)).collect();
        if with_gmail {
            out[self.next(n)] = "\"Gmail.com\"".into();
        }
        out.join(", ")
    }
}

/// The source of rule `i`; `hit` says whether it must match [`Typical`].
fn source(i: usize, hit: bool, g: &mut Lcg) -> String {
    let w = 5 + g.next(40);
    let n = |g: &mut Lcg, lo: usize, span: usize| lo + g.next(span);
    match (i % 10, hit) {
        (0, false) => format!(
            "when amount > {} and payment_method.card_country != billing.country\nthen add {w} as foreign_card_{i}",
            n(g, 100_000, 900_000)
        ),
        (0, true) => format!(
            "when amount >= {} and payment_method.card_country == billing.country then add {w} as domestic_{i}",
            n(g, 1_000, 140_000)
        ),
        (1, h) => format!(
            "when billing.country in [{}] and amount >= {} then review as risky_country_{i}",
            g.countries(20, h),
            if h { 50_000 } else { n(g, 10_000, 500_000) }
        ),
        (2, h) => format!(
            "# disposable domains, batch {i}\nwhen email.domain in [{}] or email.tld in [\"xyz\", \"top\", \"click\"] then decline as disposable_{i}",
            g.domains(50, h)
        ),
        (3, false) => format!(
            "when velocity.email.count_1h >= {} or velocity.ip.count_10m > {} then add {w} as burst_{i}",
            n(g, 3, 10),
            n(g, 2, 5)
        ),
        (3, true) => format!(
            "when velocity.email.count_1h >= 1 and velocity.card.sum_24h > {} then add {w} as repeat_{i}",
            n(g, 1_000, 100_000)
        ),
        (4, h) => format!(
            "when metadata.channel == \"{}\" and amount_major > {} then challenge",
            if h { "web" } else { ["pos", "app", "ivr"][g.next(3)] },
            n(g, 100, 1_000)
        ),
        (5, h) => format!(
            "when not (device.webdriver == true) and behavior.session_duration_ms < {} and metadata.segment != \"{}\" then review as too_fast_{i}",
            n(g, 2_000, 10_000) + if h { 20_000 } else { 0 },
            if h { "wholesale" } else { "retail" }
        ),
        (6, false) => format!(
            "when (currency == \"usd\" or currency == \"eur\") and velocity.card.sum_24h > {} then add {w} as fx_volume_{i}",
            n(g, 100_000, 1_000_000)
        ),
        (6, true) => format!(
            "when (currency == \"mxn\" or currency == \"usd\") and metadata.items >= {} then add -{w} as basket_{i}",
            n(g, 1, 3)
        ),
        (7, false) => format!(
            "when email ends_with \".{}\" or email contains \"+{}\" or email starts_with \"test{}\" then add {w} as odd_email_{i}",
            ["ru", "xyz", "top"][g.next(3)],
            g.next(100),
            g.next(100)
        ),
        (7, true) => format!(
            "when email ends_with \"@GMAIL.com\" and behavior.mouse_movements > {} then add -{w} as human_{i}",
            n(g, 10, 100)
        ),
        (8, false) => format!(
            "when signal.disposable_email and score >= {} then decline as disposable_scored_{i}",
            n(g, 10, 50)
        ),
        (8, true) => format!(
            "when signal.short_session and score >= {} then add {w} as short_scored_{i}",
            n(g, 1, 8)
        ),
        (9, false) => format!(
            "when device.ip_country not in [{}] and history.fraud_reports > {} then decline",
            g.countries(20, false),
            g.next(3)
        ),
        (_, _) => format!(
            "when device.ip_country not in [{}] and history.approved_count >= {} then add -{w} as known_{i}",
            g.countries(20, false),
            n(g, 1, 3)
        ),
    }
}

/// `count` rule sources; rule `i` matches [`Typical`] when
/// `(i / 10) % 20 == i % 10`, so one in 20 does, spread over every shape.
pub fn rule_sources(count: usize) -> Vec<String> {
    let mut g = Lcg(0x5eed);
    (0..count).map(|i| source(i, (i / 10) % 20 == i % 10, &mut g)).collect()
}

/// The compiled rule set of `count` generated rules.
pub fn rule_set(count: usize) -> RuleSet {
    let rules = rule_sources(count)
        .iter()
        .enumerate()
        .map(|(i, s)| {
            (format!("rule_{i}"), Rule::compile(s).unwrap_or_else(|e| panic!("{e}\n{s}")))
        })
        .collect();
    RuleSet::new(rules)
}
