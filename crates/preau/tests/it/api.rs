//! The API's OpenAPI document: every route is in it, and the demo's real answers (lists,
//! objects, creations, errors) validate against the schemas it gives.

use axum::http::Method;
use serde_json::{Value, json};

use crate::harness::{Resp, TestApp};

/// Checks `v` against a JSON Schema of the document (the subset the document uses:
/// `$ref`, `allOf`, `anyOf`, `type`, `format`, `properties`, `required`,
/// `additionalProperties: false`, `items`). Returns what does not match.
fn validate(doc: &Value, schema: &Value, v: &Value, at: &str) -> Vec<String> {
    let mut errors = Vec::new();
    check(doc, schema, v, at, &mut errors);
    errors
}

fn check(doc: &Value, schema: &Value, v: &Value, at: &str, errors: &mut Vec<String>) {
    if let Some(r) = schema["$ref"].as_str() {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected $ref {r}"));
        let target = &doc["components"]["schemas"][name];
        assert!(target.is_object(), "{r} is not defined");
        check(doc, target, v, at, errors);
    }
    if let Some(all) = schema["allOf"].as_array() {
        for s in all {
            check(doc, s, v, at, errors);
        }
    }
    if let Some(any) = schema["anyOf"].as_array()
        && !any.iter().any(|s| validate(doc, s, v, at).is_empty())
    {
        errors.push(format!(
            "{at}: {v} matches none of {}",
            Value::from(any.clone())
        ));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if !types.is_empty() {
        let ok = types.iter().any(|t| match *t {
            "integer" => v.is_i64() || v.is_u64(),
            "number" => v.is_number(),
            "string" => v.is_string(),
            "boolean" => v.is_boolean(),
            "null" => v.is_null(),
            "array" => v.is_array(),
            "object" => v.is_object(),
            other => panic!("unknown type {other}"),
        });
        if !ok {
            errors.push(format!("{at}: {v} is not {types:?}"));
            return;
        }
    }
    if let (Some(f), Some(s)) = (schema["format"].as_str(), v.as_str()) {
        let ok = match f {
            "date" => chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok(),
            "date-time" => chrono::DateTime::parse_from_rfc3339(s).is_ok(),
            _ => true,
        };
        if !ok {
            errors.push(format!("{at}: {s:?} is not a {f}"));
        }
    }
    if let (Some(min), Some(n)) = (schema["minimum"].as_f64(), v.as_f64())
        && n < min
    {
        errors.push(format!("{at}: {n} < {min}"));
    }
    if let Some(o) = v.as_object() {
        let props = schema["properties"].as_object();
        if let Some(props) = props {
            for (k, s) in props {
                if let Some(x) = o.get(k) {
                    check(doc, s, x, &format!("{at}.{k}"), errors);
                }
            }
            if schema["additionalProperties"] == json!(false) {
                for k in o.keys().filter(|k| !props.contains_key(*k)) {
                    errors.push(format!("{at}.{k}: not in the schema"));
                }
            }
        }
        for r in schema["required"].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap();
            if !o.contains_key(r) {
                errors.push(format!("{at}.{r}: required, missing"));
            }
        }
    }
    if let (Some(items), Some(a)) = (schema.get("items"), v.as_array()) {
        for (i, x) in a.iter().enumerate() {
            check(doc, items, x, &format!("{at}[{i}]"), errors);
        }
    }
}

/// The schema the document gives for `status` of `method path`.
fn answer_schema(doc: &Value, method: &str, path: &str, status: u16) -> Value {
    let op = &doc["paths"][path][method];
    assert!(op.is_object(), "{method} {path} is not documented");
    let r = &op["responses"][status.to_string()];
    assert!(r.is_object(), "{method} {path} documents no {status}");
    let media = if status >= 400 {
        "application/problem+json"
    } else {
        "application/json"
    };
    r["content"][media]["schema"].clone()
}

