//! Comparison reports: `results.json`, a markdown table and the per-decoder loss-curve figure
//! (SVG, in the spirit of the paper's figure: GIM's and LoCo's decoders against SimCLR's loss).

use serde::{Deserialize, Serialize};

use crate::eval::StageAccuracy;
use crate::train::StepReport;

/// One method's run in a comparison.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MethodResult {
    pub method: String,
    pub units: Vec<String>,
    pub steps: usize,
    pub seconds: f64,
    pub final_losses: Vec<f32>,
    pub accuracy: Vec<StageAccuracy>,
    /// Per step: the loss of every unit.
    pub curve: Vec<Vec<f32>>,
}

impl MethodResult {
    pub fn new(method: String, reports: &[StepReport], seconds: f64, accuracy: Vec<StageAccuracy>) -> Self {
        Self {
            method,
            units: reports.last().map(|r| r.units.clone()).unwrap_or_default(),
            steps: reports.len(),
            seconds,
            final_losses: reports.last().map(|r| r.losses.clone()).unwrap_or_default(),
            accuracy,
            curve: reports.iter().map(|r| r.losses.clone()).collect(),
        }
    }
}

/// Markdown table: method, steps, wall time, kNN and linear top-1 of the last stage.
pub fn markdown_table(results: &[MethodResult]) -> String {
    let mut s = String::from("| method | steps | wall time (s) | final losses (bottom -> top) | kNN top-1 (%) | linear top-1 (%) |\n|---|---|---|---|---|---|\n");
    for r in results {
        let last = r.accuracy.last();
        let losses: Vec<String> = r.final_losses.iter().map(|l| format!("{l:.3}")).collect();
        s += &format!(
            "| {} | {} | {:.0} | {} | {} | {} |\n",
            r.method,
            r.steps,
            r.seconds,
            losses.join(", "),
            last.map_or("-".into(), |a| format!("{:.1}", a.knn)),
            last.and_then(|a| a.linear).map_or("-".into(), |v| format!("{v:.1}")),
        );
    }
    s
}

/// Moving average over `w` points, so curves of noisy per-step losses stay readable.
fn smooth(v: &[f32], w: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(v.len());
    let mut sum = 0.0;
    for i in 0..v.len() {
        sum += v[i];
        if i >= w {
            sum -= v[i - w];
        }
        out.push(sum / (i + 1).min(w) as f32);
    }
    out
}

/// The loss-curve figure: one panel per local method, each decoder's loss (blue shades) with
/// SimCLR's single loss (black) on the same axes.
pub fn loss_curves_svg(results: &[MethodResult]) -> String {
    let simclr = results.iter().find(|r| r.method == "simclr");
    let local: Vec<&MethodResult> = results.iter().filter(|r| r.method != "simclr").collect();
    let panels: Vec<&MethodResult> = if local.is_empty() { results.iter().collect() } else { local };
    let (pw, ph, m) = (460.0, 300.0, 50.0);
    let width = pw * panels.len() as f64;
    let all: Vec<f32> = results.iter().flat_map(|r| r.curve.iter().flatten().copied()).filter(|v| v.is_finite()).collect();
    let (lo, hi) = all.iter().fold((f32::MAX, f32::MIN), |(a, b), &v| (a.min(v), b.max(v)));
    let (lo, hi) = if lo < hi { (lo as f64, hi as f64) } else { (0.0, 1.0) };
    let mut s = format!(
        "<svg xmlns='http://www.w3.org/2000/svg' width='{width}' height='{ph}' font-family='sans-serif' font-size='11'>\n<rect width='100%' height='100%' fill='white'/>\n"
    );
    for (p, r) in panels.iter().enumerate() {
        let x0 = p as f64 * pw;
        let steps = r.curve.len().max(simclr.map_or(0, |s| s.curve.len())).max(2);
        let px = |i: usize| x0 + m + (pw - 1.5 * m) * i as f64 / (steps - 1) as f64;
        let py = |v: f32| m / 2.0 + (ph - 1.5 * m) * (1.0 - (v as f64 - lo) / (hi - lo));
        s += &format!("<text x='{}' y='14' font-weight='bold'>{} vs SimCLR</text>\n", x0 + m, r.method);
        s += &format!(
            "<line x1='{0}' y1='{1}' x2='{0}' y2='{2}' stroke='#444'/><line x1='{0}' y1='{2}' x2='{3}' y2='{2}' stroke='#444'/>\n",
            x0 + m,
            m / 2.0,
            ph - m,
            x0 + pw - m / 2.0
        );
        s += &format!("<text x='{}' y='{}'>{hi:.2}</text><text x='{}' y='{}'>{lo:.2}</text>\n", x0 + 4.0, m / 2.0 + 4.0, x0 + 4.0, ph - m);
        s += &format!("<text x='{}' y='{}'>training step</text>\n", x0 + pw / 2.0 - 30.0, ph - m / 2.0 + 8.0);
        let w = (steps / 20).max(1);
        s += &format!("<text x='{}' y='{}'>0</text><text x='{}' y='{}' text-anchor='end'>{}</text>\n", x0 + m, ph - m + 14.0, px(steps - 1), ph - m + 14.0, steps);
        let mut line = |vals: Vec<f32>, color: String, label: String, k: usize, dash: &str| {
            let pts: Vec<String> = smooth(&vals, w).iter().enumerate().map(|(i, v)| format!("{:.1},{:.1}", px(i), py(*v))).collect();
            let width = if dash.is_empty() { 1.6 } else { 2.4 };
            s += &format!("<polyline fill='none' stroke='{color}' stroke-width='{width}' stroke-dasharray='{dash}' points='{}'/>\n", pts.join(" "));
            let ly = m / 2.0 + 14.0 * k as f64 + 6.0;
            s += &format!(
                "<line x1='{0}' y1='{1}' x2='{2}' y2='{1}' stroke='{color}' stroke-width='2.4' stroke-dasharray='{dash}'/><text x='{3}' y='{4}'>{label}</text>\n",
                x0 + pw - 150.0,
                ly,
                x0 + pw - 135.0,
                x0 + pw - 130.0,
                ly + 4.0
            );
        };
        let n = r.units.len();
        for u in 0..n {
            // Blue (lowest unit) to yellow-green (top unit), as on the page.
            let hue = 210.0 - 150.0 * u as f64 / (n.max(2) - 1) as f64;
            line(r.curve.iter().map(|l| l[u]).collect(), format!("hsl({hue:.0},70%,42%)"), r.units[u].clone(), u, "");
        }
        if let Some(sc) = simclr.filter(|sc| sc.method != r.method) {
            line(sc.curve.iter().map(|l| l[0]).collect(), "black".into(), "SimCLR".into(), n, "6 3");
        }
    }
    s + "</svg>\n"
}
