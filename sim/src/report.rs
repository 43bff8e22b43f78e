//! The outputs: CSV summaries and time series, hand-written SVG plots, terminal tables.
//!
//! Every number is printed with a fixed number of decimals, so the same seed gives the same
//! bytes.

use std::fmt::Write as _;

use crate::engine::{Run, Scenario, Summary, ratio};
use crate::model::to_secs;

/// The columns of a summary CSV.
pub const SUMMARY_HEADER: &str = "scenario,strategy,calls,succeeded,success_rate,rejected,timed_out,attempts,retries,hedges,amplification,peak_load_per_s,peak_factor,p50_ms,p90_ms,p99_ms,p999_ms,trips,false_trips,detect_s,recover_s,completion_s";

fn opt(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_owned(), |x| format!("{x:.3}"))
}

/// One summary CSV row.
#[must_use]
pub fn summary_row(scenario: &str, strategy: &str, s: &Summary) -> String {
    let ms = |x: f64| format!("{:.3}", x * 1e3);
    format!(
        "{scenario},{strategy},{},{},{:.4},{},{},{},{},{},{:.3},{:.1},{:.3},{},{},{},{},{},{},{},{},{:.3}",
        s.calls,
        s.succeeded,
        s.success_rate(),
        s.rejected,
        s.timed_out,
        s.attempts,
        s.retries,
        s.hedges,
        s.amplification(),
        s.peak_load,
        s.peak_factor,
        ms(s.latency[0]),
        ms(s.latency[1]),
        ms(s.latency[2]),
        ms(s.latency[3]),
        s.trips,
        s.false_trips,
        opt(s.detect),
        opt(s.recover),
        s.completion,
    )
}

/// The summary CSV of one scenario: the header and a row per strategy.
#[must_use]
pub fn summary_csv(scenario: &Scenario, runs: &[Run]) -> String {
    let mut out = String::from(SUMMARY_HEADER);
    out.push('\n');
    for r in runs {
        out.push_str(&summary_row(&scenario.name, &r.strategy, &r.summary));
        out.push('\n');
    }
    out
}

/// The time series CSV: per bucket and strategy, load per second (first attempts, retries,
/// hedges), calls ended, breaker state, and the dependency's intended error rate.
#[must_use]
pub fn series_csv(scenario: &Scenario, runs: &[Run]) -> String {
    let mut out = String::from(
        "t_s,strategy,load_per_s,first,retries,hedges,succeeded,failed,breaker_state,error_rate\n",
    );
    let per_second = 1.0 / to_secs(scenario.bucket);
    for r in runs {
        for (i, b) in r.buckets.iter().enumerate() {
            let t = to_secs(scenario.bucket) * f64::from(u32::try_from(i).unwrap_or(u32::MAX));
            let _ = writeln!(
                out,
                "{t:.3},{},{:.1},{},{},{},{},{},{},{:.4}",
                r.strategy,
                ratio(b.load(), 1) * per_second,
                b.first,
                b.retries,
                b.hedges,
                b.succeeded,
                b.failed,
                b.breaker,
                scenario.dependency.error_rate_at(t),
            );
        }
    }
    out
}

/// The breaker state changes of every strategy with a breaker: time, strategy, new state.
#[must_use]
pub fn transitions_csv(runs: &[Run]) -> String {
    let mut out = String::from("t_s,strategy,state\n");
    for r in runs {
        for &(t, s) in &r.transitions {
            let state = match s {
                1 => "open",
                2 => "half-open",
                _ => "closed",
            };
            let _ = writeln!(out, "{:.6},{},{state}", to_secs(t), r.strategy);
        }
    }
    out
}

/// Colours of the series, in order.
const PALETTE: [&str; 6] = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];
const W: f64 = 800.0;
const H: f64 = 320.0;
const LEFT: f64 = 60.0;
const RIGHT: f64 = 170.0;
const TOP: f64 = 30.0;
const BOTTOM: f64 = 40.0;

