//! Ids the edge issues when it answers itself, in the origin's formats:
//! time-ordered `txn_<UUIDv7>` and `ps_<ms>_<random>` session ids
//! ([`clausum_core::session`]). Time and random bytes come from the caller.

/// Random bytes [`transaction_id`] needs.
pub const TXN_RANDOM_BYTES: usize = 10;

/// `txn_` and the 32 hex digits of a UUIDv7 for `now_ms`.
pub fn transaction_id(now_ms: i64, random: [u8; TXN_RANDOM_BYTES]) -> String {
    let ms = u64::try_from(now_ms).unwrap_or(0);
    let uuid = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid();
    format!("txn_{}", uuid.simple())
}

/// A request id of the edge's own (`req_` and a UUIDv7), for a request
/// that came without an acceptable `X-Request-Id`.
pub fn request_id(now_ms: i64, random: [u8; TXN_RANDOM_BYTES]) -> String {
    let ms = u64::try_from(now_ms).unwrap_or(0);
    let uuid = uuid::Builder::from_unix_timestamp_millis(ms, &random).into_uuid();
    format!("req_{}", uuid.simple())
}

/// A session id for `now_ms`.
pub fn session_id(now_ms: i64, random: [u8; clausum_core::session::RANDOM_LEN]) -> String {
    clausum_core::session::generate(now_ms, random)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        let t = transaction_id(1_716_998_400_000, [9; TXN_RANDOM_BYTES]);
        assert_eq!(t.len(), 4 + 32);
        let uuid = uuid::Uuid::parse_str(&t[4..]).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
        assert!(t < transaction_id(1_716_998_400_001, [0; TXN_RANDOM_BYTES]), "time-ordered");
        assert!(clausum_core::session::is_valid(&session_id(1_716_998_400_000, [1; 9])));
        let r = request_id(1_716_998_400_000, [3; TXN_RANDOM_BYTES]);
        assert!(r.starts_with("req_") && clausum_core::wire::request_id::is_acceptable(&r), "{r}");
    }
}
