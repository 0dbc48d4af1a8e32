//! Operations: `/metrics`, `/healthz`, `/readyz`, start-up errors that name the setting, and
//! graceful shutdown of the real process on SIGTERM (sockets closed with 1012, exit within
//! the deadline).

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::binary::Server;
use common::{Backend, close_code, eventually, next_text};

/// What these tests read of their own server (`common::binary::Server`, the real binary with
/// its own SQLite file: its metrics are its own, one recorder per process, so exact values
/// can be checked).
trait Own {
    async fn first_dish(&self) -> i64;
    async fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64;
}

impl Own for Server {
    async fn first_dish(&self) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database_url).await.unwrap();
        let id = sqlx::query_scalar("SELECT MIN(id) FROM dish WHERE shop_id = 1")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        id
    }

    async fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        common::metric(&self.app.base, name, labels).await
    }
}

/// `/healthz`, `/readyz`, and `/metrics` values that follow what happened: sockets open and
/// closed by kind, an alert created (by type), delivered (and its latency observed),
/// acknowledged by the merchant's confirm, and one replay of one alert on reconnect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_health_and_readiness() {
    let server = Server::start(&[]).await;
    let app = &server.app;
    let http = common::http();
    assert_eq!(
        http.get(format!("{}/healthz", app.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        "ok"
    );
    assert_eq!(
        http.get(format!("{}/readyz", app.base))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let created = [("type", "1"), ("realert", "no")];
    for (name, labels) in [
        ("sky_connections_open", &[("kind", "legacy")][..]),
        ("sky_connections_open", &[("kind", "rich")][..]),
        ("sky_alerts_created_total", &created[..]),
        ("sky_alerts_delivered_total", &[][..]),
        ("sky_alerts_acknowledged_total", &[][..]),
        ("sky_commit_to_socket_seconds_count", &[][..]),
        ("sky_replays_total", &[("kind", "rich")][..]),
        ("sky_replayed_alerts_total", &[("kind", "rich")][..]),
        ("sky_handshakes_in_progress", &[][..]),
    ] {
        assert_eq!(server.value(name, labels).await, 0.0, "{name} at start");
    }
    let server_ref = &server;
    let log_reads = move |what: &'static str| async move {
        let mut n = 0.0;
        for outcome in ["remembered", "read"] {
            let labels = [("what", what), ("outcome", outcome)];
            n += server_ref
                .value("sky_handshake_log_reads_total", &labels)
                .await;
        }
        n
    };

    let admin = app.merchant("admin", "admin-pass-123").await;
    let mut legacy = admin.legacy_ws("m").await;
    let (rich, _) = admin.rich_ws(Some(0)).await;
    assert_eq!(
        server
            .value("sky_connections_open", &[("kind", "legacy")])
            .await,
        1.0
    );
    assert_eq!(
        server
            .value("sky_connections_open", &[("kind", "rich")])
            .await,
        1.0
    );
    // Each opening asked once what it needs of the log (remembered or read); both are live,
    // so no handshake is in progress; their TCP connections (and the HTTP ones) are open.
    assert_eq!(
        log_reads("unhandled").await,
        1.0,
        "the rich socket's welcome"
    );
    assert_eq!(log_reads("backlog").await, 1.0, "the stock page's backlog");
    assert_eq!(server.value("sky_handshakes_in_progress", &[]).await, 0.0);
    let tcp_open = server.value("sky_tcp_connections_open", &[]).await;
    assert!(
        tcp_open >= 2.0,
        "two sockets open, {tcp_open} TCP connections"
    );
    let c = app.customer("metrics").await;
    let (id, _) = c.paid_order(server.first_dish().await).await;
    assert!(
        next_text(&mut legacy, Duration::from_secs(5))
            .await
            .unwrap()
            .contains(&id.to_string())
    );
    assert_eq!(
        server.value("sky_alerts_created_total", &created).await,
        1.0
    );
    // The payment was a job of the SQLite writer thread, in a commit of its own or shared.
    let jobs = server.value("sky_sqlite_writer_jobs_total", &[]).await;
    let commits = server
        .value("sky_sqlite_writer_transactions_total", &[])
        .await;
    assert!(
        jobs >= 1.0 && commits >= 1.0 && jobs >= commits,
        "jobs {jobs}, transactions {commits}"
    );
    // Delivered once (the first socket's write), whichever of the two sockets wrote first.
    let delivered = eventually(Duration::from_secs(5), || async {
        server.value("sky_alerts_delivered_total", &[]).await == 1.0
            && server
                .value("sky_commit_to_socket_seconds_count", &[])
                .await
                == 1.0
    })
    .await;
    assert!(delivered, "{}", common::metrics(&app.base).await);
    admin
        .put("/admin/order/confirm", serde_json::json!({"id": id}))
        .await;
    assert_eq!(
        server.value("sky_alerts_acknowledged_total", &[]).await,
        1.0
    );
    // A reconnect from 0 replays the one alert.
    drop(rich);
    drop(legacy);
    let (_rich, _) = admin.rich_ws(Some(0)).await;
    assert_eq!(
        server.value("sky_replays_total", &[("kind", "rich")]).await,
        1.0
    );
    assert_eq!(
        server
            .value("sky_replayed_alerts_total", &[("kind", "rich")])
            .await,
        1.0
    );
    let closed = eventually(Duration::from_secs(5), || async {
        server
            .value("sky_connections_open", &[("kind", "legacy")])
            .await
            == 0.0
    })
    .await;
    assert!(closed, "the dropped legacy socket is no longer counted");
    // Still exactly one alert: the confirm handled it, it raised none.
    assert_eq!(
        server.value("sky_alerts_created_total", &created).await,
        1.0
    );
}

/// `SKY_ALLOWED_ORIGINS` as the course's nginx layout needs it (the page at
/// `http://localhost`, the upstream `Host: webservers`): that origin opens sockets, the list
/// replaces the default (loopback and the own host are refused), a foreign page is 403 and a
/// socket without a session 401. The login's session cookie is `Path=/` (it was set at
/// `/api/employee/login` and must travel to `/ws/…`), `HttpOnly` and `SameSite=Lax`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_origins_from_the_environment_and_the_session_cookie() {
    let server = Server::start(&[("SKY_ALLOWED_ORIGINS", "http://localhost")]).await;
    let app = &server.app;
    let resp = common::http()
        .post(format!("{}/admin/employee/login", app.base))
        .json(&serde_json::json!({"username": "admin", "password": "admin-pass-123"}))
        .send()
        .await
        .unwrap();
    let set_cookie = resp
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sky_session="))
        .expect("the login sets the session cookie")
        .to_string();
    let attrs: Vec<String> = set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_ascii_lowercase())
        .collect();
    for want in ["path=/", "httponly", "samesite=lax"] {
        assert!(attrs.iter().any(|a| a == want), "{want} in {set_cookie}");
    }
    let cookie = set_cookie.split(';').next().unwrap().to_string();
    let handshake = |host: &str, origin: &str, cookie: Option<&str>| {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let mut req = format!("{}/ws/origin", app.ws_base)
            .into_client_request()
            .unwrap();
        req.headers_mut().insert("host", host.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        if let Some(c) = cookie {
            req.headers_mut().insert("cookie", c.parse().unwrap());
        }
        async move {
            match tokio_tungstenite::connect_async(req).await {
                Ok(_) => 101,
                Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => resp.status().as_u16(),
                Err(e) => panic!("unexpected error {e}"),
            }
        }
    };
    let own = format!("http://{}", app.host);
    for (host, origin, cookie, want) in [
        ("webservers", "http://localhost", Some(cookie.as_str()), 101),
        ("webservers", "http://localhost", None, 401),
        ("webservers", "http://127.0.0.1", Some(cookie.as_str()), 403),
        (
            "webservers",
            "http://webservers",
            Some(cookie.as_str()),
            403,
        ),
        (app.host.as_str(), own.as_str(), Some(cookie.as_str()), 403),
        (
            "webservers",
            "http://evil.example",
            Some(cookie.as_str()),
            403,
        ),
    ] {
        assert_eq!(
            handshake(host, origin, cookie).await,
            want,
            "Host {host}, Origin {origin}, cookie {}",
            cookie.is_some()
        );
    }
}