/// The smallest of 1, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) at or above `x`, so that fifths of it
/// are round tick labels.
fn nice_ceiling(x: f64) -> f64 {
    let p = 10f64.powf(x.max(1e-9).log10().floor());
    [1.0, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|&v| v >= x)
        .unwrap_or(10.0 * p)
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

fn open_svg(out: &mut String, height: f64, title: &str) {
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{height}" viewBox="0 0 {W} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(out, r##"<rect width="{W}" height="{height}" fill="#ffffff"/>"##);
    let _ = writeln!(out, r#"<text x="{LEFT}" y="18" font-size="14">{}</text>"#, esc(title));
}

/// Axes with `ticks` labels on each; `fx`/`fy` format a tick value.
#[allow(clippy::too_many_arguments, reason = "a plot frame has this many parts")]
fn axes(
    out: &mut String,
    (x0, x1): (f64, f64),
    (y0, y1): (f64, f64),
    xlabel: &str,
    ylabel: &str,
    fx: &dyn Fn(f64) -> String,
    fy: &dyn Fn(f64) -> String,
) {
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="none" stroke="#888"/>"##
    );
    for i in 0..=5 {
        let f = f64::from(i) / 5.0;
        let x = LEFT + f * pw;
        let y = TOP + ph - f * ph;
        let _ = writeln!(
            out,
            r#"<text x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            TOP + ph + 16.0,
            fx(x0 + f * (x1 - x0))
        );
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 6.0,
            y + 4.0,
            fy(y0 + f * (y1 - y0))
        );
        let _ = writeln!(
            out,
            r##"<line x1="{LEFT}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="#eee"/>"##,
            LEFT + pw
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 6.0,
        esc(xlabel)
    );
    let _ = writeln!(
        out,
        r#"<text x="14" y="{:.1}" transform="rotate(-90 14 {:.1})" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        esc(ylabel)
    );
}

fn legend(out: &mut String, i: usize, name: &str, colour: &str) {
    let y = TOP + 10.0 + 18.0 * f64::from(u32::try_from(i).unwrap_or(0));
    let x = W - RIGHT + 12.0;
    let _ = writeln!(
        out,
        r#"<line x1="{x}" x2="{:.1}" y1="{y:.1}" y2="{y:.1}" stroke="{colour}" stroke-width="3"/><text x="{:.1}" y="{:.1}">{}</text>"#,
        x + 18.0,
        x + 24.0,
        y + 4.0,
        esc(name)
    );
}

fn polyline(out: &mut String, points: &[(f64, f64)], colour: &str, extra: &str) {
    let mut p = String::new();
    for (x, y) in points {
        let _ = write!(p, "{x:.1},{y:.1} ");
    }
    let _ = writeln!(
        out,
        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="1.5" {extra}/>"#,
        p.trim_end()
    );
}

/// Load on the dependency over time, one line per strategy, with the intended error rate as a
/// shaded background.
#[must_use]
pub fn load_svg(scenario: &Scenario, runs: &[Run]) -> String {
    let mut out = String::new();
    open_svg(&mut out, H, &format!("{}: load on the dependency (attempts/s)", scenario.name));
    let end = to_secs(scenario.workload.duration);
    let per_second = 1.0 / to_secs(scenario.bucket);
    let dep = &scenario.dependency;
    // A capacity that phases change (an outage of replicas, a warm-up) is drawn, and scaled in.
    let capacity: Option<Vec<(f64, f64)>> =
        dep.phases.iter().any(|p| p.capacity.is_some()).then(|| {
            (0..=400)
                .filter_map(|i| {
                    let t = end * f64::from(i) / 400.0;
                    dep.capacity_at(t).map(|c| (t, c))
                })
                .collect()
        });
    let top = capacity.iter().flatten().map(|&(_, c)| c).fold(0.0, f64::max);
    let busiest = runs.iter().map(|r| r.summary.peak_load).fold(1.0, f64::max);
    let peak = nice_ceiling(busiest.max(top) * 1.05);
    axes(
        &mut out,
        (0.0, end),
        (0.0, peak),
        "time (s)",
        "attempts/s",
        &|v| format!("{v:.0}"),
        &|v| format!("{v:.0}"),
    );
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |t: f64| LEFT + t / end * pw;
    let sy = |v: f64| TOP + ph - v / peak * ph;
    // The intended error rate, 0..1 over the plot's height.
    let mut err = vec![(sx(0.0), TOP + ph)];
    for i in 0..=400 {
        let t = end * f64::from(i) / 400.0;
        err.push((sx(t), TOP + ph - scenario.dependency.error_rate_at(t) * ph));
    }
    err.push((sx(end), TOP + ph));
    let mut p = String::new();
    for (x, y) in &err {
        let _ = write!(p, "{x:.1},{y:.1} ");
    }
    let _ = writeln!(out, r##"<polygon points="{}" fill="#f4cccc" stroke="none"/>"##, p.trim_end());
    if let Some(cap) = &capacity {
        let pts: Vec<(f64, f64)> = cap.iter().map(|&(t, c)| (sx(t), sy(c))).collect();
        polyline(&mut out, &pts, "#555555", r#"stroke-dasharray="5,4""#);
    }
    for (i, r) in runs.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let pts: Vec<(f64, f64)> = r
            .buckets
            .iter()
            .enumerate()
            .map(|(k, b)| {
                let t = to_secs(scenario.bucket) * (f64::from(u32::try_from(k).unwrap_or(0)) + 0.5);
                (sx(t.min(end)), sy(ratio(b.load(), 1) * per_second))
            })
            .collect();
        polyline(&mut out, &pts, colour, "");
        legend(&mut out, i, &r.strategy, colour);
    }
    legend(&mut out, runs.len(), "error rate (0–100 %)", "#f4cccc");
    if capacity.is_some() {
        legend(&mut out, runs.len() + 1, "capacity", "#555555");
    }
    out.push_str("</svg>\n");
    out
}

/// The breaker state of each strategy with a breaker as a band (closed green, open red,
/// half-open amber) under the dependency's intended error rate.
#[must_use]
pub fn breaker_svg(scenario: &Scenario, runs: &[Run]) -> Option<String> {
    let with: Vec<&Run> = runs.iter().filter(|r| !r.transitions.is_empty()).collect();
    if with.is_empty() {
        return None;
    }
    let band = 22.0;
    let curve = 120.0;
    let height = TOP + curve + 20.0 + band * 1.5 * ratio(with.len() as u64, 1) + BOTTOM;
    let mut out = String::new();
    open_svg(
        &mut out,
        height,
        &format!("{}: breaker state over the failure timeline", scenario.name),
    );
    let end = to_secs(scenario.workload.duration);
    let pw = W - LEFT - RIGHT;
    let sx = |t: f64| LEFT + t.clamp(0.0, end) / end * pw;
    let pts: Vec<(f64, f64)> = (0..=400)
        .map(|i| {
            let t = end * f64::from(i) / 400.0;
            (sx(t), TOP + curve - scenario.dependency.error_rate_at(t) * curve)
        })
        .collect();
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{curve}" fill="none" stroke="#888"/>"##
    );
    polyline(&mut out, &pts, "#d62728", "");
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}">error rate (0–100 %)</text>"#,
        W - RIGHT + 8.0,
        TOP + 12.0
    );
    for (i, r) in with.iter().enumerate() {
        let y = TOP + curve + 20.0 + band * 1.5 * ratio(i as u64, 1);
        let mut state = 0u8;
        let mut since = 0.0;
        let mut segs = Vec::new();
        for &(t, s) in &r.transitions {
            segs.push((since, to_secs(t), state));
            since = to_secs(t);
            state = s;
        }
        segs.push((since, end, state));
        for (a, b, s) in segs {
            let colour = match s {
                1 => "#d62728",
                2 => "#ffbf00",
                _ => "#2ca02c",
            };
            let _ = writeln!(
                out,
                r#"<rect x="{:.2}" y="{y:.1}" width="{:.2}" height="{band}" fill="{colour}"/>"#,
                sx(a),
                (sx(b) - sx(a)).max(0.3)
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            W - RIGHT + 8.0,
            y + 15.0,
            esc(&r.strategy)
        );
    }
    for i in 0..=5 {
        let t = end * f64::from(i) / 5.0;
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{t:.0} s</text>"#,
            sx(t),
            height - BOTTOM + 16.0
        );
    }
    let _ = writeln!(
        out,
        r#"<text x="{LEFT}" y="{:.1}">green closed · red open · amber half-open</text>"#,
        height - 8.0
    );
    out.push_str("</svg>\n");
    Some(out)
}

