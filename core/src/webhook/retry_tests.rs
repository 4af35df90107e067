use proptest::prelude::*;

use super::*;

const DAY_MS: u64 = 86_400_000;
const MID: u32 = 1 << 31;

#[test]
fn schedule_spans_about_three_days() {
    let total: u64 = (1..MAX_ATTEMPTS).map(|a| base_delay_ms(a).unwrap()).sum();
    assert_eq!(total, TOTAL_RETRY_SPAN_S * 1_000);
    assert_eq!(TOTAL_RETRY_SPAN_S, 229_355);
    assert!(total * 2 >= 5 * DAY_MS && total * 2 <= 7 * DAY_MS, "{total} ms");
    assert_eq!(MAX_ATTEMPTS, 14);
}

#[test]
fn schedule_follows_the_documented_steps() {
    let minutes: Vec<u64> = (1..MAX_ATTEMPTS).map(|a| base_delay_ms(a).unwrap()).collect();
    assert_eq!(
        minutes,
        [
            5_000, 30_000, 120_000, 600_000, 1_800_000, 3_600_000, 7_200_000, 14_400_000,
            28_800_000, 43_200_000, 43_200_000, 43_200_000, 43_200_000
        ]
    );
    assert!(minutes.windows(2).all(|w| w[0] <= w[1]), "never shrinks");
}

#[test]
fn attempt_zero_sends_now_and_the_last_attempt_gives_up() {
    assert_eq!(next_attempt_delay_ms(0, 12345), Some(0));
    assert!(next_attempt_delay_ms(MAX_ATTEMPTS - 1, 0).is_some());
    assert_eq!(next_attempt_delay_ms(MAX_ATTEMPTS, 0), None);
    assert_eq!(next_attempt_delay_ms(u32::MAX, u32::MAX), None);
}

#[test]
fn jitter_extremes_are_plus_minus_twenty_percent() {
    assert_eq!(next_attempt_delay_ms(1, 0), Some(4_000));
    assert_eq!(next_attempt_delay_ms(1, u32::MAX), Some(6_000));
    assert_eq!(next_attempt_delay_ms(13, 0), Some(34_560_000));
    assert_eq!(next_attempt_delay_ms(13, u32::MAX), Some(51_840_000));
    // The midpoint is (within a millisecond) the scheduled delay.
    for a in 1..MAX_ATTEMPTS {
        let base = base_delay_ms(a).unwrap();
        assert!(next_attempt_delay_ms(a, MID).unwrap().abs_diff(base) <= 1, "attempt {a}");
    }
}

#[test]
fn total_span_with_jitter_stays_within_twenty_percent() {
    let span =
        |j: u32| -> u64 { (1..MAX_ATTEMPTS).map(|a| next_attempt_delay_ms(a, j).unwrap()).sum() };
    let base = TOTAL_RETRY_SPAN_S * 1_000;
    assert_eq!(span(0), base * 4 / 5);
    assert_eq!(span(u32::MAX), base * 6 / 5);
}

#[test]
fn retry_after_delta_seconds() {
    assert_eq!(retry_after_ms("120", 0), Some(120_000));
    assert_eq!(retry_after_ms(" 0 ", 0), Some(0));
    assert_eq!(retry_after_ms("86400", 0), Some(RETRY_AFTER_CAP_MS));
    assert_eq!(retry_after_ms("86401", 0), Some(RETRY_AFTER_CAP_MS));
    assert_eq!(retry_after_ms("99999999999999999999999", 0), Some(RETRY_AFTER_CAP_MS));
    for bad in ["", " ", "-5", "+5", "1.5", "5s", "0x10", "١٢٠"] {
        assert_eq!(retry_after_ms(bad, 0), None, "{bad:?}");
    }
}

#[test]
fn retry_after_imf_fixdate() {
    let now = 1_716_998_400; // Wed, 29 May 2024 16:00:00 GMT
    assert_eq!(retry_after_ms("Wed, 29 May 2024 16:02:00 GMT", now), Some(120_000));
    assert_eq!(retry_after_ms("Wed, 29 May 2024 16:00:00 GMT", now), Some(0));
    assert_eq!(retry_after_ms("Wed, 29 May 2024 15:00:00 GMT", now), Some(0));
    assert_eq!(retry_after_ms("Fri, 31 Dec 9999 23:59:59 GMT", now), Some(RETRY_AFTER_CAP_MS));
    assert_eq!(retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", 784_111_777 - 7), Some(7_000));
    // Lenient about a day name that disagrees with the date.
    assert_eq!(retry_after_ms("Mon, 29 May 2024 16:00:01 GMT", now), Some(1_000));
}

#[test]
fn civil_dates_convert_exactly() {
    assert_eq!(parse_imf_fixdate("Thu, 01 Jan 1970 00:00:00 GMT"), Some(0));
    assert_eq!(parse_imf_fixdate("Sun, 06 Nov 1994 08:49:37 GMT"), Some(784_111_777));
    assert_eq!(parse_imf_fixdate("Thu, 29 Feb 2024 23:59:59 GMT"), Some(1_709_251_199));
    assert_eq!(parse_imf_fixdate("Fri, 31 Dec 9999 23:59:59 GMT"), Some(253_402_300_799));
}

#[test]
fn refuses_other_date_shapes() {
    for bad in [
        "Sunday, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 1994",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 2023 08:49:37 GMT",
        "Sun, 00 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:00 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Nov 1994 08:49:37 GMTx",
        "Sun; 06 Nov 1994 08:49:37 GMT",
        "Sun, +6 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:3é GM",
    ] {
        assert_eq!(parse_imf_fixdate(bad), None, "{bad:?}");
        assert_eq!(retry_after_ms(bad, 0), None, "{bad:?}");
    }
}

proptest! {
    #[test]
    fn jitter_stays_within_bounds(attempt in 0u32..20, jitter in any::<u32>()) {
        match (base_delay_ms(attempt), next_attempt_delay_ms(attempt, jitter)) {
            (Some(base), Some(d)) => {
                prop_assert!(d * 100 >= base * 80 && d * 100 <= base * 120, "{} vs {}", d, base);
            }
            (None, None) => prop_assert!(attempt >= MAX_ATTEMPTS),
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn retry_after_never_panics_and_never_exceeds_the_cap(s in any::<String>(), now in any::<i64>()) {
        if let Some(ms) = retry_after_ms(&s, now) {
            prop_assert!(ms <= RETRY_AFTER_CAP_MS);
        }
    }
}
