//! Credentials as presented: API keys (`clm_sk_…` with a CRC-32), webhook
//! secrets (`whsec_…`) and SDK session ids. Parsing never panics, and a
//! key that parses is exactly its text and keeps its kind.
#![no_main]

use clausum_core::{keys::ApiKey, session, webhook::WebhookSecret};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(key) = ApiKey::parse(text) {
        assert_eq!(key.expose(), text, "a parsed key is its own text");
        assert!(text.starts_with(key.kind().prefix()));
        assert_eq!(key.hash().len(), 64);
        let _ = key.display_prefix();
    }
    if let Ok(secret) = WebhookSecret::parse(text) {
        assert!(!secret.key_bytes().is_empty());
    }
    let _ = session::is_valid(text);
});
