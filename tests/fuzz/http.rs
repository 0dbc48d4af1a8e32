//! Every REST endpoint (and the pages, images, ops and socket routes reached without an
//! upgrade) with generated path ids, query strings, bodies, Content-Types and credentials,
//! sent to the real router in-process; and multipart uploads.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderName, HeaderValue, Request};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use sky_takeout::app::listener::Peer;
use tower::ServiceExt;

use crate::invariants::World;
use crate::strategies::{J, K, Pool, any_json, object, text, value};

use K::*;
use Pool as P;

/// Who an endpoint expects.
#[derive(Debug, Clone, Copy)]
enum Role {
    Anyone,
    Customer,
    Merchant,
}

/// One endpoint: method, path (`{}` is the path parameter), body fields, query fields.
struct Endpoint {
    method: &'static str,
    path: &'static str,
    param: Option<K>,
    body: &'static [(&'static str, K)],
    query: &'static [(&'static str, K)],
    role: Role,
}

const fn ep(
    method: &'static str,
    path: &'static str,
    param: Option<K>,
    body: &'static [(&'static str, K)],
    query: &'static [(&'static str, K)],
    role: Role,
) -> Endpoint {
    Endpoint {
        method,
        path,
        param,
        body,
        query,
        role,
    }
}

const CART: &[(&str, K)] = &[
    ("dishId", Id(P::Dish)),
    ("setmealId", Id(P::Setmeal)),
    ("dishFlavor", Str),
];
const ADDRESS: &[(&str, K)] = &[
    ("id", Id(P::Address)),
    ("consignee", Str),
    ("sex", Sex),
    ("phone", Phone),
    ("provinceName", Str),
    ("cityName", Str),
    ("districtName", Str),
    ("detail", Str),
    ("label", Str),
    ("isDefault", Code),
];
const SUBMIT: &[(&str, K)] = &[
    ("addressBookId", Id(P::Address)),
    ("payMethod", Code),
    ("remark", Str),
    ("estimatedDeliveryTime", DateTime),
    ("deliveryStatus", Code),
    ("tablewareNumber", Int),
    ("tablewareStatus", Code),
    ("packAmount", Int),
    ("amount", Price),
];
const PAGE: &[(&str, K)] = &[("page", Int), ("pageSize", Int), ("name", Str)];
const CATEGORY: &[(&str, K)] = &[
    ("id", Id(P::Category)),
    ("type", Code),
    ("name", Str),
    ("sort", Int),
];
const DISH: &[(&str, K)] = &[
    ("id", Id(P::Dish)),
    ("name", Str),
    ("categoryId", Id(P::Category)),
    ("price", Price),
    ("image", Str),
    ("description", Str),
    ("status", Code),
    ("flavors", Flavors),
];
const SETMEAL: &[(&str, K)] = &[
    ("id", Id(P::Setmeal)),
    ("name", Str),
    ("categoryId", Id(P::Category)),
    ("price", Price),
    ("image", Str),
    ("description", Str),
    ("status", Code),
    ("setmealDishes", SetmealDishes),
];
const CATALOG_PAGE: &[(&str, K)] = &[
    ("page", Int),
    ("pageSize", Int),
    ("name", Str),
    ("categoryId", Id(P::Category)),
    ("status", Code),
];
const EMPLOYEE: &[(&str, K)] = &[
    ("id", Id(P::Employee)),
    ("username", Username),
    ("name", Str),
    ("phone", Phone),
    ("sex", Sex),
    ("idNumber", Str),
];
const RANGE: &[(&str, K)] = &[("begin", Date), ("end", Date)];
const ORDER_ID: &[(&str, K)] = &[("id", Id(P::Order))];
const NONE: &[(&str, K)] = &[];

use Role::{Anyone as A, Customer as C, Merchant as M};

