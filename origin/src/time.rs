//! Wall-clock time in unix milliseconds, the unit the whole schema uses.

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    let d = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}
