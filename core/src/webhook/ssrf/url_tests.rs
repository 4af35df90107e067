use proptest::prelude::*;

use super::*;

fn ok(url: &str) -> ParsedTarget {
    check_url(url, false).unwrap_or_else(|e| panic!("{url}: {e}"))
}

fn err(url: &str) -> UrlError {
    check_url(url, false).expect_err(url)
}

#[test]
fn accepts_ordinary_https_urls() {
    let t = ok("https://hooks.example.com/clausum/events?tenant=42&x=%20y");
    assert_eq!(
        t,
        ParsedTarget {
            https: true,
            host: "hooks.example.com".into(),
            port: 443,
            ip: None,
            allowed_loopback: false
        }
    );
    assert!(!t.is_ip_literal());
    assert_eq!(ok("https://Hooks.Example.COM:8443").host, "hooks.example.com");
    assert_eq!(ok("HTTPS://example.com:8443/").port, 8443);
    assert_eq!(ok("https://example.com?q=1").host, "example.com");
    assert_eq!(ok("https://xn--bcher-kva.example/").host, "xn--bcher-kva.example");
    // Numeric labels are fine as long as the last one is not.
    assert_eq!(ok("https://163.com/").host, "163.com");
    assert_eq!(ok("https://1.2.3.4.nip.example/").host, "1.2.3.4.nip.example");
    assert_eq!(ok("https://0x7f.example.com/").host, "0x7f.example.com");
    assert_eq!(ok("https://a-b.example.com:1/").port, 1);
    assert_eq!(ok("https://example.com:65535/").port, 65535);
    assert_eq!(ok("https://example.com/a@b").host, "example.com");
}