#[rustfmt::skip]
static ENDPOINTS: &[Endpoint] = &[
    ep("POST", "/user/user/login", None, &[("code", Str)], NONE, A),
    ep("GET", "/user/shop/status", None, NONE, &[("shopId", Id(P::Shop))], C),
    ep("GET", "/user/category/list", None, NONE, &[("type", Code), ("shopId", Id(P::Shop))], C),
    ep("GET", "/user/dish/list", None, NONE, &[("categoryId", Id(P::Category))], C),
    ep("GET", "/user/setmeal/list", None, NONE, &[("categoryId", Id(P::Category))], C),
    ep("GET", "/user/setmeal/dish/{}", Some(Id(P::Setmeal)), NONE, NONE, C),
    ep("POST", "/user/shoppingCart/add", None, CART, NONE, C),
    ep("POST", "/user/shoppingCart/add", None, CART, NONE, C),
    ep("GET", "/user/shoppingCart/list", None, NONE, NONE, C),
    ep("POST", "/user/shoppingCart/sub", None, CART, NONE, C),
    ep("DELETE", "/user/shoppingCart/clean", None, NONE, NONE, C),
    ep("POST", "/user/addressBook", None, ADDRESS, NONE, C),
    ep("PUT", "/user/addressBook", None, ADDRESS, NONE, C),
    ep("DELETE", "/user/addressBook", None, NONE, &[("id", Id(P::Address))], C),
    ep("GET", "/user/addressBook/list", None, NONE, NONE, C),
    ep("GET", "/user/addressBook/default", None, NONE, NONE, C),
    ep("PUT", "/user/addressBook/default", None, &[("id", Id(P::Address))], NONE, C),
    ep("GET", "/user/addressBook/{}", Some(Id(P::Address)), NONE, NONE, C),
    ep("POST", "/user/order/submit", None, SUBMIT, NONE, C),
    ep("POST", "/user/order/submit", None, SUBMIT, NONE, C),
    ep("PUT", "/user/order/payment", None, &[("orderNumber", Number), ("payMethod", Code)], NONE, C),
    ep("PUT", "/user/order/payment", None, &[("orderNumber", Number), ("payMethod", Code)], NONE, C),
    ep("PUT", "/user/order/payment", None, &[("orderNumber", Number), ("payMethod", Code)], NONE, C),
    ep("PUT", "/user/order/payment", None, &[("orderNumber", Number), ("payMethod", Code)], NONE, C),
    ep("PUT", "/user/order/payment", None, &[("orderNumber", Number), ("payMethod", Code)], NONE, C),
    ep("GET", "/user/order/historyOrders", None, NONE, &[("page", Int), ("pageSize", Int), ("status", Code)], C),
    ep("GET", "/user/order/orderDetail/{}", Some(Id(P::Order)), NONE, NONE, C),
    ep("PUT", "/user/order/cancel/{}", Some(Id(P::Order)), NONE, NONE, C),
    ep("POST", "/user/order/repetition/{}", Some(Id(P::Order)), NONE, NONE, C),
    ep("GET", "/user/order/reminder/{}", Some(Id(P::Order)), NONE, NONE, C),
    ep("POST", "/admin/employee/login", None, &[("username", Username), ("password", Str)], NONE, A),
    ep("POST", "/admin/employee/logout", None, NONE, NONE, M),
    ep("GET", "/admin/employee/me", None, NONE, NONE, M),
    ep("PUT", "/admin/employee/editPassword", None, &[("oldPassword", Str), ("newPassword", Str)], NONE, M),
    ep("POST", "/admin/employee", None, EMPLOYEE, NONE, M),
    ep("PUT", "/admin/employee", None, EMPLOYEE, NONE, M),
    ep("GET", "/admin/employee/page", None, NONE, PAGE, M),
    ep("GET", "/admin/employee/{}", Some(Id(P::Employee)), NONE, NONE, M),
    ep("POST", "/admin/employee/status/{}", Some(Code), NONE, &[("id", Id(P::Employee))], M),
    ep("POST", "/admin/category", None, CATEGORY, NONE, M),
    ep("PUT", "/admin/category", None, CATEGORY, NONE, M),
    ep("DELETE", "/admin/category", None, NONE, &[("id", Id(P::Category))], M),
    ep("GET", "/admin/category/page", None, NONE, &[("page", Int), ("pageSize", Int), ("name", Str), ("type", Code)], M),
    ep("GET", "/admin/category/list", None, NONE, &[("type", Code)], M),
    ep("POST", "/admin/category/status/{}", Some(Code), NONE, &[("id", IdList(P::Category))], M),
    ep("POST", "/admin/dish", None, DISH, NONE, M),
    ep("PUT", "/admin/dish", None, DISH, NONE, M),
    ep("DELETE", "/admin/dish", None, NONE, &[("ids", IdList(P::Dish))], M),
    ep("GET", "/admin/dish/page", None, NONE, CATALOG_PAGE, M),
    ep("GET", "/admin/dish/list", None, NONE, &[("categoryId", Id(P::Category))], M),
    ep("GET", "/admin/dish/{}", Some(Id(P::Dish)), NONE, NONE, M),
    ep("POST", "/admin/dish/status/{}", Some(Code), NONE, &[("id", IdList(P::Dish))], M),
    ep("POST", "/admin/setmeal", None, SETMEAL, NONE, M),
    ep("PUT", "/admin/setmeal", None, SETMEAL, NONE, M),
    ep("DELETE", "/admin/setmeal", None, NONE, &[("ids", IdList(P::Setmeal))], M),
    ep("GET", "/admin/setmeal/page", None, NONE, CATALOG_PAGE, M),
    ep("GET", "/admin/setmeal/{}", Some(Id(P::Setmeal)), NONE, NONE, M),
    ep("POST", "/admin/setmeal/status/{}", Some(Code), NONE, &[("id", IdList(P::Setmeal))], M),
    ep("GET", "/admin/order/conditionSearch", None, NONE, &[("page", Int), ("pageSize", Int), ("number", Number), ("phone", Phone), ("status", Code), ("beginTime", DateTime), ("endTime", DateTime)], M),
    ep("GET", "/admin/order/statistics", None, NONE, NONE, M),
    ep("GET", "/admin/order/details/{}", Some(Id(P::Order)), NONE, NONE, M),
    ep("PUT", "/admin/order/confirm", None, ORDER_ID, NONE, M),
    ep("PUT", "/admin/order/rejection", None, &[("id", Id(P::Order)), ("rejectionReason", Str)], NONE, M),
    ep("PUT", "/admin/order/cancel", None, &[("id", Id(P::Order)), ("cancelReason", Str)], NONE, M),
    ep("PUT", "/admin/order/delivery/{}", Some(Id(P::Order)), NONE, NONE, M),
    ep("PUT", "/admin/order/complete/{}", Some(Id(P::Order)), NONE, NONE, M),
    ep("GET", "/admin/shop/status", None, NONE, NONE, M),
    ep("PUT", "/admin/shop/{}", Some(Code), NONE, NONE, M),
    ep("GET", "/admin/alerts", None, NONE, &[("beforeSeq", Int), ("unhandled", Bool), ("limit", Int)], M),
    ep("POST", "/admin/alerts/{}/ack", Some(Id(P::Alert)), NONE, NONE, M),
    ep("GET", "/admin/workspace/businessData", None, NONE, NONE, M),
    ep("GET", "/admin/workspace/overviewOrders", None, NONE, NONE, M),
    ep("GET", "/admin/workspace/overviewDishes", None, NONE, NONE, M),
    ep("GET", "/admin/workspace/overviewSetmeals", None, NONE, NONE, M),
    ep("GET", "/admin/report/turnoverStatistics", None, NONE, RANGE, M),
    ep("GET", "/admin/report/userStatistics", None, NONE, RANGE, M),
    ep("GET", "/admin/report/ordersStatistics", None, NONE, RANGE, M),
    ep("GET", "/admin/report/top10", None, NONE, RANGE, M),
    ep("GET", "/admin/report/export", None, NONE, NONE, M),
    ep("POST", "/notify/paySuccess", None, &[("id", Str), ("resource", Str)], NONE, A),
    ep("GET", "/metrics", None, NONE, NONE, A),
    ep("GET", "/healthz", None, NONE, NONE, A),
    ep("GET", "/readyz", None, NONE, NONE, A),
    ep("GET", "/", None, NONE, NONE, A),
    ep("GET", "/static/{}", Some(Str), NONE, NONE, A),
    ep("GET", "/images/{}", Some(Str), NONE, NONE, A),
    ep("GET", "/ws/{}", Some(Str), NONE, NONE, M),
    ep("GET", "/ws/v2/alerts", None, NONE, NONE, M),
    ep("GET", "/ws/v2/sse", None, NONE, &[("lastSeq", Int)], M),
];

