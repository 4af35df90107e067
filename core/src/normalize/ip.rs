//! IP addresses and CIDR ranges in one canonical form.
//!
//! IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are what a dual-stack
//! socket reports for an IPv4 client; we fold them to plain IPv4 so that a
//! blocklisted `1.2.3.4` matches however the proxy chain spelled it.

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use super::Invalid;

/// A single IPv4 or IPv6 address, IPv4-mapped IPv6 folded to IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpAddress(IpAddr);

impl IpAddress {
    /// Trims and parses an address. Zone ids (`fe80::1%eth0`) and ports
    /// (`1.2.3.4:443`, `[::1]:443`) are refused: neither identifies a payer.
    pub fn parse(raw: &str) -> Result<IpAddress, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::new("IP address is empty"));
        }
        if s.contains('%') {
            return Err(Invalid::new("IP address must not include a zone id (%…)"));
        }
        match s.parse::<IpAddr>() {
            Ok(addr) => Ok(IpAddress::from_addr(addr)),
            Err(_) if s.parse::<SocketAddr>().is_ok() => {
                Err(Invalid::new("IP address must not include a port"))
            }
            Err(_) => Err(Invalid::new("not a valid IPv4 or IPv6 address")),
        }
    }

    /// Wraps an already-parsed address (from a socket, say), folding
    /// IPv4-mapped IPv6 to IPv4.
    pub fn from_addr(addr: IpAddr) -> IpAddress {
        match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddress(IpAddr::V4(v4)),
                None => IpAddress(IpAddr::V6(v6)),
            },
            v4 => IpAddress(v4),
        }
    }

    /// The address.
    pub fn addr(&self) -> IpAddr {
        self.0
    }

    /// Whether this is an IPv4 address.
    pub fn is_ipv4(&self) -> bool {
        self.0.is_ipv4()
    }

    /// The address as a number: IPv4 in the low 32 bits, IPv6 as all 128.
    /// An IPv4 and an IPv6 address can map to the same number, so keys built
    /// from it must include the family too.
    pub fn bits(&self) -> u128 {
        addr_bits(self.0)
    }
}

impl fmt::Display for IpAddress {
    /// Canonical form: dotted quad, or RFC 5952 compressed lower-case IPv6.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A CIDR range with its host bits cleared, IPv4-mapped IPv6 folded to IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct IpRange(IpNet);

impl IpRange {
    /// Parses `10.0.0.0/8` or `2001:db8::/32`; a bare address becomes a /32
    /// (or /128). Host bits are cleared (`10.1.2.3/8` → `10.0.0.0/8`), so two
    /// spellings of the same range compare equal.
    pub fn parse(raw: &str) -> Result<IpRange, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::new("IP range is empty"));
        }
        if !s.contains('/') {
            let ip = IpAddress::parse(s)?;
            let net = match ip.addr() {
                IpAddr::V4(v4) => IpNet::V4(Ipv4Net::from(v4)),
                IpAddr::V6(v6) => IpNet::V6(Ipv6Net::from(v6)),
            };
            return Ok(IpRange(net));
        }
        if s.contains('%') {
            return Err(Invalid::new("IP range must not include a zone id (%…)"));
        }
        let net: IpNet = s.parse().map_err(|_| {
            Invalid::new("not a valid CIDR range (expected e.g. 10.0.0.0/8 or 2001:db8::/32)")
        })?;
        Ok(IpRange::from_net(net))
    }

    /// Wraps an already-parsed network, clearing host bits and folding
    /// IPv4-mapped IPv6 ranges (prefix ≥ 96) to IPv4.
    pub fn from_net(net: IpNet) -> IpRange {
        let net = net.trunc();
        if let IpNet::V6(v6) = net
            && v6.prefix_len() >= 96
            && let Some(v4) = v6.network().to_ipv4_mapped()
        {
            // Prefix ≥ 96 keeps the whole ::ffff:0:0/96 marker, so every
            // address of the range is mapped and the v4 range is exact.
            // (96..=128 minus 96 is always a valid IPv4 prefix.)
            if let Ok(folded) = Ipv4Net::new(v4, v6.prefix_len() - 96) {
                return IpRange(IpNet::V4(folded));
            }
        }
        IpRange(net)
    }

    /// The network.
    pub fn net(&self) -> IpNet {
        self.0
    }

    /// Whether `ip` lies in the range. Addresses of the other family never do.
    pub fn contains(&self, ip: &IpAddress) -> bool {
        self.0.contains(&ip.addr())
    }

    /// The prefix length: 0..=32 for IPv4, 0..=128 for IPv6.
    pub fn prefix_len(&self) -> u8 {
        self.0.prefix_len()
    }

    /// Whether this is an IPv4 range.
    pub fn is_ipv4(&self) -> bool {
        matches!(self.0, IpNet::V4(_))
    }

    /// The network address as a number (IPv4 in the low 32 bits). Equal to
    /// [`masked_bits`] of any address in the range at [`IpRange::prefix_len`].
    pub fn network_bits(&self) -> u128 {
        addr_bits(self.0.network())
    }
}

