use proptest::prelude::*;

use super::*;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const OLD: &[u8] = b"old-key-old-key-old-key-old-key!";
const T: i64 = 1_716_998_400;
const BODY: &[u8] = br#"{"event":"fraud.detected","data":{"case_id":"c_1"}}"#;

fn hmac_hex(key: &[u8], msg: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(key).unwrap();
    mac.update(msg);
    hex::encode(mac.finalize().into_bytes())
}

#[test]
fn the_hmac_primitive_matches_published_vectors() {
    // GitHub's webhook docs (X-Hub-Signature-256).
    assert_eq!(
        hmac_hex(b"It's a Secret to Everybody", b"Hello, World!"),
        "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    );
    // RFC 4231, test case 2.
    assert_eq!(
        hmac_hex(b"Jefe", b"what do ya want for nothing?"),
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn signs_timestamp_dot_body() {
    let mut msg = format!("{T}.").into_bytes();
    msg.extend_from_slice(BODY);
    assert_eq!(sign(KEY, T, BODY), hmac_hex(KEY, &msg));
    assert_eq!(sign(KEY, T, BODY).len(), 64);
    assert_eq!(header(&[KEY], T, BODY), format!("t={T},v1={}", sign(KEY, T, BODY)));
}

#[test]
fn verifies_its_own_header_within_tolerance_either_way() {
    let h = header(&[KEY], T, BODY);
    for now in [T, T - 300, T + 300, T + 1] {
        assert_eq!(verify(BODY, &h, KEY, now, DEFAULT_TOLERANCE_S), Ok(()), "now = {now}");
    }
    for now in [T - 301, T + 301, 0, i64::MAX, i64::MIN] {
        assert_eq!(
            verify(BODY, &h, KEY, now, DEFAULT_TOLERANCE_S),
            Err(VerifyError::TimestampOutsideTolerance),
            "now = {now}"
        );
    }
    // A negative tolerance behaves as zero rather than wrapping round.
    assert_eq!(verify(BODY, &h, KEY, T, -5), Ok(()));
    assert_eq!(verify(BODY, &h, KEY, T + 1, -5), Err(VerifyError::TimestampOutsideTolerance));
}

#[test]
fn a_forgery_is_refused_before_the_clock_is_consulted() {
    let h = header(&[b"not the key"], T, BODY);
    assert_eq!(verify(BODY, &h, KEY, T + 10_000, 300), Err(VerifyError::NoMatchingSignature));
}

#[test]
fn any_change_to_body_timestamp_or_key_fails() {
    let h = header(&[KEY], T, BODY);
    let mut body = BODY.to_vec();
    body[10] ^= 1;
    assert_eq!(verify(&body, &h, KEY, T, 300), Err(VerifyError::NoMatchingSignature));
    let mut longer = BODY.to_vec();
    longer.push(b'\n');
    assert_eq!(verify(&longer, &h, KEY, T, 300), Err(VerifyError::NoMatchingSignature));
    let moved = h.replacen(&format!("t={T}"), &format!("t={}", T + 1), 1);
    assert_eq!(verify(BODY, &moved, KEY, T, 300), Err(VerifyError::NoMatchingSignature));
    assert_eq!(verify(BODY, &h, OLD, T, 300), Err(VerifyError::NoMatchingSignature));
}

#[test]
fn rotation_headers_verify_under_either_key_new_first() {
    let h = header(&[KEY, OLD], T, BODY);
    assert_eq!(
        h,
        format!("t={T},v1={},v1={}", sign(KEY, T, BODY), sign(OLD, T, BODY)),
        "new key first"
    );
    assert_eq!(verify(BODY, &h, KEY, T, 300), Ok(()));
    assert_eq!(verify(BODY, &h, OLD, T, 300), Ok(()));
    // After the rotation window only the new key signs.
    let after = header(&[KEY], T, BODY);
    assert_eq!(verify(BODY, &after, OLD, T, 300), Err(VerifyError::NoMatchingSignature));
}

#[test]
fn parser_accepts_any_order_spaces_and_unknown_schemes() {
    let v1 = sign(KEY, T, BODY);
    for h in [
        format!("v1={v1},t={T}"),
        format!("t={T}, v1={v1}"),
        format!(" v0=abc , t={T} ,v1={v1}, x=y "),
        format!("t={T},v1=nothex,v1={}", v1.to_uppercase()),
        format!("t={T},v1=deadbeef,v1={v1}"),
    ] {
        assert_eq!(verify(BODY, &h, KEY, T, 300), Ok(()), "{h}");
    }
    let parsed = SignatureHeader::parse("v0=z,t=12,v1=a,v1=b").unwrap();
    assert_eq!(parsed, SignatureHeader { timestamp_s: 12, v1: vec!["a", "b"] });
}

#[test]
fn parser_refuses_malformed_headers() {
    let v1 = sign(KEY, T, BODY);
    for h in [
        String::new(),
        format!("v1={v1}"),
        format!("t={T}"),
        format!("t={T},v0={v1}"),
        format!("t=,v1={v1}"),
        format!("t=-1,v1={v1}"),
        format!("t=+{T},v1={v1}"),
        format!("t={T}.5,v1={v1}"),
        format!("t= {T},v1={v1}"),
        format!("t=99999999999999999999,v1={v1}"),
        format!("t={T},t={T},v1={v1}"),
        format!("t={T},v1={v1},"),
        format!("t={T};v1={v1}"),
        format!("T={T},V1={v1}"),
        "garbage".to_owned(),
    ] {
        assert_eq!(verify(BODY, &h, KEY, T, 300), Err(VerifyError::MalformedHeader), "{h:?}");
    }
}

/// Edge cases the npm verifier (`npm/test/webhook.test.js`) pins too, so the
/// two parsers agree beyond the golden vectors.
#[test]
fn parser_edge_cases_shared_with_the_npm_verifier() {
    let v1 = sign(KEY, T, BODY);
    for h in [
        // Unicode White_Space around parts, U+0085 included.
        format!("\tt={T}\r\n,\u{a0}v1={v1}\u{3000}"),
        format!("\u{85}t={T},v1={v1}"),
        // t is a number: leading zeros sign as without them.
        format!("t=000{T},v1={v1}"),
        // An empty scheme or value is just an unknown scheme or a skipped v1.
        format!("x=1,=,t={T},v1=,v1={v1}"),
        format!("t={T},v1={v1}00,v1={v1}"),
    ] {
        assert_eq!(verify(BODY, &h, KEY, T, 300), Ok(()), "{h:?}");
    }
    for h in [
        // U+FEFF is not White_Space (JavaScript's trim would take it).
        format!("\u{feff}t={T},v1={v1}"),
        format!("t=1234567890123456789,v1={v1}"),
        format!("t=\u{661}\u{662},v1={v1}"),
        format!(",t={T},v1={v1}"),
        format!("t={T},,v1={v1}"),
        format!("t ={T},v1={v1}"),
    ] {
        assert_eq!(verify(BODY, &h, KEY, T, 300), Err(VerifyError::MalformedHeader), "{h:?}");
    }
    // The largest t (18 digits) signs and verifies.
    let far = 999_999_999_999_999_999;
    assert_eq!(verify(BODY, &header(&[KEY], far, BODY), KEY, far - 300, 300), Ok(()));
}

#[test]
fn errors_explain_themselves() {
    assert!(VerifyError::MalformedHeader.to_string().contains("t=<unix seconds>"));
    assert!(VerifyError::TimestampOutsideTolerance.to_string().contains("tolerance"));
    assert!(VerifyError::NoMatchingSignature.to_string().contains("secret"));
}

proptest! {
    #[test]
    fn parser_never_panics(s in any::<String>(), body in any::<Vec<u8>>(), now in any::<i64>()) {
        let _ = verify(&body, &s, KEY, now, DEFAULT_TOLERANCE_S);
    }

    #[test]
    fn sign_then_verify_round_trips(
        key in proptest::collection::vec(any::<u8>(), 0..100),
        t in 0i64..4_000_000_000,
        body in any::<Vec<u8>>(),
        skew in -300i64..=300,
    ) {
        let h = header(&[&key], t, &body);
        prop_assert_eq!(verify(&body, &h, &key, t + skew, DEFAULT_TOLERANCE_S), Ok(()));
    }
}
