//! Several instances: three `sky-takeout` processes on free ports against one PostgreSQL
//! database, once with Redis and once with NATS (each test starts its own broker on a free
//! port, so it can kill it without touching the machine's shared services). A merchant
//! socket on instance A receives, once, the alert of an order paid through B and a reminder
//! sent through C; alerts raised while the broker is down arrive, once and in order, soon
//! after it returns; the timeout task cancels an order once though three instances run it;
//! reminder limits hold across instances. Sessions ended on one instance (a disabled
//! account, a changed password) end on the others within the session poll period, measured.

mod common;

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Backend, RemoteApp, eventually, next_text};
use serde_json::json;

const WAIT: Duration = Duration::from_secs(10);
const QUIET: Duration = Duration::from_millis(700);

/// A child process killed when dropped.
struct Proc {
    child: Child,
    log: std::path::PathBuf,
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Proc {
    fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// The path of a broker binary, or `None` (loudly) when it is not installed and this is
/// not CI (where a missing broker fails the test).
fn broker_binary(name: &str) -> Option<String> {
    for dir in ["/usr/bin", "/usr/sbin", "/usr/local/bin"] {
        let p = format!("{dir}/{name}");
        if std::path::Path::new(&p).exists() {
            return Some(p);
        }
    }
    let required = std::env::var("CI").is_ok() || std::env::var("SKY_REQUIRE_SERVICES").is_ok();
    assert!(
        !required,
        "{name} is required (CI / SKY_REQUIRE_SERVICES) but not installed; scripts/test.sh installs it"
    );
    eprintln!(
        "\n!!!!! SKIPPING a cluster test: {name} is not installed (apt-get install {name}) !!!!!\n"
    );
    None
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Redis,
    Nats,
}

/// A broker of our own on a fixed free port, restartable on the same port.
struct OwnBroker {
    kind: Kind,
    bin: String,
    port: u16,
    /// NATS's monitoring port (its `/connz?subs=1` lists each connection's subscriptions).
    monitor_port: u16,
    proc: Option<Proc>,
    dir: std::path::PathBuf,
    extra: Vec<String>,
}

impl OwnBroker {
    fn start(kind: Kind, dir: &std::path::Path) -> Option<OwnBroker> {
        OwnBroker::start_with(kind, dir, &[])
    }

    /// A broker started with extra command-line arguments.
    fn start_with(kind: Kind, dir: &std::path::Path, extra: &[&str]) -> Option<OwnBroker> {
        let bin = broker_binary(match kind {
            Kind::Redis => "redis-server",
            Kind::Nats => "nats-server",
        })?;
        let mut b = OwnBroker {
            kind,
            bin,
            port: common::free_port(),
            monitor_port: common::free_port(),
            proc: None,
            dir: dir.to_path_buf(),
            extra: extra.iter().map(|a| a.to_string()).collect(),
        };
        b.up();
        Some(b)
    }

    fn url(&self) -> String {
        match self.kind {
            Kind::Redis => format!("redis://127.0.0.1:{}", self.port),
            Kind::Nats => format!("nats://127.0.0.1:{}", self.port),
        }
    }

    fn up(&mut self) {
        let port = self.port.to_string();
        let mut cmd = Command::new(&self.bin);
        match self.kind {
            Kind::Redis => cmd.args([
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ]),
            Kind::Nats => cmd.args([
                "-a",
                "127.0.0.1",
                "-p",
                &port,
                "-m",
                &self.monitor_port.to_string(),
            ]),
        };
        cmd.args(&self.extra);
        let log = self.dir.join(format!("broker-{}.log", self.port));
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .unwrap();
        let child = cmd
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("broker starts");
        self.proc = Some(Proc { child, log });
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "broker did not come up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn down(&mut self) {
        self.proc = None;
    }

    /// How many subscriptions to `subject` the broker itself holds (Redis `PUBSUB NUMSUB`,
    /// NATS `/connz?subs=1`): the signal that an instance's subscription is active.
    async fn subscribers(&self, subject: &str) -> usize {
        match self.kind {
            Kind::Redis => {
                use tokio::io::{AsyncReadExt, AsyncWriteExt};
                let Ok(mut conn) = tokio::net::TcpStream::connect(("127.0.0.1", self.port)).await
                else {
                    return 0;
                };
                let cmd = format!(
                    "*3\r\n$6\r\nPUBSUB\r\n$6\r\nNUMSUB\r\n${}\r\n{subject}\r\n",
                    subject.len()
                );
                conn.write_all(cmd.as_bytes()).await.unwrap();
                let mut reply = Vec::new();
                let mut buf = [0u8; 256];
                // `*2 $len subject :count`: read until the integer's line is complete.
                while !String::from_utf8_lossy(&reply).contains("\r\n:")
                    || !reply.ends_with(b"\r\n")
                {
                    match tokio::time::timeout(Duration::from_secs(2), conn.read(&mut buf)).await {
                        Ok(Ok(n)) if n > 0 => reply.extend_from_slice(&buf[..n]),
                        _ => return 0,
                    }
                }
                let text = String::from_utf8_lossy(&reply);
                text.rsplit("\r\n:")
                    .next()
                    .and_then(|n| n.trim().parse().ok())
                    .unwrap_or(0)
            }
            Kind::Nats => {
                let url = format!("http://127.0.0.1:{}/connz?subs=1", self.monitor_port);
                let Ok(resp) = common::http().get(url).send().await else {
                    return 0;
                };
                let text = resp.text().await.unwrap_or_default();
                text.matches(&format!("\"{subject}\"")).count()
            }
        }
    }

    /// Waits (up to 10 s) until the broker holds `n` subscriptions to the shop's subject.
    async fn wait_subscribed(&self, shop: i64, n: usize) {
        let subject = sky_takeout::hub::broker::subject(shop);
        let ok = eventually(Duration::from_secs(10), || async {
            self.subscribers(&subject).await >= n
        })
        .await;
        assert!(
            ok,
            "the broker has {} subscriptions to {subject}, not {n}",
            self.subscribers(&subject).await
        );
    }
}

/// One `sky-takeout` process.
fn instance(
    dir: &std::path::Path,
    name: &str,
    db: &str,
    broker: &str,
    extra: &[(&str, &str)],
) -> (Proc, RemoteApp) {
    let port = common::free_port();
    let log = dir.join(format!("{name}.log"));
    let out = std::fs::File::create(&log).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sky-takeout"));
    cmd.env("SKY_LISTEN", format!("127.0.0.1:{port}"))
        .env("DATABASE_URL", db)
        .env("SKY_BROKER", broker)
        .env("SKY_IMAGE_DIR", dir.join("images"))
        .env("SKY_ADMIN_PASSWORD", "admin-pass-123")
        .env(
            "SKY_JWT_SECRET",
            "cluster-secret-cluster-secret-cluster-secret",
        )
        .env("RUST_LOG", "info,sqlx=warn")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    for (k, v) in extra {
        cmd.env(k, v);
    }
    let child = cmd.spawn().unwrap();
    let app = common::remote(port);
    (Proc { child, log }, app)
}

async fn wait_ready(app: &RemoteApp) {
    common::wait_for(app, "/readyz").await;
}

/// Three instances on one fresh PostgreSQL database (A first, so it migrates and seeds).
async fn cluster(
    dir: &std::path::Path,
    broker: &str,
    extra: &[(&str, &str)],
) -> Option<Vec<(Proc, RemoteApp)>> {
    common::pg_admin_url()?;
    let tmp = tempfile::tempdir().unwrap();
    let db = common::fresh_database(Backend::Postgres, &tmp).await;
    let a = instance(dir, "a", &db, broker, extra);
    wait_ready(&a.1).await;
    let b = instance(dir, "b", &db, broker, extra);
    let c = instance(dir, "c", &db, broker, extra);
    wait_ready(&b.1).await;
    wait_ready(&c.1).await;
    Some(vec![a, b, c])
}

async fn alerts_cross_instances(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let Some(mut broker) = OwnBroker::start(kind, dir.path()) else {
        return;
    };
    let Some(nodes) = cluster(dir.path(), &broker.url(), &[]).await else {
        return;
    };
    let (a, b, c) = (&nodes[0].1, &nodes[1].1, &nodes[2].1);
    let merchant = a.merchant("admin", "admin-pass-123").await;
    let mut screen = merchant.legacy_ws("on-a").await;
    let (mut rich, welcome) = merchant.rich_ws(Some(0)).await;
    let mut last_seq = welcome["seq"].as_i64().unwrap();
    // A's subscription to shop 1 is active (the broker says so) before alerts are raised
    // elsewhere; B and C watch no shop yet.
    broker.wait_subscribed(1, 1).await;

    let via_b = b.customer("cluster-b").await;
    let (id, number) = via_b.paid_order(1).await;
    assert_eq!(
        next_text(&mut screen, WAIT).await.unwrap(),
        format!(r#"{{"type":1,"orderId":{id},"content":"订单号：{number}"}}"#)
    );
    let via_c = c.customer("cluster-b").await; // the same customer, logged in on C
    assert_eq!(
        via_c.get(&format!("/user/order/reminder/{id}")).await["code"],
        1
    );
    assert_eq!(
        next_text(&mut screen, WAIT).await.unwrap(),
        format!(r#"{{"type":2,"orderId":{id},"content":"订单号：{number}"}}"#)
    );
    assert!(
        next_text(&mut screen, QUIET).await.is_none(),
        "each alert once"
    );
    // They came through the broker (not the log audit, which runs every 5 s).
    let metrics = common::metrics(&a.base).await;
    let received: f64 = metrics
        .lines()
        .find(|l| l.starts_with("sky_broker_received_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(
        received >= 2.0,
        "A received the alerts from the broker: {received}"
    );
    for _ in 0..2 {
        let e = common::next_json(&mut rich, WAIT).await.unwrap();
        assert_eq!(e["seq"], last_seq + 1, "{e}");
        last_seq += 1;
    }

    // Reminder limits hold across instances: B refuses what C just accepted.
    assert_eq!(
        via_b.get(&format!("/user/order/reminder/{id}")).await["code"],
        0
    );

    // The broker goes away; alerts are raised on B and C meanwhile.
    broker.down();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut raised = Vec::new();
    for _ in 0..2 {
        raised.push(via_b.paid_order(1).await.0);
    }
    let (id_c, _) = via_c.paid_order(1).await;
    raised.push(id_c);
    tokio::time::sleep(Duration::from_secs(1)).await;
    broker.up();
    // They arrive soon after it returns, once and in order.
    for want in &raised {
        let frame = next_text(&mut screen, Duration::from_secs(15))
            .await
            .expect("alert raised during the outage arrives");
        assert!(
            frame.contains(&format!(r#""orderId":{want}"#)),
            "expected order {want}, got {frame}"
        );
    }
    for want in &raised {
        let e = common::next_json(&mut rich, WAIT).await.unwrap();
        assert_eq!(
            (e["seq"].as_i64(), e["orderId"].as_i64()),
            (Some(last_seq + 1), Some(*want)),
            "{e}"
        );
        last_seq += 1;
    }
    assert!(
        next_text(&mut screen, QUIET).await.is_none(),
        "nothing twice after the outage"
    );

    // And the broker works again for live alerts.
    let (id_after, _) = via_b.paid_order(1).await;
    assert!(
        next_text(&mut screen, WAIT)
            .await
            .unwrap()
            .contains(&format!(r#""orderId":{id_after}"#))
    );
    // An acknowledgement on A reaches a screen on C.
    let m_c = c.merchant("admin", "admin-pass-123").await;
    let (mut rich_c, _) = m_c.rich_ws(None).await;
    // C's subscription is active too: A's and C's.
    broker.wait_subscribed(1, 2).await;
    let alert = common::next_json(&mut rich, WAIT).await.unwrap();
    assert_eq!(alert["orderId"], id_after);
    let ack = merchant
        .post(&format!("/admin/alerts/{}/ack", alert["id"]), json!({}))
        .await;
    assert_eq!(ack["code"], 1);
    let handled = common::next_json(&mut rich_c, WAIT).await.unwrap();
    assert_eq!(handled["event"], "handled", "{handled}");
    assert_eq!(handled["orderId"], id_after);
}

/// Three instances run the payment-timeout job (due at once here); the order is cancelled
/// once, by one instance.
async fn timeout_runs_once(kind: Kind) {
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = OwnBroker::start(kind, dir.path()) else {
        return;
    };
    let extra = [
        ("SKY_PAYMENT_TIMEOUT_MINS", "0"),
        ("SKY_PAYMENT_TIMEOUT_EVERY_SECS", "1"),
    ];
    let Some(nodes) = cluster(dir.path(), &broker.url(), &extra).await else {
        return;
    };
    let customer = nodes[1].1.customer("too-slow").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(customer.order(1, 1, "").await.0);
    }
    let all_cancelled = eventually(Duration::from_secs(15), || async {
        let mut done = true;
        for id in &ids {
            done &=
                customer.get(&format!("/user/order/orderDetail/{id}")).await["data"]["status"] == 6;
        }
        done
    })
    .await;
    assert!(all_cancelled, "orders were cancelled");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let cancelled: usize = nodes
        .iter()
        .map(|(p, _)| {
            p.log()
                .lines()
                .filter(|l| l.contains("unpaid orders timed out"))
                .filter_map(|l| {
                    l.split("cancelled=")
                        .nth(1)
                        .and_then(|v| v.split_whitespace().next())
                        .and_then(|v| v.parse::<usize>().ok())
                })
                .sum::<usize>()
        })
        .sum();
    assert_eq!(
        cancelled,
        ids.len(),
        "each order cancelled exactly once across the cluster"
    );
    let leaders = nodes
        .iter()
        .filter(|(p, _)| {
            p.log()
                .contains("this instance now runs the scheduled jobs")
        })
        .count();
    assert_eq!(leaders, 1, "one leader");
}

/// How long after `since` instance `app` refuses `token` (polling every 20 ms, up to 10 s).
async fn refused_after(app: &RemoteApp, token: &str, since: std::time::Instant) -> Duration {
    let client = common::http();
    let url = format!("{}/admin/order/statistics", app.base);
    let refused = eventually(WAIT, || async {
        client
            .get(&url)
            .header("token", token)
            .send()
            .await
            .is_ok_and(|r| r.status() == 401)
    })
    .await;
    assert!(
        refused,
        "{url} still accepts the token after {:?}",
        since.elapsed()
    );
    since.elapsed()
}

async fn accepted(app: &RemoteApp, token: &str) -> bool {
    common::http()
        .get(format!("{}/admin/order/statistics", app.base))
        .header("token", token)
        .send()
        .await
        .is_ok_and(|r| r.status() == 200)
}

/// Two instances (B polls every second, the default; C every minute) on one PostgreSQL, no
/// broker. Disabling an employee on A ends their REST session and socket on B within the poll
/// period (measured and printed); a token issued on A after a change is accepted on C at once
/// although C has not polled (it reads a token newer than what it knows), which also ends
/// C's older session of that account; a password change on A ends the other login on B and
/// keeps the changer's, which B also serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_end_across_instances() {
    let dir = tempfile::tempdir().unwrap();
    if common::pg_admin_url().is_none() {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let db = common::fresh_database(Backend::Postgres, &tmp).await;
    let a = instance(dir.path(), "a", &db, "memory", &[]);
    wait_ready(&a.1).await;
    let b = instance(dir.path(), "b", &db, "memory", &[]);
    let c = instance(
        dir.path(),
        "c",
        &db,
        "memory",
        &[("SKY_SESSION_POLL_MS", "60000")],
    );
    wait_ready(&b.1).await;
    wait_ready(&c.1).await;
    let (a, b, c) = (&a.1, &b.1, &c.1);
    let admin = a.merchant("admin", "admin-pass-123").await;
    let v = admin.post("/admin/employee", json!({"username": "zhangsan01", "name": "张三", "phone": "13812345678", "sex": "1", "idNumber": "110101199003071234"})).await;
    assert_eq!(v["code"], 1, "{v}");
    let id = admin
        .get("/admin/employee/page?page=1&pageSize=10&name=%E5%BC%A0")
        .await["data"]["records"][0]["id"]
        .as_i64()
        .unwrap();

    // Disable on A: B refuses within its poll period.
    let on_b = b.merchant("zhangsan01", "123456").await;
    let on_c = c.merchant("zhangsan01", "123456").await;
    let mut socket_b = on_b.legacy_ws("on-b").await;
    assert!(accepted(b, &on_b.token).await && accepted(c, &on_c.token).await);
    let t0 = std::time::Instant::now();
    let v = admin
        .post(&format!("/admin/employee/status/0?id={id}"), json!(null))
        .await;
    assert_eq!(v["code"], 1);
    let rest = refused_after(b, &on_b.token, t0).await;
    assert_eq!(common::close_code(&mut socket_b, WAIT).await, Some(4003));
    let socket = t0.elapsed();
    eprintln!(
        "session staleness on another instance (poll 1000 ms): REST {rest:?}, socket {socket:?}"
    );
    let bound = Duration::from_millis(1000 + 1500); // the period, plus a loaded 2-core machine
    assert!(
        rest < bound && socket < bound,
        "REST {rest:?}, socket {socket:?}"
    );
    assert!(
        accepted(c, &on_c.token).await,
        "C polls every minute: it has not seen the change yet"
    );

    // Enable and log in on A: C accepts the new token at once (it is newer than what C
    // knows, so C reads the account), and from then on refuses its old one.
    assert_eq!(
        admin
            .post(&format!("/admin/employee/status/1?id={id}"), json!(null))
            .await["code"],
        1
    );
    let fresh = a.merchant("zhangsan01", "123456").await;
    assert!(
        accepted(c, &fresh.token).await,
        "a token newer than C's state is read, not refused"
    );
    assert!(
        !accepted(c, &on_c.token).await,
        "and C now knows the older session is over"
    );

    // A password change on A by `fresh`: B ends the other login, keeps `fresh`.
    let other = b.merchant("zhangsan01", "123456").await;
    assert!(accepted(b, &other.token).await && accepted(b, &fresh.token).await);
    let t1 = std::time::Instant::now();
    let v = fresh
        .put(
            "/admin/employee/editPassword",
            json!({"oldPassword": "123456", "newPassword": "newpass88"}),
        )
        .await;
    assert_eq!(v["code"], 1, "{v}");
    let took = refused_after(b, &other.token, t1).await;
    eprintln!("password change seen on another instance after {took:?}");
    assert!(took < bound, "{took:?}");
    assert!(
        accepted(b, &fresh.token).await,
        "the changer's session goes on everywhere"
    );
    assert!(accepted(a, &fresh.token).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_alerts_cross_instances() {
    alerts_cross_instances(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_alerts_cross_instances() {
    alerts_cross_instances(Kind::Nats).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_timeout_runs_once() {
    timeout_runs_once(Kind::Redis).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_timeout_runs_once() {
    timeout_runs_once(Kind::Nats).await;
}

/// A Redis that accepts connections but refuses SUBSCRIBE (as when a subscription fails
/// right after a connect): the subscriber backs off between attempts instead of reconnecting
/// in a hot loop.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_redis_subscribe_backs_off() {
    use sky_takeout::config::BrokerUrl;
    use sky_takeout::hub::broker::Broker;
    use sky_takeout::hub::{ConnKind, Hub};
    let dir = tempfile::tempdir().unwrap();
    let Some(broker) = OwnBroker::start_with(
        Kind::Redis,
        dir.path(),
        &["--rename-command", "SUBSCRIBE", ""],
    ) else {
        return;
    };
    let hub = Hub::new();
    let _screen = hub.register(1, ConnKind::Rich, 8, 0);
    let (ingest, _ingest_rx) = tokio::sync::mpsc::channel(64);
    let stop = tokio_util::sync::CancellationToken::new();
    let _b = Broker::start(&BrokerUrl::Redis(broker.url()), &hub, ingest, stop.clone());
    tokio::time::sleep(Duration::from_secs(3)).await;
    stop.cancel();
    let client = redis::Client::open(broker.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let info: String = redis::cmd("INFO")
        .arg("stats")
        .query_async(&mut conn)
        .await
        .unwrap();
    let connections: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("total_connections_received:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    assert!(
        connections <= 12,
        "{connections} connections in 3 s: the subscriber retries without backing off"
    );
}