#[test]
fn ip_literals_are_judged_here() {
    let t = ok("https://8.8.8.8/hook");
    assert_eq!(
        (t.ip, t.is_ip_literal(), t.host.as_str()),
        (Some("8.8.8.8".parse().unwrap()), true, "8.8.8.8")
    );
    let t = ok("https://[2606:4700:4700:0:0:0:0:1111]:8443/");
    assert_eq!((t.host.as_str(), t.port), ("2606:4700:4700::1111", 8443));
    for (url, needle) in [
        ("https://127.0.0.1/", "loopback"),
        ("https://[::1]/", "loopback"),
        ("https://10.0.0.5/", "10.0.0.0/8"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://[::ffff:127.0.0.1]/", "loopback"),
        ("https://[::ffff:a9fe:a9fe]/", "metadata"),
        ("https://[64:ff9b::10.0.0.1]/", "10.0.0.0/8"),
        ("https://[2002:c0a8:101::1]/", "192.168.0.0/16"),
        ("https://[fd00:ec2::254]/", "metadata"),
        ("https://[fe80::1]/", "link-local"),
        ("https://0.0.0.0/", "unspecified"),
        ("https://100.64.0.1:443/", "carrier-grade"),
    ] {
        match err(url) {
            UrlError::ForbiddenAddress(why) => assert!(why.contains(needle), "{url}: {why}"),
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[test]
fn numeric_host_tricks_are_refused() {
    for url in [
        "https://0x7f000001/",
        "https://2130706433/",
        "https://017700000001/",
        "https://0177.0.0.1/",
        "https://0x7f.0.0.1/",
        "https://127.1/",
        "https://127.0.1/",
        "https://1.2.3.04/",
        "https://0x/",
        "https://8.8.8.8.8/",
        "https://999.1.1.1/",
        "https://example.0x10/",
        "https://example.123/",
    ] {
        assert_eq!(err(url), UrlError::NumericHost, "{url}");
    }
}

#[test]
fn schemes_and_credentials() {
    for url in [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://x.example/",
        "example.com/hook",
        "//example.com/",
        "https:/example.com",
        "javascript://x.example/%0a",
    ] {
        assert!(matches!(err(url), UrlError::UnsupportedScheme | UrlError::MissingHost), "{url}");
    }
    assert_eq!(err("http://example.com/"), UrlError::HttpNotAllowed);
    for url in [
        "https://user:pw@host.example/",
        "https://user@host.example/",
        "https://@host.example/",
        "https://good.example:443@127.0.0.1/",
    ] {
        assert_eq!(err(url), UrlError::UserInfo, "{url}");
    }
}

#[test]
fn malformed_hosts_and_ports() {
    for (url, want) in [
        ("https://", UrlError::MissingHost),
        ("https:///path", UrlError::MissingHost),
        ("https://:443/", UrlError::MissingHost),
        ("https://intranet/", UrlError::UnqualifiedHost),
        ("https://metadata/computeMetadata/v1/", UrlError::UnqualifiedHost),
        ("https://localhost/", UrlError::LocalHostname),
        ("https://api.localhost/", UrlError::LocalHostname),
        ("https://example.com./", UrlError::InvalidHost),
        ("https://exa_mple.com/", UrlError::InvalidHost),
        ("https://-example.com/", UrlError::InvalidHost),
        ("https://example-.com/", UrlError::InvalidHost),
        ("https://example..com/", UrlError::InvalidHost),
        ("https://exa%6dple.com/", UrlError::InvalidHost),
        ("https://::1/", UrlError::InvalidHost),
        ("https://[::1/", UrlError::InvalidHost),
        ("https://[::1]x/", UrlError::InvalidHost),
        ("https://[127.0.0.1]/", UrlError::InvalidHost),
        ("https://[fe80::1%25eth0]/", UrlError::InvalidHost),
        ("https://[not-v6]/", UrlError::InvalidHost),
        ("https://example.com:/", UrlError::InvalidPort),
        ("https://example.com:0/", UrlError::InvalidPort),
        ("https://example.com:65536/", UrlError::InvalidPort),
        ("https://example.com:+443/", UrlError::InvalidPort),
        ("https://example.com:443443/", UrlError::InvalidPort),
        ("https://example.com:https/", UrlError::InvalidPort),
    ] {
        assert_eq!(check_url(url, false), Err(want), "{url}");
    }
    let long_label = format!("https://{}.com/", "a".repeat(64));
    assert_eq!(err(&long_label), UrlError::InvalidHost);
    let long_name = format!("https://{}com/", "abcdefghi.".repeat(26));
    assert_eq!(err(&long_name), UrlError::InvalidHost);
}

#[test]
fn characters_length_and_fragments() {
    for url in [
        "https://example.com/a b",
        " https://example.com/",
        "https://example.com/\t",
        "https://example.com\r\n/",
        "https://exämple.com/",
        "https://example.com/ü",
        "https://example.com\\@127.0.0.1/",
        "https://example.com/\u{7f}",
        "https://example.com/\0",
    ] {
        assert_eq!(err(url), UrlError::InvalidCharacter, "{url:?}");
    }
    assert_eq!(err("https://example.com/#frag"), UrlError::Fragment);
    let at_limit = format!("https://example.com/{}", "a".repeat(MAX_URL_LEN - 20));
    assert_eq!(at_limit.len(), MAX_URL_LEN);
    assert_eq!(ok(&at_limit).host, "example.com");
    assert_eq!(err(&format!("{at_limit}a")), UrlError::TooLong);
}

#[test]
fn http_loopback_only_when_allowed() {
    for (url, port) in [
        ("http://localhost:8080/hook", 8080),
        ("http://127.0.0.1/", 80),
        ("http://[::1]:9000/", 9000),
        ("https://localhost/", 443),
    ] {
        let t = check_url(url, true).unwrap_or_else(|e| panic!("{url}: {e}"));
        assert!(t.allowed_loopback, "{url}");
        assert_eq!(t.port, port);
        assert!(check_url(url, false).is_err(), "{url}");
    }
    for url in [
        "http://127.0.0.2/",
        "http://[::ffff:127.0.0.1]/",
        "http://example.com/",
        "http://10.0.0.1/",
    ] {
        assert_eq!(check_url(url, true), Err(UrlError::HttpNotAllowed), "{url}");
    }
    assert_eq!(check_url("https://api.localhost/", true), Err(UrlError::LocalHostname));
    assert!(matches!(check_url("https://10.0.0.1/", true), Err(UrlError::ForbiddenAddress(_))));
    assert!(!check_url("https://example.com/", true).unwrap().allowed_loopback);
}

#[test]
fn errors_read_well() {
    assert_eq!(
        UrlError::ForbiddenAddress("loopback address (127.0.0.0/8)").to_string(),
        "URL host is a forbidden address: loopback address (127.0.0.0/8)"
    );
    assert!(UrlError::UserInfo.to_string().contains("credentials"));
}

proptest! {
    #[test]
    fn never_panics_and_accepted_urls_are_safe(s in any::<String>(), allow in any::<bool>()) {
        if let Ok(t) = check_url(&s, allow) {
            prop_assert!(t.https || t.allowed_loopback);
            if let (Some(ip), false) = (t.ip, t.allowed_loopback) {
                prop_assert_eq!(forbidden_ip(ip), None);
            }
        }
    }

    #[test]
    fn fuzzed_https_urls_never_panic(host in "[a-z0-9.:\\[\\]@%-]{0,40}", tail in "[ -~]{0,20}") {
        let _ = check_url(&format!("https://{host}{tail}"), false);
        let _ = check_url(&format!("http://{host}/{tail}"), true);
    }
}
