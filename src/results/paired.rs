//! Methods compared seed for seed: the paired differences and their uncertainty.

use serde::Serialize;

use crate::config::MethodKind;
use super::spec::*;
use super::summary::*;

impl ExperimentReport {
    /// The pairs every paired table and figure compares: every method minus SimCLR, and each
    /// later-listed trained method minus each earlier one (LoCo - GIM); per pair, the runs of
    /// the seeds both finished (same seed: same initial encoder, same batches). Pairs without a
    /// shared seed are left out.
    pub fn pairs(&self) -> Vec<Pair<'_>> {
        let groups = by_method(&self.runs);
        let simclr = groups.iter().position(|(_, runs)| runs[0].kind() == Some(MethodKind::Simclr));
        let mut pairs: Vec<(usize, usize)> = Vec::new();
        if let Some(r) = simclr {
            pairs.extend((0..groups.len()).filter(|&i| i != r).map(|i| (i, r)));
        }
        let trained: Vec<usize> = (0..groups.len()).filter(|&i| Some(i) != simclr && groups[i].1[0].kind().is_some()).collect();
        for (a, &later) in trained.iter().enumerate() {
            pairs.extend(trained[..a].iter().map(|&earlier| (later, earlier)));
        }
        pairs
            .into_iter()
            .filter_map(|(a, b)| {
                let ((la, ra), (lb, rb)) = (&groups[a], &groups[b]);
                let matched: Vec<(&RunResult, &RunResult)> = ra.iter().filter_map(|r| rb.iter().find(|s| s.seed == r.seed).map(|s| (*r, *s))).collect();
                (!matched.is_empty()).then(|| Pair { first: la.clone(), second: lb.clone(), matched })
            })
            .collect()
    }

    /// Paired differences at the last stage, run for run on the same seed, which leaves out
    /// the seed-to-seed variation both runs share ([`Self::pairs`]): per pair, the seeds both
    /// finished and the kNN and linear-probe differences ([`Difference`]). The markdown table
    /// ([`Self::paired_markdown`]) and the page's long-run panel read these.
    pub fn paired_final(&self) -> Vec<PairedFinal> {
        let Some(last) = self.stages().len().checked_sub(1) else { return Vec::new() };
        self.pairs()
            .into_iter()
            .map(|pair| {
                let diffs = |linear: bool| -> Vec<f64> {
                    pair.matched
                        .iter()
                        .filter_map(|(r, s)| {
                            let (x, y) = (r.accuracy.get(last)?, s.accuracy.get(last)?);
                            if linear { Some(x.linear? - y.linear?) } else { Some(x.knn - y.knn) }
                        })
                        .collect()
                };
                let (first, second) = (pair.matched[0].0.kind(), pair.matched[0].1.kind());
                PairedFinal {
                    label: format!("{} - {}", pair.first, pair.second),
                    first,
                    second,
                    titles: (crate::method::catalogue::title_colour(first).0, crate::method::catalogue::title_colour(second).0),
                    colour: crate::method::catalogue::title_colour(first).1,
                    seeds: pair.matched.iter().map(|(r, _)| r.seed).collect(),
                    knn: Difference::of(&diffs(false)),
                    linear: Difference::of(&diffs(true)),
                }
            })
            .collect()
    }

    /// [`Self::paired_final`] as a markdown table: mean ± std over seeds of the per-seed
    /// difference, its standard error (std / sqrt(n)) and t = mean / se (n - 1 degrees of
    /// freedom). Empty when no two methods share a seed.
    pub fn paired_markdown(&self) -> String {
        let pairs = self.paired_final();
        if pairs.is_empty() {
            return String::new();
        }
        let cell = |d: &Option<Difference>| match d {
            None => "-".to_string(),
            Some(d) if d.n == 1 => format!("{:+.1} (one seed)", d.mean),
            Some(d) => format!("{:+.1} ± {:.1} (se {:.1}, t {})", d.mean, d.std, d.se, d.t.map_or("-".into(), |t| format!("{t:+.1}"))),
        };
        let rows: String = pairs
            .iter()
            .map(|p| {
                let seeds: Vec<String> = p.seeds.iter().map(u64::to_string).collect();
                format!("| {} | {} | {} | {} |\n", p.label, seeds.join(", "), cell(&p.knn), cell(&p.linear))
            })
            .collect();
        format!(
            "\nPaired by seed ({}): the first method's run minus the second's on the same seed (same initial encoder, same batches); mean ± std over seeds of the difference, its standard error and t = mean / se with n - 1 degrees of freedom (percentage points)\n\n| pair | seeds | kNN top-1 difference | linear top-1 difference |\n|---|---|---|---|\n{rows}",
            self.stages().last().map_or("", |s| s.as_str())
        )
    }

    /// The paired differences while training: at every kNN monitor point, each trained pair's
    /// per-seed difference of the last stage's monitor kNN, as mean ± standard error over the
    /// seeds (random init, which is not trained, is left out). Rows are the monitor points
    /// every pair has; empty when there are none. It shows when a gap opens and whether it stays.
    pub fn paired_curve(&self) -> Vec<PairCurve> {
        let last = self.stages().len().saturating_sub(1);
        self.pairs()
            .into_iter()
            .filter(|p| p.matched.iter().all(|(a, b)| a.kind().is_some() && b.kind().is_some()))
            .map(|p| {
                let n = p.matched.iter().map(|(a, b)| a.monitor.len().min(b.monitor.len())).min().unwrap_or(0);
                let points = (0..n)
                    .map_while(|i| {
                        let images = p.matched[0].0.monitor[i].images_seen;
                        // Runs of one experiment share their monitor points; stop where they do not.
                        let same = p.matched.iter().all(|(a, b)| a.monitor[i].images_seen == images && b.monitor[i].images_seen == images);
                        let diffs: Option<Vec<f64>> = p.matched.iter().map(|(a, b)| Some(a.monitor[i].knn.get(last)? - b.monitor[i].knn.get(last)?)).collect();
                        match (same, diffs) {
                            (true, Some(d)) => Difference::of(&d).map(|d| CurvePoint { images_seen: images, mean: d.mean, se: d.se }),
                            _ => None,
                        }
                    })
                    .collect();
                PairCurve { label: format!("{} - {}", p.first, p.second), first_label: p.first.clone(), first: p.matched[0].0.kind(), second: p.matched[0].1.kind(), seeds: p.matched.iter().map(|(a, _)| a.seed).collect(), points }
            })
            .filter(|c| !c.points.is_empty())
            .collect()
    }

    /// [`Self::paired_curve`] as a markdown table: one row per monitor point, one column per pair.
    pub fn paired_curve_markdown(&self) -> String {
        self.paired_curve_markdown_of(&self.paired_curve())
    }

    /// The table of [`Self::paired_curve_markdown`] for curves already computed.
    pub fn paired_curve_markdown_of(&self, curves: &[PairCurve]) -> String {
        let Some(rows) = curves.iter().map(|c| c.points.len()).min().filter(|&n| n > 0) else { return String::new() };
        let stage = self.stages().last().cloned().unwrap_or_default();
        let mut s = format!(
            "\nPaired by seed while training ({stage}, the kNN monitor): the first method's run minus the second's at each monitor point, mean ± standard error over the seeds (percentage points)\n\n| images seen | {} |\n|---|{}\n",
            curves.iter().map(PairCurve::titled).collect::<Vec<_>>().join(" | "),
            "---|".repeat(curves.len())
        );
        for i in 0..rows {
            let cells: Vec<String> = curves
                .iter()
                .map(|c| {
                    let p = &c.points[i];
                    if c.seeds.len() > 1 { format!("{:+.1} ± {:.1}", p.mean, p.se) } else { format!("{:+.1}", p.mean) }
                })
                .collect();
            s += &format!("| {} | {} |\n", curves[0].points[i].images_seen, cells.join(" | "));
        }
        s
    }
}

