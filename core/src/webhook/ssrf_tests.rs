use proptest::prelude::*;

use super::*;

fn why(s: &str) -> Option<&'static str> {
    forbidden_ip(s.parse().unwrap())
}

/// Asserts every address in `inside` is refused with a reason containing
/// `needle`, and every address in `outside` is allowed.
fn range(needle: &str, inside: &[&str], outside: &[&str]) {
    for ip in inside {
        let reason = why(ip).unwrap_or_else(|| panic!("{ip} should be forbidden ({needle})"));
        assert!(reason.contains(needle), "{ip}: {reason:?} should mention {needle:?}");
    }
    for ip in outside {
        assert_eq!(why(ip), None, "{ip} should be allowed");
    }
}

#[test]
fn public_unicast_is_allowed() {
    for ip in [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "201.150.10.22",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001:80b::200e",
    ] {
        assert_eq!(why(ip), None, "{ip}");
    }
}

#[test]
fn ipv4_special_ranges() {
    range(
        "loopback",
        &["127.0.0.1", "127.0.0.0", "127.255.255.255", "127.1.2.3"],
        &["128.0.0.0", "126.255.255.255"],
    );
    range("unspecified", &["0.0.0.0"], &[]);
    range("this network", &["0.0.0.1", "0.255.255.255"], &["1.0.0.0"]);
    range(
        "10.0.0.0/8",
        &["10.0.0.0", "10.0.0.1", "10.255.255.255"],
        &["9.255.255.255", "11.0.0.0"],
    );
    range(
        "172.16.0.0/12",
        &["172.16.0.0", "172.20.1.1", "172.31.255.255"],
        &["172.15.255.255", "172.32.0.0"],
    );
    range(
        "192.168.0.0/16",
        &["192.168.0.0", "192.168.1.1", "192.168.255.255"],
        &["192.167.255.255", "192.169.0.0"],
    );
    range(
        "carrier-grade NAT",
        &["100.64.0.0", "100.100.100.200", "100.127.255.255"],
        &["100.63.255.255", "100.128.0.0"],
    );
    range(
        "link-local",
        &["169.254.0.0", "169.254.0.1", "169.254.169.253", "169.254.255.255"],
        &["169.253.255.255", "169.255.0.0"],
    );
    range("metadata", &["169.254.169.254"], &[]);
    range("192.0.0.0/24", &["192.0.0.0", "192.0.0.170", "192.0.0.255"], &["192.0.1.0"]);
    range("192.0.2.0/24", &["192.0.2.0", "192.0.2.255"], &["192.0.3.0"]);
    range(
        "198.51.100.0/24",
        &["198.51.100.0", "198.51.100.255"],
        &["198.51.99.255", "198.51.101.0"],
    );
    range("203.0.113.0/24", &["203.0.113.0", "203.0.113.255"], &["203.0.112.255", "203.0.114.0"]);
    range("6to4 relay", &["192.88.99.1"], &["192.88.98.255", "192.88.100.0"]);
    range("benchmarking", &["198.18.0.0", "198.19.255.255"], &["198.17.255.255", "198.20.0.0"]);
    range("multicast", &["224.0.0.0", "224.0.0.251", "239.255.255.255"], &["223.255.255.254"]);
    range("reserved", &["240.0.0.0", "250.1.2.3", "255.255.255.254"], &[]);
    range("broadcast", &["255.255.255.255"], &[]);
}

