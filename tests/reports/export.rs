//! `GET /admin/report/export`: the reply's headers, then every cell of the workbook read back
//! with calamine (values and number formats), and its layout compared with the course's
//! template when `../shared/stock-clients/course/report-template.xlsx` is there.

use std::io::Cursor;
use std::path::Path;

use calamine::{Data, Reader, Xlsx};

use crate::month::{Month, days};

const YUAN: &str = r##""¥"#,##0.00;"¥"\-#,##0.00"##;
const PERCENT: &str = "0.00%";
const TEMPLATE: &str = "../shared/stock-clients/course/report-template.xlsx";

type Book = Xlsx<Cursor<Vec<u8>>>;

/// A cell's value as it should be: text, number, or nothing.
#[derive(Debug, PartialEq)]
enum V {
    T(String),
    N(f64),
    E,
}

fn value(d: Option<&Data>) -> V {
    match d {
        None | Some(Data::Empty) => V::E,
        Some(Data::String(s)) => V::T(s.clone()),
        Some(Data::Float(f)) => V::N(*f),
        Some(Data::Int(i)) => V::N(*i as f64),
        Some(other) => panic!("unexpected cell {other:?}"),
    }
}

fn t(s: &str) -> V {
    V::T(s.to_string())
}

fn format_of(book: &mut Book, pos: (u32, u32)) -> String {
    let styles = book.worksheet_style("Sheet1").unwrap();
    styles
        .get(pos)
        .and_then(|s| s.number_format.as_ref())
        .map(|f| f.format_code.clone())
        .filter(|f| !f.is_empty())
        .unwrap_or_else(|| "General".into())
}

