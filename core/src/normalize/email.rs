//! Email addresses and email domains.
//!
//! The rules are deliberately simpler than RFC 5322: we want the addresses
//! real payers have, in one canonical spelling, so that blocklists and
//! velocity counters see `Jane@Example.COM` and `jane@example.com` as the
//! same payer. Quoted local parts, comments and IP-literal domains are
//! refused; internationalised domains must arrive in punycode (`xn--…`).

use std::{collections::HashSet, fmt, sync::OnceLock};

use super::Invalid;

/// Longest local part (RFC 5321 §4.5.3.1.1).
const MAX_LOCAL: usize = 64;
/// Longest domain (RFC 1035, without the trailing root dot).
const MAX_DOMAIN: usize = 253;
/// Longest whole address (RFC 5321 path limit minus the angle brackets).
const MAX_EMAIL: usize = 254;
/// Longest DNS label (RFC 1035).
const MAX_LABEL: usize = 63;

/// Top-level domains that are cheap or free to register and, in public abuse
/// statistics (Spamhaus, Interisle), carry a disproportionate share of
/// throw-away and fraud registrations. Seeing one is a weak signal, never a
/// block on its own. Sorted, lower case, without the dot.
pub const RISKY_TLDS: &[&str] = &[
    "accountant",
    "bid",
    "buzz",
    "cf",
    "click",
    "country",
    "cricket",
    "date",
    "download",
    "faith",
    "ga",
    "gq",
    "kim",
    "loan",
    "men",
    "ml",
    "mov",
    "party",
    "racing",
    "rest",
    "review",
    "science",
    "stream",
    "tk",
    "top",
    "trade",
    "win",
    "work",
    "xyz",
    "zip",
];

/// A syntactically valid, lower-cased email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email {
    value: String,
    /// Byte index of the `@` in `value`.
    at: usize,
}

impl Email {
    /// Trims, lower-cases and checks an address.
    pub fn parse(raw: &str) -> Result<Email, Invalid> {
        let value = raw.trim().to_lowercase();
        if value.is_empty() {
            return Err(Invalid::new("email is empty"));
        }
        let mut parts = value.split('@');
        let (Some(local), Some(domain), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Invalid::new("email must contain exactly one @"));
        };
        check_local(local)?;
        check_domain(domain)?;
        if value.chars().count() > MAX_EMAIL {
            return Err(Invalid::new("email must be at most 254 characters"));
        }
        let at = local.len();
        Ok(Email { value, at })
    }

    /// The whole address, e.g. `jane@example.com`.
    pub fn as_str(&self) -> &str {
        &self.value
    }

    /// The part before the `@`.
    pub fn local(&self) -> &str {
        &self.value[..self.at]
    }

    /// The part after the `@`, e.g. `mail.example.com`.
    pub fn domain(&self) -> &str {
        &self.value[self.at + 1..]
    }

    /// The last label of the domain, e.g. `com` (or an `xn--` label).
    pub fn tld(&self) -> &str {
        tld_of(self.domain())
    }

    /// The domain and each parent domain with at least two labels:
    /// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`.
    /// Used to match blocklisted domains against subdomains.
    pub fn domain_suffixes(&self) -> impl Iterator<Item = &str> {
        suffixes_of(self.domain())
    }

    /// Whether the domain (or a parent of it) belongs to a disposable-email
    /// provider, according to the `mailchecker` list.
    pub fn is_disposable(&self) -> bool {
        is_disposable_domain(self.domain())
    }

    /// Whether the top-level domain is in [`RISKY_TLDS`].
    pub fn has_risky_tld(&self) -> bool {
        RISKY_TLDS.binary_search(&self.tld()).is_ok()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// A lower-cased email domain, as used by `email_domain` blocklist entries.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EmailDomain(String);

impl EmailDomain {
    /// Trims, drops one leading `@` (people paste `@example.com`), lower-cases
    /// and checks a domain with the same rules as [`Email`] domains.
    pub fn parse(raw: &str) -> Result<EmailDomain, Invalid> {
        let trimmed = raw.trim();
        let trimmed = trimmed.strip_prefix('@').unwrap_or(trimmed);
        let domain = trimmed.to_lowercase();
        check_domain(&domain)?;
        Ok(EmailDomain(domain))
    }

    /// The domain, e.g. `example.com`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The last label, e.g. `com`.
    pub fn tld(&self) -> &str {
        tld_of(&self.0)
    }

    /// Whether the domain (or a parent of it) is a disposable-email provider.
    pub fn is_disposable(&self) -> bool {
        is_disposable_domain(&self.0)
    }

    /// The domain and each parent domain with at least two labels:
    /// `a.b.example.com` → `a.b.example.com`, `b.example.com`, `example.com`.
    pub fn suffixes(&self) -> impl Iterator<Item = &str> {
        suffixes_of(&self.0)
    }
}

impl fmt::Display for EmailDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn check_local(local: &str) -> Result<(), Invalid> {
    if local.is_empty() {
        return Err(Invalid::new("email has nothing before the @"));
    }
    if local.chars().count() > MAX_LOCAL {
        return Err(Invalid::new(
            "the part of the email before the @ must be at most 64 characters",
        ));
    }
    if local.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Invalid::new("email must not contain spaces or control characters"));
    }
    Ok(())
}

