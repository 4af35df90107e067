//! Health, the public catalogue, and errors outside any handler.

use crate::{
    helpers::{Reply, TestApp},
    stories,
};

stories!(health_and_catalog_need_no_key, unknown_routes_and_methods_get_the_error_body);

async fn health_and_catalog_need_no_key(app: TestApp) {
    let r = Reply::read(app.client.get(app.url("/api/v1/health")).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["status"], "ok");
    assert_eq!(r.json["database_ok"], true);
    assert_eq!(r.json["writer_ok"], true);
    let expected = match app.backend {
        crate::helpers::Backend::Sqlite => "sqlite",
        crate::helpers::Backend::Postgres => "postgres",
    };
    assert_eq!(r.json["database"], expected);

    let r = Reply::read(app.client.get(app.url("/api/v1/assess")).send().await.unwrap()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["version"], "1.3.0");
    assert_eq!(r.json["amount_rules"]["currency_exponents"]["MXN"], 2);
    assert_eq!(r.json["amount_rules"]["currency_exponents"]["JPY"], 0);
    for seg in ["comercio", "psp", "banco", "bank"] {
        let reqs = r.json["field_requirements_by_segment"][seg].as_array().unwrap();
        assert_eq!(reqs[0]["field"], "amount");
        assert_eq!(reqs[0]["level"], "required");
    }
    assert!(
        r.json["resilience"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["code"] == "ASSESS_TIMEOUT" && c["status"] == 504)
    );
}

async fn unknown_routes_and_methods_get_the_error_body(app: TestApp) {
    let r = Reply::read(app.client.get(app.url("/api/v1/nope")).send().await.unwrap()).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.error_code(), "NOT_FOUND");
    let r = Reply::read(app.client.delete(app.url("/api/v1/assess")).send().await.unwrap()).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.error_code(), "METHOD_NOT_ALLOWED");
}