#[track_caller]
fn assert_valid(doc: &Value, method: &str, path: &str, resp: &Resp) {
    let schema = answer_schema(doc, method, path, resp.status.as_u16());
    let body = resp.json();
    let errors = validate(doc, &schema, &body, "$");
    assert!(
        errors.is_empty(),
        "{method} {path} ({}): {errors:#?}",
        resp.status
    );
}

#[tokio::test]
async fn every_route_is_documented_and_the_demo_answers_match_their_schemas() {
    let app = TestApp::demo().await;
    let resp = app
        .request(Method::GET, "/api/v1/openapi.json", &[], None)
        .await;
    assert_eq!(resp.status, 200);
    let doc = resp.json();
    assert_eq!(doc["openapi"], "3.1.0");

    // The document and the router come from one table: every operation is in the document
    // with a summary, its success answer and, for writes, a request body; every `$ref`
    // names a defined schema.
    let ops = preau_web::api::ops();
    let documented: usize = doc["paths"]
        .as_object()
        .unwrap()
        .values()
        .map(|item| item.as_object().unwrap().len())
        .sum();
    assert_eq!(documented, ops.len());
    for op in &ops {
        let d = &doc["paths"][op.path][op.method];
        assert!(d["summary"].as_str().is_some_and(|s| !s.is_empty()));
        let (status, body) = op.answer;
        let answer = &d["responses"][status.to_string()];
        assert!(answer.is_object(), "{} {}", op.method, op.path);
        assert_eq!(body.is_some(), answer["content"].is_object());
        if op.method == "post" && !op.path.ends_with("/take") || op.method == "patch" {
            assert!(
                d["requestBody"]["content"]["application/json"]["schema"].is_object(),
                "{} {} documents no request body",
                op.method,
                op.path
            );
        }
    }
    let text = doc.to_string();
    for r in text.split("\"$ref\":\"").skip(1) {
        let name = r.split('"').next().unwrap();
        let name = name.strip_prefix("#/components/schemas/").unwrap();
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }

    // The validator is not vacuous: an extra key, a missing one or a wrong type fails.
    let school_schema = json!({"$ref": "#/components/schemas/School"});
    let admin = app.token("admin").await;
    let school = app
        .api(&admin, Method::GET, "/api/v1/schools/1", None)
        .await
        .json();
    assert!(validate(&doc, &school_schema, &school, "$").is_empty());
    let mut extra = school.clone();
    extra["surprise"] = json!(1);
    assert!(!validate(&doc, &school_schema, &extra, "$").is_empty());
    let mut missing = school.clone();
    missing.as_object_mut().unwrap().remove("uai");
    assert!(!validate(&doc, &school_schema, &missing, "$").is_empty());
    let mut wrong = school.clone();
    wrong["created_at"] = json!("hier");
    assert!(!validate(&doc, &school_schema, &wrong, "$").is_empty());

    // Every GET of the demo, as the administrator, validates; lists are not empty, so
    // their items were checked too (the demo has a contract, visits, loans…).
    for op in ops.iter().filter(|o| o.method == "get") {
        let uri = format!("/api/v1{}", op.path.replace("{id}", "1"));
        let uri = if op.path == "/interventions" {
            format!("{uri}?from=2020-01-01&to=2021-01-01")
        } else {
            uri
        };
        let resp = app.api(&admin, Method::GET, &uri, None).await;
        assert_eq!(resp.status, 200, "GET {uri}: {}", resp.body);
        assert_valid(&doc, "get", op.path, &resp);
    }
    for path in [
        "/schools",
        "/devices",
        "/tickets",
        "/contracts",
        "/loans",
        "/users",
        "/device-categories",
        "/school-years",
        "/schools/1/rooms",
        "/schools/1/classes",
        "/needs",
        "/subsidies",
        "/connectivity",
        "/schools/1/links",
    ] {
        let body = app
            .api(&admin, Method::GET, &format!("/api/v1{path}"), None)
            .await
            .json();
        assert!(
            !body["items"].as_array().unwrap().is_empty(),
            "{path} is empty in the demo: its items were not checked"
        );
    }

    // Other roles see other shapes of the same types (redacted amounts, no penalties).
    for login in ["directeur", "prestataire", "elu", "technicien"] {
        let token = app.token(login).await;
        for path in [
            "/tickets",
            "/devices",
            "/me",
            "/contracts",
            "/needs",
            "/subsidies",
        ] {
            let resp = app
                .api(&token, Method::GET, &format!("/api/v1{path}"), None)
                .await;
            // An answer or a refusal, either as documented.
            assert_valid(&doc, "get", path, &resp);
        }
    }

    // Writes: creations, changes and deletions answer what the document says.
    let resp = app
        .api(
            &admin,
            Method::POST,
            "/api/v1/schools",
            Some(json!({"uai": "0750655E", "name": "École du Parc", "kind": "elementaire"})),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_valid(&doc, "post", "/schools", &resp);
    let id = resp.json()["id"].as_i64().unwrap();
    let resp = app
        .api(
            &admin,
            Method::PATCH,
            &format!("/api/v1/schools/{id}"),
            Some(json!({"version": 1, "city": "Élancourt"})),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_valid(&doc, "patch", "/schools/{id}", &resp);
    let resp = app
        .api(
            &admin,
            Method::POST,
            &format!("/api/v1/schools/{id}/rooms"),
            Some(json!({"kind": "classe", "name": "Salle 1"})),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_valid(&doc, "post", "/schools/{id}/rooms", &resp);
    let room = resp.json()["id"].as_i64().unwrap();
    let resp = app
        .api(
            &admin,
            Method::DELETE,
            &format!("/api/v1/rooms/{room}"),
            None,
        )
        .await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert!(
        doc["paths"]["/rooms/{id}"]["delete"]["responses"]["204"]["content"].is_null(),
        "a 204 has no body"
    );
    let resp = app
        .api(
            &admin,
            Method::POST,
            "/api/v1/tickets",
            Some(json!({"school_id": 1, "category": "ecran", "priority": "p2", "description": "L'écran ne s'allume plus"})),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_valid(&doc, "post", "/tickets", &resp);
    let ticket = resp.json()["id"].as_i64().unwrap();
    let resp = app
        .api(
            &admin,
            Method::POST,
            &format!("/api/v1/tickets/{ticket}/events"),
            Some(json!({"body": "Je passe demain matin."})),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_valid(&doc, "post", "/tickets/{id}/events", &resp);
    let resp = app
        .api(
            &admin,
            Method::POST,
            &format!("/api/v1/tickets/{ticket}/take"),
            None,
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_valid(&doc, "post", "/tickets/{id}/take", &resp);

    // Errors are problem details, as documented: invalid fields, unknown objects, no token.
    let resp = app
        .api(
            &admin,
            Method::POST,
            "/api/v1/schools",
            Some(json!({"uai": "123", "name": "", "kind": "usine"})),
        )
        .await;
    assert_eq!(resp.status, 422);
    assert_valid(&doc, "post", "/schools", &resp);
    assert_eq!(resp.json()["errors"].as_array().unwrap().len(), 3);
    let resp = app
        .api(&admin, Method::GET, "/api/v1/schools/999999", None)
        .await;
    assert_eq!(resp.status, 404);
    assert_valid(&doc, "get", "/schools/{id}", &resp);
    let resp = app
        .api(
            &admin,
            Method::PATCH,
            &format!("/api/v1/schools/{id}"),
            Some(json!({"version": 1, "city": "Trappes"})),
        )
        .await;
    assert_eq!(resp.status, 409, "a stale version: {}", resp.body);
    assert_valid(&doc, "patch", "/schools/{id}", &resp);
    let resp = app
        .api("preau_wrong", Method::GET, "/api/v1/schools", None)
        .await;
    assert_eq!(resp.status, 401);
    assert_valid(&doc, "get", "/schools", &resp);
}