impl fmt::Display for IpRange {
    /// `network/prefix`, e.g. `10.0.0.0/8`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// The address bits of `ip` with everything after the first `prefix_len`
/// bits cleared, in the [`IpRange::network_bits`] layout (IPv4 in the low 32
/// bits). A prefix longer than the family allows is treated as the full
/// length. Lets an index probe CIDR entries by prefix length with one hash
/// lookup each: `ip` is in `range` iff the families match and
/// `masked_bits(ip, range.prefix_len()) == range.network_bits()`.
pub fn masked_bits(ip: &IpAddress, prefix_len: u8) -> u128 {
    match ip.addr() {
        IpAddr::V4(v4) => {
            let bits = u32::from(v4);
            let keep = u32::from(prefix_len.min(32));
            // checked_shl: shifting a u32 by 32 is an overflow, and /0 keeps nothing.
            let mask = u32::MAX.checked_shl(32 - keep).unwrap_or(0);
            u128::from(bits & mask)
        }
        IpAddr::V6(v6) => {
            let bits = u128::from(v6);
            let keep = u32::from(prefix_len.min(128));
            let mask = u128::MAX.checked_shl(128 - keep).unwrap_or(0);
            bits & mask
        }
    }
}

fn addr_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{Ipv4Addr, Ipv6Addr};

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn parses_and_canonicalises_addresses() {
        assert_eq!(IpAddress::parse(" 201.150.10.22 ").unwrap().to_string(), "201.150.10.22");
        assert_eq!(IpAddress::parse("2001:DB8:0:0::1").unwrap().to_string(), "2001:db8::1");
        let mapped = IpAddress::parse("::ffff:1.2.3.4").unwrap();
        assert!(mapped.is_ipv4());
        assert_eq!(mapped.to_string(), "1.2.3.4");
        assert_eq!(mapped, IpAddress::parse("1.2.3.4").unwrap());
        assert_eq!(mapped.bits(), 0x0102_0304);
    }

