//! An experiment's report: `results.json` (every seed, stage and monitor point), a markdown
//! table (mean ± standard deviation over seeds, the random-init row included) and the figures
//! (SVG, drawn with `plotters`): kNN top-1 against images seen for the last stage and per stage,
//! the final per-stage accuracy as grouped bars, each local method's per-unit loss against
//! SimCLR's, and the paired differences between methods (same seed) while training.

use crate::error::{Error, Result};
use crate::config::MethodKind;

pub use crate::results::{by_method, mean_std, ExperimentReport, Summary, SummaryRow};

impl ExperimentReport {
    /// Write `results.json`, `results.md` and the figures into `dir`.
    pub fn write(&self, dir: &std::path::Path) -> Result<Vec<std::path::PathBuf>> {
        let mut written = Vec::new();
        let mut put = |name: &str, text: String| -> Result<()> {
            let path = dir.join(name);
            crate::checkpoint::write_atomic(&path, text.as_bytes())?;
            written.push(path);
            Ok(())
        };
        put("results.json", serde_json::to_string_pretty(self).expect("report serialises"))?;
        let gaps = self.paired_curve();
        let commits: Vec<String> = std::iter::once(&self.spec).chain(&self.beside).filter_map(|s| s.commit.as_ref().map(|c| format!("`{c}`"))).collect();
        let mut started = String::new();
        if !self.beside.is_empty() {
            started += &format!(
                "\nOne report over {} experiments (`beside` in `results.json`): they train the same network, batch, schedule and seeds and differ only in their methods, so their runs pair seed for seed.\n",
                self.beside.len() + 1
            );
        }
        if !commits.is_empty() {
            started += &if commits.len() == 1 {
                format!("\nStarted by commit {} (`experiment.json`): build it to replay the runs batch for batch.\n", commits[0])
            } else {
                format!("\nStarted by commits {} (each experiment's `experiment.json`): build each to replay its runs batch for batch.\n", commits.join(", "))
            };
        }
        put("results.md", self.markdown() + &self.paired_markdown() + &self.paired_curve_markdown_of(&gaps) + &started)?;
        put("knn_curve.svg", figures::knn_curves(self, false)?)?;
        put("knn_per_stage.svg", figures::knn_curves(self, true)?)?;
        put("final_per_stage.svg", figures::final_bars(self)?)?;
        if !gaps.is_empty() {
            put("knn_gap_curve.svg", figures::gap_curves(self, &gaps)?)?;
        }
        if self.runs.iter().any(|r| !r.loss_curve.is_empty()) {
            put("loss_curves.svg", figures::loss_curves(self)?)?;
        }
        Ok(written)
    }
}

/// Colour of each method (grey: the random-init baseline), the page's ([`crate::method::MethodInfo`]).
fn colour(kind: Option<MethodKind>) -> plotters::style::RGBColor {
    let hex = crate::method::catalogue::title_colour(kind).1;
    let byte = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("catalogue colours are #rrggbb");
    plotters::style::RGBColor(byte(1), byte(3), byte(5))
}

/// Every method label's colour, in [`by_method`] order: the method's, and for a second run
/// label of the same method (a joined control: GIM with two-stage modules beside GIM) the same
/// hue lighter, so that the two stay apart in every figure.
fn colours(rep: &ExperimentReport) -> Vec<(String, plotters::style::RGBColor)> {
    let mut seen: Vec<Option<MethodKind>> = Vec::new();
    by_method(&rep.runs)
        .into_iter()
        .map(|(label, runs)| {
            let kind = runs[0].kind();
            let repeat = seen.iter().filter(|&&k| k == kind).count();
            seen.push(kind);
            let plotters::style::RGBColor(r, g, b) = colour(kind);
            let light = 1.0 - 0.55f64.powi(repeat as i32); // 0, 0.45, 0.70, ...
            let mix = |c: u8| (c as f64 + (255.0 - c as f64) * light).round() as u8;
            (label, plotters::style::RGBColor(mix(r), mix(g), mix(b)))
        })
        .collect()
}

