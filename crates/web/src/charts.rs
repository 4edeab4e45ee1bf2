//! Charts drawn by the server as SVG: horizontal bars (regions side by side, sources) and
//! lines (the season's curve), with Chinese labels. Each is a small, self-contained `<svg>`
//! scaled to its box (`viewBox`, width 100 %), so it reads on a 375-pixel phone and prints
//! on A4; the page always puts the numbers in a table beside it. No script, no font file.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

/// Width of every chart's drawing, in its own units; the page scales it to its box.
const WIDTH: f64 = 360.0;

/// One bar: its label, its length, the text shown at its end.
pub struct Bar {
    pub label: String,
    pub value: u64,
    pub shown: String,
}

/// One line of a line chart: its name in the legend, its colour and its points.
pub struct Series {
    pub name: String,
    pub color: &'static str,
    pub points: Vec<(NaiveDate, u64)>,
    /// Drawn dashed (last year's line, a target).
    pub dashed: bool,
}

/// Text safe inside SVG.
fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn open(out: &mut String, height: f64, title: &str) {
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {height}" width="100%" role="img" aria-label="{t}" xmlns="http://www.w3.org/2000/svg" font-family="-apple-system, 'PingFang SC', 'Hiragino Sans GB', 'Microsoft YaHei', 'Noto Sans CJK SC', sans-serif" font-size="12"><title>{t}</title>"#,
        t = esc(title)
    );
}

/// Horizontal bars, one per line, the longest filling the width; an optional `mark`
/// (e.g. a target) drawn as a dashed line across them at its value.
pub fn bars(title: &str, bars: &[Bar], mark: Option<(u64, &str)>) -> String {
    let row = 24.0;
    let label_w = 84.0;
    let value_w = 64.0;
    let top = if mark.is_some() { 18.0 } else { 4.0 };
    let height = top + row * bars.len().max(1) as f64 + 4.0;
    let max = bars.iter().map(|b| b.value).chain(mark.map(|m| m.0)).max().unwrap_or(0).max(1) as f64;
    let span = WIDTH - label_w - value_w;
    let mut out = String::new();
    open(&mut out, height, title);
    for (i, bar) in bars.iter().enumerate() {
        let y = top + i as f64 * row;
        let w = (bar.value as f64 / max * span).max(if bar.value > 0 { 1.0 } else { 0.0 });
        let label: String = bar.label.chars().take(7).collect();
        let _ = write!(
            out,
            r##"<text x="{lx}" y="{ty}" text-anchor="end" fill="#333">{label}</text><rect x="{label_w}" y="{ry}" width="{w:.1}" height="{h}" fill="#1677ff" rx="2"/><text x="{vx:.1}" y="{ty}" fill="#333">{shown}</text>"##,
            lx = label_w - 6.0,
            ty = y + 16.0,
            label = esc(&label),
            ry = y + 5.0,
            h = row - 8.0,
            vx = label_w + w + 4.0,
            shown = esc(&bar.shown),
        );
    }
    if let Some((value, name)) = mark {
        let x = label_w + value as f64 / max * span;
        let _ = write!(
            out,
            r##"<line x1="{x:.1}" y1="{y1}" x2="{x:.1}" y2="{y2}" stroke="#fa541c" stroke-dasharray="4 3"/><text x="{x:.1}" y="12" text-anchor="middle" fill="#fa541c">{n}</text>"##,
            y1 = top,
            y2 = height - 2.0,
            n = esc(name)
        );
    }
    out.push_str("</svg>");
    out
}

