//! Signature headers from the network: the webhook `t=…,v1=…` form (ours
//! and Stripe's) and `Retry-After`. Parsing never panics, and verifying an
//! arbitrary header against a key never succeeds unless it carries the
//! signature that key makes.
#![no_main]

use clausum_core::webhook::{SignatureHeader, retry_after_ms, sign, verify};
use libfuzzer_sys::fuzz_target;

const KEY: &[u8] = b"whsec_fuzzfuzzfuzzfuzzfuzzfuzzfuzzfuzz";
const NOW: i64 = 1_790_000_000;

fuzz_target!(|data: &[u8]| {
    let Ok(header) = std::str::from_utf8(data) else { return };
    let _ = retry_after_ms(header, NOW);
    let Ok(parsed) = SignatureHeader::parse(header) else { return };
    let genuine = sign(KEY, parsed.timestamp_s, data);
    let accepted = verify(data, header, KEY, NOW, i64::MAX / 4).is_ok();
    let carried = parsed.v1.iter().any(|s| s.eq_ignore_ascii_case(&genuine));
    assert_eq!(accepted, carried, "verified without the signature, or refused it");
});
