//! The OpenAPI document at `/v3/api-docs` lists exactly the routes the router serves: every
//! served (method, path) has an entry, and every entry is served. The served paths are the
//! router's own (its `Debug` lists the path of every route it holds); which methods each path
//! takes is asked of the live server: a method the path does not take answers 405. The page
//! at `/doc.html` and its files are served from the binary.

mod common;

use std::collections::BTreeSet;

use serde_json::Value;

/// The dashboard's own pages: HTML for a browser, not API (see `app::docs`).
const NOT_API: [&str; 3] = ["/", "/websocket.html", "/static/{path}"];
const METHODS: [&str; 5] = ["get", "post", "put", "delete", "patch"];

/// Every path in the router's `Debug` (`RouteId(n): "/path"` entries), axum's wildcard
/// `{*rest}` written as OpenAPI's `{rest}`.
fn router_paths(router: &axum::Router) -> BTreeSet<String> {
    let dump = format!("{router:?}");
    let mut paths = BTreeSet::new();
    let mut rest = dump.as_str();
    while let Some(i) = rest.find("RouteId(") {
        rest = &rest[i + "RouteId(".len()..];
        let Some(tail) = rest
            .find(')')
            .map(|j| &rest[j + 1..])
            .and_then(|t| t.strip_prefix(": \""))
        else {
            continue;
        };
        let path = &tail[..tail.find('"').unwrap()];
        if !path.contains("__private__axum") {
            paths.insert(path.replace("{*", "{"));
        }
    }
    paths
}

/// A concrete URL path for a template: each `{param}` becomes `1`.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for ch in path.chars() {
        match ch {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push('1');
            }
            _ if in_param => {}
            _ => out.push(ch),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_and_router_agree() {
    let app = common::spawn(common::Backend::Sqlite).await;
    let router = sky_takeout::app::routes::router(app.state.clone());
    let paths = router_paths(&router);
    assert!(
        paths.len() > 60,
        "the router's Debug no longer lists its paths: {paths:?}"
    );

    let http = app.http();
    let mut served = BTreeSet::new();
    for path in paths.iter().filter(|p| !NOT_API.contains(&p.as_str())) {
        for method in METHODS {
            let url = format!("{}{}", app.base, concrete(path));
            let m = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let status = http.request(m, &url).send().await.unwrap().status();
            if status != reqwest::StatusCode::METHOD_NOT_ALLOWED {
                served.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }

    let doc: Value = http
        .get(format!("{}/v3/api-docs", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["openapi"]
            .as_str()
            .unwrap_or_default()
            .starts_with("3."),
        "{}",
        doc["openapi"]
    );
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in METHODS {
            if item.get(method).is_some() {
                documented.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }

    let undocumented: Vec<_> = served.difference(&documented).collect();
    let not_served: Vec<_> = documented.difference(&served).collect();
    assert!(
        undocumented.is_empty() && not_served.is_empty(),
        "served but not in /v3/api-docs: {undocumented:?}\nin /v3/api-docs but not served: {not_served:?}"
    );
    assert!(served.len() > 70, "{served:?}");
}

/// Each documented operation says what it answers with: the envelope's schema for the JSON
/// replies, and its request body and parameters where the handler reads them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn document_describes_shapes() {
    let app = common::spawn(common::Backend::Sqlite).await;
    let doc: Value = app
        .http()
        .get(format!("{}/v3/api-docs", app.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let op = &doc["paths"]["/admin/category/page"]["get"];
    let names: Vec<&str> = op["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names, ["page", "pageSize", "name", "type"], "{op}");
    let body = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        .as_str()
        .unwrap_or_default();
    let name = body.rsplit('/').next().unwrap();
    let schema = &doc["components"]["schemas"][name];
    for field in ["code", "msg", "data"] {
        assert!(
            schema["properties"].get(field).is_some(),
            "{name}: {schema}"
        );
    }
    let submit = &doc["paths"]["/user/order/submit"]["post"];
    assert!(
        submit["requestBody"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .is_some_and(|r| r.ends_with("SubmitReq")),
        "{submit}"
    );
    let status = &doc["paths"]["/admin/shop/{status}"]["put"]["parameters"][0];
    assert_eq!(status["in"], "path", "{status}");
    assert_eq!(
        doc["paths"]["/admin/dish"]["post"]["security"][0]["token"],
        serde_json::json!([])
    );

    let page = app
        .http()
        .get(format!("{}/doc.html", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("swagger-ui"), "{html}");
    let init = app
        .http()
        .get(format!("{}/swagger-ui/swagger-initializer.js", app.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(init.contains("/v3/api-docs"), "{init}");
    let bundle = app
        .http()
        .get(format!("{}/swagger-ui/swagger-ui-bundle.js", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(bundle.status(), 200);
}