/// Lines over days (a step for each day's count), with month ticks, a legend and an
/// optional horizontal `level` (a target).
pub fn lines(title: &str, series: &[Series], level: Option<(u64, &str)>) -> String {
    let (left, right, top, bottom) = (44.0, 8.0, 24.0, 22.0);
    let height = 220.0;
    let days: Vec<NaiveDate> = series.iter().flat_map(|s| s.points.iter().map(|p| p.0)).collect();
    let mut out = String::new();
    open(&mut out, height, title);
    let (Some(first), Some(last)) = (days.iter().min().copied(), days.iter().max().copied()) else {
        let _ = write!(
            out,
            r##"<text x="{}" y="110" text-anchor="middle" fill="#888">暂无承保记录</text></svg>"##,
            WIDTH / 2.0
        );
        return out;
    };
    let first = first.pred_opt().unwrap_or(first);
    let span_days = (last - first).num_days().max(1) as f64;
    let max = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .chain(level.map(|l| l.0))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let (w, h) = (WIDTH - left - right, height - top - bottom);
    let x = |d: NaiveDate| left + (d - first).num_days() as f64 / span_days * w;
    let y = |v: u64| top + h - v as f64 / max * h;
    // Axes, the top value, month ticks.
    let _ = write!(
        out,
        r##"<line x1="{left}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><line x1="{left}" y1="{top}" x2="{left}" y2="{b}" stroke="#999"/><text x="{tx}" y="{ty}" text-anchor="end" fill="#666">{max}</text><text x="{tx}" y="{b}" text-anchor="end" fill="#666">0</text>"##,
        b = top + h,
        r = left + w,
        tx = left - 4.0,
        ty = top + 4.0,
        max = max as u64,
    );
    let mut month = NaiveDate::from_ymd_opt(first.year(), first.month(), 1).unwrap_or(first);
    let mut ticks = 0;
    while month <= last && ticks < 24 {
        let _ = write!(
            out,
            r##"<text x="{:.1}" y="{}" text-anchor="middle" fill="#666">{}月</text>"##,
            x(month.max(first)),
            height - 6.0,
            month.month()
        );
        let Some(next) = month.checked_add_months(chrono::Months::new(1)) else { break };
        month = next;
        ticks += 1;
    }
    if let Some((value, name)) = level {
        let _ = write!(
            out,
            r##"<line x1="{left}" y1="{yv:.1}" x2="{r}" y2="{yv:.1}" stroke="#fa541c" stroke-dasharray="4 3"/><text x="{r}" y="{ty:.1}" text-anchor="end" fill="#fa541c">{n}</text>"##,
            yv = y(value),
            r = left + w,
            ty = y(value) - 3.0,
            n = esc(name)
        );
    }
    for (i, s) in series.iter().enumerate() {
        let mut path = format!("{left},{:.1}", y(0));
        let mut cumulative_y = y(0);
        for (day, value) in &s.points {
            let _ = write!(path, " {:.1},{cumulative_y:.1} {:.1},{:.1}", x(*day), x(*day), y(*value));
            cumulative_y = y(*value);
        }
        let _ = write!(path, " {:.1},{cumulative_y:.1}", left + w);
        let dash = if s.dashed { r#" stroke-dasharray="5 3""# } else { "" };
        let _ = write!(
            out,
            r##"<polyline points="{path}" fill="none" stroke="{c}" stroke-width="2"{dash}/><rect x="{lx}" y="6" width="10" height="10" fill="{c}"/><text x="{tx}" y="15" fill="#333">{n}</text>"##,
            c = s.color,
            lx = left + i as f64 * 110.0,
            tx = left + 14.0 + i as f64 * 110.0,
            n = esc(&s.name)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_carry_their_labels_escaped_and_their_numbers() {
        let svg = bars(
            "各县<参保>",
            &[
                Bar { label: "吉州区".into(), value: 10, shown: "10户".into() },
                Bar { label: "青原区".into(), value: 0, shown: "0户".into() },
            ],
            Some((12, "目标")),
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("各县&lt;参保&gt;") && !svg.contains("<参保>"));
        assert!(svg.contains(">吉州区<") && svg.contains(">10户<") && svg.contains(">目标<"));
        assert!(svg.contains(r#"width="0.0""#), "an empty bar has no length");
    }

    #[test]
    fn a_line_chart_has_a_line_per_series_and_says_when_it_is_empty() {
        let d = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        let svg = lines(
            "参保进度",
            &[Series {
                name: "2026年".into(),
                color: "#1677ff",
                points: vec![(d(8, 10), 5), (d(9, 1), 9)],
                dashed: false,
            }],
            Some((10, "目标10户")),
        );
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains(">8月<") && svg.contains(">9月<") && svg.contains(">目标10户<"));
        assert!(lines("空", &[], None).contains("暂无承保记录"));
    }
}
