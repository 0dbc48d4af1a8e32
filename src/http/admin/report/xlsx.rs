//! The export workbook in the layout of the course's template (`运营数据报表模板.xlsx`):
//! sheet `Sheet1`, title, period, the overview (B4:G5) and 30 detail rows (B8:G37), with the
//! template's fonts (宋体), fills, thin borders, merges, row heights, column widths and number
//! formats. It renders a use case's result, so it lives with the adapter that serves it; it is
//! a pure function (data in, bytes out), unit-tested here and read back by the integration
//! tests with calamine.

use rust_xlsxwriter::{Color, Format, FormatAlign, FormatBorder, Workbook, XlsxError};

use crate::domain::report::DayFigures;
use crate::usecases::reports::Daily;

/// The template's currency format (custom format 7 in its styles).
pub(super) const YUAN: &str = r##""¥"#,##0.00;"¥"\-#,##0.00"##;
/// The template's percentage format.
pub(super) const PERCENT: &str = "0.00%";
/// The overview's and the detail rows' header labels (the template's, leading TABs included).
const HEADERS: [&str; 6] = [
    "日期",
    "\t营业额",
    "\t有效订单",
    "订单完成率",
    "平均客单价",
    "新增用户数",
];
/// First detail row (0-based: row 8 of the sheet).
const FIRST_DETAIL_ROW: u32 = 7;

fn base() -> Format {
    Format::new()
        .set_font_name("宋体")
        .set_font_size(11)
        .set_font_charset(134)
}

fn cell() -> Format {
    base()
        .set_border(FormatBorder::Thin)
        .set_align(FormatAlign::Center)
        .set_align(FormatAlign::VerticalCenter)
}

/// The workbook of the last days' figures, as the bytes of an `.xlsx` file.
pub fn render(daily: &Daily) -> Result<Vec<u8>, XlsxError> {
    let mut wb = Workbook::new();
    wb.set_default_format(&base(), 20, 64)?;
    let ws = wb.add_worksheet().set_name("Sheet1")?;
    // 14.98 characters is the template's 15.63 once rounded to whole pixels by the writer.
    ws.set_column_range_width(0, 16_383, 14.98)?;
    ws.set_default_row_height(25);
    ws.set_row_height(0, 45)?;
    for row in 1..=FIRST_DETAIL_ROW + 29 {
        ws.set_row_height(row, 25)?;
    }
    let text = cell();
    let yuan = cell().set_num_format(YUAN);
    let percent = cell().set_num_format(PERCENT);
    let title = cell()
        .set_font_size(24)
        .set_bold()
        .set_background_color(Color::Theme(8, 1));
    let period = cell()
        .set_font_size(12)
        .set_bold()
        .set_align(FormatAlign::Right)
        .set_background_color(Color::Theme(0, 0));
    let section = cell()
        .set_font_size(16)
        .set_background_color(Color::Theme(7, 1));
    let (begin, end) = (daily.range.begin(), daily.range.end());
    ws.merge_range(0, 1, 0, 6, "运营数据报表", &title)?;
    ws.merge_range(1, 1, 1, 6, &format!("时间：{begin}至{end}"), &period)?;
    ws.merge_range(2, 1, 2, 6, "概览数据", &section)?;
    ws.merge_range(5, 1, 5, 6, "明细数据", &section)?;

    let total = daily.total();
    ws.write_string_with_format(3, 1, "\t营业额", &text)?;
    ws.write_number_with_format(3, 2, total.turnover(), &yuan)?;
    ws.write_string_with_format(3, 3, "订单完成率", &text)?;
    ws.write_number_with_format(3, 4, total.completion_rate(), &percent)?;
    ws.write_string_with_format(3, 5, "新增用户数", &text)?;
    ws.write_number_with_format(3, 6, total.new_users as f64, &text)?;
    ws.write_string_with_format(4, 1, "\t有效订单", &text)?;
    ws.write_number_with_format(4, 2, total.valid as f64, &text)?;
    ws.write_string_with_format(4, 3, "平均客单价", &text)?;
    ws.write_number_with_format(4, 4, total.unit_price(), &yuan)?;
    ws.write_blank(4, 5, &text)?;
    ws.write_blank(4, 6, &text)?;

    for (col, label) in (1u16..).zip(HEADERS) {
        ws.write_string_with_format(6, col, label, &text)?;
    }
    for ((row, day), f) in (FIRST_DETAIL_ROW..)
        .zip(daily.range.days())
        .zip(&daily.days)
    {
        let f: &DayFigures = f;
        ws.write_string_with_format(row, 1, day.format("%Y-%m-%d").to_string(), &text)?;
        ws.write_number_with_format(row, 2, f.turnover(), &yuan)?;
        ws.write_number_with_format(row, 3, f.valid as f64, &text)?;
        ws.write_number_with_format(row, 4, f.completion_rate(), &percent)?;
        ws.write_number_with_format(row, 5, f.unit_price(), &yuan)?;
        ws.write_number_with_format(row, 6, f.new_users as f64, &text)?;
    }
    wb.save_to_buffer()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::calendar::{DayRange, parse_date};

    #[test]
    fn renders_a_zip_with_one_sheet() {
        let range = DayRange::days_before(parse_date("2024-03-01").unwrap(), 30);
        let mut days = vec![DayFigures::default(); 30];
        days[3] = DayFigures {
            orders: 3,
            valid: 2,
            turnover_fen: 4470,
            new_users: 1,
        };
        let bytes = render(&Daily { range, days }).unwrap();
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert!(bytes.windows(24).any(|w| w == b"xl/worksheets/sheet1.xml"));
    }
}
