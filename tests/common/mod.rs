//! Test harness: spawns the real application on port 0 with its own fresh database (an SQLite
//! file in a temp dir, or a new PostgreSQL database), and speaks to it over real HTTP and
//! WebSocket clients.
#![allow(dead_code)]

pub mod binary;
pub mod images;
pub mod wechat;
pub mod wechat_signer;

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use sky_takeout::app::Application;
use sky_takeout::app::state::AppState;
use sky_takeout::config::Settings;
use sky_takeout::time::Clock;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::{Message, http::HeaderValue};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an async test body on both backends: `backend_tests!(name => body_fn)` makes
/// `name_sqlite` and `name_postgres`.
#[macro_export]
macro_rules! backend_tests {
    ($($name:ident => $body:path),* $(,)?) => {
        $(
            mod $name {
                use super::*;
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() { $body(common::Backend::Sqlite).await }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if common::pg_admin_url().is_none() { return; }
                    $body(common::Backend::Postgres).await
                }
            }
        )*
    };
}

/// The PostgreSQL server URL for tests, or `None` (with a loud message) when it is absent and
/// this is not CI. Under CI (or `SKY_REQUIRE_SERVICES=1`) an absent server fails the test.
pub fn pg_admin_url() -> Option<String> {
    let url = std::env::var("SKY_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into());
    let reachable = std::net::TcpStream::connect_timeout(
        &"127.0.0.1:5432".parse().unwrap(),
        Duration::from_secs(1),
    )
    .is_ok()
        || !url.contains("127.0.0.1:5432");
    if reachable {
        return Some(url);
    }
    let required = std::env::var("CI").is_ok() || std::env::var("SKY_REQUIRE_SERVICES").is_ok();
    assert!(
        !required,
        "PostgreSQL is required (CI / SKY_REQUIRE_SERVICES) but {url} is unreachable"
    );
    eprintln!(
        "\n!!!!! SKIPPING a PostgreSQL test: {url} is unreachable (set SKY_TEST_PG_URL) !!!!!\n"
    );
    None
}

/// A fresh database URL for one test.
pub async fn fresh_database(backend: Backend, dir: &tempfile::TempDir) -> String {
    match backend {
        Backend::Sqlite => format!("sqlite://{}/sky.db", dir.path().display()),
        Backend::Postgres => {
            use sqlx::Connection;
            sqlx::any::install_default_drivers();
            let admin = pg_admin_url().expect("postgres available");
            let name = format!(
                "sky_t_{}",
                sky_takeout::auth::random_string(12).to_lowercase()
            );
            let mut conn = sqlx::AnyConnection::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .expect("create db");
            let base = admin.rsplit_once('/').expect("url has a database").0;
            format!("{base}/{name}")
        }
    }
}

/// A running application.
pub struct TestApp {
    pub base: String,
    pub ws_base: String,
    pub host: String,
    pub state: AppState,
    pub clock: Clock,
    pub database_url: String,
    stop: tokio_util::sync::CancellationToken,
    handle: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

/// Spawns the app with test defaults, adjusted by `tweak`.
pub async fn spawn(backend: Backend) -> TestApp {
    spawn_with(backend, |_| {}).await
}

/// Spawns the app with test settings changed by `tweak`.
pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = fresh_database(backend, &dir).await;
    spawn_on(url, dir, tweak).await
}

/// Spawns the app on an existing database.
pub async fn spawn_on(
    url: String,
    dir: tempfile::TempDir,
    tweak: impl FnOnce(&mut Settings),
) -> TestApp {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_test_writer()
        .try_init();
    let mut settings = Settings::for_tests(&url);
    // Uploaded and demo images in the test's own folder (on PostgreSQL the default would be
    // the working directory).
    settings.images.storage = sky_takeout::config::images::ImageStorage::Local {
        dir: dir.path().join("images"),
    };
    tweak(&mut settings);
    let clock = Clock::system();
    let app = Application::build_with_clock(settings, clock.clone())
        .await
        .expect("app builds");
    let addr = app.local_addr();
    let state = app.state().clone();
    let stop = tokio_util::sync::CancellationToken::new();
    let s2 = stop.clone();
    let handle = tokio::spawn(async move {
        app.run_until(async move { s2.cancelled().await })
            .await
            .expect("app runs");
    });
    TestApp {
        base: format!("http://{addr}"),
        ws_base: format!("ws://{addr}"),
        host: addr.to_string(),
        state,
        clock,
        database_url: url,
        stop,
        handle: Some(handle),
        _dir: dir,
    }
}

impl TestApp {
    /// Shuts the app down gracefully and waits for it; a shutdown that hangs past 10 s or
    /// panics (including `run_until` returning an error) fails the test.
    pub async fn shutdown(mut self) -> tempfile::TempDir {
        self.stop.cancel();
        if let Some(h) = self.handle.take() {
            match tokio::time::timeout(Duration::from_secs(10), h).await {
                Err(_) => panic!("the app's graceful shutdown hung for 10 s"),
                Ok(Err(e)) => panic!("the app's shutdown failed: {e}"),
                Ok(Ok(())) => {}
            }
        }
        let dir = tempfile::tempdir().expect("tempdir");
        std::mem::replace(&mut self._dir, dir)
    }

    /// Plain HTTP client (no cookies).
    pub fn http(&self) -> reqwest::Client {
        http()
    }

    /// The same server as a remote address (the client helpers).
    pub fn remote(&self) -> RemoteApp {
        RemoteApp {
            base: self.base.clone(),
            ws_base: self.ws_base.clone(),
            host: self.host.clone(),
        }
    }

    /// A customer logged in with this WeChat code.
    pub async fn customer(&self, code: &str) -> Customer {
        self.remote().customer(code).await
    }

    /// A merchant logged in.
    pub async fn merchant(&self, username: &str, password: &str) -> Merchant {
        self.remote().merchant(username, password).await
    }

    /// The admin of shop 1.
    pub async fn admin(&self) -> Merchant {
        self.merchant("admin", "admin-pass-123").await
    }

    /// Creates another shop with a merchant account and the demo menu; returns its id.
    pub async fn add_shop(&self, name: &str, username: &str, password: &str) -> i64 {
        let hash = sky_takeout::auth::hash_password(password.to_string()).await;
        let new = sky_takeout::store::seed::NewShop {
            name,
            admin_username: username,
            admin_password_hash: &hash,
            demo_menu: true,
            pictures: None,
        };
        sky_takeout::store::seed::create_shop(&self.state.store, &new, self.clock.now_ms())
            .await
            .unwrap()
    }

    /// The first dish id of a shop.
    pub async fn first_dish(&self, shop_id: i64) -> i64 {
        sqlx::query_scalar("SELECT MIN(id) FROM dish WHERE shop_id = $1")
            .bind(shop_id)
            .fetch_one(self.state.store.pool())
            .await
            .unwrap()
    }
}

/// A server reached by address only (another process).
pub struct RemoteApp {
    pub base: String,
    pub ws_base: String,
    pub host: String,
}

/// An HTTP client for tests (the crate's reqwest uses rustls without a default crypto
/// provider, so one is installed first).
pub fn http() -> reqwest::Client {
    sky_takeout::payment::wechat_api::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

impl RemoteApp {
    /// A customer logged in with this WeChat code.
    pub async fn customer(&self, code: &str) -> Customer {
        let v: Value = http()
            .post(format!("{}/user/user/login", self.base))
            .json(&json!({"code": code}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["code"], 1, "customer login: {v}");
        Customer {
            api: Api {
                base: self.base.clone(),
                token: v["data"]["token"].as_str().unwrap().to_string(),
                header: "authentication",
                http: http(),
            },
            id: v["data"]["id"].as_i64().unwrap(),
        }
    }

    /// A merchant logged in; `cookie` is the `sky_session=…` pair the login set.
    pub async fn merchant(&self, username: &str, password: &str) -> Merchant {
        let resp = http()
            .post(format!("{}/admin/employee/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        let cookie = resp
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("sky_session="))
            .map(|c| c.split(';').next().unwrap().to_string())
            .unwrap_or_default();
        let v: Value = resp.json().await.unwrap();
        assert_eq!(v["code"], 1, "merchant login: {v}");
        Merchant {
            api: Api {
                base: self.base.clone(),
                token: v["data"]["token"].as_str().unwrap().to_string(),
                header: "token",
                http: http(),
            },
            ws_base: self.ws_base.clone(),
            host: self.host.clone(),
            shop_id: v["data"]["shopId"].as_i64().unwrap(),
            cookie,
        }
    }
}

/// Authenticated JSON calls: the base URL, the token and the header that carries it.
pub struct Api {
    pub base: String,
    pub token: String,
    pub header: &'static str,
    pub http: reqwest::Client,
}

async fn envelope(resp: reqwest::Response) -> Value {
    let status = resp.status();
    let text = resp.text().await.unwrap();
    assert!(
        status.is_success() || status.as_u16() == 400,
        "HTTP {status}: {text}"
    );
    serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON (HTTP {status}): {text}"))
}

impl Api {
    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut req = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header(self.header, &self.token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        envelope(req.send().await.unwrap()).await
    }
    pub async fn get(&self, path: &str) -> Value {
        self.call(reqwest::Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Value {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> Value {
        self.call(reqwest::Method::DELETE, path, None).await
    }
}

/// A logged-in customer (header `authentication`).
pub struct Customer {
    pub api: Api,
    pub id: i64,
}

impl std::ops::Deref for Customer {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

impl Customer {
    /// Adds an address and returns its id.
    pub async fn address(&self) -> i64 {
        let v = self.post("/user/addressBook", json!({"consignee": "张三", "sex": "1", "phone": "13800000000", "provinceName": "北京市", "cityName": "北京市", "districtName": "海淀区", "detail": "软件园1号楼"})).await;
        assert_eq!(v["code"], 1, "{v}");
        let list = self.get("/user/addressBook/list").await;
        list["data"].as_array().unwrap().last().unwrap()["id"]
            .as_i64()
            .unwrap()
    }

    /// Puts `count` of a dish in the cart, adds an address, submits; returns (id, number).
    pub async fn order(&self, dish_id: i64, count: usize, remark: &str) -> (i64, String) {
        for _ in 0..count {
            let v = self
                .post(
                    "/user/shoppingCart/add",
                    json!({"dishId": dish_id, "dishFlavor": ""}),
                )
                .await;
            assert_eq!(v["code"], 1, "cart add: {v}");
        }
        let addr = self.address().await;
        let v = self
            .post("/user/order/submit", json!({"addressBookId": addr, "payMethod": 1, "remark": remark, "estimatedDeliveryTime": "2030-01-01 12:00:00", "deliveryStatus": 1, "tablewareNumber": 1, "tablewareStatus": 1, "packAmount": 1, "amount": 0.01}))
            .await;
        assert_eq!(v["code"], 1, "submit: {v}");
        (
            v["data"]["id"].as_i64().unwrap(),
            v["data"]["orderNumber"].as_str().unwrap().to_string(),
        )
    }

    /// Pays (mock mode).
    pub async fn pay(&self, number: &str) -> Value {
        self.put(
            "/user/order/payment",
            json!({"orderNumber": number, "payMethod": 1}),
        )
        .await
    }

    /// An order placed and paid; returns (id, number).
    pub async fn paid_order(&self, dish_id: i64) -> (i64, String) {
        let (id, number) = self.order(dish_id, 1, "").await;
        let v = self.pay(&number).await;
        assert_eq!(v["code"], 1, "pay: {v}");
        (id, number)
    }
}

/// A logged-in merchant (header `token`; `cookie` is the session cookie the login set).
pub struct Merchant {
    pub api: Api,
    pub ws_base: String,
    pub host: String,
    pub shop_id: i64,
    pub cookie: String,
}

impl std::ops::Deref for Merchant {
    type Target = Api;
    fn deref(&self) -> &Api {
        &self.api
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

impl Merchant {
    /// Opens `/ws/{sid}` as the stock page does: same origin, with the session cookie.
    pub async fn legacy_ws(&self, sid: &str) -> Ws {
        let url = format!("{}/ws/{sid}", self.ws_base);
        connect(
            &url,
            Some(&self.cookie),
            Some(&format!("http://{}", self.host)),
        )
        .await
        .expect("legacy handshake accepted")
    }

    /// Opens `/ws/v2/alerts` and authenticates with the token and `last_seq`; returns the
    /// socket and the welcome event.
    pub async fn rich_ws(&self, last_seq: Option<i64>) -> (Ws, Value) {
        let url = format!("{}/ws/v2/alerts", self.ws_base);
        let mut ws = connect(&url, None, None)
            .await
            .expect("rich handshake accepted");
        let mut auth = json!({"type": "auth", "token": self.token});
        if let Some(s) = last_seq {
            auth["lastSeq"] = json!(s);
        }
        ws.send(Message::text(auth.to_string())).await.unwrap();
        let welcome = next_json(&mut ws, Duration::from_secs(5))
            .await
            .expect("welcome");
        assert_eq!(welcome["event"], "welcome", "{welcome}");
        (ws, welcome)
    }
}

/// WebSocket handshake with optional Cookie and Origin headers.
pub async fn connect(
    url: &str,
    cookie: Option<&str>,
    origin: Option<&str>,
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    if let Some(c) = cookie {
        req.headers_mut()
            .insert("cookie", HeaderValue::from_str(c).unwrap());
    }
    if let Some(o) = origin {
        req.headers_mut()
            .insert("origin", HeaderValue::from_str(o).unwrap());
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// The next text frame within `wait` (pings and heartbeats skipped), or `None`.
pub async fn next_text(ws: &mut Ws, wait: Duration) -> Option<String> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, ws.next()).await.ok()??;
        match msg.ok()? {
            Message::Text(t) => {
                if t.as_str() == r#"{"event":"ping"}"# {
                    continue;
                }
                return Some(t.to_string());
            }
            Message::Close(_) => return None,
            _ => continue,
        }
    }
}

/// The next text frame parsed as JSON.
pub async fn next_json(ws: &mut Ws, wait: Duration) -> Option<Value> {
    next_text(ws, wait)
        .await
        .map(|t| serde_json::from_str(&t).expect("frame is JSON"))
}

/// The close code the server sent, waiting up to `wait`.
pub async fn close_code(ws: &mut Ws, wait: Duration) -> Option<u16> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        match tokio::time::timeout_at(deadline, ws.next()).await.ok()? {
            Some(Ok(Message::Close(Some(f)))) => return Some(f.code.into()),
            Some(Ok(_)) => continue,
            _ => return None,
        }
    }
}

/// A free TCP port on loopback (for processes that must listen on a known port).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server started as a separate process on `port`.
pub fn remote(port: u16) -> RemoteApp {
    RemoteApp {
        base: format!("http://127.0.0.1:{port}"),
        ws_base: format!("ws://127.0.0.1:{port}"),
        host: format!("127.0.0.1:{port}"),
    }
}

/// Waits until `path` (e.g. `/healthz`) of the server answers 2xx; panics after 30 s.
pub async fn wait_for(app: &RemoteApp, path: &str) {
    let client = http();
    let url = format!("{}{path}", app.base);
    let ok = eventually(Duration::from_secs(30), || async {
        client
            .get(&url)
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false)
    })
    .await;
    assert!(ok, "{url} did not answer");
}

/// The server's `/metrics` text.
pub async fn metrics(base: &str) -> String {
    http()
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The value of the series `name` with (at least) these labels in a `/metrics` text, 0 when
/// it is absent. Values are only meaningful per process: every app of one test binary shares
/// the process's recorder, so tests that check exact values run the real binary
/// (`tests/ops.rs`) or read a series nothing else in their binary moves.
pub fn metric_in(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .find(|l| {
            let Some(rest) = l.strip_prefix(name) else {
                return false;
            };
            (rest.starts_with(' ') || rest.starts_with('{'))
                && labels
                    .iter()
                    .all(|(k, v)| rest.contains(&format!("{k}=\"{v}\"")))
        })
        .map(|l| l.rsplit(' ').next().unwrap().parse().expect("a number"))
        .unwrap_or(0.0)
}

/// [`metric_in`] of the server's `/metrics` now.
pub async fn metric(base: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    metric_in(&metrics(base).await, name, labels)
}

/// Polls `f` until it returns true or `wait` passes.
pub async fn eventually<F, Fut>(wait: Duration, mut f: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + wait;
    while tokio::time::Instant::now() < deadline {
        if f().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
