//! Charts drawn on the server as SVG: no script and nothing fetched, and they print. Each
//! is a bar chart with a label per bar and, optionally, a second series drawn as a line
//! over the bars; the numbers are in the SVG as text and as each bar's tooltip.

use maud::{html, Markup, PreEscaped};

/// The drawing's size in SVG units; the stylesheet scales it to the page.
const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 220.0;
/// Room for the axis labels.
const LEFT: f64 = 64.0;
const BOTTOM: f64 = 30.0;
const TOP: f64 = 12.0;

/// One chart: bars of `bars`, and `line` (same length) over them if given.
pub struct Chart<'a> {
    pub id: &'a str,
    /// What it shows, for screen readers and as the caption.
    pub title: &'a str,
    pub labels: &'a [String],
    pub bars: &'a [f64],
    pub line: Option<&'a [f64]>,
    /// How a value is written on the axis and in tooltips.
    pub format: fn(f64) -> String,
}

pub fn draw(chart: &Chart<'_>) -> Markup {
    let n = chart.bars.len().max(1) as f64;
    let top_value = chart
        .bars
        .iter()
        .chain(chart.line.unwrap_or_default())
        .copied()
        .fold(0.0_f64, f64::max);
    let scale_to = if top_value > 0.0 { top_value } else { 1.0 };
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let slot = plot_w / n;
    let y_of = |v: f64| TOP + plot_h - (v / scale_to) * plot_h;
    // Label every bar when they fit, else every fourth.
    let label_every = if n > 12.0 { 3 } else { 1 };
    let line_points: Option<String> = chart.line.map(|values| {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| format!("{:.1},{:.1}", LEFT + slot * (i as f64 + 0.5), y_of(*v)))
            .collect::<Vec<_>>()
            .join(" ")
    });
    html! {
        figure.panel {
            figcaption { (chart.title) }
            svg.chart id=(chart.id) viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img"
                aria-label=(chart.title) xmlns="http://www.w3.org/2000/svg" {
                title { (chart.title) }
                line.axis x1=(LEFT) y1=(TOP + plot_h) x2=(WIDTH - 8.0) y2=(TOP + plot_h) {}
                text x=(LEFT - 6.0) y=(TOP + 10.0) text-anchor="end" { ((chart.format)(top_value)) }
                text x=(LEFT - 6.0) y=(TOP + plot_h) text-anchor="end" { "0" }
                @for (i, value) in chart.bars.iter().enumerate() {
                    @let x = LEFT + slot * i as f64 + slot * 0.15;
                    @let y = y_of(*value);
                    rect.bar x=(format!("{x:.1}")) y=(format!("{y:.1}"))
                        width=(format!("{:.1}", slot * 0.7))
                        height=(format!("{:.1}", TOP + plot_h - y))
                        data-label=(chart.labels.get(i).map(String::as_str).unwrap_or_default())
                        data-value=(value) {
                        title { (chart.labels.get(i).map(String::as_str).unwrap_or_default())
                            ": " ((chart.format)(*value)) }
                    }
                    @if i % label_every == 0 {
                        text x=(format!("{:.1}", LEFT + slot * (i as f64 + 0.5))) y=(HEIGHT - 10.0)
                            text-anchor="middle" {
                            (chart.labels.get(i).map(String::as_str).unwrap_or_default())
                        }
                    }
                }
                @if let Some(points) = line_points {
                    (PreEscaped(format!(r#"<polyline class="line" points="{points}"/>"#)))
                }
            }
        }
    }
}

/// `0.97` → `97 %`.
pub fn percent(value: f64) -> String {
    format!("{:.0} %", value * 100.0)
}

pub fn count(value: f64) -> String {
    format!("{value:.0}")
}

/// Minor units as rand, without cents: an axis label.
pub fn rand(value: f64) -> String {
    format!("R{:.0}", value / 100.0)
}

pub fn millis(value: f64) -> String {
    format!("{value:.0} ms")
}

/// The `q`-quantile (0..=1) of `values` (sorted here), nearest rank; 0 for none.
pub fn quantile(values: &mut [f64], q: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((values.len() as f64) * q).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_are_nearest_rank() {
        let mut values = vec![5.0, 1.0, 3.0, 2.0, 4.0];
        assert_eq!(quantile(&mut values, 0.5), 3.0);
        assert_eq!(quantile(&mut values, 0.95), 5.0);
        assert_eq!(quantile(&mut [], 0.5), 0.0);
    }

    #[test]
    fn a_chart_has_one_bar_per_value_with_its_number() {
        let labels = vec!["a".to_owned(), "b".to_owned()];
        let svg = draw(&Chart {
            id: "c",
            title: "Test",
            labels: &labels,
            bars: &[1.0, 3.0],
            line: Some(&[2.0, 2.0]),
            format: count,
        })
        .into_string();
        assert_eq!(svg.matches("<rect class=\"bar\"").count(), 2, "{svg}");
        assert!(svg.contains("data-value=\"3\""), "{svg}");
        assert!(svg.contains("<polyline"), "{svg}");
    }
}