/// A bad setting stops start-up with one line that names it.
#[test]
fn bad_settings_name_themselves() {
    let run = |envs: &[(&str, &str)]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_sky-takeout"));
        cmd.env_remove("DATABASE_URL")
            .env("SKY_LISTEN", "127.0.0.1:0")
            .env("DATABASE_URL", "sqlite::memory:");
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap();
        assert!(!out.status.success());
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    assert!(run(&[("SKY_LISTEN", "not-an-address")]).contains("SKY_LISTEN"));
    assert!(run(&[("SKY_PAY_MODE", "cash")]).contains("SKY_PAY_MODE"));
    assert!(run(&[("SKY_PAY_MODE", "wechat")]).contains("SKY_WECHAT_API_V3_KEY"));
    assert!(run(&[("DATABASE_URL", "mysql://x")]).contains("DATABASE_URL"));
    assert!(run(&[("SKY_BROKER", "kafka://x")]).contains("SKY_BROKER"));
    let err = run(&[("SKY_SOCKET_QUEUE", "many")]);
    assert!(
        err.contains("socket-queue") || err.contains("SKY_SOCKET_QUEUE"),
        "{err}"
    );
}

/// SIGTERM: sockets are closed with 1012 and the process exits within the deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_sockets_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_sky-takeout"))
        .env("SKY_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/s.db", dir.path().display()),
        )
        .env("SKY_ADMIN_PASSWORD", "admin-pass-123")
        .env("SKY_SHUTDOWN_SECS", "3")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let app = common::remote(port);
    let http = common::http();
    common::wait_for(&app, "/healthz").await;
    let admin = app.merchant("admin", "admin-pass-123").await;
    let mut legacy = admin.legacy_ws("term").await;
    let (mut rich, _) = admin.rich_ws(None).await;
    let t = Instant::now();
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    assert_eq!(
        close_code(&mut legacy, Duration::from_secs(5)).await,
        Some(1012)
    );
    assert_eq!(
        close_code(&mut rich, Duration::from_secs(5)).await,
        Some(1012)
    );
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(8),
            "did not exit within the deadline"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "{status:?}");
    // No longer accepting.
    assert!(
        http.get(format!("{}/healthz", app.base))
            .send()
            .await
            .is_err()
    );
}

