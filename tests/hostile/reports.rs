//! Hostile input to the workspace and the reports: malformed, impossible and missing dates,
//! reversed and huge ranges, injection attempts and NULs in the query, repeated parameters,
//! another shop's id smuggled in, no token. Each answer is the envelope with a clear message
//! (code 0), never a 5xx or a loop (the original loops forever on `begin > end`); the export
//! answers non-2xx on every failure, since the app saves any 2xx body as the file. Reads
//! write nothing: the snapshot is unchanged.

use crate::common::{self, Backend};
use crate::support::*;

const REPORTS: [&str; 4] = [
    "turnoverStatistics",
    "userStatistics",
    "ordersStatistics",
    "top10",
];
const BAD_DATE: &str = "日期格式错误，应为yyyy-MM-dd";
const NO_DATE: &str = "请选择开始日期和结束日期";
const REVERSED: &str = "开始日期不能晚于结束日期";
const TOO_LONG: &str = "日期范围不能超过366天";

async fn hostile_report_queries(backend: Backend) {
    let app = common::spawn(backend).await;
    let c = app.customer("wx-hostile-reports").await;
    let admin = app.admin().await;
    let dish = app.first_dish(1).await;
    c.paid_order(dish).await;
    // A completed order with a line whose name holds commas (SQL: names are checked by the
    // catalog's endpoints, but old or imported rows may have them).
    let done = order_in_status(&c, &admin, dish, 5).await;
    sqlx::query("INSERT INTO order_detail (order_id, name, number, amount) VALUES ($1, '鱼,香,肉丝', 7, 100)")
        .bind(done)
        .execute(app.state.store.pool())
        .await
        .unwrap();
    let before = snapshot(&app).await;
    let m = || as_merchant(&admin.token);
    let long = "9".repeat(5000);

    // (query, expected message); URL-encoded as the browser would send it.
    let cases: Vec<(String, &str)> = vec![
        ("".into(), NO_DATE),
        ("begin=2024-06-01".into(), NO_DATE),
        ("end=2024-06-01".into(), NO_DATE),
        ("begin=&end=".into(), NO_DATE),
        ("begin=2024-6-1&end=2024-06-07".into(), BAD_DATE),
        ("begin=2024-02-30&end=2024-03-01".into(), BAD_DATE),
        ("begin=2023-02-29&end=2023-03-01".into(), BAD_DATE),
        ("begin=2024-06-01&end=yesterday".into(), BAD_DATE),
        ("begin=2024%2F06%2F01&end=2024-06-07".into(), BAD_DATE),
        ("begin=2024-06-01T00:00&end=2024-06-07".into(), BAD_DATE),
        ("begin=%2B2024-06-01&end=2024-06-07".into(), BAD_DATE),
        ("begin=-2024-06-01&end=2024-06-07".into(), BAD_DATE),
        (
            "begin=%EF%BC%92%EF%BC%90%EF%BC%92%EF%BC%94-06-01&end=2024-06-07".into(),
            BAD_DATE,
        ),
        (
            "begin=2024-06-01'%20OR%20'1'%3D'1&end=2024-06-07".into(),
            BAD_DATE,
        ),
        (
            "begin=2024-06-01%3BDROP%20TABLE%20orders&end=2024-06-07".into(),
            BAD_DATE,
        ),
        (
            "begin=2024-06-01&end=2024-06-07)%20UNION%20SELECT%201,2,3,4--".into(),
            BAD_DATE,
        ),
        (format!("begin={long}&end=2024-06-07"), BAD_DATE),
        ("begin=2024-06-08&end=2024-06-07".into(), REVERSED),
        ("begin=9999-12-31&end=0001-01-01".into(), REVERSED),
        ("begin=2023-01-01&end=2024-01-02".into(), TOO_LONG),
        ("begin=0001-01-01&end=9999-12-31".into(), TOO_LONG),
    ];
    for report in REPORTS {
        for (query, msg) in &cases {
            let path = format!("/admin/report/{report}?{query}");
            let r = send(&app.base, "GET", &path, m(), Payload::Empty).await;
            business(&r, &path, msg);
        }
        // Unparseable query strings: the 400 envelope.
        for query in [
            "begin=2024-06-01%00&end=2024-06-07",
            "begin=2024-06-01&begin=2024-06-02&end=2024-06-07",
        ] {
            let path = format!("/admin/report/{report}?{query}");
            bad_request(
                &send(&app.base, "GET", &path, m(), Payload::Empty).await,
                &path,
            );
        }
        // The edges of what is accepted: 366 days, the first and last representable years.
        for query in [
            "begin=2024-01-01&end=2024-12-31",
            "begin=0001-01-01&end=0001-01-01",
            "begin=9999-12-31&end=9999-12-31",
        ] {
            let path = format!("/admin/report/{report}?{query}");
            success(
                &send(&app.base, "GET", &path, m(), Payload::Empty).await,
                &path,
            );
        }
        // Another shop's id in the query changes nothing: the token's shop is the shop.
        let path =
            format!("/admin/report/{report}?begin=2020-01-01&end=2020-01-01&shopId=2&shop_id=2");
        success(
            &send(&app.base, "GET", &path, m(), Payload::Empty).await,
            &path,
        );
    }
    // The app splits nameList and numberList on ',': a name's commas must not shift them.
    let today = chrono::Utc::now().date_naive();
    let range = format!(
        "begin={}&end={}",
        today.pred_opt().unwrap(),
        today.succ_opt().unwrap()
    );
    let path = format!("/admin/report/top10?{range}");
    let top = success(
        &send(&app.base, "GET", &path, m(), Payload::Empty).await,
        &path,
    );
    let (names, numbers) = (
        top["data"]["nameList"].as_str().unwrap(),
        top["data"]["numberList"].as_str().unwrap(),
    );
    assert_eq!(names.split(',').next(), Some("鱼，香，肉丝"), "{top}");
    assert_eq!(
        names.split(',').count(),
        numbers.split(',').count(),
        "{top}"
    );
    assert_eq!(numbers.split(',').next(), Some("7"), "{top}");
    // No token, a garbage token: a bare 401 everywhere, the export included (non-2xx).
    let mut paths: Vec<String> = REPORTS
        .iter()
        .map(|r| format!("/admin/report/{r}?begin=2024-06-01&end=2024-06-07"))
        .collect();
    paths.extend(
        [
            "businessData",
            "overviewOrders",
            "overviewDishes",
            "overviewSetmeals",
        ]
        .map(|w| format!("/admin/workspace/{w}")),
    );
    paths.push("/admin/report/export".into());
    for path in &paths {
        let none = send(&app.base, "GET", path, headers(&[]), Payload::Empty).await;
        unauthorized(&none, path);
        let garbage = send(&app.base, "GET", path, as_merchant("x.y.z"), Payload::Empty).await;
        unauthorized(&garbage, path);
        // A customer's token is not a merchant's.
        let customer = send(
            &app.base,
            "GET",
            path,
            as_merchant(&c.token),
            Payload::Empty,
        )
        .await;
        unauthorized(&customer, path);
    }
    // The export ignores whatever query it gets and still answers the workbook.
    let r = send(
        &app.base,
        "GET",
        "/admin/report/export?begin=1'--&end=%FF",
        m(),
        Payload::Empty,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(snapshot(&app).await, before, "reports wrote nothing");
    app.shutdown().await;
}

backend_tests!(report_queries_are_refused_clearly => hostile_report_queries);
