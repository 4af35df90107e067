//! The committed OpenAPI document is the one the code generates.

#[test]
fn committed_spec_is_up_to_date() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/openapi.json");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let generated = clausum_origin::api::spec_json();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: regenerate it with `cargo run -p clausum-origin -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_and_field_is_documented() {
    let spec: serde_json::Value = serde_json::from_str(&clausum_origin::api::spec_json()).unwrap();
    for (path, ops) in spec["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(op["summary"].is_string(), "{method} {path} has no summary");
            assert!(op["description"].is_string(), "{method} {path} has no description");
        }
    }
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    for (name, schema) in schemas {
        if let Some(props) = schema["properties"].as_object() {
            for (field, p) in props {
                let described = p["description"].is_string()
                    || p["allOf"]
                        .as_array()
                        .is_some_and(|a| a.iter().any(|x| x["description"].is_string()));
                assert!(described, "{name}.{field} has no description");
            }
        }
    }
    assert!(schemas["AssessRequest"]["example"].is_object(), "AssessRequest has no example");
    assert!(schemas["AssessResponse"]["example"].is_object(), "AssessResponse has no example");
}
