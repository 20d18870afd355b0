//! Charts drawn on the server as SVG: bars per month (grouped series) and horizontal bars for a
//! ranking. Axis labels are in the currency; every bar has a `<title>` with its exact amount, so a
//! browser shows it on hover. No JavaScript, no fonts: text is SVG `<text>` in the page's font.
//!
//! A small writer rather than a crate: plotters' SVG backend needs a font crate to lay out text
//! and cannot attach `<title>`s to bars; these two chart shapes need ~150 lines.
//! Pixel geometry uses `f64`; every figure printed comes from exact values.

use std::fmt::Write as _;

use be_domain::{Currency, Exact};

/// One series of a bar chart (its CSS class sets the colour).
pub(crate) struct Series {
    pub name: &'static str,
    pub class: &'static str,
    pub values: Vec<Exact>,
}

/// XML text escaping for labels and titles.
fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Pixels only: an exact amount as a float, for geometry.
fn px(v: Exact) -> f64 {
    v.scaled() as f64 / 1e24
}

/// A "nice" axis step (1, 2 or 5 times a power of ten) giving about four ticks up to `max`.
fn nice_step(max: f64) -> f64 {
    if max <= 0.0 {
        return 1.0;
    }
    let raw = max / 4.0;
    let pow = 10f64.powf(raw.log10().floor());
    let m = raw / pow;
    let f = if m <= 1.0 {
        1.0
    } else if m <= 2.0 {
        2.0
    } else if m <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * pow
}

/// A tick's label in the currency (`USD 1,500`), without decimals when the step is whole.
fn tick_label(value: f64, step: f64, currency: Option<Currency>) -> String {
    let places = if step >= 1.0 { 0 } else { 2 };
    let text = format!("{value:.places$}");
    let exact = Exact::parse(&text).unwrap_or_default();
    let shown = exact.display_in(currency);
    if places == 0 {
        // display_in shows the currency's minor units; whole ticks read better without them.
        shown
            .strip_suffix(".00")
            .map(str::to_string)
            .unwrap_or(shown)
    } else {
        shown
    }
}

/// Bars per category (months), one bar per series side by side, with a value axis in `currency`.
pub(crate) fn bars(
    id: &str,
    caption: &str,
    categories: &[String],
    series: &[Series],
    currency: Option<Currency>,
) -> String {
    let (w, h) = (760.0, 260.0);
    let (left, right, top, bottom) = (92.0, 12.0, 14.0, 44.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let all = series.iter().flat_map(|s| s.values.iter().copied());
    let max = all.clone().map(px).fold(0.0, f64::max);
    let min = all.map(px).fold(0.0, f64::min);
    let step = nice_step((max - min).max(max));
    let top_v = (max / step).ceil().max(1.0) * step;
    let bottom_v = (min / step).floor().min(0.0) * step;
    let y = |v: f64| top + plot_h * (top_v - v) / (top_v - bottom_v);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-caption" xmlns="http://www.w3.org/2000/svg"><title id="{id}-caption">{}</title>"#,
        esc(caption)
    );
    let mut t = bottom_v;
    while t <= top_v + step / 2.0 {
        let yy = y(t);
        let _ = write!(
            s,
            r#"<line class="grid" x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}"/><text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
            w - right,
            left - 8.0,
            yy + 4.0,
            esc(&tick_label(t, step, currency))
        );
        t += step;
    }
    let n = categories.len().max(1) as f64;
    let band = plot_w / n;
    let bar_w = (band * 0.7 / series.len().max(1) as f64).min(28.0);
    let group_w = bar_w * series.len() as f64;
    for (i, cat) in categories.iter().enumerate() {
        let x0 = left + band * i as f64 + (band - group_w) / 2.0;
        for (j, ser) in series.iter().enumerate() {
            let v = ser.values.get(i).copied().unwrap_or_default();
            let (a, b) = (y(px(v).max(0.0)), y(px(v).min(0.0)));
            let _ = write!(
                s,
                r#"<rect class="bar {}" x="{:.1}" y="{a:.1}" width="{bar_w:.1}" height="{:.1}"><title>{} {}: {}</title></rect>"#,
                ser.class,
                x0 + bar_w * j as f64,
                (b - a).max(0.5),
                esc(cat),
                ser.name,
                esc(&v.display_in(currency)),
            );
        }
        let _ = write!(
            s,
            r#"<text class="axis" x="{:.1}" y="{}" text-anchor="middle">{}</text>"#,
            left + band * (i as f64 + 0.5),
            h - bottom + 18.0,
            esc(cat)
        );
    }
    let zero = y(0.0);
    let _ = write!(
        s,
        r#"<line class="baseline" x1="{left}" x2="{}" y1="{zero:.1}" y2="{zero:.1}"/>"#,
        w - right
    );
    let mut lx = left;
    for ser in series {
        let _ = write!(
            s,
            r#"<rect class="bar {}" x="{lx:.1}" y="{}" width="10" height="10"/><text class="legend" x="{:.1}" y="{}">{}</text>"#,
            ser.class,
            h - 14.0,
            lx + 14.0,
            h - 5.0,
            ser.name
        );
        lx += 18.0 + 7.5 * ser.name.len() as f64 + 16.0;
    }
    s.push_str("</svg>");
    s
}