/// The credentials a request carries.
#[derive(Debug, Clone)]
pub enum Auth {
    None,
    /// The endpoint's own role, the n-th account of it.
    Own(Index),
    /// A customer's token.
    Customer(Index),
    /// A merchant's `token` header.
    Merchant(Index),
    /// A merchant's token as `Authorization: Bearer`.
    Bearer(Index),
    /// A merchant's session cookie.
    Cookie(Index),
    /// A token signed with the app's secret but expired.
    Expired,
    /// A real token with one character changed.
    Tampered(Index, Index),
    /// Whatever this text is, in the `token`, `authentication` and cookie places.
    Garbage(String),
}

/// One generated request.
#[derive(Debug, Clone)]
pub struct Case {
    endpoint: Index,
    param: Option<J>,
    query: Vec<(String, J)>,
    /// `None`: no body; `Some((json, cut))`: the JSON, cut short at `cut` when given.
    body: Option<(J, Option<Index>)>,
    raw_body: Option<Vec<u8>>,
    content_type: Option<&'static str>,
    auth: Auth,
}

fn auth() -> impl Strategy<Value = Auth> {
    prop_oneof![
        12 => any::<Index>().prop_map(Auth::Own),
        1 => Just(Auth::None),
        1 => any::<Index>().prop_map(Auth::Customer),
        1 => any::<Index>().prop_map(Auth::Merchant),
        1 => any::<Index>().prop_map(Auth::Bearer),
        1 => any::<Index>().prop_map(Auth::Cookie),
        1 => Just(Auth::Expired),
        1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Auth::Tampered(a, b)),
        1 => text().prop_map(Auth::Garbage),
    ]
}