/// The colour [`colours`] gives `label` (black for a label it does not know).
fn colour_of(colours: &[(String, plotters::style::RGBColor)], label: &str) -> plotters::style::RGBColor {
    colours.iter().find(|(l, _)| l == label).map_or(plotters::style::BLACK, |c| c.1)
}

fn draw_err(e: impl std::fmt::Debug) -> Error {
    Error::Config(format!("cannot draw the figure: {e:?}"))
}

mod figures {
    use plotters::coord::types::RangedCoordf64;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    use super::{by_method, colour_of, colours, draw_err, mean_std, ExperimentReport};
    use crate::error::Result;
    use crate::config::MethodKind;
    use crate::experiment::RunResult;
    use crate::results::PairCurve;

    type Chart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

    /// Axes with "images seen" on x (0 to `xmax`, in thousands) and `y_desc` on y.
    fn images_chart<'a, 'b>(
        area: &'a DrawingArea<SVGBackend<'b>, Shift>,
        title: &str,
        size: u32,
        xmax: f64,
        y: std::ops::Range<f64>,
        y_desc: &str,
    ) -> Result<Chart<'a, 'b>> {
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", size))
            .margin(8)
            .x_label_area_size(34)
            .y_label_area_size(44)
            .build_cartesian_2d(0f64..xmax, y)
            .map_err(draw_err)?;
        chart
            .configure_mesh()
            .x_desc("images seen")
            .y_desc(y_desc)
            .x_labels(5)
            .x_label_formatter(&|x| if *x >= 1000.0 { format!("{:.0}k", x / 1000.0) } else { format!("{x:.0}") })
            .light_line_style(WHITE.mix(0.0))
            .draw()
            .map_err(draw_err)?;
        Ok(chart)
    }