/// Horizontal bars for a ranking (one currency): a label and a bar per row.
pub(crate) fn ranking(
    id: &str,
    caption: &str,
    rows: &[(String, Exact)],
    currency: Option<Currency>,
) -> String {
    let row_h = 26.0;
    let (w, label_w, amount_w) = (460.0, 140.0, 100.0);
    let h = row_h * rows.len().max(1) as f64 + 4.0;
    let max = rows.iter().map(|(_, v)| px(*v)).fold(0.0, f64::max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart ranking" id="{id}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="{id}-caption" xmlns="http://www.w3.org/2000/svg"><title id="{id}-caption">{}</title>"#,
        esc(caption)
    );
    for (i, (name, v)) in rows.iter().enumerate() {
        let y0 = 2.0 + row_h * i as f64;
        let len = if max > 0.0 {
            (px(*v).max(0.0) / max) * (w - label_w - amount_w - 8.0)
        } else {
            0.0
        };
        let short: String = name.chars().take(22).collect();
        let _ = write!(
            s,
            r#"<text class="axis" x="{}" y="{:.1}" text-anchor="end">{}</text><rect class="bar s1" x="{label_w}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}: {}</title></rect><text class="amount" x="{:.1}" y="{:.1}">{}</text>"#,
            label_w - 8.0,
            y0 + row_h / 2.0 + 4.0,
            esc(&short),
            y0 + 4.0,
            len.max(1.0),
            row_h - 8.0,
            esc(name),
            esc(&v.display_in(currency)),
            label_w + len.max(1.0) + 6.0,
            y0 + row_h / 2.0 + 4.0,
            esc(&v.display_in(None)),
        );
    }
    s.push_str("</svg>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(s: &str) -> Exact {
        Exact::parse(s).expect("exact")
    }

    #[test]
    fn bars_have_currency_axis_labels_and_exact_titles() {
        let usd = Currency::parse("USD").ok();
        let svg = bars(
            "trend",
            "Trend",
            &["2026-09".into(), "2026-10".into()],
            &[Series {
                name: "Billed",
                class: "s1",
                values: vec![ex("1234.5"), ex("-20")],
            }],
            usd,
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<title>2026-09 Billed: USD 1,234.50</title>"));
        assert!(svg.contains("<title>2026-10 Billed: USD -20.00</title>"));
        assert!(
            svg.contains(">USD 1,500<"),
            "a tick above the largest: {svg}"
        );
        assert!(svg.contains(">USD 0<"));
    }

    #[test]
    fn labels_are_escaped() {
        let svg = ranking("top", "Top <x>", &[("A&B".into(), ex("5"))], None);
        assert!(svg.contains("A&amp;B") && svg.contains("Top &lt;x&gt;"));
        assert!(!svg.contains("A&B"));
    }
}
