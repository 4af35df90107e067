//! Synthetic, deterministic organisations for benchmarks and load tests:
//! realistic rule sets, large blocklists and request streams, generated from
//! a seed so every run measures the same work.

use crate::blocklist::{FlowScope, ListType, Severity};
use crate::wire::{Address, AssessRequest, Behavior, Device, PaymentMethod};

/// A small deterministic generator (xorshift64*): no dependency, same
/// sequence on every platform.
#[derive(Debug, Clone)]
pub struct Seq(u64);

impl Seq {
    /// A generator from a seed (0 is replaced by a constant).
    pub fn new(seed: u64) -> Self {
        Seq(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A value below `n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// One element of `items`.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

const COUNTRIES: &[&str] = &[
    "MX", "US", "BR", "CO", "AR", "CL", "PE", "UY", "ES", "NG", "RU", "CN", "IN", "GB", "DE", "FR",
    "VE", "EC", "GT", "PA", "CR", "DO", "PY", "BO",
];
const DOMAINS: &[&str] = &[
    "gmail.com",
    "hotmail.com",
    "yahoo.com",
    "outlook.com",
    "icloud.com",
    "empresa.mx",
    "correo.cl",
];

/// A blocklist entry as generated: list type, raw value, severity, scope.
pub type SyntheticEntry = (ListType, String, Severity, FlowScope);

/// `n` distinct blocklist entries spread over every pay-in list type, in
/// roughly the proportions a large organisation accumulates (mostly
/// emails, IPs, devices and phones; some BINs and CIDR ranges).
pub fn blocklist(n: usize, seed: u64) -> Vec<SyntheticEntry> {
    let mut s = Seq::new(seed);
    let mut out = Vec::with_capacity(n);
    let severities = [Severity::Block, Severity::Block, Severity::Flag, Severity::Review];
    let scopes = [FlowScope::All, FlowScope::All, FlowScope::Payin, FlowScope::Payout];
    for i in 0..n {
        let sev = *s.pick(&severities);
        let scope = *s.pick(&scopes);
        let (t, v) = match i % 20 {
            0..=5 => (ListType::Email, format!("bad{i}@{}", s.pick(DOMAINS))),
            6 => (ListType::EmailDomain, format!("spam{i}.example")),
            7..=9 => (ListType::IpAddress, ipv4(i as u32 + 0x0B00_0000)),
            10 => {
                let len = *s.pick(&[16u8, 20, 24, 28, 32]);
                (
                    ListType::IpRange,
                    format!("{}/{len}", ipv4((i as u32).wrapping_mul(2_654_435_761))),
                )
            }
            11..=13 => (ListType::DeviceFingerprint, format!("fp_bad_{i:08x}")),
            14 => (ListType::CardBin, format!("{:08}", 10_000_000 + i % 89_999_999)),
            15 => (
                ListType::CardHash,
                format!("{:064x}", (i as u128).wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            ),
            16 | 17 => (ListType::Phone, format!("+52155{:08}", i % 100_000_000)),
            18 => (ListType::CustomerId, format!("cus_bad_{i}")),
            _ => (ListType::Email, format!("fraudster{i}@{}", s.pick(DOMAINS))),
        };
        out.push((t, v, sev, scope));
    }
    out
}

fn ipv4(n: u32) -> String {
    let b = n.to_be_bytes();
    format!("{}.{}.{}.{}", b[0], b[1], b[2], b[3])
}

/// `n` custom rules in the shapes operators write: amount thresholds,
/// country and domain lists, velocity, behaviour, metadata and score
/// conditions, combined with `and` / `or` / `not`. About one in two
/// hundred matches a typical request (five of a thousand).
pub fn rules(n: usize, seed: u64) -> Vec<(String, String)> {
    let mut s = Seq::new(seed);
    (0..n)
        .map(|i| {
            let amount = 10_000 * (1 + s.below(200));
            let countries: Vec<String> =
                (0..20).map(|_| format!("\"{}\"", s.pick(COUNTRIES))).collect();
            let domains: Vec<String> =
                (0..50).map(|k| format!("\"d{}-{k}.example\"", s.below(1000))).collect();
            let when = match i % 10 {
                0 => format!("amount > {amount} and billing.country in [{}]", countries.join(", ")),
                1 => format!("email.domain in [{}]", domains.join(", ")),
                2 => format!(
                    "velocity.email.count_1h >= {} or velocity.ip.count_10m >= {}",
                    3 + s.below(10),
                    2 + s.below(5)
                ),
                3 => {
                    format!("payment_method.card_country != billing.country and amount >= {amount}")
                }
                4 => format!(
                    "behavior.session_duration_ms < {} and not (device.webdriver == false)",
                    500 + s.below(3000)
                ),
                5 => format!("metadata.channel == \"ch{}\" and amount > {amount}", s.below(50)),
                6 => format!(
                    "score >= {} and payment_method.card_brand == \"amex\"",
                    20 + s.below(60)
                ),
                7 => {
                    format!("velocity.card.sum_24h > {} or history.fraud_reports > 0", amount * 10)
                }
                8 => format!("currency == \"USD\" and amount_major > {}", 100 + s.below(10_000)),
                _ => format!(
                    "device.ip_country in [{}] and not (billing.country == \"MX\")",
                    countries.join(", ")
                ),
            };
            // One rule in two hundred is written to match the typical request.
            let when = if i % 200 == 199 {
                "amount >= 0 and currency == \"MXN\"".to_owned()
            } else {
                when
            };
            let then = match s.below(10) {
                0 => "review".to_owned(),
                1 => "challenge".to_owned(),
                _ => format!("add {} as rule_signal_{}", 1 + s.below(5), i % 97),
            };
            (format!("rule_{i:04}"), format!("when {when}\nthen {then}"))
        })
        .collect()
}

/// A realistic pay-in request; `i` varies the payer so velocity keys spread.
pub fn request(i: u64) -> AssessRequest {
    let mut s = Seq::new(i.wrapping_add(1));
    AssessRequest {
        amount: (500 + s.below(200_000)) as f64,
        currency: "MXN".into(),
        email: Some(format!("customer{}@{}", i % 50_000, s.pick(DOMAINS))),
        phone: Some(format!("+52155{:08}", i % 100_000_000)),
        customer_id: Some(format!("cus_{}", i % 50_000)),
        order_id: Some(format!("ORD-{i}")),
        payment_method: Some(PaymentMethod {
            kind: Some("card".into()),
            card_bin: Some("411111".into()),
            card_last4: Some(format!("{:04}", i % 10_000)),
            card_country: Some("MX".into()),
            card_brand: Some("visa".into()),
            ..Default::default()
        }),
        device: Some(Device {
            ip: Some(ipv4(0xC996_0000 | (i as u32 & 0xFFFF))),
            fingerprint: Some(format!("fp_{:08x}", i % 40_000)),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Chrome/120".into()),
            timezone: Some("America/Mexico_City".into()),
            webdriver: Some(false),
        }),
        behavior: Some(Behavior {
            session_duration_ms: Some(5_000 + s.below(60_000)),
            mouse_movements: Some(40 + s.below(200)),
            keyboard_events: Some(30 + s.below(100)),
            copy_paste_events: Some(0),
        }),
        billing: Some(Address {
            country: Some("MX".into()),
            city: Some("CDMX".into()),
            postal_code: Some("06600".into()),
        }),
        metadata: Some([("channel".to_owned(), serde_json::json!("web"))].into_iter().collect()),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;
    use crate::transaction::Transaction;

    #[test]
    fn generated_rules_compile_and_entries_normalise() {
        for (name, src) in rules(200, 7) {
            Rule::compile(&src).unwrap_or_else(|e| panic!("{name}: {e}\n{src}"));
        }
        for (t, v, _, _) in blocklist(2_000, 7) {
            t.normalize(&v).unwrap_or_else(|e| panic!("{t:?} {v}: {e}"));
        }
        for i in 0..100 {
            Transaction::from_wire(&request(i)).unwrap();
        }
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(rules(50, 1), rules(50, 1));
        assert_eq!(blocklist(50, 1), blocklist(50, 1));
        assert_ne!(rules(50, 1), rules(50, 2));
    }
}

#[cfg(test)]
mod workload {
    use super::*;
    use crate::{
        blocklist::BlocklistIndex,
        digest::DigestKey,
        engine::{self, Context, OrgConfig},
        history::HistoryView,
        policy::Policy,
        rules::{Rule, RuleSet},
        transaction::Transaction,
        velocity::VelocitySnapshot,
        wire::Flow,
    };

    /// The benchmark workload stays realistic: a typical request fires a
    /// handful of the thousand rules, not dozens.
    #[test]
    fn typical_requests_fire_a_handful_of_rules() {
        let rules = RuleSet::new(
            rules(1000, 1).into_iter().map(|(n, s)| (n, Rule::compile(&s).unwrap())).collect(),
        );
        let bl = BlocklistIndex::new(DigestKey::new([1; 16]));
        let p = Policy::default();
        let org = OrgConfig { policy: &p, blocklist: &bl, rules: &rules };
        let (v, h) = (VelocitySnapshot::default(), HistoryView::default());
        let ctx = Context {
            flow: Flow::Payin,
            ip_country: None,
            velocity: &v,
            history: &h,
            now_ms: 0,
            payout: None,
        };
        let mut total = 0;
        for i in 0..200 {
            let tx = Transaction::from_wire(&request(i)).unwrap();
            total += engine::assess(&org, &tx, &ctx).signals.len();
        }
        let average = total as f64 / 200.0;
        assert!((5.0..=12.0).contains(&average), "average signals per request: {average}");
    }
}