    #[test]
    fn refuses_ports_zones_and_junk() {
        let port = IpAddress::parse("1.2.3.4:443").unwrap_err();
        assert!(port.to_string().contains("port"));
        assert!(!port.to_string().contains("1.2.3.4"));
        assert!(IpAddress::parse("[::1]:443").unwrap_err().to_string().contains("port"));
        assert!(IpAddress::parse("fe80::1%eth0").unwrap_err().to_string().contains("zone"));
        for bad in ["", "1.2.3", "1.2.3.256", "01.2.3.4", "localhost", "1.2.3.4/32"] {
            assert!(IpAddress::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn parses_ranges() {
        let r = IpRange::parse("10.1.2.3/8").unwrap();
        assert_eq!(r.to_string(), "10.0.0.0/8");
        assert_eq!((r.prefix_len(), r.is_ipv4(), r.network_bits()), (8, true, 0x0A00_0000));
        assert!(r.contains(&IpAddress::parse("10.255.0.1").unwrap()));
        assert!(!r.contains(&IpAddress::parse("11.0.0.1").unwrap()));
        assert!(r.contains(&IpAddress::parse("::ffff:10.9.9.9").unwrap()));

        let r = IpRange::parse("2001:db8::ff/32").unwrap();
        assert_eq!(r.to_string(), "2001:db8::/32");
        assert!(!r.is_ipv4());
        assert!(r.contains(&IpAddress::parse("2001:db8:1::1").unwrap()));
        assert!(!r.contains(&IpAddress::parse("10.0.0.1").unwrap()));

        assert_eq!(IpRange::parse("1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(IpRange::parse("::1").unwrap().to_string(), "::1/128");
        assert_eq!(IpRange::parse("::ffff:1.2.3.4").unwrap().to_string(), "1.2.3.4/32");
        assert_eq!(IpRange::parse("::ffff:10.0.0.0/104").unwrap().to_string(), "10.0.0.0/8");
        // Below /96 the range spans non-mapped addresses too: stays IPv6.
        assert_eq!(IpRange::parse("::ffff:0:0/80").unwrap().to_string(), "::/80");
        assert_eq!(IpRange::parse("0.0.0.0/0").unwrap().prefix_len(), 0);
    }

    #[test]
    fn refuses_bad_ranges() {
        for bad in
            ["", "10.0.0.0/33", "2001:db8::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8", "fe80::%1/64"]
        {
            assert!(IpRange::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn masked_bits_matches_network_bits() {
        let ip = IpAddress::parse("192.168.37.200").unwrap();
        assert_eq!(masked_bits(&ip, 32), 0xC0A8_25C8);
        assert_eq!(masked_bits(&ip, 24), 0xC0A8_2500);
        assert_eq!(masked_bits(&ip, 0), 0);
        assert_eq!(masked_bits(&ip, 200), 0xC0A8_25C8);
        let v6 = IpAddress::parse("2001:db8::1").unwrap();
        assert_eq!(masked_bits(&v6, 128), u128::from("2001:db8::1".parse::<Ipv6Addr>().unwrap()));
        assert_eq!(masked_bits(&v6, 0), 0);
    }

    proptest! {
        #[test]
        fn never_panics(s in any::<String>(), p in any::<u8>(), a in any::<u128>()) {
            let _ = IpAddress::parse(&s);
            let _ = IpRange::parse(&s);
            let _ = masked_bits(&IpAddress::from_addr(IpAddr::V6(Ipv6Addr::from(a))), p);
        }

        #[test]
        fn v4_containment_agrees_with_masking(a in any::<u32>(), n in any::<u32>(), p in 0u8..=32) {
            let ip = IpAddress::from_addr(IpAddr::V4(Ipv4Addr::from(a)));
            let range = IpRange::parse(&format!("{}/{p}", Ipv4Addr::from(n))).unwrap();
            prop_assert_eq!(range.contains(&ip), masked_bits(&ip, p) == range.network_bits());
            prop_assert_eq!(IpRange::parse(&range.to_string()), Ok(range));
        }

        #[test]
        fn v6_containment_agrees_with_masking(a in any::<u128>(), n in any::<u128>(), p in 0u8..=128) {
            let ip = IpAddress::from_addr(IpAddr::V6(Ipv6Addr::from(a)));
            let range = IpRange::parse(&format!("{}/{p}", Ipv6Addr::from(n))).unwrap();
            if ip.is_ipv4() == range.is_ipv4() {
                let p = range.prefix_len();
                prop_assert_eq!(range.contains(&ip), masked_bits(&ip, p) == range.network_bits());
            }
            prop_assert_eq!(IpRange::parse(&range.to_string()), Ok(range));
            prop_assert_eq!(IpAddress::parse(&ip.to_string()), Ok(ip));
        }
    }
}
