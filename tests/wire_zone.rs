//! The wire's times are the shop's (`--time-zone`), not the process's: the real binary run
//! with `TZ=UTC` and `--time-zone Asia/Shanghai` shows an order's `orderTime` in Shanghai's
//! clock, keeps a client's `estimatedDeliveryTime` as sent, and reads the order search's
//! `beginTime`/`endTime` as Shanghai times. A separate process, because `TZ` is read by the
//! process (and setting it inside a threaded test is unsound).

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use serde_json::Value;

use common::RemoteApp;

struct Server {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start(zone: &str) -> (Server, RemoteApp) {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sky-takeout"));
    // Only this test's settings: no SKY_* variable of the caller's shell.
    for (k, _) in std::env::vars() {
        if k.starts_with("SKY_") || k == "DATABASE_URL" {
            cmd.env_remove(k);
        }
    }
    let child = cmd
        .args(["--time-zone", zone])
        .env("TZ", "UTC")
        .env("SKY_LISTEN", format!("127.0.0.1:{port}"))
        .env(
            "DATABASE_URL",
            format!("sqlite://{}/t.db", dir.path().display()),
        )
        .env("SKY_ADMIN_PASSWORD", "admin-pass-123")
        .env("RUST_LOG", "warn")
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    let server = Server { child, _dir: dir };
    let base = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(r) = common::http().get(format!("{base}/healthz")).send().await
            && r.status().is_success()
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not answer /healthz"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let remote = RemoteApp {
        ws_base: format!("ws://127.0.0.1:{port}"),
        host: format!("127.0.0.1:{port}"),
        base,
    };
    (server, remote)
}

fn shanghai(fmt: &str, at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Asia::Shanghai)
        .format(fmt)
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn order_times_are_shanghai_times_in_a_utc_process() {
    let (_server, app) = start("Asia/Shanghai").await;
    let admin = app.merchant("admin", "admin-pass-123").await;
    let dishes = admin.get("/admin/dish/page?page=1&pageSize=1").await;
    let dish = dishes["data"]["records"][0]["id"]
        .as_i64()
        .expect("a demo dish");
    let c = app.customer("wx-wire-zone").await;

    let before = Utc::now();
    // `order` sends estimatedDeliveryTime "2030-01-01 12:00:00".
    let (id, _) = c.order(dish, 1, "").await;
    let after = Utc::now();

    let detail = c.get(&format!("/user/order/orderDetail/{id}")).await;
    let order_time = detail["data"]["orderTime"].as_str().unwrap_or_default();
    let minute = "%Y-%m-%d %H:%M";
    let expected = [shanghai(minute, before), shanghai(minute, after)];
    assert!(
        order_time.starts_with(&expected[0]) || order_time.starts_with(&expected[1]),
        "orderTime {order_time:?} is not Shanghai's clock {expected:?} (UTC now: {})",
        after.format(minute)
    );
    let eta = &detail["data"]["estimatedDeliveryTime"];
    assert!(
        eta.as_str()
            .unwrap_or_default()
            .starts_with("2030-01-01 12:00"),
        "estimatedDeliveryTime came back as {eta}, not as the client sent it"
    );

    // The admin's search window is read in Shanghai time: [now - 5 min, now + 5 min] there
    // holds the order; the same window read as UTC would be eight hours away.
    let second = "%Y-%m-%d %H:%M:%S";
    let begin = shanghai(second, before - chrono::Duration::minutes(5));
    let end = shanghai(second, after + chrono::Duration::minutes(5));
    let found: Value = admin
        .get(&format!(
            "/admin/order/conditionSearch?page=1&pageSize=10&beginTime={}&endTime={}",
            begin.replace(' ', "%20"),
            end.replace(' ', "%20")
        ))
        .await;
    let ids: Vec<i64> = found["data"]["records"]
        .as_array()
        .map(|r| r.iter().filter_map(|o| o["id"].as_i64()).collect())
        .unwrap_or_default();
    assert_eq!(ids, vec![id], "search {begin} .. {end} (Shanghai): {found}");
    let admin_detail = admin.get(&format!("/admin/order/details/{id}")).await;
    assert_eq!(
        admin_detail["data"]["orderTime"].as_str(),
        Some(order_time),
        "{admin_detail}"
    );
}
