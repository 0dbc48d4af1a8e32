//! marketplace: the real sky-takeout workload, measured end to end.
//!
//! 1. opens one or two merchant screens per shop on `/ws/v2/alerts` (authenticated with the
//!    shop's merchant token, spread round-robin over one or more instances and over loopback
//!    source addresses), waits for every `welcome`;
//! 2. pays orders over real HTTP (`PUT /user/order/payment`, the mock-pay path: transaction,
//!    alert row, relay, hub) at stepped open-loop rates, payments spread over the instances;
//! 3. measures, for every order, pay-request start (its scheduled time, so queueing in the
//!    tool is not hidden) → alert frame received on each screen of the order's shop;
//! 4. prints one JSON line on stdout (a human summary on stderr): per step p50/p90/p99/max,
//!    lost, HTTP errors, server CPU per order, other processes' CPU, and the highest rate
//!    whose p99 stayed under `--target-p99-ms`.
//!
//! Every loop is bounded in count and time (`--max-duration` stops the run, exit code 3).

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Parser;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

const SHARDS: usize = 64;

#[derive(Parser, Debug, Clone)]
#[command(
    name = "marketplace",
    version,
    about = "sky-takeout marketplace load: shops x screens, paid orders at stepped rates, pay-to-screen latency"
)]
struct Args {
    /// TSV: shop_id <TAB> screens (1|2) <TAB> merchant token
    #[arg(long)]
    shops: String,
    /// TSV: order_id <TAB> order number <TAB> shop_id (unpaid orders, used in file order)
    #[arg(long)]
    orders: String,
    /// customer token (`authentication` header) owning the orders
    #[arg(long)]
    customer_token: String,
    /// instances: comma list of host:port (screens and payments are spread round-robin)
    #[arg(long, default_value = "127.0.0.1:8080")]
    instances: String,
    /// open-loop payment rates, orders/s, one step each
    #[arg(long, default_value = "100,250,500,1000,1500,2000")]
    rates: String,
    /// seconds per step
    #[arg(long, default_value_t = 10.0)]
    step_secs: f64,
    /// quiet seconds after each step (its late deliveries still count for it)
    #[arg(long, default_value_t = 3.0)]
    gap_secs: f64,
    /// seconds to wait for outstanding deliveries after the last step
    #[arg(long, default_value_t = 10.0)]
    drain_secs: f64,
    /// stop after a step whose p99 (undelivered counted as infinite) exceeds this
    #[arg(long, default_value_t = 2000.0)]
    stop_p99_ms: f64,
    /// the latency goal used for "highest rate held"
    #[arg(long, default_value_t = 50.0)]
    target_p99_ms: f64,
    /// source addresses for the screens, e.g. 127.0.0.1-8
    #[arg(long, default_value = "127.0.0.1-8")]
    source_ips: String,
    /// screen handshakes in flight
    #[arg(long, default_value_t = 200)]
    concurrency: usize,
    /// most HTTP connections (requests in flight) at once
    #[arg(long, default_value_t = 256)]
    max_http: usize,
    /// HTTP request timeout (s)
    #[arg(long, default_value_t = 10.0)]
    http_timeout: f64,
    /// server PIDs (comma list): CPU and RSS are sampled from /proc
    #[arg(long)]
    server_pid: Option<String>,
    /// runtime worker threads (0 = one per core)
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// hard cap on the whole run (s)
    #[arg(long, default_value_t = 900.0)]
    max_duration: f64,
    /// label copied into the JSON
    #[arg(long, default_value = "")]
    label: String,
}

// ------------------------------------------------------------------ /proc

fn proc_cpu_s(pid: u32) -> Option<f64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &s[s.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    Some((ut + st) / hz)
}

fn proc_status_kb(pid: u32, key: &str) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines()
        .find(|l| l.starts_with(key))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn self_cpu_s() -> f64 {
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut ru) };
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

/// (busy, total) CPU seconds of the whole machine, and softirq seconds.
fn machine_cpu() -> (f64, f64, f64) {
    let s = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let v: Vec<f64> = s
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    if v.len() < 8 {
        return (0.0, 0.0, 0.0);
    }
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let total: f64 = v[..8].iter().sum();
    let idle = v[3] + v[4];
    ((total - idle) / hz, total / hz, v[6] / hz)
}

