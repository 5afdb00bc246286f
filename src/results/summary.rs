//! The summary over seeds: per method and stage, the mean and standard deviation.

use serde::Serialize;

use crate::config::MethodKind;
use super::spec::*;

/// Mean and sample standard deviation (0 for a single value).
pub fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    if v.len() < 2 {
        return (mean, 0.0);
    }
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var.sqrt())
}

/// The runs grouped by method label, in first-seen order.
pub fn by_method(runs: &[RunResult]) -> Vec<(String, Vec<&RunResult>)> {
    let mut groups: Vec<(String, Vec<&RunResult>)> = Vec::new();
    for r in runs {
        match groups.iter_mut().find(|(m, _)| *m == r.method) {
            Some((_, v)) => v.push(r),
            None => groups.push((r.method.clone(), vec![r])),
        }
    }
    groups
}

/// One method's row of the results, summarised over its seeds: what the markdown table, the
/// page's long-run panel and anything else that shows results read (computed only here).
#[derive(Clone, Debug, Serialize)]
pub struct SummaryRow {
    /// The run label (`gim(conv-mlp)`, `random-init`).
    pub label: String,
    /// The method trained; `None`: the random-init baseline.
    pub kind: Option<MethodKind>,
    /// How the page and figures name it, and its colour ([`crate::method::MethodInfo`]).
    pub title: &'static str,
    pub colour: &'static str,
    pub seeds: Vec<u64>,
    pub steps: usize,
    pub images_seen: usize,
    /// Mean training seconds per seed.
    pub train_seconds: f64,
    /// Final kNN top-1 of every stage: mean and sample std over seeds.
    pub knn_mean: Vec<f64>,
    pub knn_std: Vec<f64>,
    /// Final linear-probe top-1 of every stage (`None` where a run has no probe).
    pub linear_mean: Vec<Option<f64>>,
    pub linear_std: Vec<Option<f64>>,
    /// Final converged-probe top-1 of every stage (`None` where the runs have none: an
    /// experiment without `converged_probe`).
    pub converged_mean: Vec<Option<f64>>,
    pub converged_std: Vec<Option<f64>>,
    /// The lowest seed and its run's final kNN per stage (the run whose checkpoints are
    /// committed beside the results).
    pub first_seed: u64,
    pub first_knn: Vec<f64>,
}

/// The results summarised: the stage names and one row per method (random-init last).
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    pub stages: Vec<String>,
    pub rows: Vec<SummaryRow>,
}

fn pm((m, s): (f64, f64)) -> String {
    if m.is_nan() {
        "-".into()
    } else {
        format!("{m:.1} ± {s:.1}")
    }
}

impl ExperimentReport {
    pub fn stages(&self) -> Vec<String> {
        self.runs.first().map(|r| r.stages.clone()).unwrap_or_default()
    }

    /// Mean ± std over seeds of the final kNN (or linear) top-1 of stage `s`.
    pub fn final_stat(runs: &[&RunResult], s: usize, linear: bool) -> (f64, f64) {
        let v: Vec<f64> = runs
            .iter()
            .filter_map(|r| r.accuracy.get(s).and_then(|a| if linear { a.linear } else { Some(a.knn) }))
            .collect();
        mean_std(&v)
    }

    /// Mean ± std over seeds of the converged probe's top-1 at stage `s` (NaN without one).
    fn converged_stat(runs: &[&RunResult], s: usize) -> (f64, f64) {
        let v: Vec<f64> = runs.iter().filter_map(|r| r.accuracy.get(s).and_then(|a| a.converged.as_ref()).map(|c| c.top1)).collect();
        mean_std(&v)
    }

    /// Every method's final accuracies summarised over its seeds (the one aggregation).
    pub fn summary(&self) -> Summary {
        let stages = self.stages();
        let rows = by_method(&self.runs)
            .into_iter()
            .map(|(label, runs)| {
                let kind = runs[0].kind();
                let (title, colour) = crate::method::catalogue::title_colour(kind);
                let knn: Vec<(f64, f64)> = (0..stages.len()).map(|s| Self::final_stat(&runs, s, false)).collect();
                let linear: Vec<(f64, f64)> = (0..stages.len()).map(|s| Self::final_stat(&runs, s, true)).collect();
                let converged: Vec<(f64, f64)> = (0..stages.len()).map(|s| Self::converged_stat(&runs, s)).collect();
                let known = |v: f64| (!v.is_nan()).then_some(v);
                let first = runs.iter().min_by_key(|r| r.seed).expect("a group has a run");
                SummaryRow {
                    label,
                    kind,
                    title,
                    colour,
                    seeds: runs.iter().map(|r| r.seed).collect(),
                    steps: runs[0].steps,
                    images_seen: runs[0].images_seen,
                    train_seconds: mean_std(&runs.iter().map(|r| r.train_seconds).collect::<Vec<_>>()).0,
                    knn_mean: knn.iter().map(|p| p.0).collect(),
                    knn_std: knn.iter().map(|p| p.1).collect(),
                    linear_mean: linear.iter().map(|p| known(p.0)).collect(),
                    linear_std: linear.iter().map(|p| known(p.1)).collect(),
                    converged_mean: converged.iter().map(|p| known(p.0)).collect(),
                    converged_std: converged.iter().map(|p| known(p.1)).collect(),
                    first_seed: first.seed,
                    first_knn: first.accuracy.iter().map(|a| a.knn).collect(),
                }
            })
            .collect();
        Summary { stages, rows }
    }

    /// The markdown table: one row per method (random-init last), final accuracies as
    /// mean ± std over seeds; the converged probe's column where the runs have one.
    pub fn markdown(&self) -> String {
        let Summary { stages, rows } = self.summary();
        let last = stages.len().saturating_sub(1);
        let name = stages.get(last).map_or("last stage", |s| s.as_str());
        let converged = rows.iter().any(|r| r.converged_mean.get(last).copied().flatten().is_some());
        let mut s = format!("| method | seeds | steps | images seen | train time / seed (s) | kNN top-1, {name} (%) | linear top-1, {name} (%) |");
        if converged {
            s += &format!(" converged probe top-1, {name} (%) |");
        }
        s += &format!(" kNN top-1 per stage ({}) |\n|---|---|---|---|---|---|---|---|{}\n", stages.join(", "), if converged { "---|" } else { "" });
        // The last stage's mean and std (NaN where there is none: `pm` prints "-").
        let at = |mean: Option<Option<f64>>, std: Option<Option<f64>>| (mean.flatten().unwrap_or(f64::NAN), std.flatten().unwrap_or(f64::NAN));
        for r in rows {
            let per_stage: Vec<String> = r.knn_mean.iter().map(|m| format!("{m:.1}")).collect();
            s += &format!(
                "| {} | {} | {} | {} | {:.0} | {} | {} |",
                r.label,
                r.seeds.len(),
                r.steps,
                r.images_seen,
                r.train_seconds,
                pm(at(r.knn_mean.get(last).copied().map(Some), r.knn_std.get(last).copied().map(Some))),
                pm(at(r.linear_mean.get(last).copied(), r.linear_std.get(last).copied())),
            );
            if converged {
                s += &format!(" {} |", pm(at(r.converged_mean.get(last).copied(), r.converged_std.get(last).copied())));
            }
            s += &format!(" {} |\n", per_stage.join(" / "));
        }
        s
    }

}