/// Lines over time: one per named series of `(seconds, value)` points, on `y` from `y0` to `y1`,
/// with the span `shade` (seconds) shaded behind them.
#[must_use]
pub fn lines_svg(
    title: &str,
    ylabel: &str,
    end: f64,
    (y0, y1): (f64, f64),
    series: &[(String, Vec<(f64, f64)>)],
    shade: Option<(f64, f64)>,
) -> String {
    let mut out = String::new();
    open_svg(&mut out, H, title);
    let frac = y1 <= 1.0;
    axes(&mut out, (0.0, end), (y0, y1), "time (s)", ylabel, &|v| format!("{v:.0}"), &|v| {
        if frac { format!("{v:.1}") } else { format!("{v:.0}") }
    });
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    let sx = |t: f64| LEFT + t.clamp(0.0, end) / end * pw;
    let sy = |v: f64| TOP + ph - (v.clamp(y0, y1) - y0) / (y1 - y0) * ph;
    if let Some((a, b)) = shade {
        let _ = writeln!(
            out,
            r##"<rect x="{:.1}" y="{TOP}" width="{:.1}" height="{ph}" fill="#f4cccc"/>"##,
            sx(a),
            sx(b) - sx(a)
        );
    }
    for (i, (name, pts)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let scaled: Vec<(f64, f64)> = pts.iter().map(|&(t, v)| (sx(t), sy(v))).collect();
        polyline(&mut out, &scaled, colour, "");
        legend(&mut out, i, name, colour);
    }
    if shade.is_some() {
        legend(&mut out, series.len(), "outage", "#f4cccc");
    }
    out.push_str("</svg>\n");
    out
}