fn check_domain(domain: &str) -> Result<(), Invalid> {
    if domain.is_empty() {
        return Err(Invalid::new("email domain is empty"));
    }
    if !domain.is_ascii() {
        return Err(Invalid::new(
            "email domain must be ASCII; send internationalised domains in punycode (xn--…)",
        ));
    }
    // ASCII from here on, so byte length == character count.
    if domain.len() > MAX_DOMAIN {
        return Err(Invalid::new("email domain must be at most 253 characters"));
    }
    let mut labels = 0usize;
    for label in domain.split('.') {
        labels += 1;
        if label.is_empty() {
            return Err(Invalid::new(
                "email domain has an empty label (two dots in a row, or a leading or trailing dot)",
            ));
        }
        if label.len() > MAX_LABEL {
            return Err(Invalid::new("email domain has a label longer than 63 characters"));
        }
        if !label.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(Invalid::new(
                "email domain may only contain letters, digits, hyphens and dots",
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(Invalid::new("email domain labels must not start or end with a hyphen"));
        }
    }
    if labels < 2 {
        return Err(Invalid::new("email domain must have at least two labels, e.g. example.com"));
    }
    let tld = tld_of(domain);
    if !(tld.bytes().all(|b| b.is_ascii_lowercase()) || tld.starts_with("xn--")) {
        return Err(Invalid::new("email domain must end in an alphabetic top-level domain"));
    }
    Ok(())
}

fn tld_of(domain: &str) -> &str {
    domain.rsplit('.').next().unwrap_or(domain)
}

/// `domain` and every parent with at least two labels, longest first.
fn suffixes_of(domain: &str) -> impl Iterator<Item = &str> {
    std::iter::once(0)
        .chain(domain.match_indices('.').map(|(i, _)| i + 1))
        .map(move |start| &domain[start..])
        .take_while(|suffix| suffix.contains('.'))
}

/// The mailchecker list as a hash set, built on first use.
///
/// `mailchecker::is_valid` scans its ~55,000-domain list linearly for every
/// suffix of the domain (tens of microseconds per call) and re-checks the
/// address syntax with rules stricter than ours; a set lookup per suffix
/// costs nanoseconds and depends on the domain only.
fn disposable_set() -> &'static HashSet<&'static str> {
    static SET: OnceLock<HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| mailchecker::blacklist().into_iter().collect())
}