#[test]
fn ipv6_special_ranges() {
    range("unspecified", &["::"], &[]);
    range("loopback", &["::1"], &[]);
    range(
        "unique local",
        &["fc00::", "fd12:3456:789a::1", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
        &[],
    );
    range("metadata", &["fd00:ec2::254"], &[]);
    range("link-local", &["fe80::", "fe80::1", "febf:ffff::1"], &[]);
    range("site-local", &["fec0::1", "feff::1"], &[]);
    range(
        "multicast",
        &["ff00::", "ff02::1", "ff05::1:3", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
        &[],
    );
    range(
        "2001:db8::/32",
        &["2001:db8::", "2001:db8::1", "2001:db8:ffff:ffff::1"],
        &["2001:db9::1", "2001:db7::1"],
    );
    range("3fff::/20", &["3fff::1", "3fff:fff::1"], &["3fff:1000::1"]);
    range("Teredo", &["2001::1", "2001:0:ffff::1"], &[]);
    range("benchmarking", &["2001:2::1", "2001:2:0:ffff::1"], &[]);
    range("2001::/23", &["2001:1::1", "2001:10::1", "2001:1ff::1"], &["2001:200::1"]);
    range("discard-only", &["100::", "100::ffff:ffff:ffff:ffff"], &[]);
    range("local-use NAT64", &["64:ff9b:1::1"], &[]);
    range("outside global unicast", &["4000::1", "5f00::1", "e000::1", "1::1", "::1:0:0:1"], &[]);
}

#[test]
fn ipv4_mapped_ipv6_is_judged_as_its_ipv4() {
    assert_eq!(why("::ffff:127.0.0.1"), why("127.0.0.1"));
    assert_eq!(why("::ffff:169.254.169.254"), why("169.254.169.254"));
    assert_eq!(why("::ffff:10.1.2.3"), why("10.1.2.3"));
    assert_eq!(why("::ffff:7f00:1"), why("127.0.0.1"));
    assert_eq!(why("::ffff:0.0.0.0"), why("0.0.0.0"));
    assert_eq!(why("::ffff:8.8.8.8"), None);
}

#[test]
fn ipv4_compatible_nat64_and_6to4_are_judged_as_their_ipv4() {
    assert_eq!(why("::127.0.0.1"), why("127.0.0.1"));
    assert_eq!(why("::192.168.0.1"), why("192.168.0.1"));
    assert_eq!(why("::8.8.8.8"), None);
    assert_eq!(why("64:ff9b::127.0.0.1"), why("127.0.0.1"));
    assert_eq!(why("64:ff9b::a9fe:a9fe"), why("169.254.169.254"));
    assert_eq!(why("64:ff9b::8.8.8.8"), None);
    // 2002:7f00:0001:: is 6to4 for 127.0.0.1; 2002:0808:0808:: for 8.8.8.8.
    assert_eq!(why("2002:7f00:1::"), why("127.0.0.1"));
    assert_eq!(why("2002:a00:1:5::1"), why("10.0.0.1"));
    assert_eq!(why("2002:a9fe:a9fe::1"), why("169.254.169.254"));
    assert_eq!(why("2002:808:808::1"), None);
}

#[test]
fn rule_tables_are_well_formed() {
    for &(net, len, reason) in V4_RULES {
        assert_eq!(net & !mask32(len), 0, "{reason}: host bits set");
        assert!(!reason.is_empty());
    }
    for &(net, len, reason) in V6_RULES {
        assert_eq!(net & !mask128(len), 0, "{reason}: host bits set");
    }
    assert_eq!(mask32(0), 0);
    assert_eq!(mask128(0), 0);
}

proptest! {
    #[test]
    fn agrees_with_the_standard_library_where_it_has_opinions(a in any::<u32>(), b in any::<u128>()) {
        let v4 = Ipv4Addr::from(a);
        if v4.is_loopback() || v4.is_private() || v4.is_link_local() || v4.is_multicast()
            || v4.is_broadcast() || v4.is_documentation() || v4.is_unspecified()
        {
            prop_assert!(forbidden_ip(IpAddr::V4(v4)).is_some(), "{}", v4);
        }
        let mapped = IpAddr::V6(v4.to_ipv6_mapped());
        prop_assert_eq!(forbidden_ip(mapped), forbidden_ip(IpAddr::V4(v4)));
        let v6 = Ipv6Addr::from(b);
        if v6.is_loopback() || v6.is_multicast() || v6.is_unspecified()
            || v6.is_unicast_link_local() || v6.is_unique_local()
        {
            prop_assert!(forbidden_ip(IpAddr::V6(v6)).is_some(), "{}", v6);
        }
    }
}
