//! When to try a failed webhook delivery again.
//!
//! Exponential back-off with jitter over about three days, as Stripe ("up to
//! three days") and Standard Webhooks (≈ 75 h) do: 14 attempts in all — the
//! first delivery and 13 retries — spaced 5 s, 30 s, 2 min, 10 min, 30 min,
//! 1 h, 2 h, 4 h, 8 h, then 12 h four times ([`TOTAL_RETRY_SPAN_S`] ≈ 2.65
//! days before jitter). Each delay moves by up to ±[`JITTER_PERCENT`] so that
//! endpoints that failed together do not all get retried together.
//!
//! A receiver's `Retry-After` (on 429 or 503) is parsed by
//! [`retry_after_ms`]; the worker should wait the longer of that and the
//! schedule, so a receiver can slow us down but not speed us up.

/// Seconds to wait after each failed attempt: entry `n - 1` follows attempt `n`.
pub const RETRY_SCHEDULE_S: [u64; 13] =
    [5, 30, 120, 600, 1_800, 3_600, 7_200, 14_400, 28_800, 43_200, 43_200, 43_200, 43_200];

/// Attempts per delivery, the first included.
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE_S.len() as u32 + 1;

/// The most a delay moves either way, in percent of the scheduled delay.
pub const JITTER_PERCENT: u64 = 20;

/// Seconds from the first attempt to the last, before jitter: 229,355 s
/// (63 h 42 min 35 s, about 2.65 days). With jitter, between 80 % and 120 %
/// of that.
pub const TOTAL_RETRY_SPAN_S: u64 = {
    let mut total = 0;
    let mut i = 0;
    while i < RETRY_SCHEDULE_S.len() {
        total += RETRY_SCHEDULE_S[i];
        i += 1;
    }
    total
};

/// The longest a `Retry-After` is honoured: 24 hours, in milliseconds.
pub const RETRY_AFTER_CAP_MS: u64 = 24 * 3_600 * 1_000;

/// The scheduled delay (ms, no jitter) after attempt number `attempt` failed;
/// `Some(0)` for `attempt == 0` (nothing tried yet: send now), `None` once
/// all [`MAX_ATTEMPTS`] have been made.
pub fn base_delay_ms(attempt: u32) -> Option<u64> {
    if attempt == 0 {
        return Some(0);
    }
    RETRY_SCHEDULE_S.get(attempt as usize - 1).map(|s| s * 1_000)
}

/// The delay (ms) before the next attempt, after attempt number `attempt`
/// (1 = the first delivery) failed, or `None` when the delivery has used all
/// its attempts and should be marked failed. `jitter` is a random `u32` from
/// the caller: 0 gives −20 %, `u32::MAX` +20 %, the rest spread uniformly.
pub fn next_attempt_delay_ms(attempt: u32, jitter: u32) -> Option<u64> {
    let base = base_delay_ms(attempt)?;
    let low = base * (100 - JITTER_PERCENT) / 100;
    let span = base * 2 * JITTER_PERCENT / 100;
    // u128: span × u32::MAX overflows u64 for the 12 h delays.
    let offset = u128::from(span) * u128::from(jitter) / u128::from(u32::MAX);
    Some(low + offset as u64)
}

/// Parses a `Retry-After` value — delta-seconds (`120`) or an IMF-fixdate
/// (`Sun, 06 Nov 1994 08:49:37 GMT`) — into milliseconds from `now_s`,
/// capped at [`RETRY_AFTER_CAP_MS`]. A date in the past gives `Some(0)`;
/// anything else (negative numbers, other date formats) gives `None`.
pub fn retry_after_ms(header: &str, now_s: i64) -> Option<u64> {
    let value = header.trim_matches([' ', '\t']);
    let seconds = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        // Too many digits to parse is still "a very long time".
        value.parse::<u64>().unwrap_or(u64::MAX)
    } else {
        let at = parse_imf_fixdate(value)?;
        u64::try_from(at.saturating_sub(now_s)).unwrap_or(0)
    };
    Some(seconds.saturating_mul(1_000).min(RETRY_AFTER_CAP_MS))
}

const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const MONTHS: [&str; 12] =
    ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

/// `Sun, 06 Nov 1994 08:49:37 GMT` → Unix seconds (RFC 9110 §5.6.7). The day
/// name must be a day name but need not agree with the date, as the RFC
/// lets recipients be lenient there.
fn parse_imf_fixdate(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    // ASCII first: the fixed offsets below slice the str.
    if b.len() != 29 || !s.is_ascii() || !DAYS.contains(&&s[..3]) || &s[25..] != " GMT" {
        return None;
    }
    let seps = [(3, b','), (4, b' '), (7, b' '), (11, b' '), (16, b' '), (19, b':'), (22, b':')];
    if seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, len: usize| -> Option<i64> {
        let digits = &s[from..from + len];
        if digits.bytes().all(|d| d.is_ascii_digit()) { digits.parse().ok() } else { None }
    };
    let day = num(5, 2)?;
    let month = MONTHS.iter().position(|m| *m == &s[8..11])? as i64 + 1;
    let year = num(12, 4)?;
    let (hour, minute, second) = (num(17, 2)?, num(20, 2)?, num(23, 2)?);
    if day < 1 || day > days_in_month(year, month) || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + hour * 3_600 + minute * 60 + second)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
#[path = "retry_tests.rs"]
mod tests;
