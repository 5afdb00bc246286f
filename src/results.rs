//! Results as data, on every target: an experiment's spec, its runs' results and their
//! summary over seeds (the one aggregation the markdown table, the figures and the page's
//! long-run panel read). Running experiments is native ([`crate::experiment`]), and so are the
//! figures ([`crate::report`]).

use serde::{Deserialize, Serialize};

use crate::config::{MethodKind, TrainConfig};
use crate::error::{Error, Result};
use crate::eval::StageAccuracy;

/// The label of the random-init baseline in every table and figure.
pub const RANDOM_INIT: &str = "random-init";

/// Everything that defines an experiment; saved as `experiment.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentSpec {
    /// The shared config; `method` and `seed` are set per run (seed + 0, 1, ...).
    pub base: TrainConfig,
    pub methods: Vec<MethodKind>,
    pub seeds: usize,
    /// kNN monitor every this many steps (and at step 0 and the end); 0: only at the ends.
    pub eval_every: usize,
    /// Monitor bank: this many training images, queries: this many test images, each spread
    /// evenly over its split (`ImageSet::spread`: every class in proportion).
    pub monitor_train: usize,
    pub monitor_test: usize,
    /// Periodic checkpoint every this many steps (and at the end).
    pub checkpoint_every: usize,
    /// The final evaluation also runs the converged probe and kNN at k = 20
    /// ([`crate::eval::EvalOptions::converged`]); off in experiments written before it existed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub converged_probe: bool,
    /// The git commit of the binary that started the experiment ([`crate::COMMIT`]): what to
    /// build to replay it. Not part of what the experiment is ([`Self::same_experiment`]);
    /// absent in experiments started before it was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl ExperimentSpec {
    /// Steps for `epochs` passes over `train_images` at the base batch (rounded up).
    pub fn steps_for_epochs(epochs: f64, train_images: usize, batch: usize) -> Result<usize> {
        Ok(crate::config::epoch_steps(crate::config::check_epochs(epochs)?, train_images, batch))
    }

    pub fn validate(&self) -> Result<()> {
        if self.methods.is_empty() {
            return Err(Error::Config("--methods names no method".into()));
        }
        for &m in &self.methods {
            crate::method::check(&self.config(m, 0))?;
        }
        if self.seeds == 0 {
            return Err(Error::Config("--seeds must be >= 1".into()));
        }
        if self.monitor_train == 0 || self.monitor_test == 0 {
            return Err(Error::Config("the kNN monitor needs at least one train and one test image".into()));
        }
        if self.checkpoint_every == 0 {
            return Err(Error::Config("--checkpoint-every must be >= 1".into()));
        }
        Ok(())
    }

    /// Whether `other` describes the same runs: every field but the commit that started it.
    pub fn same_experiment(&self, other: &Self) -> bool {
        self.without_commit() == other.without_commit()
    }

    /// This spec with no commit: what a recipe file describes ([`crate::recipe::Recipe::spec`]).
    pub fn without_commit(&self) -> Self {
        Self { commit: None, ..self.clone() }
    }

    /// The knobs that say what a method is, which experiments joined in one report may differ
    /// in ([`Self::pairs_with`]): the method and its own knobs.
    pub const TREATMENT_KNOBS: &'static [&'static str] = &["method", "sharing", "decoder", "decoder_depth", "module_stages"];

    /// Whether the runs of `other` pair seed for seed with this experiment's (the same network,
    /// input, batch, schedule, optimiser, seeds and monitor: a seed gives the same initial
    /// encoder and the same batches), so that one report may compare them: only the methods
    /// and their own knobs ([`Self::TREATMENT_KNOBS`]) may differ. `Err` names the first
    /// setting that differs, with both values.
    pub fn pairs_with(&self, other: &Self) -> std::result::Result<(), String> {
        let knobs = |c: &TrainConfig| match serde_json::to_value(c).expect("a config serialises") {
            serde_json::Value::Object(mut m) => {
                m.retain(|k, _| !Self::TREATMENT_KNOBS.contains(&k.as_str()));
                m
            }
            _ => unreachable!("a config is an object"),
        };
        let (a, b) = (knobs(&self.base), knobs(&other.base));
        for (k, v) in &a {
            if b.get(k) != Some(v) {
                return Err(format!("{k} is {v} in one and {} in the other", b.get(k).map_or("absent".into(), |w| w.to_string())));
            }
        }
        let settings = [
            ("seeds", self.seeds, other.seeds),
            ("eval_every", self.eval_every, other.eval_every),
            ("monitor_train", self.monitor_train, other.monitor_train),
            ("monitor_test", self.monitor_test, other.monitor_test),
        ];
        match settings.iter().find(|(_, x, y)| x != y) {
            Some((k, x, y)) => Err(format!("{k} is {x} in one and {y} in the other")),
            None => Ok(()),
        }
    }

    /// The config of one run.
    pub fn config(&self, method: MethodKind, seed_index: usize) -> TrainConfig {
        TrainConfig { method, seed: self.base.seed + seed_index as u64, ..self.base.clone() }
    }
}

/// One kNN monitor point: top-1 (%) of every stage on the fixed bank.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonitorPoint {
    pub step: usize,
    pub images_seen: usize,
    pub knn: Vec<f64>,
}