    /// The legend of `chart`'s labelled series, at `pos`.
    fn legend_at<'a, 'b: 'a>(chart: &mut Chart<'a, 'b>, pos: SeriesLabelPosition) -> Result<()> {
        chart
            .configure_series_labels()
            .position(pos)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(draw_err)
    }

    /// Mean and std over seeds at each monitor point (runs share their monitor steps).
    fn curve(runs: &[&RunResult], stage: usize) -> Vec<(f64, f64, f64)> {
        let n = runs.iter().map(|r| r.monitor.len()).min().unwrap_or(0);
        (0..n)
            .map(|i| {
                let v: Vec<f64> = runs.iter().filter_map(|r| r.monitor[i].knn.get(stage).copied()).collect();
                let (m, s) = mean_std(&v);
                (runs[0].monitor[i].images_seen as f64, m, s)
            })
            .collect()
    }

    fn panel(area: &DrawingArea<SVGBackend, Shift>, rep: &ExperimentReport, stage: usize, title: &str, legend: bool) -> Result<()> {
        let groups = by_method(&rep.runs);
        let xmax = rep.runs.iter().map(|r| r.images_seen).max().unwrap_or(1).max(1) as f64;
        let all: Vec<f64> = rep.runs.iter().flat_map(|r| r.monitor.iter().filter_map(|p| p.knn.get(stage).copied())).collect();
        let lo = all.iter().copied().fold(f64::MAX, f64::min).min(100.0);
        let hi = all.iter().copied().fold(f64::MIN, f64::max).max(0.0);
        let (lo, hi) = if lo < hi { ((lo - 2.0).max(0.0), (hi + 2.0).min(100.0)) } else { (0.0, 100.0) };
        let mut chart = images_chart(area, title, 16, xmax, lo..hi, "kNN top-1 (%)")?;
        let palette = colours(rep);
        for (method, runs) in &groups {
            let c = colour_of(&palette, method);
            if runs[0].kind().is_none() {
                let (m, _) = mean_std(&runs.iter().filter_map(|r| r.monitor.first().and_then(|p| p.knn.get(stage).copied())).collect::<Vec<_>>());
                let s = chart
                    .draw_series(DashedLineSeries::new(vec![(0.0, m), (xmax, m)], 6, 4, c.stroke_width(2)))
                    .map_err(draw_err)?;
                if legend {
                    s.label(method.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
                }
                continue;
            }
            let pts = curve(runs, stage);
            if runs.len() > 1 {
                let mut band: Vec<(f64, f64)> = pts.iter().map(|&(x, m, s)| (x, m + s)).collect();
                band.extend(pts.iter().rev().map(|&(x, m, s)| (x, m - s)));
                chart.draw_series(std::iter::once(Polygon::new(band, c.mix(0.18).filled()))).map_err(draw_err)?;
            }
            let s = chart.draw_series(LineSeries::new(pts.iter().map(|&(x, m, _)| (x, m)), c.stroke_width(2))).map_err(draw_err)?;
            if legend {
                s.label(method.as_str()).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
            }
        }
        if legend {
            legend_at(&mut chart, SeriesLabelPosition::LowerRight)?;
        }
        Ok(())
    }

    /// kNN top-1 against images seen (mean over seeds, band = ± one std), the last stage or
    /// one panel per stage; random-init as a dashed line.
    pub fn knn_curves(rep: &ExperimentReport, per_stage: bool) -> Result<String> {
        let stages = rep.stages();
        let mut svg = String::new();
        {
            if per_stage {
                let cols = 3;
                let rows = stages.len().div_ceil(cols).max(1);
                let root = SVGBackend::with_string(&mut svg, (1200, 330 * rows as u32)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                for (i, area) in root.split_evenly((rows, cols)).iter().enumerate().take(stages.len()) {
                    panel(area, rep, i, &format!("stage {}", stages[i]), i == stages.len() - 1)?;
                }
                root.present().map_err(draw_err)?;
            } else {
                let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
                root.fill(&WHITE).map_err(draw_err)?;
                let last = stages.len().saturating_sub(1);
                let title = format!("kNN top-1 of the last stage ({}) while training", stages.get(last).map_or("", |s| s.as_str()));
                panel(&root, rep, last, &title, true)?;
                root.present().map_err(draw_err)?;
            }
        }
        Ok(svg)
    }

    /// Final kNN top-1 per stage, one bar per method in each stage's group (± one std).
    pub fn final_bars(rep: &ExperimentReport) -> Result<String> {
        let stages = rep.stages();
        let groups = by_method(&rep.runs);
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (900, 440)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            let hi = rep.runs.iter().flat_map(|r| r.accuracy.iter().map(|a| a.knn)).fold(0.0, f64::max);
            let names = stages.clone();
            let mut chart = ChartBuilder::on(&root)
                .caption("final kNN top-1 per stage (mean ± std over seeds)", ("sans-serif", 16))
                .margin(8)
                .x_label_area_size(34)
                .y_label_area_size(44)
                .build_cartesian_2d(0f64..stages.len() as f64, 0f64..(hi + 5.0).min(100.0))
                .map_err(draw_err)?;
            chart
                .configure_mesh()
                .disable_x_mesh()
                .light_line_style(WHITE.mix(0.0))
                .x_labels(stages.len() * 2 + 1)
                .x_label_formatter(&|x| {
                    let f = x.fract();
                    if (f - 0.5).abs() < 1e-6 { names.get(x.floor() as usize).cloned().unwrap_or_default() } else { String::new() }
                })
                .x_desc("stage")
                .y_desc("kNN top-1 (%)")
                .draw()
                .map_err(draw_err)?;
            let k = groups.len().max(1) as f64;
            let width = 0.8 / k;
            let palette = colours(rep);
            for (g, (method, runs)) in groups.iter().enumerate() {
                let c = colour_of(&palette, method);
                let mut bars = Vec::new();
                let mut whiskers = Vec::new();
                for s in 0..stages.len() {
                    let (m, sd) = ExperimentReport::final_stat(runs, s, false);
                    let x0 = s as f64 + 0.1 + g as f64 * width;
                    bars.push(Rectangle::new([(x0, 0.0), (x0 + width * 0.9, m)], c.mix(if runs[0].kind().is_none() { 0.5 } else { 0.85 }).filled()));
                    let xm = x0 + width * 0.45;
                    whiskers.push(PathElement::new(vec![(xm, m - sd), (xm, m + sd)], BLACK.stroke_width(1)));
                }
                chart
                    .draw_series(bars)
                    .map_err(draw_err)?
                    .label(method.as_str())
                    .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 12, y + 5)], c.filled()));
                chart.draw_series(whiskers).map_err(draw_err)?;
            }
            legend_at(&mut chart, SeriesLabelPosition::UpperRight)?;
            root.present().map_err(draw_err)?;
        }
        Ok(svg)
    }

    /// One panel per local method: each unit's loss (seed-mean, per monitor interval), blue
    /// (lowest unit) to green (top), with SimCLR's loss dashed in black.
    pub fn loss_curves(rep: &ExperimentReport) -> Result<String> {
        let is_simclr = |runs: &[&RunResult]| runs[0].kind() == Some(MethodKind::Simclr);
        let groups: Vec<_> = by_method(&rep.runs).into_iter().filter(|(_, r)| r[0].kind().is_some()).collect();
        let simclr = groups.iter().find(|(_, r)| is_simclr(r)).map(|(_, r)| r.clone());
        let panels: Vec<_> = groups.iter().filter(|(_, r)| !is_simclr(r)).collect();
        let panels: Vec<_> = if panels.is_empty() { groups.iter().collect() } else { panels };
        let mean_curve = |runs: &[&RunResult], unit: usize| -> Vec<(f64, f64)> {
            let n = runs.iter().map(|r| r.loss_curve.len()).min().unwrap_or(0);
            let per_step = |r: &RunResult| r.images_seen as f64 / r.steps.max(1) as f64;
            (0..n)
                .map(|i| {
                    let v: Vec<f64> = runs.iter().filter_map(|r| r.loss_curve[i].1.get(unit).map(|&l| l as f64)).collect();
                    (runs[0].loss_curve[i].0 as f64 * per_step(runs[0]), mean_std(&v).0)
                })
                .collect()
        };
        let all: Vec<f64> =
            rep.runs.iter().flat_map(|r| r.loss_curve.iter().flat_map(|(_, l)| l.iter().map(|&x| x as f64))).filter(|x| x.is_finite()).collect();
        let lo = all.iter().copied().fold(f64::MAX, f64::min);
        let hi = all.iter().copied().fold(f64::MIN, f64::max);
        let (lo, hi) = if lo < hi { (lo - 0.05, hi + 0.05) } else { (0.0, 1.0) };
        let xmax = rep.runs.iter().map(|r| r.images_seen).max().unwrap_or(1).max(1) as f64;
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (480 * panels.len().max(1) as u32, 380)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            for (area, (method, runs)) in root.split_evenly((1, panels.len().max(1))).iter().zip(&panels) {
                let mut chart = images_chart(area, &format!("{method}: loss per unit vs SimCLR"), 15, xmax, lo..hi, "NT-Xent loss")?;
                let units = runs[0].units.clone();
                let n = units.len();
                for (u, name) in units.iter().enumerate() {
                    let hue = crate::method::catalogue::unit_hue(u, n) / 360.0;
                    let c = HSLColor(hue, 0.7, 0.42);
                    chart
                        .draw_series(LineSeries::new(mean_curve(runs, u), c.stroke_width(2)))
                        .map_err(draw_err)?
                        .label(name.as_str())
                        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
                }
                if let Some(sc) = simclr.as_ref().filter(|_| !is_simclr(runs)) {
                    chart
                        .draw_series(DashedLineSeries::new(mean_curve(sc, 0), 6, 3, BLACK.stroke_width(2)))
                        .map_err(draw_err)?
                        .label(MethodKind::Simclr.to_string())
                        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], BLACK.stroke_width(2)));
                }
                legend_at(&mut chart, SeriesLabelPosition::UpperRight)?;
            }
            root.present().map_err(draw_err)?;
        }
        Ok(svg)
    }

    /// Each trained pair's paired difference of the last stage's monitor kNN against images
    /// seen ([`ExperimentReport::paired_curve`]): mean over seeds, band = ± one standard error;
    /// coloured as the first method, dashed when the second is not SimCLR (dotted, then long
    /// dashes, for a first method's further pairs: a control beside GIM and LoCo); a zero line.
    pub fn gap_curves(rep: &ExperimentReport, curves: &[PairCurve]) -> Result<String> {
        let xmax = rep.runs.iter().map(|r| r.images_seen).max().unwrap_or(1).max(1) as f64;
        let ys = curves.iter().flat_map(|c| c.points.iter().flat_map(|p| [p.mean - p.se, p.mean + p.se]));
        let (lo, hi) = ys.fold((0.0f64, 0.0f64), |(lo, hi), y| (lo.min(y), hi.max(y)));
        let stage = rep.stages().last().cloned().unwrap_or_default();
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (760, 460)).into_drawing_area();
            root.fill(&WHITE).map_err(draw_err)?;
            let title = format!("paired kNN difference of the last stage ({stage}) while training");
            // Room above the curves for the legend.
            let mut chart = images_chart(&root, &title, 16, xmax, (lo - 1.0)..(hi + 0.3 * (hi - lo) + 1.5), "difference (points)")?;
            chart.draw_series(std::iter::once(PathElement::new(vec![(0.0, 0.0), (xmax, 0.0)], BLACK.mix(0.6).stroke_width(1)))).map_err(draw_err)?;
            let palette = colours(rep);
            let mut dashed: Vec<&str> = Vec::new(); // first labels of the dashed curves so far
            for c in curves {
                let colour = colour_of(&palette, &c.first_label);
                let pts: Vec<(f64, f64, f64)> = c.points.iter().map(|p| (p.images_seen as f64, p.mean, p.se)).collect();
                if c.seeds.len() > 1 {
                    let mut band: Vec<(f64, f64)> = pts.iter().map(|&(x, m, s)| (x, m + s)).collect();
                    band.extend(pts.iter().rev().map(|&(x, m, s)| (x, m - s)));
                    chart.draw_series(std::iter::once(Polygon::new(band, colour.mix(0.15).filled()))).map_err(draw_err)?;
                }
                let line: Vec<(f64, f64)> = pts.iter().map(|&(x, m, _)| (x, m)).collect();
                let label = c.titled();
                let style = colour.stroke_width(2);
                if c.second == Some(MethodKind::Simclr) {
                    let series = chart.draw_series(LineSeries::new(line, style)).map_err(draw_err)?;
                    series.label(label).legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], style));
                } else {
                    let (dash, gap) = [(6, 4), (2, 3), (12, 3)][dashed.iter().filter(|&&l| l == c.first_label).count() % 3];
                    dashed.push(&c.first_label);
                    let series = chart.draw_series(DashedLineSeries::new(line, dash, gap, style)).map_err(draw_err)?;
                    series.label(label).legend(move |(x, y)| plotters::element::DashedPathElement::new(vec![(x, y), (x + 18, y)], dash, gap, style));
                }
            }
            legend_at(&mut chart, SeriesLabelPosition::UpperLeft)?;
            root.present().map_err(draw_err)?;
        }
        Ok(svg)
    }
}