/// Latency CDFs (log-scaled latency axis), one per named series of sorted nanoseconds.
#[must_use]
pub fn cdf_svg(title: &str, series: &[(&str, &[u64])]) -> String {
    let mut out = String::new();
    open_svg(&mut out, H, title);
    let lo = series.iter().filter_map(|(_, v)| v.first()).copied().min().unwrap_or(1).max(1);
    let hi = series.iter().filter_map(|(_, v)| v.last()).copied().max().unwrap_or(2).max(lo + 1);
    let (l0, l1) = (ratio(lo, 1).log10(), ratio(hi, 1).log10());
    axes(
        &mut out,
        (l0, l1),
        (0.0, 1.0),
        "caller latency (ms, log scale)",
        "fraction of calls",
        &|v| {
            let ms = 10f64.powf(v) / 1e6;
            if ms < 10.0 { format!("{ms:.1}") } else { format!("{ms:.0}") }
        },
        &|v| format!("{v:.1}"),
    );
    let (pw, ph) = (W - LEFT - RIGHT, H - TOP - BOTTOM);
    for (i, (name, v)) in series.iter().enumerate() {
        let colour = PALETTE[i % PALETTE.len()];
        let n = v.len().max(1);
        // At most 400 points per curve: every k-th sample and the last.
        let k = n.div_ceil(400).max(1);
        let pts: Vec<(f64, f64)> = v
            .iter()
            .enumerate()
            .filter(|(j, _)| j % k == 0 || *j + 1 == n)
            .map(|(j, &x)| {
                let fx = (ratio(x.max(1), 1).log10() - l0) / (l1 - l0);
                let fy = ratio(j as u64 + 1, n as u64);
                (LEFT + fx * pw, TOP + ph - fy * ph)
            })
            .collect();
        polyline(&mut out, &pts, colour, "");
        legend(&mut out, i, name, colour);
    }
    out.push_str("</svg>\n");
    out
}

/// A plain-text table with right-aligned columns.
#[must_use]
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    let line = |out: &mut String, cells: &mut dyn Iterator<Item = &str>| {
        let mut first = true;
        for (c, w) in cells.zip(&widths) {
            if first {
                let _ = write!(out, "{c:<w$}");
                first = false;
            } else {
                let _ = write!(out, "  {c:>w$}");
            }
        }
        out.push('\n');
    };
    line(&mut out, &mut header.iter().copied());
    for r in rows {
        line(&mut out, &mut r.iter().map(String::as_str));
    }
    out
}

/// The terminal table of one scenario's runs.
#[must_use]
pub fn scenario_table(runs: &[Run]) -> String {
    let rows: Vec<Vec<String>> = runs
        .iter()
        .map(|r| {
            let s = &r.summary;
            vec![
                r.strategy.clone(),
                s.calls.to_string(),
                format!("{:.1}%", s.success_rate() * 100.0),
                format!("{:.2}", s.amplification()),
                format!("{:.0}", s.peak_load),
                format!("{:.1}×", s.peak_factor),
                format!("{:.1}", s.latency[0] * 1e3),
                format!("{:.1}", s.latency[2] * 1e3),
                format!("{:.1}", s.latency[3] * 1e3),
                s.trips.to_string(),
                s.false_trips.to_string(),
                opt(s.detect),
                opt(s.recover),
            ]
        })
        .collect();
    table(
        &[
            "strategy",
            "calls",
            "success",
            "attempts/call",
            "peak/s",
            "peak ÷ offered",
            "p50 ms",
            "p99 ms",
            "p99.9 ms",
            "trips",
            "false",
            "detect s",
            "recover s",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ceilings() {
        assert!((nice_ceiling(2_950.0) - 3_000.0).abs() < 1e-9);
        assert!((nice_ceiling(180.0) - 200.0).abs() < 1e-9);
        assert!((nice_ceiling(200.0) - 200.0).abs() < 1e-9);
        assert!((nice_ceiling(0.7) - 0.8).abs() < 1e-9);
    }

    #[test]
    fn table_aligns_columns() {
        let t = table(&["a", "bb"], &[vec!["xyz".into(), "1".into()]]);
        assert_eq!(t, "a    bb\nxyz   1\n");
    }

    #[test]
    fn cdf_is_well_formed_svg() {
        let v = [1_000_000u64, 2_000_000, 50_000_000];
        let s = cdf_svg("t <1>", &[("a", &v)]);
        assert!(s.starts_with("<svg") && s.ends_with("</svg>\n"));
        assert!(s.contains("t &lt;1&gt;"));
        assert_eq!(s.matches("<polyline").count(), 1);
    }
}
