//! Synthetic, deterministic organisations for benchmarks and load tests:
//! realistic rule sets, large blocklists and request streams (pay-ins and
//! payouts), generated from a seed so every run measures the same work.

use crate::blocklist::{FlowScope, ListType, Severity};
use crate::normalize::{Clabe, Iban};
use crate::wire::{
    Address, AmountUnit, AssessRequest, Behavior, Beneficiary, Device, PaymentMethod,
    PayoutChannel, PayoutDetails, PayoutOrigin, PayoutRequest,
};

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

/// ABM codes of SPEI participants the CLABE generator draws banks from.
const SPEI_BANKS: &[&str] =
    &["002", "012", "014", "021", "030", "036", "044", "058", "072", "127", "137", "646"];

/// The `n`-th synthetic CLABE: a real bank code, plaza 180, account number
/// `n` (mod 10^11) and the correct check digit. Distinct for distinct
/// `n` below 10^11.
pub fn clabe(n: u64) -> String {
    let bank = SPEI_BANKS[(n % SPEI_BANKS.len() as u64) as usize];
    let body = format!("{bank}180{:011}", n % 100_000_000_000);
    Clabe::from_body(&body).expect("17 digits").as_str().to_owned()
}

/// The `n`-th synthetic IBAN, cycling through Germany, Spain, the
/// Netherlands and the United Kingdom, with correct check digits. Distinct
/// for distinct `n` below 10^10.
pub fn iban(n: u64) -> String {
    let account = n / 4 % 10_000_000_000;
    let (country, bban) = match n % 4 {
        0 => ("DE", format!("37040044{account:010}")),
        1 => ("ES", format!("21000418{account:012}")),
        2 => ("NL", format!("ABNA{account:010}")),
        _ => ("GB", format!("NWBK6016{account:010}")),
    };
    Iban::from_bban(country, &bban).expect("a conforming BBAN").as_str().to_owned()
}

/// `n` distinct payout blocklist entries: mostly CLABEs and IBANs, some
/// account hashes, beneficiary ids and SWIFT/BIC codes; mostly scoped to
/// payouts, some to every flow and a few (wrongly, as happens) to pay-ins.
/// The accounts never collide with those of [`payout_request`].
pub fn payout_blocklist(n: usize, seed: u64) -> Vec<SyntheticEntry> {
    let mut s = Seq::new(seed);
    let severities = [Severity::Block, Severity::Block, Severity::Flag, Severity::Review];
    let scopes = [FlowScope::Payout, FlowScope::Payout, FlowScope::All, FlowScope::Payin];
    (0..n)
        .map(|i| {
            let sev = *s.pick(&severities);
            let scope = *s.pick(&scopes);
            // Offsets keep blocked accounts apart from the requests' ones.
            let k = 50_000_000_000 + i as u64;
            let (t, v) = match i % 20 {
                0..=7 => (ListType::Clabe, clabe(k)),
                8..=13 => (ListType::Iban, iban(k)),
                14 | 15 => (
                    ListType::AccountHash,
                    format!("{:064x}", (i as u128).wrapping_mul(0xD1B5_4A32_D192_ED03)),
                ),
                16 => (ListType::SwiftBic, bic(i as u64)),
                _ => (ListType::BeneficiaryId, format!("ben_bad_{i}")),
            };
            (t, v, sev, scope)
        })
        .collect()
}