/// One pair's paired difference at the last stage ([`ExperimentReport::paired_final`]).
#[derive(Clone, Debug, Serialize)]
pub struct PairedFinal {
    /// Run labels, `first - second`: `loco(hard, conv-mlp) - simclr`.
    pub label: String,
    pub first: Option<MethodKind>,
    pub second: Option<MethodKind>,
    /// How the page names the two methods, and the first one's colour.
    pub titles: (&'static str, &'static str),
    pub colour: &'static str,
    pub seeds: Vec<u64>,
    /// `None` where no seed has both numbers (a run without a linear probe).
    pub knn: Option<Difference>,
    pub linear: Option<Difference>,
}

/// A paired difference over `n` seeds: mean, sample std, standard error (std / sqrt(n)) and
/// t = mean / se (`None` with one seed, or when every seed gives the same difference), and
/// whether |t| passes the two-sided 5% level of Student's t with n - 1 degrees of freedom.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct Difference {
    pub n: usize,
    pub mean: f64,
    pub std: f64,
    pub se: f64,
    pub t: Option<f64>,
    pub significant: Option<bool>,
}

impl Difference {
    fn of(diffs: &[f64]) -> Option<Self> {
        if diffs.is_empty() {
            return None;
        }
        let (mean, std) = mean_std(diffs);
        let se = std / (diffs.len() as f64).sqrt();
        let t = (diffs.len() > 1 && se > 0.0).then(|| mean / se);
        Some(Self { n: diffs.len(), mean, std, se, t, significant: t.map(|t| t.abs() > t_critical_5(diffs.len() - 1)) })
    }
}

/// The two-sided 5% critical value of Student's t with `df` >= 1 degrees of freedom: the
/// table's values to 30, then 1.96 + 2.5 / df (within 0.003 of the exact value beyond 30).
pub fn t_critical_5(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101,
        2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => 1.96 + 2.5 / df as f64,
    }
}

/// Two methods' runs on the seeds both finished ([`ExperimentReport::pairs`]).
pub struct Pair<'a> {
    /// Run labels: the difference is `first - second`.
    pub first: String,
    pub second: String,
    pub matched: Vec<(&'a RunResult, &'a RunResult)>,
}

/// One pair's difference over training ([`ExperimentReport::paired_curve`]).
#[derive(Clone, Debug, Serialize)]
pub struct PairCurve {
    /// `loco(hard, conv-mlp) - simclr`.
    pub label: String,
    /// The first method's run label (`loco(hard, conv-mlp)`).
    pub first_label: String,
    pub first: Option<MethodKind>,
    pub second: Option<MethodKind>,
    pub seeds: Vec<u64>,
    pub points: Vec<CurvePoint>,
}

impl PairCurve {
    /// The label with its seeds: `loco(hard, conv-mlp) - simclr (seeds 0, 1, 2)`.
    pub fn titled(&self) -> String {
        format!("{} (seeds {})", self.label, self.seeds.iter().map(|s| s.to_string()).collect::<Vec<_>>().join(", "))
    }
}

/// Mean and standard error over seeds of a paired difference at one monitor point.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct CurvePoint {
    pub images_seen: usize,
    pub mean: f64,
    pub se: f64,
}