fn is_disposable_domain(domain: &str) -> bool {
    let set = disposable_set();
    suffixes_of(domain).any(|suffix| set.contains(suffix))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn normalises_case_and_whitespace() {
        let e = Email::parse("  Jane.Doe+shop@Example.COM \n").unwrap();
        assert_eq!(e.as_str(), "jane.doe+shop@example.com");
        assert_eq!(e.local(), "jane.doe+shop");
        assert_eq!(e.domain(), "example.com");
        assert_eq!(e.tld(), "com");
        assert_eq!(e.to_string(), "jane.doe+shop@example.com");
    }

    #[test]
    fn lower_cases_unicode_local_parts() {
        let e = Email::parse("ÁNGEL@example.mx").unwrap();
        assert_eq!(e.local(), "ángel");
    }

    #[test]
    fn accepts_punycode() {
        let e = Email::parse("a@xn--mnchen-3ya.de").unwrap();
        assert_eq!(e.domain(), "xn--mnchen-3ya.de");
        let e = Email::parse("a@example.xn--p1ai").unwrap();
        assert_eq!(e.tld(), "xn--p1ai");
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "   ",
            "no-at-sign",
            "two@@example.com",
            "a@b@example.com",
            "@example.com",
            "jane@",
            "jane doe@example.com",
            "jane\u{7}@example.com",
            "jane@localhost",
            "jane@example..com",
            "jane@.example.com",
            "jane@example.com.",
            "jane@-example.com",
            "jane@example-.com",
            "jane@exa_mple.com",
            "jane@example.c0m",
            "jane@example.123",
            "jane@münchen.de",
            "jane@[127.0.0.1]",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn enforces_lengths() {
        let local64 = "a".repeat(64);
        assert!(Email::parse(&format!("{local64}@example.com")).is_ok());
        assert!(Email::parse(&format!("a{local64}@example.com")).is_err());

        let label63 = "b".repeat(63);
        assert!(Email::parse(&format!("a@{label63}.com")).is_ok());
        assert!(Email::parse(&format!("a@b{label63}.com")).is_err());

        // 4 × 63-char labels + 3 dots = 255 > 253.
        let long_domain = [label63.as_str(); 4].join(".");
        assert!(Email::parse(&format!("a@{long_domain}")).is_err());

        // Domain of exactly 253 characters but total of 64 + 1 + 253 > 254.
        let domain253 =
            format!("{}.{}.{}.{}", "c".repeat(63), "c".repeat(63), "c".repeat(63), "c".repeat(61));
        assert_eq!(domain253.len(), 253);
        assert!(EmailDomain::parse(&domain253).is_ok());
        assert!(Email::parse(&format!("{local64}@{domain253}")).is_err());
    }

    #[test]
    fn errors_never_echo_the_value() {
        let secret = "4111111111111111";
        for raw in [format!("{secret}@@x.com"), format!("{secret}@x"), format!("{secret} @x.com")] {
            let err = Email::parse(&raw).unwrap_err();
            assert!(!err.to_string().contains(secret));
        }
    }

    #[test]
    fn disposable_domains_are_detected() {
        assert!(Email::parse("someone@mailinator.com").unwrap().is_disposable());
        assert!(Email::parse("someone@sub.33mail.com").unwrap().is_disposable());
        assert!(!Email::parse("someone@gmail.com").unwrap().is_disposable());
        // A local part mailchecker's own syntax check would refuse must not
        // make a normal domain look disposable.
        assert!(!Email::parse("josé@gmail.com").unwrap().is_disposable());
        assert!(EmailDomain::parse("guerrillamailblock.com").unwrap().is_disposable());
    }

    #[test]
    fn risky_tlds() {
        assert!(RISKY_TLDS.windows(2).all(|w| w[0] < w[1]), "RISKY_TLDS must stay sorted");
        assert!(Email::parse("a@shop.xyz").unwrap().has_risky_tld());
        assert!(Email::parse("a@shop.TK").unwrap().has_risky_tld());
        assert!(!Email::parse("a@shop.com.mx").unwrap().has_risky_tld());
    }

    #[test]
    fn email_domain_parsing() {
        let d = EmailDomain::parse(" @Mail.Example.COM ").unwrap();
        assert_eq!(d.as_str(), "mail.example.com");
        assert_eq!(d.to_string(), "mail.example.com");
        assert_eq!(d.tld(), "com");
        assert!(EmailDomain::parse("com").is_err());
        assert!(EmailDomain::parse("@@example.com").is_err());
        assert!(EmailDomain::parse("").is_err());
    }

    #[test]
    fn suffixes_walk_up_to_two_labels() {
        let d = EmailDomain::parse("a.b.example.com").unwrap();
        assert_eq!(
            d.suffixes().collect::<Vec<_>>(),
            ["a.b.example.com", "b.example.com", "example.com"]
        );
        let d = EmailDomain::parse("example.com").unwrap();
        assert_eq!(d.suffixes().collect::<Vec<_>>(), ["example.com"]);
        let e = Email::parse("x@mail.example.co.uk").unwrap();
        assert_eq!(
            e.domain_suffixes().collect::<Vec<_>>(),
            ["mail.example.co.uk", "example.co.uk", "co.uk"]
        );
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in any::<String>()) {
            let _ = Email::parse(&s);
            let _ = EmailDomain::parse(&s);
        }

        #[test]
        fn parse_is_idempotent(
            local in "[A-Za-z0-9._%+-]{1,20}",
            labels in prop::collection::vec("[A-Za-z0-9]{1,10}", 1..4),
            tld in "(com|MX|org|xn--p1ai|Xyz)",
        ) {
            let raw = format!(" {local}@{}.{tld} ", labels.join("."));
            let e = Email::parse(&raw).unwrap();
            prop_assert_eq!(Email::parse(e.as_str()), Ok(e.clone()));
            let d = EmailDomain::parse(e.domain()).unwrap();
            prop_assert_eq!(d.as_str(), e.domain());
            // Every suffix is itself a valid domain.
            for s in e.domain_suffixes() {
                prop_assert!(EmailDomain::parse(s).is_ok());
            }
        }
    }
}
