//! Per-key rate limits answer 429 with the documented headers.

use serde_json::json;

use crate::{helpers::TestApp, stories};

stories!(exceeding_the_per_minute_limit_is_429);

async fn exceeding_the_per_minute_limit_is_429(app: TestApp) {
    let (mut row, key) = clausum_origin::bootstrap::new_key(
        &app.creds.organization_id,
        clausum_core::keys::KeyKind::Secret,
        3,
        clausum_origin::time::now_ms(),
    );
    row.name = "limited".into();
    app.store.insert_api_key(&row).await.unwrap();
    app.state.reload_keys().await.unwrap();

    let body = json!({"amount": 1, "currency": "MXN"});
    for expected_remaining in ["2", "1", "0"] {
        let r = app.assess_with(key.expose(), &body).await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.header("x-ratelimit-remaining"), Some(expected_remaining));
    }
    let r = app.assess_with(key.expose(), &body).await;
    assert_eq!(r.status, 429);
    assert_eq!(r.error_code(), "RATE_LIMIT_EXCEEDED");
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    let reset: i64 = r.header("x-ratelimit-reset").unwrap().parse().unwrap();
    let now_s = clausum_origin::time::now_ms() / 1000;
    assert!(reset > now_s && reset <= now_s + 61, "reset {reset} vs now {now_s}");
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    // Other keys are not affected.
    assert_eq!(app.assess(&body).await.status, 200);
    assert_eq!(app.count_transactions().await, 4);
}