fn case() -> impl Strategy<Value = Case> {
    any::<Index>().prop_flat_map(|endpoint| {
        let e = endpoint.get(ENDPOINTS);
        let param = match e.param {
            Some(k) => prop_oneof![4 => value(k), 1 => text().prop_map(J::Str)]
                .prop_map(Some)
                .boxed(),
            None => Just(None).boxed(),
        };
        let random_pair = (text(), text().prop_map(J::Str)).boxed();
        let pair = if e.query.is_empty() {
            random_pair
        } else {
            prop_oneof![
                6 => proptest::sample::select(e.query.to_vec())
                    .prop_flat_map(|(n, k)| value(k).prop_map(move |v| (n.to_string(), v))),
                1 => random_pair,
            ]
            .boxed()
        };
        let query =
            proptest::collection::vec(pair, if e.query.is_empty() { 0..2 } else { 0..6 });
        let body = if e.body.is_empty() {
            proptest::option::weighted(0.1, (any_json(), Just(None))).boxed()
        } else {
            prop_oneof![
                10 => object(e.body).prop_map(|o| Some((o, None))),
                1 => any_json().prop_map(|j| Some((j, None))),
                1 => object(e.body).prop_flat_map(|o| any::<Index>().prop_map(move |i| Some((o.clone(), Some(i))))),
                1 => Just(None),
            ]
            .boxed()
        };
        let raw = proptest::option::weighted(0.03, proptest::collection::vec(any::<u8>(), 0..64));
        let ct = prop_oneof![
            10 => Just(Some("application/json")),
            1 => Just(None),
            1 => proptest::sample::select(vec![
                Some("text/plain"), Some("application/json; charset=gbk"),
                Some("application/x-www-form-urlencoded"), Some("multipart/form-data"),
                Some("application/json;;;"), Some("application/merge-patch+json")
            ]),
        ];
        (Just(endpoint), param, query, body, raw, ct, auth()).prop_map(
            |(endpoint, param, query, body, raw_body, content_type, auth)| Case {
                endpoint,
                param,
                query,
                body,
                raw_body,
                content_type,
                auth,
            },
        )
    })
}