#[derive(Clone, Copy, Default)]
struct CpuSnap {
    server: f64,
    tool: f64,
    busy: f64,
    softirq: f64,
}

fn snap(pids: &[u32]) -> CpuSnap {
    let (busy, _, softirq) = machine_cpu();
    CpuSnap {
        server: pids.iter().filter_map(|p| proc_cpu_s(*p)).sum(),
        tool: self_cpu_s(),
        busy,
        softirq,
    }
}

// ------------------------------------------------------------------ shared state

struct Order {
    id: u64,
    number: String,
    shop: usize, // index into shops
}

struct Shop {
    id: i64,
    screens: usize,
    token: String,
}

#[derive(Clone, Copy)]
struct Rec {
    order: u32,
    lat_us: u32,
    cross: bool,
}

struct Shared {
    start: Instant,
    orders: Vec<Order>,
    by_id: HashMap<u64, u32>,
    /// scheduled pay time, ns since start + 1 (0 = not paid yet)
    sched: Vec<AtomicU64>,
    /// instance the payment went to
    pay_inst: Vec<AtomicU32>,
    /// 0 pending, 1 paid (HTTP ok, code 1), 2 refused/failed
    state: Vec<AtomicU32>,
    got: Vec<AtomicU32>,
    last_ns: Vec<AtomicU64>,
    http_rtt: Vec<Mutex<Vec<(u32, u32)>>>,
    recs: Vec<Mutex<Vec<Rec>>>,
    early: AtomicU64,
    unknown: AtomicU64,
    dups: AtomicU64,
    closed: AtomicUsize,
    close_reasons: Mutex<HashMap<String, usize>>,
    http_errors: Mutex<HashMap<String, usize>>,
    stop: AtomicBool,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.start.elapsed().as_nanos() as u64
    }
    fn count(map: &Mutex<HashMap<String, usize>>, k: String) {
        let mut k = k;
        k.truncate(100);
        *map.lock().unwrap().entry(k).or_insert(0) += 1;
    }
}

/// The order id of an alert frame (`"event":"alert"` … `"orderId":123`).
fn alert_order_id(t: &str) -> Option<u64> {
    if !t.contains("\"event\":\"alert\"") {
        return None;
    }
    let p = t.find("\"orderId\":")? + 10;
    let b = &t.as_bytes()[p..];
    let mut v: u64 = 0;
    let mut n = 0;
    while n < b.len() && b[n].is_ascii_digit() && n < 19 {
        v = v * 10 + (b[n] - b'0') as u64;
        n += 1;
    }
    (n > 0).then_some(v)
}

// ------------------------------------------------------------------ screens

