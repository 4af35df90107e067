//! `/api/v1/dashboard/overview`: protection counters and the decision trend
//! for the last 24 hours, 7 days or 30 days, bucketed in the viewer's time
//! zone.
//!
//! The store counts assessments per 15-minute UTC slot; [`fold`] adds the
//! slots up into local hours or local calendar days. Every UTC offset in
//! use today is a multiple of 15 minutes, so no slot straddles two local
//! buckets, and a DST day simply gets 23 or 25 hours of slots.

use std::{collections::BTreeMap, sync::Arc};

use clausum_core::{roles::Action, wire::Flow};
use jiff::{Timestamp, ToSpan, Zoned, tz::TimeZone};
use poem::web::Data;
use poem_openapi::{Object, OpenApi, param::Query, payload::Json};

use super::Tag;
use crate::{
    api::common::clean_text,
    auth::DashboardToken,
    error::ApiError,
    state::AppState,
    store::{DecisionSlot, OverviewFilter},
    time::now_ms,
};

/// Width of the slots the store counts in.
pub const SLOT_MS: i64 = 15 * 60 * 1000;
const HOUR_MS: i64 = 60 * 60 * 1000;

/// Width of a trend bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// One local clock hour.
    Hour,
    /// One local calendar day (23, 24 or 25 hours long).
    Day,
}

/// The periods the overview covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Range {
    /// `24h`: the current local hour and the 23 before it, hourly.
    Hours24,
    /// `7d`: today (local) and the 6 days before it, daily.
    Days7,
    /// `30d`: today (local) and the 29 days before it, daily.
    Days30,
}

impl Range {
    /// Parses `24h`, `7d` or `30d`.
    pub fn parse(s: &str) -> Option<Range> {
        match s.trim() {
            "24h" => Some(Range::Hours24),
            "7d" => Some(Range::Days7),
            "30d" => Some(Range::Days30),
            _ => None,
        }
    }

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Range::Hours24 => "24h",
            Range::Days7 => "7d",
            Range::Days30 => "30d",
        }
    }

    fn step(self) -> Step {
        if self == Range::Hours24 { Step::Hour } else { Step::Day }
    }
}

/// Assessments per decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// `approve`.
    pub approved: i64,
    /// `review`.
    pub reviewed: i64,
    /// `challenge`.
    pub challenged: i64,
    /// `decline`.
    pub blocked: i64,
}

impl Tally {
    fn add(&mut self, decision: &str, n: i64) {
        let field = match decision {
            "approve" => &mut self.approved,
            "review" => &mut self.reviewed,
            "challenge" => &mut self.challenged,
            "decline" => &mut self.blocked,
            _ => return,
        };
        *field = field.saturating_add(n);
    }

    /// All four together.
    pub fn evaluations(&self) -> i64 {
        self.approved + self.reviewed + self.challenged + self.blocked
    }

    /// Approved / evaluations as a fraction rounded to 4 decimals; 0 when none.
    pub fn approval_rate(&self) -> f64 {
        match self.evaluations() {
            0 => 0.0,
            n => (self.approved as f64 / n as f64 * 10_000.0).round() / 10_000.0,
        }
    }
}

fn local(tz: &TimeZone, ms: i64) -> Zoned {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned(tz.clone())
}

/// Start (unix ms) of the local hour or day holding instant `ms`. During a
/// DST fall-back the repeated hour is two buckets, one per offset.
pub fn bucket_start(tz: &TimeZone, step: Step, ms: i64) -> i64 {
    let z = local(tz, ms);
    match step {
        Step::Hour => {
            ms - i64::from(z.minute()) * 60_000
                - i64::from(z.second()) * 1_000
                - i64::from(z.subsec_nanosecond()) / 1_000_000
        }
        Step::Day => z.start_of_day().map_or(ms, |d| d.timestamp().as_millisecond()),
    }
}

/// The window `[since, until)` of `range` as of `now`: from the start of
/// its first local bucket to the end of the current slot.
pub fn window(range: Range, tz: &TimeZone, now: i64) -> (i64, i64) {
    let until = (now.div_euclid(SLOT_MS) + 1) * SLOT_MS;
    let since = match range {
        Range::Hours24 => bucket_start(tz, Step::Hour, now) - 23 * HOUR_MS,
        Range::Days7 | Range::Days30 => {
            let back = if range == Range::Days7 { 6 } else { 29 };
            let first = local(tz, now).date().checked_sub(back.days());
            first
                .and_then(|d| d.to_zoned(tz.clone()))
                .and_then(|z| z.start_of_day())
                .map_or(now - (back + 1) * 24 * HOUR_MS, |z| z.timestamp().as_millisecond())
        }
    };
    (since, until)
}