/// Percent-encodes everything but the unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn credentials(w: &World, role: Role, a: &Auth) -> Vec<(&'static str, String)> {
    let customer = |i: &Index| ("authentication", i.get(&w.customers).clone());
    let merchant = |i: &Index| ("token", i.get(&w.merchants).0.clone());
    match a {
        Auth::None => vec![],
        Auth::Own(i) => match role {
            Role::Customer => vec![customer(i)],
            Role::Merchant => vec![merchant(i)],
            Role::Anyone => vec![],
        },
        Auth::Customer(i) => vec![customer(i)],
        Auth::Merchant(i) => vec![merchant(i)],
        Auth::Bearer(i) => vec![("authorization", format!("Bearer {}", i.get(&w.merchants).0))],
        Auth::Cookie(i) => vec![("cookie", i.get(&w.merchants).1.clone())],
        Auth::Expired => vec![
            ("token", w.expired.clone()),
            ("authentication", w.expired.clone()),
        ],
        Auth::Tampered(i, at) => {
            let mut t: Vec<u8> = i.get(&w.merchants).0.clone().into_bytes();
            let n = at.index(t.len());
            t[n] = if t[n] == b'A' { b'B' } else { b'A' };
            let t = String::from_utf8(t).unwrap();
            vec![("token", t.clone()), ("authentication", t)]
        }
        Auth::Garbage(g) => vec![
            ("token", g.clone()),
            ("authentication", g.clone()),
            ("cookie", format!("sky_session={g}")),
        ],
    }
}

/// Builds the request of a case (`None` when the generated parts cannot form one, e.g. a
/// header value with a control character: no client could send it either).
fn request(w: &World, c: &Case) -> Option<Request<Body>> {
    let e = c.endpoint.get(ENDPOINTS);
    let mut path = e.path.to_string();
    if let Some(p) = &c.param {
        path = path.replace("{}", &encode(&p.text(&w.pools)));
    }
    if !c.query.is_empty() {
        let q: Vec<String> = c
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(&v.text(&w.pools))))
            .collect();
        path = format!("{path}?{}", q.join("&"));
    }
    let body: Vec<u8> = match (&c.raw_body, &c.body) {
        (Some(raw), _) => raw.clone(),
        (None, Some((j, cut))) => {
            let text = j.value(&w.pools).to_string().into_bytes();
            match cut {
                Some(i) => text[..i.index(text.len().max(1)).min(text.len())].to_vec(),
                None => text,
            }
        }
        (None, None) => Vec::new(),
    };
    let mut req = Request::builder().method(e.method).uri(path);
    if let Some(ct) = c.content_type
        && (c.body.is_some() || c.raw_body.is_some())
    {
        req = req.header("content-type", ct);
    }
    for (name, v) in credentials(w, e.role, &c.auth) {
        let v = HeaderValue::from_str(&v).ok()?;
        req = req.header(HeaderName::from_static(name), v);
    }
    let mut req = req.body(Body::from(body)).ok()?;
    req.extensions_mut()
        .insert(ConnectInfo(Peer(SocketAddr::from((
            [127, 0, 0, 1],
            40_000,
        )))));
    Some(req)
}