/// Fetches the export as the app does and checks the reply's headers.
async fn fetch(m: &Month) -> Vec<u8> {
    let a = &m.merchants[0].api;
    let resp = a
        .http
        .get(format!("{}/admin/report/export", a.base))
        .header("token", &a.token)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    assert_eq!(
        h["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"report.xlsx\"; filename*=UTF-8''%E8%BF%90%E8%90%A5%E6%95%B0%E6%8D%AE%E7%BB%9F%E8%AE%A1%E6%8A%A5%E8%A1%A8.xlsx"
    );
    resp.bytes().await.unwrap().to_vec()
}

/// Every cell of B1:G37 (and that nothing is outside it): values and number formats.
pub async fn export(m: &Month) {
    let bytes = fetch(m).await;
    let mut book: Book = Xlsx::new(Cursor::new(bytes)).unwrap();
    assert_eq!(book.sheet_names(), vec!["Sheet1".to_string()]);
    let cells = book.worksheet_range("Sheet1").unwrap();
    assert_eq!(
        (cells.start(), cells.end()),
        (Some((0, 1)), Some((36, 6))),
        "used range B1:G37"
    );

    let june = days("2024-06-01", "2024-06-30");
    let (e, _) = m.expect(0, &june);
    let (orders, valid): (i64, i64) = (
        e.iter().map(|d| d.orders).sum(),
        e.iter().map(|d| d.valid).sum(),
    );
    let turnover = e.iter().map(|d| d.turnover).sum::<i64>() as f64 / 100.0;
    let new_users: i64 = e.iter().map(|d| d.new_users).sum();
    let ratio = |n: f64, d: i64| {
        if d == 0 || n == 0.0 {
            0.0
        } else {
            n / d as f64
        }
    };

    // (row, col) → expected value and number format, 0-based as calamine counts.
    let mut want: Vec<((u32, u32), V, &str)> = vec![
        ((0, 1), t("运营数据报表"), "General"),
        ((1, 1), t("时间：2024-06-01至2024-06-30"), "General"),
        ((2, 1), t("概览数据"), "General"),
        ((3, 1), t("\t营业额"), "General"),
        ((3, 2), V::N(turnover), YUAN),
        ((3, 3), t("订单完成率"), "General"),
        ((3, 4), V::N(ratio(valid as f64, orders)), PERCENT),
        ((3, 5), t("新增用户数"), "General"),
        ((3, 6), V::N(new_users as f64), "General"),
        ((4, 1), t("\t有效订单"), "General"),
        ((4, 2), V::N(valid as f64), "General"),
        ((4, 3), t("平均客单价"), "General"),
        ((4, 4), V::N(ratio(turnover, valid)), YUAN),
        ((5, 1), t("明细数据"), "General"),
    ];
    for (c, h) in (1..).zip([
        "日期",
        "\t营业额",
        "\t有效订单",
        "订单完成率",
        "平均客单价",
        "新增用户数",
    ]) {
        want.push(((6, c), t(h), "General"));
    }
    for (r, (day, d)) in (7..).zip(june.iter().zip(&e)) {
        let yuan = d.turnover as f64 / 100.0;
        want.push(((r, 1), t(&day.format("%Y-%m-%d").to_string()), "General"));
        want.push(((r, 2), V::N(yuan), YUAN));
        want.push(((r, 3), V::N(d.valid as f64), "General"));
        want.push(((r, 4), V::N(ratio(d.valid as f64, d.orders)), PERCENT));
        want.push(((r, 5), V::N(ratio(yuan, d.valid)), YUAN));
        want.push(((r, 6), V::N(d.new_users as f64), "General"));
    }
    for row in 0..38u32 {
        for col in 0..8u32 {
            let (v, fmt) = match want.iter().find(|w| w.0 == (row, col)) {
                Some((_, v, f)) => (v, *f),
                None => (&V::E, "General"),
            };
            assert_eq!(
                &value(cells.get_value((row, col))),
                v,
                "cell ({row}, {col})"
            );
            if v != &V::E {
                assert_eq!(
                    format_of(&mut book, (row, col)),
                    fmt,
                    "format of ({row}, {col})"
                );
            }
        }
    }
    // The figures themselves, spelled out: June has 13 orders of shop 0, 8 completed, 4 first orders.
    assert_eq!((orders, valid, new_users), (13, 8, 4));
    let merges: Vec<_> = book
        .merge_cells_by_sheet_name("Sheet1")
        .unwrap()
        .into_iter()
        .map(|d| (d.start, d.end))
        .collect();
    assert_eq!(merges.len(), 4);
    for (r, _) in [(0, 0), (1, 0), (2, 0), (5, 0)] {
        assert!(
            merges.contains(&((r, 1), (r, 6))),
            "B{}:G{} merged: {merges:?}",
            r + 1,
            r + 1
        );
    }
    like_the_template(&mut book);
}

/// Same labels, number formats and fonts as the course's template in every cell of B1:G37.
fn like_the_template(ours: &mut Book) {
    if !Path::new(TEMPLATE).exists() {
        assert!(std::env::var("CI").is_err(), "{TEMPLATE} is missing");
        eprintln!(
            "\n!!!!! SKIPPING the comparison with the course template: {TEMPLATE} not found !!!!!\n"
        );
        return;
    }
    let mut tpl: Xlsx<_> = calamine::open_workbook(TEMPLATE).unwrap();
    let (tv, ov) = (
        tpl.worksheet_range("Sheet1").unwrap(),
        ours.worksheet_range("Sheet1").unwrap(),
    );
    let (ts, os) = (
        tpl.worksheet_style("Sheet1").unwrap(),
        ours.worksheet_style("Sheet1").unwrap(),
    );
    for row in 0..37u32 {
        for col in 1..7u32 {
            if let V::T(label) = value(tv.get_value((row, col))) {
                assert_eq!(
                    value(ov.get_value((row, col))),
                    V::T(label),
                    "label ({row}, {col})"
                );
            }
            let (t, o) = (ts.get((row, col)), os.get((row, col)));
            let fmt = |s: Option<&calamine::Style>| {
                s.and_then(|s| s.number_format.as_ref())
                    .map(|f| f.format_code.clone())
                    .filter(|f| !f.is_empty() && f != "General")
            };
            assert_eq!(fmt(o), fmt(t), "number format ({row}, {col})");
            let font = |s: Option<&calamine::Style>| {
                s.and_then(|s| s.font.as_ref())
                    .map(|f| (f.name.clone(), f.size, f.weight))
            };
            if (col == 1 || !matches!(row, 0 | 1 | 2 | 5)) && font(t).is_some() {
                assert_eq!(font(o), font(t), "font ({row}, {col})");
            }
        }
    }
}