/// A distinct, well-formed 8-character SWIFT/BIC per `n` below 26^4.
fn bic(n: u64) -> String {
    let letters: String =
        (0..4).map(|k| char::from(b'A' + (n / 26u64.pow(k) % 26) as u8)).collect();
    let country = ["MX", "US", "DE", "ES", "GB"][(n % 5) as usize];
    format!("{letters}{country}2X")
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

/// A realistic payout; `i` varies the origin account and the beneficiary
/// so velocity and known-beneficiary keys spread. Mostly domestic SPEI
/// payouts to a CLABE in MXN (the payout guide's spelling one time in two,
/// the bank guide's the other), one in ten a cross-border USD wire to an IBAN.
pub fn payout_request(i: u64) -> PayoutRequest {
    let mut s = Seq::new(i.wrapping_add(7));
    let minor = 10_000 + s.below(10_000_000);
    let cross_border = i % 10 == 9;
    let beneficiary = if cross_border {
        Beneficiary {
            id: Some(format!("ben_{}", i % 100_000)),
            name: Some(format!("Supplier {} GmbH", i % 100_000)),
            iban: Some(iban(i % 100_000)),
            ..Default::default()
        }
    } else {
        Beneficiary {
            id: Some(format!("ben_{}", i % 100_000)),
            name: Some(format!("Beneficiario {} SA de CV", i % 100_000)),
            country: Some("MX".into()),
            clabe: Some(clabe(i % 100_000)),
            ..Default::default()
        }
    };
    let payout = match (cross_border, i % 2) {
        (true, _) => PayoutDetails { channel: Some(PayoutChannel::Wire), ..Default::default() },
        (false, 0) => PayoutDetails {
            channel: Some(PayoutChannel::Api),
            rail: Some("spei".into()),
            ..Default::default()
        },
        (false, _) => PayoutDetails { channel: Some(PayoutChannel::Spei), ..Default::default() },
    };
    PayoutRequest {
        amount: minor as f64 / 100.0,
        currency: if cross_border { "USD" } else { "MXN" }.into(),
        amount_unit: Some(AmountUnit::Major),
        beneficiary,
        origin: Some(PayoutOrigin {
            account_id: Some(format!("acct_{}", i % 20_000)),
            country: Some("MX".into()),
        }),
        payout: Some(PayoutDetails {
            initiated_by: Some(format!("ops{}@bank.mx", i % 50)),
            first_to_beneficiary: Some(s.below(10) == 0),
            ..payout
        }),
        idempotency_key: Some(format!("payout-{i}")),
        payment_id: Some(format!("spei_{i}")),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Rule;
    use crate::transaction::Transaction;

    #[test]
    fn generated_accounts_are_valid_and_distinct() {
        let clabes: std::collections::HashSet<String> = (0..5_000).map(clabe).collect();
        let ibans: std::collections::HashSet<String> = (0..5_000).map(iban).collect();
        assert_eq!((clabes.len(), ibans.len()), (5_000, 5_000));
        for c in &clabes {
            assert_eq!(Clabe::parse(c).unwrap().as_str(), c);
        }
        for i in &ibans {
            assert_eq!(Iban::parse(i).unwrap().as_str(), i);
        }
        assert_eq!(clabe(50_000_000_000).len(), 18);
        assert!(Iban::parse(&iban(50_000_000_003)).is_ok());
    }

    #[test]
    fn payout_entries_normalise_and_miss_the_requests() {
        let entries = payout_blocklist(2_000, 3);
        let mut seen = std::collections::HashSet::new();
        for (t, v, _, _) in &entries {
            let n = t.normalize(v).unwrap_or_else(|e| panic!("{t:?} {v}: {e}"));
            assert!(seen.insert((*t, n)), "duplicate {t:?} {v}");
        }
        for t in [
            ListType::Clabe,
            ListType::Iban,
            ListType::AccountHash,
            ListType::SwiftBic,
            ListType::BeneficiaryId,
        ] {
            assert!(entries.iter().any(|e| e.0 == t), "{t:?}");
        }
        for i in 0..200 {
            let tx = Transaction::from_payout_wire(&payout_request(i)).unwrap();
            let b = &tx.payout.as_ref().unwrap().beneficiary;
            let clabe = b.clabe.as_ref().map(|c| c.as_str().to_owned());
            assert!(!entries.iter().any(|e| Some(&e.1) == clabe.as_ref()));
        }
        assert_eq!(payout_blocklist(50, 1), payout_blocklist(50, 1));
    }

    #[test]
    fn payout_requests_use_both_spellings_and_cross_borders() {
        let txs: Vec<Transaction> =
            (0..20).map(|i| Transaction::from_payout_wire(&payout_request(i)).unwrap()).collect();
        let rails = |c: PayoutChannel| {
            txs.iter().filter(|t| t.payout.as_ref().unwrap().channel == Some(c)).count()
        };
        assert!(rails(PayoutChannel::Api) > 0 && rails(PayoutChannel::Spei) > 0);
        assert!(txs.iter().all(|t| t.payout.as_ref().unwrap().rail.is_some()));
        assert_eq!(txs.iter().filter(|t| t.amount.currency().code() == "USD").count(), 2);
    }

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