/// `shops add` creates a shop with its first merchant account and prints its id; that
/// merchant logs in and hears only that shop; a taken user name is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shops_add_creates_a_shop_with_its_merchant() {
    let app = common::spawn(Backend::Sqlite).await;
    let shops = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sky-takeout"))
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "warn")
            .arg("shops")
            .args(args)
            .output()
            .unwrap()
    };
    let out = shops(&[
        "add",
        "--name",
        "小馆",
        "--admin-username",
        "xiaoguan",
        "--admin-password",
        "xiaoguan-pass",
        "--demo-menu",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id: i64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("prints the shop id");
    assert_eq!(id, 2, "shop 1 is the demo shop");
    let taken = shops(&[
        "add",
        "--name",
        "又一家",
        "--admin-username",
        "xiaoguan",
        "--admin-password",
        "another-pass",
    ]);
    assert!(!taken.status.success());
    assert!(String::from_utf8_lossy(&taken.stderr).contains("--admin-username"));
    let list = String::from_utf8_lossy(&shops(&["list"]).stdout).to_string();
    assert!(list.contains("2\t小馆"), "{list}");

    let m = app.merchant("xiaoguan", "xiaoguan-pass").await;
    assert_eq!(m.shop_id, 2);
    let mut screen = m.legacy_ws("x").await;
    let c = app.customer("guest").await;
    let (other, _) = c.paid_order(app.first_dish(1).await).await;
    let (mine, _) = c.paid_order(app.first_dish(2).await).await;
    let frame = next_text(&mut screen, Duration::from_secs(5))
        .await
        .unwrap();
    assert!(
        frame.contains(&format!(r#""orderId":{mine}"#))
            && !frame.contains(&format!(r#""orderId":{other}"#)),
        "{frame}"
    );
    app.shutdown().await;
}

/// Without SKY_ADMIN_PASSWORD the first start generates the `admin` password and logs it
/// once; without SKY_JWT_SECRET the generated secret is kept in the database, so a token
/// issued before a restart still works after it, and the password is not logged again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_password_and_secret_survive_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let port = common::free_port();
    let start = |log: &str| {
        let out = std::fs::File::create(dir.path().join(log)).unwrap();
        Command::new(env!("CARGO_BIN_EXE_sky-takeout"))
            .env_remove("SKY_ADMIN_PASSWORD")
            .env_remove("SKY_JWT_SECRET")
            .env("SKY_LISTEN", format!("127.0.0.1:{port}"))
            .env(
                "DATABASE_URL",
                format!("sqlite://{}/g.db", dir.path().display()),
            )
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .unwrap()
    };
    let app = common::remote(port);
    let mut first = start("first.log");
    common::wait_for(&app, "/healthz").await;
    let log = std::fs::read_to_string(dir.path().join("first.log")).unwrap();
    let password = log
        .lines()
        .find(|l| l.contains("generated password"))
        .and_then(|l| l.split("password=").nth(1))
        .and_then(|v| v.split_whitespace().next())
        .expect("the generated password is logged")
        .trim_matches('"')
        .to_string();
    assert_eq!(password.len(), 16, "{log}");
    let admin = app.merchant("admin", &password).await;
    let _ = Command::new("kill")
        .args(["-TERM", &first.id().to_string()])
        .status();
    first.wait().unwrap();

    let mut second = start("second.log");
    common::wait_for(&app, "/healthz").await;
    assert_eq!(
        admin.get("/admin/order/statistics").await["code"],
        1,
        "the old token still works"
    );
    let log = std::fs::read_to_string(dir.path().join("second.log")).unwrap();
    assert!(!log.contains(&password), "the password is logged only once");
    second.kill().unwrap();
    second.wait().unwrap();
}