/// One finished run (or the random-init baseline, with `steps` 0).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunResult {
    /// `simclr`, `gim(conv-mlp)`, ..., or `random-init`.
    pub method: String,
    /// The method trained, as data (absent in results written before it existed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trained: Option<Trained>,
    pub seed: u64,
    pub steps: usize,
    pub images_seen: usize,
    /// Training time summed over every session that worked on this run (evaluation excluded).
    pub train_seconds: f64,
    pub stages: Vec<String>,
    /// Final kNN (full bank) and linear probe, every stage.
    pub accuracy: Vec<StageAccuracy>,
    pub monitor: Vec<MonitorPoint>,
    pub units: Vec<String>,
    /// Mean loss of every unit over each monitor interval: `(last step of the interval, losses)`.
    pub loss_curve: Vec<(usize, Vec<f32>)>,
    /// The git commit of the binary that finished the run ([`crate::COMMIT`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
}

impl RunResult {
    /// The method this run trained; `None` for the random-init baseline.
    pub fn kind(&self) -> Option<MethodKind> {
        match self.trained {
            Some(Trained::Method(k)) => Some(k),
            Some(Trained::RandomInit) => None,
            // Written before `trained` existed (the pinned binaries of docs/results/cifar50k):
            // the label starts with the method's name, and random-init names none.
            None => self.method.split('(').next().and_then(|m| m.parse().ok()),
        }
    }
}

/// What a run trained: a method, or nothing (the random-init baseline). Written as the
/// method's name or `random-init`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Trained {
    Method(MethodKind),
    RandomInit,
}

impl TryFrom<String> for Trained {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        if s == RANDOM_INIT { Ok(Trained::RandomInit) } else { s.parse().map(Trained::Method) }
    }
}

impl From<Trained> for String {
    fn from(t: Trained) -> String {
        match t {
            Trained::Method(k) => k.to_string(),
            Trained::RandomInit => RANDOM_INIT.into(),
        }
    }
}


/// `results.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExperimentReport {
    pub spec: ExperimentSpec,
    pub runs: Vec<RunResult>,
    /// The specs of other experiments whose runs this report compares with its own
    /// ([`Self::join`]); empty for one experiment's report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub beside: Vec<ExperimentSpec>,
}

impl ExperimentReport {
    /// One experiment's report.
    pub fn new(spec: ExperimentSpec, runs: Vec<RunResult>) -> Self {
        Self { spec, runs, beside: Vec::new() }
    }

    /// This report and `other`'s runs in one, to compare methods of two experiments seed for
    /// seed (a control trained after the main comparison): refused unless the experiments pair
    /// ([`ExperimentSpec::pairs_with`]) and name their methods apart. `other`'s random-init
    /// runs are left out where this report has the seed's (the same untrained encoder).
    pub fn join(mut self, other: ExperimentReport, name: &str) -> Result<Self> {
        self.spec.pairs_with(&other.spec).map_err(|e| Error::Config(format!("{name} does not pair with this experiment: {e}")))?;
        for r in other.runs {
            let random = r.kind().is_none();
            match self.runs.iter().find(|s| s.method == r.method && s.seed == r.seed) {
                Some(_) if random => continue,
                Some(_) => {
                    return Err(Error::Config(format!("{name} has a run of {} seed {} as this experiment does: one report cannot tell them apart", r.method, r.seed)))
                }
                None => self.runs.push(r),
            }
        }
        self.beside.push(other.spec);
        self.beside.extend(other.beside);
        Ok(self)
    }
}

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
                    first_seed: first.seed,
                    first_knn: first.accuracy.iter().map(|a| a.knn).collect(),
                }
            })
            .collect();
        Summary { stages, rows }
    }

    /// The markdown table: one row per method (random-init last), final accuracies as
    /// mean ± std over seeds.
    pub fn markdown(&self) -> String {
        let Summary { stages, rows } = self.summary();
        let last = stages.len().saturating_sub(1);
        let mut s = format!(
            "| method | seeds | steps | images seen | train time / seed (s) | kNN top-1, {0} (%) | linear top-1, {0} (%) | kNN top-1 per stage ({1}) |\n|---|---|---|---|---|---|---|---|\n",
            stages.get(last).map_or("last stage", |s| s.as_str()),
            stages.join(", ")
        );
        // The last stage's mean and std (NaN where there is none: `pm` prints "-").
        let at = |mean: Option<f64>, std: Option<f64>| (mean.unwrap_or(f64::NAN), std.unwrap_or(f64::NAN));
        for r in rows {
            let per_stage: Vec<String> = r.knn_mean.iter().map(|m| format!("{m:.1}")).collect();
            s += &format!(
                "| {} | {} | {} | {} | {:.0} | {} | {} | {} |\n",
                r.label,
                r.seeds.len(),
                r.steps,
                r.images_seen,
                r.train_seconds,
                pm(at(r.knn_mean.get(last).copied(), r.knn_std.get(last).copied())),
                pm(at(r.linear_mean.get(last).copied().flatten(), r.linear_std.get(last).copied().flatten())),
                per_stage.join(" / ")
            );
        }
        s
    }

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