fn parse_sources(s: &str) -> Vec<IpAddr> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if let Some((a, b)) = part.split_once('-') {
            let a: std::net::Ipv4Addr = a.parse().expect("source ip");
            let last: u8 = b.parse().expect("source ip range end");
            let o = a.octets();
            for x in o[3]..=last {
                out.push(IpAddr::from([o[0], o[1], o[2], x]));
            }
        } else {
            out.push(part.parse().expect("source ip"));
        }
    }
    out
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn connect_screen(addr: SocketAddr, src: Option<IpAddr>, token: &str) -> Result<Ws, String> {
    let sock = TcpSocket::new_v4().map_err(|e| format!("socket: {e}"))?;
    if let Some(src) = src {
        unsafe {
            use std::os::fd::AsRawFd;
            let one: libc::c_int = 1;
            libc::setsockopt(
                sock.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                &one as *const _ as *const libc::c_void,
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
        sock.bind(SocketAddr::new(src, 0))
            .map_err(|e| format!("bind: {e}"))?;
    }
    let stream = sock
        .connect(addr)
        .await
        .map_err(|e| format!("tcp connect: {e}"))?;
    let _ = stream.set_nodelay(true);
    let cfg = WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0);
    let url = format!("ws://{addr}/ws/v2/alerts");
    let (mut ws, _) = tokio_tungstenite::client_async_with_config(url, stream, Some(cfg))
        .await
        .map_err(|e| format!("ws handshake: {e}"))?;
    let auth = json!({"type": "auth", "token": token}).to_string();
    ws.send(Message::text(auth))
        .await
        .map_err(|e| format!("auth send: {e}"))?;
    loop {
        match ws.next().await {
            Some(Ok(Message::Text(t))) if t.contains("\"welcome\"") => return Ok(ws),
            Some(Ok(Message::Close(f))) => return Err(format!("closed during auth: {f:?}")),
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(format!("during auth: {e}")),
            None => return Err("eof during auth".into()),
        }
    }
}

async fn read_screen(sh: Arc<Shared>, mut ws: Ws, shop: usize, inst: u32, k: usize) {
    let mut seen: Vec<u64> = Vec::new();
    while let Some(m) = ws.next().await {
        match m {
            Ok(Message::Text(t)) => {
                let Some(id) = alert_order_id(&t) else {
                    continue;
                };
                let now = sh.now_ns();
                let Some(&o) = sh.by_id.get(&id) else {
                    sh.unknown.fetch_add(1, Ordering::Relaxed);
                    continue;
                };
                let o = o as usize;
                if sh.orders[o].shop != shop {
                    sh.unknown.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                let t0 = sh.sched[o].load(Ordering::Acquire);
                if t0 == 0 {
                    sh.early.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if seen.len() <= o / 64 {
                    seen.resize(o / 64 + 1, 0);
                }
                let bit = 1u64 << (o % 64);
                if seen[o / 64] & bit != 0 {
                    sh.dups.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                seen[o / 64] |= bit;
                let lat_us = (now.saturating_sub(t0 - 1) / 1000).min(u32::MAX as u64) as u32;
                let cross = sh.pay_inst[o].load(Ordering::Relaxed) != inst;
                sh.recs[k % SHARDS].lock().unwrap().push(Rec {
                    order: o as u32,
                    lat_us,
                    cross,
                });
                sh.got[o].fetch_add(1, Ordering::AcqRel);
                sh.last_ns[o].fetch_max(now, Ordering::AcqRel);
            }
            Ok(Message::Close(f)) => {
                if !sh.stop.load(Ordering::Relaxed) {
                    sh.closed.fetch_add(1, Ordering::Relaxed);
                    Shared::count(
                        &sh.close_reasons,
                        format!("close {:?}", f.map(|f| u16::from(f.code))),
                    );
                }
                return;
            }
            Ok(_) => {}
            Err(e) => {
                if !sh.stop.load(Ordering::Relaxed) {
                    sh.closed.fetch_add(1, Ordering::Relaxed);
                    Shared::count(&sh.close_reasons, format!("error {e}"));
                }
                return;
            }
        }
    }
    if !sh.stop.load(Ordering::Relaxed) {
        sh.closed.fetch_add(1, Ordering::Relaxed);
        Shared::count(&sh.close_reasons, "eof".into());
    }
}

// ------------------------------------------------------------------ HTTP (keep-alive pool per instance)

fn find(h: &[u8], n: &[u8]) -> Option<usize> {
    h.windows(n.len()).position(|w| w == n)
}

/// One request/response on a kept-alive connection: (status, body, keep-alive).
async fn roundtrip(s: &mut TcpStream, req: &[u8]) -> Result<(u16, Vec<u8>, bool), (String, bool)> {
    s.write_all(req)
        .await
        .map_err(|e| (format!("write: {e}"), false))?;
    let mut buf: Vec<u8> = Vec::with_capacity(1024);
    let mut tmp = [0u8; 4096];
    let hdr_end = loop {
        let n = s
            .read(&mut tmp)
            .await
            .map_err(|e| (format!("read: {e}"), !buf.is_empty()))?;
        if n == 0 {
            return Err(("connection closed before response".into(), !buf.is_empty()));
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p + 4;
        }
        if buf.len() > 1 << 16 {
            return Err(("response header too large".into(), true));
        }
    };
    let head = String::from_utf8_lossy(&buf[..hdr_end]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or(("bad status line".to_string(), true))?;
    let mut cl = None;
    let mut keep = true;
    for l in head.split("\r\n") {
        if let Some(v) = l.strip_prefix("content-length:") {
            cl = v.trim().parse::<usize>().ok();
        } else if let Some(v) = l.strip_prefix("connection:") {
            keep = !v.contains("close");
        } else if l.starts_with("transfer-encoding:") && l.contains("chunked") {
            return Err(("chunked responses not supported".into(), true));
        }
    }
    let cl = cl.ok_or(("no content-length".to_string(), true))?;
    while buf.len() < hdr_end + cl {
        let n = s
            .read(&mut tmp)
            .await
            .map_err(|e| (format!("read body: {e}"), true))?;
        if n == 0 {
            return Err(("eof in body".into(), true));
        }
        buf.extend_from_slice(&tmp[..n]);
    }
    Ok((status, buf[hdr_end..hdr_end + cl].to_vec(), keep))
}

struct Http {
    addrs: Vec<SocketAddr>,
    pools: Vec<Mutex<Vec<TcpStream>>>,
    token: String,
    permits: Semaphore,
    timeout: Duration,
}

impl Http {
    async fn pay(&self, inst: usize, number: &str) -> Result<bool, String> {
        let body = format!("{{\"orderNumber\":\"{number}\",\"payMethod\":1}}");
        let req = format!(
            "PUT /user/order/payment HTTP/1.1\r\nHost: {}\r\nauthentication: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{}",
            self.addrs[inst],
            self.token,
            body.len(),
            body
        );
        for attempt in 0..2 {
            let pooled = self.pools[inst].lock().unwrap().pop();
            let reused = pooled.is_some();
            let mut s = match pooled {
                Some(s) => s,
                None => {
                    let s = TcpStream::connect(self.addrs[inst])
                        .await
                        .map_err(|e| format!("connect: {e}"))?;
                    let _ = s.set_nodelay(true);
                    s
                }
            };
            match tokio::time::timeout(self.timeout, roundtrip(&mut s, req.as_bytes())).await {
                Err(_) => return Err("timeout".into()),
                Ok(Ok((status, body, keep))) => {
                    if keep {
                        self.pools[inst].lock().unwrap().push(s);
                    }
                    if status != 200 {
                        return Err(format!("HTTP {status}"));
                    }
                    // the contract's envelope: {"code":1,...} on success
                    return Ok(find(&body, b"\"code\":1").is_some());
                }
                Ok(Err((_, false))) if reused && attempt == 0 => continue,
                Ok(Err((e, _))) => return Err(e),
            }
        }
        Err("unreachable".into())
    }
}

// ------------------------------------------------------------------ stats

fn pct(sorted: &[u32], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted[i.min(sorted.len() - 1)] as f64 / 1000.0
}

fn summary(v: &mut [u32]) -> Value {
    v.sort_unstable();
    if v.is_empty() {
        return json!({"n": 0});
    }
    let r = |x: f64| (x * 1000.0).round() / 1000.0;
    json!({"n": v.len(), "p50": r(pct(v, 50.0)), "p90": r(pct(v, 90.0)), "p99": r(pct(v, 99.0)),
           "p999": r(pct(v, 99.9)), "max": r(*v.last().unwrap() as f64 / 1000.0)})
}

fn nan_null(x: f64) -> Value {
    if x.is_finite() {
        json!((x * 1000.0).round() / 1000.0)
    } else {
        Value::Null
    }
}

// ------------------------------------------------------------------ main

fn main() {
    let args = Args::parse();
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if args.threads > 0 {
        rt.worker_threads(args.threads);
    }
    let rt = rt.enable_all().build().expect("runtime");
    let code = rt.block_on(run(args));
    std::process::exit(code);
}

fn raise_nofile() -> u64 {
    let mut rl: libc::rlimit = unsafe { std::mem::zeroed() };
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
        rl.rlim_cur = rl.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &rl);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut rl);
    }
    rl.rlim_cur as u64
}

async fn run(args: Args) -> i32 {
    let deadline = Instant::now() + Duration::from_secs_f64(args.max_duration);
    let nofile = raise_nofile();
    let shops: Vec<Shop> = std::fs::read_to_string(&args.shops)
        .expect("shops file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Shop {
                id: f[0].parse().expect("shop id"),
                screens: f[1].parse().expect("screens"),
                token: f[2].to_string(),
            }
        })
        .collect();
    let shop_idx: HashMap<i64, usize> = shops.iter().enumerate().map(|(i, s)| (s.id, i)).collect();
    let orders: Vec<Order> = std::fs::read_to_string(&args.orders)
        .expect("orders file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let shop_id: i64 = f[2].parse().expect("order shop");
            Order {
                id: f[0].parse().expect("order id"),
                number: f[1].to_string(),
                shop: *shop_idx.get(&shop_id).expect("order of an unknown shop"),
            }
        })
        .collect();
    let instances: Vec<SocketAddr> = args
        .instances
        .split(',')
        .map(|s| s.trim().parse().expect("instance host:port"))
        .collect();
    let rates: Vec<f64> = args
        .rates
        .split(',')
        .map(|s| s.trim().parse().expect("rate"))
        .collect();
    let need: usize = rates
        .iter()
        .map(|r| (r * args.step_secs).round() as usize)
        .sum();
    if need > orders.len() {
        eprintln!(
            "need {need} orders for these steps, the orders file has {}",
            orders.len()
        );
        return 2;
    }
    let screens: usize = shops.iter().map(|s| s.screens).sum();
    if screens + args.max_http + 64 > nofile as usize {
        eprintln!(
            "{screens} screens + {} HTTP connections exceed the fd limit {nofile}",
            args.max_http
        );
        return 2;
    }
    let pids: Vec<u32> = args
        .server_pid
        .as_deref()
        .unwrap_or("")
        .split(',')
        .filter_map(|p| p.trim().parse().ok())
        .collect();
    let n = orders.len();
    let sh = Arc::new(Shared {
        start: Instant::now(),
        by_id: orders
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id, i as u32))
            .collect(),
        sched: (0..n).map(|_| AtomicU64::new(0)).collect(),
        pay_inst: (0..n).map(|_| AtomicU32::new(0)).collect(),
        state: (0..n).map(|_| AtomicU32::new(0)).collect(),
        got: (0..n).map(|_| AtomicU32::new(0)).collect(),
        last_ns: (0..n).map(|_| AtomicU64::new(0)).collect(),
        orders,
        http_rtt: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        recs: (0..SHARDS).map(|_| Mutex::new(Vec::new())).collect(),
        early: AtomicU64::new(0),
        unknown: AtomicU64::new(0),
        dups: AtomicU64::new(0),
        closed: AtomicUsize::new(0),
        close_reasons: Mutex::new(HashMap::new()),
        http_errors: Mutex::new(HashMap::new()),
        stop: AtomicBool::new(false),
    });
    let rss = |pids: &[u32]| -> u64 {
        pids.iter()
            .filter_map(|p| proc_status_kb(*p, "VmRSS:"))
            .sum()
    };
    let rss_before = rss(&pids);

    // ---- screens
    let sources = parse_sources(&args.source_ips);
    let mut plan: Vec<(usize, u32)> = Vec::with_capacity(screens); // (shop index, instance)
    for (i, s) in shops.iter().enumerate() {
        for j in 0..s.screens {
            plan.push((i, ((i + j) % instances.len()) as u32));
        }
    }
    eprintln!(
        "connecting {} screens of {} shops over {} instance(s)...",
        plan.len(),
        shops.len(),
        instances.len()
    );
    let t_conn = Instant::now();
    let gate = Arc::new(Semaphore::new(args.concurrency));
    let failed = Arc::new(AtomicUsize::new(0));
    let conn_errors: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
    let shops = Arc::new(shops);
    let mut handles = Vec::with_capacity(plan.len());
    for (k, (shop, inst)) in plan.iter().copied().enumerate() {
        let permit = gate.clone().acquire_owned().await.expect("gate");
        let (sh2, shops2, failed2, errs) = (
            sh.clone(),
            shops.clone(),
            failed.clone(),
            conn_errors.clone(),
        );
        let addr = instances[inst as usize];
        let src = (!sources.is_empty()).then(|| sources[k % sources.len()]);
        handles.push(tokio::spawn(async move {
            let r = tokio::time::timeout(
                Duration::from_secs(20),
                connect_screen(addr, src, &shops2[shop].token),
            )
            .await;
            drop(permit);
            match r {
                Ok(Ok(ws)) => {
                    tokio::spawn(read_screen(sh2, ws, shop, inst, k));
                    true
                }
                Ok(Err(e)) => {
                    failed2.fetch_add(1, Ordering::Relaxed);
                    Shared::count(&errs, e);
                    false
                }
                Err(_) => {
                    failed2.fetch_add(1, Ordering::Relaxed);
                    Shared::count(&errs, "connect+auth timeout".into());
                    false
                }
            }
        }));
        if Instant::now() > deadline {
            eprintln!("max duration hit while connecting");
            return 3;
        }
    }
    let mut connected = 0;
    for h in handles {
        if h.await.unwrap_or(false) {
            connected += 1;
        }
    }
    let connect_s = t_conn.elapsed().as_secs_f64();
    eprintln!(
        "{connected}/{} screens up in {connect_s:.1}s ({} failed)",
        plan.len(),
        failed.load(Ordering::Relaxed)
    );
    // every shop must have all its screens for "expected" to be right
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss(&pids);

    // ---- payments
    let http = Arc::new(Http {
        pools: instances.iter().map(|_| Mutex::new(Vec::new())).collect(),
        addrs: instances.clone(),
        token: args.customer_token.clone(),
        permits: Semaphore::new(args.max_http),
        timeout: Duration::from_secs_f64(args.http_timeout),
    });
    let mut steps_out = Vec::new();
    let mut step_ranges = Vec::new();
    let mut next_order = 0usize;
    let mut stopped_early = false;
    let mut hit_deadline = false;
    let mut step_cpu = Vec::new();
    for (si, &rate) in rates.iter().enumerate() {
        let count = (rate * args.step_secs).round() as usize;
        let range = next_order..next_order + count;
        next_order += count;
        let c0 = snap(&pids);
        let t_step = Instant::now();
        let step_start_ns = sh.now_ns();
        let mut tasks = Vec::with_capacity(count);
        for (j, o) in range.clone().enumerate() {
            let due = t_step + Duration::from_secs_f64(j as f64 / rate);
            tokio::time::sleep_until(due.into()).await;
            let sched_ns = step_start_ns + (j as f64 / rate * 1e9) as u64;
            let inst = o % instances.len();
            sh.pay_inst[o].store(inst as u32, Ordering::Relaxed);
            sh.sched[o].store(sched_ns + 1, Ordering::Release);
            let (sh2, http2) = (sh.clone(), http.clone());
            tasks.push(tokio::spawn(async move {
                let _permit = http2.permits.acquire().await.expect("permits");
                let t = Instant::now();
                let r = http2.pay(inst, &sh2.orders[o].number).await;
                let rtt = t.elapsed().as_micros().min(u32::MAX as u128) as u32;
                sh2.http_rtt[o % SHARDS]
                    .lock()
                    .unwrap()
                    .push((o as u32, rtt));
                match r {
                    Ok(true) => sh2.state[o].store(1, Ordering::Release),
                    Ok(false) => {
                        sh2.state[o].store(2, Ordering::Release);
                        Shared::count(&sh2.http_errors, "refused (code != 1)".into());
                    }
                    Err(e) => {
                        sh2.state[o].store(2, Ordering::Release);
                        Shared::count(&sh2.http_errors, e);
                    }
                }
            }));
            if Instant::now() > deadline {
                hit_deadline = true;
                break;
            }
        }
        let fire_s = t_step.elapsed().as_secs_f64();
        let c1 = snap(&pids);
        // the step's gap: late deliveries of this step still arrive
        let gap_end = Instant::now() + Duration::from_secs_f64(args.gap_secs);
        for t in tasks {
            let _ = tokio::time::timeout_at(gap_end.into(), t).await;
        }
        tokio::time::sleep_until(gap_end.into()).await;
        step_cpu.push((c0, c1, snap(&pids), fire_s));
        step_ranges.push((si, rate, range.clone()));
        // early stop: p99 with undelivered counted as infinite
        let mut lat: Vec<u32> = Vec::new();
        for s in &sh.recs {
            lat.extend(
                s.lock()
                    .unwrap()
                    .iter()
                    .filter(|r| range.contains(&(r.order as usize)))
                    .map(|r| r.lat_us),
            );
        }
        let expected: usize = range
            .clone()
            .filter(|&o| sh.state[o].load(Ordering::Acquire) == 1)
            .map(|o| shops[sh.orders[o].shop].screens)
            .sum();
        lat.sort_unstable();
        let missing = expected.saturating_sub(lat.len());
        let p99_idx = ((expected.max(1) as f64) * 0.99).ceil() as usize;
        let p99 = if p99_idx > lat.len() {
            f64::INFINITY
        } else {
            lat[p99_idx.saturating_sub(1)] as f64 / 1000.0
        };
        eprintln!(
            "step {rate}/s: fired {} in {fire_s:.1}s, p99 {} ms (so far), {missing} not yet delivered, server cpu {:.1}s",
            range.len(),
            if p99.is_finite() { format!("{p99:.1}") } else { "inf".into() },
            c1.server - c0.server
        );
        if hit_deadline {
            break;
        }
        if p99 > args.stop_p99_ms && si + 1 < rates.len() {
            eprintln!("p99 above {} ms: stopping the ramp here", args.stop_p99_ms);
            stopped_early = true;
            break;
        }
    }
    // ---- drain
    let drain_end = (Instant::now() + Duration::from_secs_f64(args.drain_secs))
        .min(deadline + Duration::from_secs(5));
    loop {
        let all = step_ranges.iter().flat_map(|(_, _, r)| r.clone()).all(|o| {
            let st = sh.state[o].load(Ordering::Acquire);
            st == 2
                || (st == 1
                    && sh.got[o].load(Ordering::Acquire) as usize
                        >= shops[sh.orders[o].shop].screens)
        });
        if all || Instant::now() >= drain_end {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    sh.stop.store(true, Ordering::Relaxed);
    let rss_after = rss(&pids);
    let hwm: u64 = pids
        .iter()
        .filter_map(|p| proc_status_kb(*p, "VmHWM:"))
        .sum();

    // ---- report
    let all_recs: Vec<Rec> = sh
        .recs
        .iter()
        .flat_map(|s| s.lock().unwrap().clone())
        .collect();
    let mut best: Option<f64> = None;
    let mut any_loss = false;
    for ((si, rate, range), (c0, c1, c2, fire_s)) in step_ranges.iter().zip(step_cpu.iter()) {
        let in_step = |o: u32| range.contains(&(o as usize));
        let mut lat: Vec<u32> = all_recs
            .iter()
            .filter(|r| in_step(r.order))
            .map(|r| r.lat_us)
            .collect();
        let mut same: Vec<u32> = all_recs
            .iter()
            .filter(|r| in_step(r.order) && !r.cross)
            .map(|r| r.lat_us)
            .collect();
        let mut cross: Vec<u32> = all_recs
            .iter()
            .filter(|r| in_step(r.order) && r.cross)
            .map(|r| r.lat_us)
            .collect();
        let paid: Vec<usize> = range
            .clone()
            .filter(|&o| sh.state[o].load(Ordering::Acquire) == 1)
            .collect();
        let failed_pay = range
            .clone()
            .filter(|&o| sh.state[o].load(Ordering::Acquire) != 1)
            .count();
        let expected: usize = paid.iter().map(|&o| shops[sh.orders[o].shop].screens).sum();
        let delivered = lat.len();
        let lost = expected.saturating_sub(delivered);
        any_loss |= lost > 0 || failed_pay > 0;
        // order -> last screen
        let mut last: Vec<u32> = paid
            .iter()
            .filter(|&&o| {
                sh.got[o].load(Ordering::Acquire) as usize >= shops[sh.orders[o].shop].screens
            })
            .map(|&o| {
                let t0 = sh.sched[o].load(Ordering::Acquire) - 1;
                ((sh.last_ns[o].load(Ordering::Acquire).saturating_sub(t0)) / 1000)
                    .min(u32::MAX as u64) as u32
            })
            .collect();
        let mut rtt: Vec<u32> = sh
            .http_rtt
            .iter()
            .flat_map(|s| {
                s.lock()
                    .unwrap()
                    .iter()
                    .filter(|(o, _)| in_step(*o))
                    .map(|(_, r)| *r)
                    .collect::<Vec<_>>()
            })
            .collect();
        let lat_s = summary(&mut lat);
        let p99 = lat_s
            .get("p99")
            .and_then(Value::as_f64)
            .unwrap_or(f64::INFINITY);
        let held = lost == 0 && failed_pay == 0 && p99 < args.target_p99_ms;
        if held {
            best = Some(best.map_or(*rate, |b: f64| b.max(*rate)));
        }
        let orders_n = range.len() as f64;
        let srv = c1.server - c0.server;
        let tool = c1.tool - c0.tool;
        let busy = c1.busy - c0.busy;
        let other = (busy - srv - tool).max(0.0);
        steps_out.push(json!({
            "step": si, "rate": rate, "orders": range.len(), "fire_s": (fire_s * 1000.0).round() / 1000.0,
            "achieved_rate": ((orders_n / fire_s) * 10.0).round() / 10.0,
            "paid": paid.len(), "pay_failed": failed_pay, "expected": expected, "delivered": delivered, "lost": lost,
            "latency_ms": lat_s, "same_instance_ms": summary(&mut same), "cross_instance_ms": summary(&mut cross),
            "order_to_last_screen_ms": summary(&mut last), "http_rtt_ms": summary(&mut rtt),
            "server_cpu_s": nan_null(srv), "server_cpu_us_per_order": nan_null(srv / orders_n * 1e6),
            "server_cpu_gap_s": nan_null(c2.server - c1.server),
            "tool_cpu_s": nan_null(tool), "other_cpu_s": nan_null(other), "softirq_s": nan_null(c1.softirq - c0.softirq),
            "machine_busy_s": nan_null(busy), "held": held,
        }));
    }
    let mut rtt_all: Vec<u32> = sh
        .http_rtt
        .iter()
        .flat_map(|s| {
            s.lock()
                .unwrap()
                .iter()
                .map(|(_, r)| *r)
                .collect::<Vec<_>>()
        })
        .collect();
    let out = json!({
        "label": args.label,
        "shops": shops.len(), "screens": plan.len(), "connected": connected, "connect_failed": failed.load(Ordering::Relaxed),
        "connect_errors": *conn_errors.lock().unwrap(), "connect_s": (connect_s * 1000.0).round() / 1000.0,
        "instances": instances.len(), "step_secs": args.step_secs, "gap_secs": args.gap_secs,
        "target_p99_ms": args.target_p99_ms,
        "max_rate_held": best, "stopped_early": stopped_early,
        "steps": steps_out,
        "http_rtt_ms": summary(&mut rtt_all),
        "http_errors": *sh.http_errors.lock().unwrap(),
        "screens_closed": sh.closed.load(Ordering::Relaxed), "close_reasons": *sh.close_reasons.lock().unwrap(),
        "early": sh.early.load(Ordering::Relaxed), "unknown": sh.unknown.load(Ordering::Relaxed), "duplicates": sh.dups.load(Ordering::Relaxed),
        "server_rss_kb": {"before": rss_before, "connected": rss_connected, "after": rss_after, "peak_hwm": hwm},
        "rss_per_screen_kb": if connected > 0 { json!(((rss_connected as f64 - rss_before as f64) / connected as f64 * 100.0).round() / 100.0) } else { Value::Null },
        "duration_s": (sh.start.elapsed().as_secs_f64() * 10.0).round() / 10.0,
    });
    for s in out["steps"].as_array().unwrap() {
        eprintln!(
            "  {:>6}/s  paid {:>6}  lost {:>5}  p50 {:>8} ms  p99 {:>8} ms  max {:>8} ms  srv {:>6} µs/order  other cpu {} s",
            s["rate"], s["paid"], s["lost"], s["latency_ms"]["p50"], s["latency_ms"]["p99"], s["latency_ms"]["max"],
            s["server_cpu_us_per_order"], s["other_cpu_s"]
        );
    }
    eprintln!(
        "highest rate with p99 < {} ms and nothing lost: {:?}",
        args.target_p99_ms, best
    );
    println!("{out}");
    if hit_deadline {
        3
    } else if any_loss || failed.load(Ordering::Relaxed) > 0 {
        1
    } else {
        0
    }
}