/// Folds slots into the local buckets covering `[since, until)`, in
/// order, empty buckets included. Slots outside the window are ignored.
pub fn fold(
    tz: &TimeZone,
    step: Step,
    since: i64,
    until: i64,
    slots: &[DecisionSlot],
) -> Vec<(i64, Tally)> {
    let mut buckets: Vec<(i64, Tally)> = Vec::new();
    let mut t = since;
    while t < until {
        let b = bucket_start(tz, step, t);
        if buckets.last().map(|x| x.0) != Some(b) {
            buckets.push((b, Tally::default()));
        }
        t += SLOT_MS;
    }
    for s in slots.iter().filter(|s| (since..until).contains(&s.slot_start)) {
        let b = bucket_start(tz, step, s.slot_start);
        if let Ok(i) = buckets.binary_search_by_key(&b, |x| x.0) {
            buckets[i].1.add(&s.decision, s.count);
        }
    }
    buckets
}

/// RFC 3339 of `ms` with the zone's offset at that instant.
pub fn local_rfc3339(tz: &TimeZone, ms: i64) -> String {
    local(tz, ms).strftime("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

/// Declined amount in one currency.
#[derive(Object, Debug, Clone, PartialEq)]
pub struct ProtectedAmount {
    /// ISO 4217 code.
    pub currency: String,
    /// Sum of the declined assessments' amounts, in minor units.
    pub amount_minor: i64,
}

/// One bucket of the trend.
#[derive(Object, Debug, Clone)]
pub struct TrendBucket {
    /// Start of the local hour or day (RFC 3339 with the zone's offset).
    pub start: String,
    /// Assessments in the bucket.
    pub evaluations: i64,
    /// Approved.
    pub approved: i64,
    /// Routed to review.
    pub reviewed: i64,
    /// Stepped up (3DS / OTP).
    pub challenged: i64,
    /// Declined.
    pub blocked: i64,
    /// `approved / evaluations`, a fraction 0–1 with 4 decimals; 0 when empty.
    pub approval_rate: f64,
}

/// The dashboard overview.
#[derive(Object, Debug, Clone)]
pub struct DashboardOverview {
    /// `24h`, `7d` or `30d`.
    pub range: String,
    /// IANA time zone of the buckets.
    pub tz: String,
    /// Start of the window: the first bucket's start (RFC 3339, zone's offset).
    pub since: String,
    /// End of the window, exclusive: the end of the current 15-minute slot.
    pub until: String,
    /// Assessments in the window (simulations and pre-checks are not recorded, so not counted).
    pub evaluations: i64,
    /// Approved.
    pub approved: i64,
    /// Routed to review.
    pub reviewed: i64,
    /// Stepped up.
    pub challenged: i64,
    /// Declined (hard blocks and high scores alike).
    pub blocked: i64,
    /// `approved / evaluations`, a fraction 0–1 with 4 decimals (0.8333 = 83.33 %); 0 when none.
    pub approval_rate: f64,
    /// Money protected: declined amounts per currency, by currency code.
    pub money_protected: Vec<ProtectedAmount>,
    /// Hourly (`24h`: 24 buckets) or daily (`7d`, `30d`: 7 or 30 local calendar days) buckets,
    /// oldest first; the last one is the current, partial hour or day.
    pub trend: Vec<TrendBucket>,
}

/// Dashboard overview figures (dashboard token).
pub struct DashboardApi;

#[OpenApi(prefix_path = "/api/v1/dashboard", tag = "Tag::Dashboard")]
impl DashboardApi {
    /// Protection overview.
    ///
    /// Counters (evaluations, approved, reviewed, challenged, blocked,
    /// approval rate, money protected per currency) and a trend for the last
    /// 24 hours (hourly buckets) or the last 7 or 30 days (daily buckets),
    /// aligned to local hours and midnights of `tz`. DST days are one local
    /// day of 23 or 25 hours. Roles: all.
    #[oai(path = "/overview", method = "get")]
    // One argument per documented query parameter.
    #[allow(clippy::too_many_arguments)]
    async fn overview(
        &self,
        state: Data<&Arc<AppState>>,
        auth: DashboardToken,
        /// `24h` (default), `7d` or `30d`.
        range: Query<Option<String>>,
        /// IANA time zone of the buckets, e.g. `America/Mexico_City` (default `UTC`).
        tz: Query<Option<String>>,
        /// Only `payin` or only `payout` assessments (default: both).
        flow: Query<Option<Flow>>,
        /// Only one PSP submerchant's assessments.
        submerchant_id: Query<Option<String>>,
        /// Also count simulation runs (default `false`).
        include_simulated: Query<Option<bool>>,
    ) -> Result<Json<DashboardOverview>, ApiError> {
        let p = auth.0;
        p.require(Action::ReadDashboard)?;
        let range = match range.0.as_deref() {
            None => Range::Hours24,
            Some(r) => Range::parse(r).ok_or_else(|| {
                ApiError::field("range", "`range` must be one of `24h`, `7d`, `30d`")
            })?,
        };
        let name = tz.0.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
        let name = name.unwrap_or_else(|| "UTC".to_owned());
        let zone = TimeZone::get(&name).map_err(|_| {
            let shown: String = name.chars().take(64).collect();
            ApiError::field(
                "tz",
                format!(
                    "unknown time zone `{shown}`; use an IANA name such as America/Mexico_City"
                ),
            )
        })?;
        let (since, until) = window(range, &zone, now_ms());
        let filter = OverviewFilter {
            flow: flow.0.map(|f| f.as_str().to_owned()),
            submerchant_id: clean_text("submerchant_id", submerchant_id.0, 128)?,
            include_simulated: include_simulated.0.unwrap_or(false),
        };
        let slots = state.store.decision_slots(p.org(), since, until, SLOT_MS, &filter).await?;
        Ok(Json(overview(range, &name, &zone, since, until, &slots)))
    }
}

fn overview(
    range: Range,
    name: &str,
    tz: &TimeZone,
    since: i64,
    until: i64,
    slots: &[DecisionSlot],
) -> DashboardOverview {
    let buckets = fold(tz, range.step(), since, until, slots);
    let mut total = Tally::default();
    let mut money: BTreeMap<&str, i64> = BTreeMap::new();
    for s in slots {
        total.add(&s.decision, s.count);
        if s.decision == "decline" {
            let sum = money.entry(s.currency.as_str()).or_default();
            *sum = sum.saturating_add(s.amount_minor);
        }
    }
    DashboardOverview {
        range: range.as_str().to_owned(),
        tz: tz.iana_name().unwrap_or(name).to_owned(),
        since: local_rfc3339(tz, since),
        until: local_rfc3339(tz, until),
        evaluations: total.evaluations(),
        approved: total.approved,
        reviewed: total.reviewed,
        challenged: total.challenged,
        blocked: total.blocked,
        approval_rate: total.approval_rate(),
        money_protected: money
            .into_iter()
            .map(|(c, a)| ProtectedAmount { currency: c.to_owned(), amount_minor: a })
            .collect(),
        trend: buckets
            .into_iter()
            .map(|(start, t)| TrendBucket {
                start: local_rfc3339(tz, start),
                evaluations: t.evaluations(),
                approved: t.approved,
                reviewed: t.reviewed,
                challenged: t.challenged,
                blocked: t.blocked,
                approval_rate: t.approval_rate(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(text: &str) -> i64 {
        text.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn tz(name: &str) -> TimeZone {
        TimeZone::get(name).unwrap()
    }

    fn slot(at: &str, decision: &str, count: i64) -> DecisionSlot {
        DecisionSlot {
            slot_start: ms(at),
            decision: decision.into(),
            currency: "MXN".into(),
            count,
            amount_minor: 100 * count,
        }
    }

    #[test]
    fn a_late_utc_slot_is_the_next_day_in_tokyo_and_the_same_day_in_mexico_city() {
        let at = ms("2026-03-10T23:30:00Z");
        let tokyo = tz("Asia/Tokyo");
        assert_eq!(
            local_rfc3339(&tokyo, bucket_start(&tokyo, Step::Day, at)),
            "2026-03-11T00:00:00+09:00"
        );
        let mexico = tz("America/Mexico_City");
        assert_eq!(
            local_rfc3339(&mexico, bucket_start(&mexico, Step::Day, at)),
            "2026-03-10T00:00:00-06:00"
        );
    }

    #[test]
    fn hours_follow_the_local_clock() {
        // Kathmandu is UTC+05:45: local hours start at :15 UTC.
        let ktm = tz("Asia/Kathmandu");
        assert_eq!(
            bucket_start(&ktm, Step::Hour, ms("2026-03-10T00:15:00Z")),
            ms("2026-03-10T00:15:00Z")
        );
        assert_eq!(
            bucket_start(&ktm, Step::Hour, ms("2026-03-10T00:00:00Z")),
            ms("2026-03-09T23:15:00Z")
        );
        let utc = TimeZone::UTC;
        assert_eq!(
            bucket_start(&utc, Step::Hour, ms("2026-03-10T10:59:59.999Z")),
            ms("2026-03-10T10:00:00Z")
        );
    }

    #[test]
    fn a_spring_forward_day_is_one_bucket_of_23_hours() {
        let ny = tz("America/New_York");
        let (since, until) = window(Range::Days7, &ny, ms("2026-03-10T12:00:00Z"));
        assert_eq!(local_rfc3339(&ny, since), "2026-03-04T00:00:00-05:00");
        let buckets =
            fold(&ny, Step::Day, since, until, &[slot("2026-03-08T12:00:00Z", "approve", 2)]);
        assert_eq!(buckets.len(), 7);
        let starts: Vec<i64> = buckets.iter().map(|b| b.0).collect();
        assert_eq!(starts[4], ms("2026-03-08T05:00:00Z"));
        assert_eq!(starts[5] - starts[4], 23 * HOUR_MS);
        assert_eq!(starts[6] - starts[5], 24 * HOUR_MS);
        assert_eq!(buckets[4].1.approved, 2);
        assert_eq!(local_rfc3339(&ny, starts[6]), "2026-03-10T00:00:00-04:00");
    }

    #[test]
    fn a_fall_back_night_has_two_one_oclock_buckets() {
        let ny = tz("America/New_York");
        let (since, until) = window(Range::Hours24, &ny, ms("2026-11-01T12:10:00Z"));
        let buckets = fold(&ny, Step::Hour, since, until, &[]);
        assert_eq!(buckets.len(), 24);
        let starts: Vec<String> = buckets.iter().map(|b| local_rfc3339(&ny, b.0)).collect();
        assert!(starts.contains(&"2026-11-01T01:00:00-04:00".to_owned()), "{starts:?}");
        assert!(starts.contains(&"2026-11-01T01:00:00-05:00".to_owned()), "{starts:?}");
        assert_eq!(starts.last().unwrap(), "2026-11-01T07:00:00-05:00");
        // And that local day is one daily bucket of 25 hours.
        let (since, until) = window(Range::Days7, &ny, ms("2026-11-03T12:00:00Z"));
        let days = fold(&ny, Step::Day, since, until, &[]);
        assert_eq!(days.len(), 7);
        assert_eq!(days[5].0 - days[4].0, 25 * HOUR_MS);
    }

    #[test]
    fn fold_counts_decisions_and_ignores_slots_outside_the_window() {
        let utc = TimeZone::UTC;
        let now = ms("2026-03-10T10:20:00Z");
        let (since, until) = window(Range::Hours24, &utc, now);
        assert_eq!((since, until), (ms("2026-03-09T11:00:00Z"), ms("2026-03-10T10:30:00Z")));
        let slots = [
            slot("2026-03-09T10:45:00Z", "approve", 9), // before the window
            slot("2026-03-09T11:00:00Z", "approve", 1),
            slot("2026-03-10T10:15:00Z", "approve", 3),
            slot("2026-03-10T10:15:00Z", "decline", 1),
            slot("2026-03-10T10:00:00Z", "review", 2),
        ];
        let b = fold(&utc, Step::Hour, since, until, &slots);
        assert_eq!(b.len(), 24);
        assert_eq!(b[0].1, Tally { approved: 1, ..Tally::default() });
        let last = b[23].1;
        assert_eq!(last, Tally { approved: 3, reviewed: 2, challenged: 0, blocked: 1 });
        assert_eq!(last.approval_rate(), 0.5);
        assert_eq!(Tally { approved: 1, reviewed: 2, ..Tally::default() }.approval_rate(), 0.3333);
        assert_eq!(Tally::default().approval_rate(), 0.0);
        let o = overview(Range::Hours24, "UTC", &utc, since, until, &slots[1..]);
        assert_eq!((o.evaluations, o.blocked), (7, 1));
        assert_eq!(
            o.money_protected,
            vec![ProtectedAmount { currency: "MXN".into(), amount_minor: 100 }]
        );
        assert_eq!(o.since, "2026-03-09T11:00:00+00:00");
    }

    #[test]
    fn ranges_parse() {
        for r in [Range::Hours24, Range::Days7, Range::Days30] {
            assert_eq!(Range::parse(r.as_str()), Some(r));
        }
        assert_eq!(Range::parse("1y"), None);
        let (since, until) = window(Range::Days30, &TimeZone::UTC, ms("2026-03-10T10:20:00Z"));
        assert_eq!(since, ms("2026-02-09T00:00:00Z"));
        assert_eq!(fold(&TimeZone::UTC, Step::Day, since, until, &[]).len(), 30);
    }
}