/// Sends a request to the router; a 5xx fails the case. Streams (SSE) are not read to the end.
pub async fn send(
    w: &World,
    req: Request<Body>,
    what: &str,
) -> Result<(u16, Vec<u8>), TestCaseError> {
    let resp = w
        .service
        .clone()
        .oneshot(req)
        .await
        .map_err(|e| TestCaseError::fail(format!("{what}: router error {e:?}")))?;
    let status = resp.status().as_u16();
    let stream = resp
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    let body = if stream {
        Vec::new()
    } else {
        axum::body::to_bytes(resp.into_body(), 64 << 20)
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default()
    };
    if status >= 500 {
        return Err(TestCaseError::fail(format!(
            "{what}: HTTP {status}: {}",
            String::from_utf8_lossy(&body)
        )));
    }
    Ok((status, body))
}

/// The REST target: `cases` generated requests; pools refreshed and invariants checked every
/// `every` cases.
pub fn run(w: Arc<World>, rt: &tokio::runtime::Runtime, cases: u32) {
    let mut runner = crate::runner("http", cases);
    let every = 100;
    let n = std::sync::atomic::AtomicU64::new(0);
    let answers = std::sync::Mutex::new(std::collections::BTreeMap::<String, u64>::new());
    let result = runner.run(&case(), |c| {
        let i = n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(async {
            if i.is_multiple_of(25) {
                // A well-formed order now and then, so generated payments, reminders and
                // the merchant's actions find orders in every state.
                crate::notify::new_order(&w, i as usize).await;
            }
            if i.is_multiple_of(every) {
                w.refresh().await;
                w.check().await.map_err(TestCaseError::fail)?;
            }
            let Some(req) = request(&w, &c) else {
                return Ok(());
            };
            let what = format!("{} {}", req.method(), req.uri());
            let (status, body) = send(&w, req, &what).await?;
            let ok =
                serde_json::from_slice::<serde_json::Value>(&body).is_ok_and(|v| v["code"] == 1);
            let mut key = format!("HTTP {status}{}", if ok { " code 1" } else { "" });
            if what.contains("/payment") {
                key = format!("payment {key}");
            }
            *answers.lock().unwrap().entry(key).or_insert(0u64) += 1;
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("HTTP fuzzing failed: {e}");
    }
    rt.block_on(async { w.check().await })
        .expect("invariants after the run");
    let (orders, paid, alerts): (i64, i64, i64) = rt.block_on(async {
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM orders), (SELECT COUNT(*) FROM orders WHERE checkout_time IS NOT NULL), (SELECT COUNT(*) FROM alert_log)")
            .fetch_one(w.pool())
            .await
            .unwrap()
    });
    println!(
        "http answers: {:?}; orders {orders}, paid {paid}, alerts {alerts}",
        answers.into_inner().unwrap()
    );
    crate::report("http", n.into_inner());
}

/// One multipart part as generated.
#[derive(Debug, Clone)]
struct Part {
    name: &'static str,
    file_name: Option<String>,
    content_type: Option<&'static str>,
    bytes: Vec<u8>,
}

fn picture() -> impl Strategy<Value = Vec<u8>> {
    use crate::common::images::{JPEG, PNG, WEBP};
    let base = proptest::sample::select(vec![PNG.to_vec(), JPEG.to_vec(), WEBP.to_vec()]);
    prop_oneof![
        3 => base.clone(),
        // One byte changed, or cut short, or a tail appended.
        3 => (base.clone(), any::<Index>(), any::<u8>()).prop_map(|(mut b, i, v)| { let n = i.index(b.len()); b[n] = v; b }),
        2 => (base.clone(), any::<Index>()).prop_map(|(b, i)| b[..i.index(b.len())].to_vec()),
        1 => (base, proptest::collection::vec(any::<u8>(), 0..64)).prop_map(|(mut b, t)| { b.extend(t); b }),
        1 => proptest::collection::vec(any::<u8>(), 0..256),
        1 => (1usize..3_000_000).prop_map(|n| vec![0x89; n]),
    ]
}

fn part() -> impl Strategy<Value = Part> {
    (
        proptest::sample::select(vec!["file", "file", "file", "files", "", "FILE", "名"]),
        proptest::option::weighted(0.8, text()),
        proptest::option::of(proptest::sample::select(vec![
            "image/png",
            "image/jpeg",
            "text/html",
            "application/octet-stream",
            "",
        ])),
        picture(),
    )
        .prop_map(|(name, file_name, content_type, bytes)| Part {
            name,
            file_name,
            content_type,
            bytes,
        })
}

fn multipart_body(parts: &[Part], boundary: &str, closed: bool) -> Vec<u8> {
    let mut body = Vec::new();
    for p in parts {
        body.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let mut d = format!("Content-Disposition: form-data; name=\"{}\"", p.name);
        if let Some(f) = &p.file_name {
            d.push_str(&format!("; filename=\"{f}\""));
        }
        body.extend_from_slice(d.as_bytes());
        body.extend_from_slice(b"\r\n");
        if let Some(ct) = p.content_type {
            body.extend_from_slice(format!("Content-Type: {ct}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(&p.bytes);
        body.extend_from_slice(b"\r\n");
    }
    if closed {
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    }
    body
}

/// The upload target: generated multipart bodies (pictures intact, changed, cut, padded,
/// random, oversized; odd field names and types; two files; a wrong or missing boundary; an
/// unclosed body) with real and wrong tokens. No 5xx, and every stored file is a picture.
pub fn run_uploads(w: Arc<World>, rt: &tokio::runtime::Runtime, cases: u32) {
    let mut runner = crate::runner("uploads", cases);
    let strategy = (
        proptest::collection::vec(part(), 0..3),
        proptest::sample::select(vec!["b0undary", "----x", "a b", ""]),
        any::<bool>(),
        prop_oneof![6 => Just(0u8), 1 => Just(1), 1 => Just(2)],
        auth(),
    );
    let n = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&strategy, |(parts, boundary, closed, ct, auth)| {
        n.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let body = multipart_body(&parts, boundary, closed || parts.is_empty());
        let content_type = match ct {
            0 => format!("multipart/form-data; boundary={boundary}"),
            1 => "multipart/form-data".to_string(),
            _ => "image/png".to_string(),
        };
        let mut req = Request::builder()
            .method("POST")
            .uri("/admin/common/upload")
            .header("content-type", content_type);
        for (name, v) in credentials(&w, Role::Merchant, &auth) {
            let Ok(v) = HeaderValue::from_str(&v) else {
                return Ok(());
            };
            req = req.header(HeaderName::from_static(name), v);
        }
        let Ok(mut req) = req.body(Body::from(body)) else {
            return Ok(());
        };
        req.extensions_mut()
            .insert(ConnectInfo(Peer(SocketAddr::from((
                [127, 0, 0, 1],
                40_001,
            )))));
        rt.block_on(async {
            let (status, body) = send(&w, req, "upload").await?;
            if status == 200 {
                let v: serde_json::Value = serde_json::from_slice(&body)
                    .map_err(|e| TestCaseError::fail(format!("upload 200 not JSON: {e}")))?;
                prop_assert!(
                    v["data"].as_str().is_some_and(|u| u.contains("/images/")),
                    "{v}"
                );
            }
            Ok(())
        })
    });
    if let Err(e) = result {
        panic!("upload fuzzing failed: {e}");
    }
    w.stored_images_are_pictures();
    crate::report("uploads", n.into_inner());
}
