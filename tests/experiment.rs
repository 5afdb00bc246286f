//! `locolab compare` as an experiment: seeds, the kNN monitor, the random-init row, the report,
//! and resuming a partly finished experiment.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use burn::prelude::*;
use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::experiment::{self, ExperimentSpec, RANDOM_INIT};
use locolab::report::ExperimentReport;
use locolab::Trainer;

fn spec() -> ExperimentSpec {
    ExperimentSpec {
        base: TrainConfig { arch: Arch::PresnetTiny, batch: 16, steps: 4, warmup_steps: 1, seed: 5, ..TrainConfig::default() },
        methods: vec![MethodKind::Simclr, MethodKind::Loco],
        seeds: 2,
        eval_every: 2,
        monitor_train: 300,
        monitor_test: 100,
        checkpoint_every: 2,
        converged_probe: false,
        commit: Some("0123456789ab".into()),
    }
}

/// A slice of the real subset: enough for kNN and the probe, small enough for CI.
fn data() -> std::sync::Arc<locolab::data::Splits> {
    let d = common::cifar();
    std::sync::Arc::new(locolab::data::Splits { train: d.train.take(600), test: d.test.take(200) })
}

#[test]
fn seeded_experiment_reports_every_run_and_resumes() {
    let out = common::tmpdir("experiment");
    let spec = spec();
    experiment::write_spec(&spec, &out).unwrap();
    let runs = experiment::run(&spec, &out, data(), &Device::flex(), 2, 1, &|_| {}).unwrap();
    let labels: Vec<&str> = runs.iter().map(|r| r.method.as_str()).collect();
    assert_eq!(labels, ["simclr", "simclr", "loco(hard, conv-mlp)", "loco(hard, conv-mlp)", RANDOM_INIT, RANDOM_INIT]);
    assert_eq!(runs.iter().map(|r| r.seed).collect::<Vec<_>>(), [5, 6, 5, 6, 5, 6]);
    for r in &runs {
        assert_eq!(r.accuracy.len(), 6, "every stage is evaluated: {r:?}");
        assert!(r.accuracy.iter().all(|a| a.linear.is_some() && (0.0..=100.0).contains(&a.knn)));
        if r.method != RANDOM_INIT {
            // The monitor ran at steps 0, 2 and 4, on every stage.
            assert_eq!(r.monitor.iter().map(|p| p.step).collect::<Vec<_>>(), [0, 2, 4]);
            assert!(r.monitor.iter().all(|p| p.knn.len() == 6));
        }
    }
    // Two runs at a time train exactly as one alone would (seeded initialisation takes turns).
    let mut alone = Trainer::new(spec.config(MethodKind::Loco, 1), data(), &Device::flex()).unwrap();
    let want = alone.run(4, |_| {}).unwrap();
    let got: Vec<locolab::StepReport> = locolab::run::read_jsonl(&out.join("loco/seed-6/metrics.jsonl"));
    for (a, b) in want.iter().zip(&got) {
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 1e-4, "step {}: {x} alone vs {y} in the experiment", a.step);
        }
    }
    // The report: mean ± std per method, the random-init row, the figures.
    let report = ExperimentReport::new(spec.clone(), runs.clone());
    let files = report.write(&out).unwrap();
    let md = report.markdown();
    assert!(md.contains("| random-init | 2 |") && md.contains(" ± "), "{md}");
    // Without the converged probe the table has no column for it; with it, one, per method.
    assert!(!md.contains("converged"), "{md}");
    let mut probed = runs.clone();
    for (i, r) in probed.iter_mut().enumerate() {
        let last = r.accuracy.last_mut().unwrap();
        last.converged = Some(locolab::eval::probe::ConvergedProbe { top1: 40.0 + i as f64, top5: None, l2: 1e-4, validation: vec![], iterations: 10, gradient: 1e-5, converged: true });
    }
    let md = ExperimentReport::new(spec.clone(), probed).markdown();
    assert!(md.contains("| converged probe top-1, res7 (%) |"), "{md}");
    // simclr's seeds 5 and 6 got 40 and 41: mean 40.5, std 0.7.
    assert!(md.lines().any(|l| l.starts_with("| simclr |") && l.contains("| 40.5 ± 0.7 |")), "{md}");
    assert!(md.lines().skip(2).all(|l| l.matches('|').count() == 10), "{md}");
    for name in ["results.json", "results.md", "knn_curve.svg", "knn_per_stage.svg", "final_per_stage.svg", "loss_curves.svg"] {
        let path = out.join(name);
        assert!(files.contains(&path), "{name} written");
        let text = std::fs::read_to_string(&path).unwrap();
        if name.ends_with(".svg") {
            assert!(text.starts_with("<svg") && text.contains("simclr") && text.contains("<text"), "{name}: {}", &text[..text.len().min(200)]);
        }
    }
    // Resume: a run whose result was lost is finished again from its checkpoint, with the
    // same final numbers; the others are read back as they were.
    std::fs::remove_file(out.join("loco/seed-6/result.json")).unwrap();
    let again = experiment::run(&experiment::read_spec(&out).unwrap(), &out, data(), &Device::flex(), 1, 0, &|_| {}).unwrap();
    for (a, b) in runs.iter().zip(&again) {
        assert_eq!(a.method, b.method);
        for (x, y) in a.accuracy.iter().zip(&b.accuracy) {
            assert!((x.knn - y.knn).abs() < 1e-9, "{}: kNN {} then {}", a.method, x.knn, y.knn);
        }
    }
    // The same experiment started again by another binary is not refused, and its file keeps
    // the commit that started it; another experiment in the same directory is refused.
    experiment::write_spec(&ExperimentSpec { commit: Some("ba9876543210".into()), ..spec.clone() }, &out).unwrap();
    assert_eq!(experiment::read_spec(&out).unwrap().commit, spec.commit);
    let other = ExperimentSpec { seeds: 3, ..spec };
    let e = experiment::write_spec(&other, &out).unwrap_err().to_string();
    assert!(e.contains("experiment.json") && e.contains("--resume"), "{e}");
}

/// A finished run as its `result.json` holds it: two stages (res2 at zero), res7's final kNN and
/// linear probe, and res7's monitor kNN at 0, 100, 200, ... images.
fn result(method: &str, trained: Option<locolab::experiment::Trained>, seed: u64, knn: f64, linear: f64, monitor: &[f64]) -> locolab::experiment::RunResult {
    use locolab::eval::StageAccuracy;
    use locolab::experiment::MonitorPoint;
    locolab::experiment::RunResult {
        method: method.into(),
        trained,
        seed,
        steps: 20,
        images_seen: 200,
        train_seconds: 1.0,
        stages: vec!["res2".into(), "res7".into()],
        accuracy: vec![
            StageAccuracy { stage: "res2".into(), knn: 0.0, linear: Some(0.0), knn_top5: None, linear_top5: None, knn20: None, converged: None, predictions: None },
            StageAccuracy { stage: "res7".into(), knn, linear: Some(linear), knn_top5: None, linear_top5: None, knn20: None, converged: None, predictions: None },
        ],
        monitor: monitor.iter().enumerate().map(|(i, &k)| MonitorPoint { step: 10 * i, images_seen: 100 * i, knn: vec![0.0, k] }).collect(),
        units: vec![],
        loss_curve: vec![],
        commit: None,
    }
}

/// The published CIFAR-scale spec (what the report tests render under).
fn published_spec() -> ExperimentSpec {
    serde_json::from_str(&std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results/cifar50k/experiment.json")).unwrap()).unwrap()
}

/// The paired table: each method minus SimCLR of the same seed; unpaired seeds are left out.
#[test]
fn paired_differences_use_only_seeds_both_methods_finished() {
    use locolab::experiment::{RunResult, Trained};
    // SimCLR's and random-init's say what they trained; LoCo's are as the pinned binaries of
    // the CIFAR-scale run wrote them (no `trained`: read from the label).
    let run = |method: &str, seed: u64, knn: f64, linear: f64| {
        let trained = match method {
            "simclr" => Some(Trained::Method(MethodKind::Simclr)),
            "random-init" => Some(Trained::RandomInit),
            _ => None,
        };
        result(method, trained, seed, knn, linear, &[])
    };
    let spec = published_spec();
    let runs = vec![
        run("loco(hard, conv-mlp)", 0, 52.0, 60.0),
        run("loco(hard, conv-mlp)", 1, 50.0, 58.0),
        run("loco(hard, conv-mlp)", 2, 49.0, 57.0), // SimCLR seed 2 not finished: left out
        run("simclr", 0, 50.0, 61.0),
        run("simclr", 1, 50.0, 60.0),
        run("random-init", 0, 30.0, 40.0),
    ];
    let md = ExperimentReport::new(spec.clone(), runs.clone()).paired_markdown();
    assert!(md.contains("Paired by seed (res7)"), "{md}");
    // kNN: +2, 0 -> +1.0 ± 1.4, se 1.0, t 1.0; linear: -1, -2 -> -1.5 ± 0.7, se 0.5, t -3.0.
    assert!(md.contains("| loco(hard, conv-mlp) - simclr | 0, 1 | +1.0 ± 1.4 (se 1.0, t +1.0) | -1.5 ± 0.7 (se 0.5, t -3.0) |"), "{md}");
    assert!(md.contains("| random-init - simclr | 0 | -20.0 (one seed) | -21.0 (one seed) |"), "{md}");
    // The same numbers as data (the page's long-run panel): t with one degree of freedom needs
    // |t| > 12.7 at 5%; one seed has no t.
    let pairs = ExperimentReport::new(spec.clone(), runs.clone()).paired_final();
    let loco = pairs.iter().find(|p| p.first == Some(MethodKind::Loco)).unwrap();
    assert_eq!((loco.titles, loco.second, loco.seeds.as_slice()), (("LoCo", "SimCLR"), Some(MethodKind::Simclr), &[0u64, 1][..]));
    let lin = loco.linear.unwrap();
    assert_eq!((lin.n, lin.mean, lin.se, lin.t, lin.significant), (2, -1.5, 0.5, Some(-3.0), Some(false)));
    let random = pairs.iter().find(|p| p.first.is_none()).unwrap().knn.unwrap();
    assert_eq!((random.n, random.mean, random.t, random.significant), (1, -20.0, None, None));
    assert_eq!(locolab::results::t_critical_5(2), 4.303);
    assert!((locolab::results::t_critical_5(40) - 2.021).abs() < 0.003 && (locolab::results::t_critical_5(1000) - 1.962).abs() < 0.003);
    // Local methods against each other: the later-listed minus the earlier (LoCo - GIM), on
    // the seeds both finished; random init is paired with SimCLR only.
    let mut with_gim = runs.clone();
    with_gim.insert(0, run("gim(conv-mlp)", 0, 50.0, 59.0));
    with_gim.insert(1, run("gim(conv-mlp)", 1, 49.0, 58.0));
    let md = ExperimentReport::new(spec.clone(), with_gim).paired_markdown();
    // kNN: 52-50, 50-49 -> +1.5 ± 0.7 (se 0.5, t +3.0); linear: 60-59, 58-58 -> +0.5 ± 0.7.
    assert!(md.contains("| loco(hard, conv-mlp) - gim(conv-mlp) | 0, 1 | +1.5 ± 0.7 (se 0.5, t +3.0) | +0.5 ± 0.7 (se 0.5, t +1.0) |"), "{md}");
    assert!(!md.contains("random-init - gim") && !md.contains("random-init - loco"), "{md}");
    // The summary every table reads: title and colour from the method's catalogue entry.
    let sum = ExperimentReport::new(spec.clone(), runs.clone()).summary();
    let rows: Vec<(&str, Option<MethodKind>, &str, usize, u64)> =
        sum.rows.iter().map(|r| (r.title, r.kind, r.colour, r.seeds.len(), r.first_seed)).collect();
    assert_eq!(
        rows,
        [
            ("LoCo", Some(MethodKind::Loco), "#1f77b4", 3, 0),
            ("SimCLR", Some(MethodKind::Simclr), "#141414", 2, 0),
            ("random init", None, "#8c8c8c", 1, 0)
        ]
    );
    let loco = &sum.rows[0];
    assert_eq!((loco.knn_mean[1], loco.first_knn[1], loco.linear_mean[1]), (50.333333333333336, 52.0, Some(58.333333333333336)));
    assert!((loco.knn_std[1] - 1.5275252316519468).abs() < 1e-12, "{}", loco.knn_std[1]);
    let no_simclr: Vec<RunResult> = runs.into_iter().filter(|r| r.method != "simclr").collect();
    assert_eq!(ExperimentReport::new(spec, no_simclr).paired_markdown(), "");
}

/// The paired differences while training: per monitor point, mean ± standard error over the
/// seeds both methods finished; random init (no monitor curve of its own) is left out; the
/// figure is drawn from the same numbers.
#[test]
fn paired_curve_follows_the_monitor_seed_by_seed() {
    use locolab::experiment::Trained;
    let run = |method: &str, kind: Option<Trained>, seed: u64, res7: &[f64]| result(method, kind, seed, *res7.last().unwrap(), 0.0, res7);
    let (simclr, loco) = (Some(Trained::Method(MethodKind::Simclr)), Some(Trained::Method(MethodKind::Loco)));
    let spec = published_spec();
    let runs = vec![
        run("simclr", simclr, 0, &[30.0, 40.0, 50.0]),
        run("simclr", simclr, 1, &[30.0, 41.0, 52.0]),
        run("loco(hard, conv-mlp)", loco, 0, &[30.0, 39.0, 49.0]),
        run("loco(hard, conv-mlp)", loco, 1, &[30.0, 40.0, 48.0]),
        run("loco(hard, conv-mlp)", loco, 2, &[30.0, 45.0, 55.0]), // no SimCLR seed 2: left out
        run("random-init", Some(Trained::RandomInit), 0, &[30.0]),
    ];
    let report = ExperimentReport::new(spec, runs);
    let curves = report.paired_curve();
    assert_eq!(curves.len(), 1, "random init has no curve to pair");
    let c = &curves[0];
    assert_eq!((c.label.as_str(), c.seeds.as_slice()), ("loco(hard, conv-mlp) - simclr", &[0u64, 1][..]));
    // Differences per seed: (0, 0), (-1, -1), (-1, -4) -> means 0, -1, -2.5; se 0, 0, 1.5.
    let got: Vec<(usize, f64, f64)> = c.points.iter().map(|p| (p.images_seen, p.mean, (p.se * 1e9).round() / 1e9)).collect();
    assert_eq!(got, [(0, 0.0, 0.0), (100, -1.0, 0.0), (200, -2.5, 1.5)]);
    let md = report.paired_curve_markdown();
    assert!(md.contains("| images seen | loco(hard, conv-mlp) - simclr (seeds 0, 1) |"), "{md}");
    assert!(md.contains("| 200 | -2.5 ± 1.5 |"), "{md}");
    let dir = std::env::temp_dir().join(format!("locolab-gap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let written = report.write(&dir).unwrap();
    assert!(written.iter().any(|p| p.ends_with("knn_gap_curve.svg")), "{written:?}");
    let svg = std::fs::read_to_string(dir.join("knn_gap_curve.svg")).unwrap();
    assert!(svg.contains("loco(hard, conv-mlp) - simclr (seeds 0, 1)"), "the legend names the pair and its seeds");
    std::fs::remove_dir_all(&dir).ok();
}

/// A control trained after the main comparison joins its report seed for seed: the pairs across
/// the two experiments, a lighter colour for the second GIM, and refusals in one line when the
/// experiments do not pair or name a method alike. From the CLI too (`report --beside`).
#[test]
fn a_control_experiment_joins_the_main_report_seed_for_seed() {
    use locolab::experiment::Trained;
    let gim = Some(Trained::Method(MethodKind::Gim));
    let main = published_spec();
    let control = ExperimentSpec {
        base: TrainConfig { module_stages: 2, ..main.base.clone() },
        methods: vec![MethodKind::Gim],
        commit: Some("a5b1cfb4ac70".into()),
        ..main.clone()
    };
    let a = ExperimentReport::new(
        main.clone(),
        vec![
            result("simclr", Some(Trained::Method(MethodKind::Simclr)), 0, 54.0, 61.0, &[30.0, 50.0]),
            result("simclr", Some(Trained::Method(MethodKind::Simclr)), 1, 54.0, 60.0, &[30.0, 51.0]),
            result("gim(conv-mlp)", gim, 0, 51.0, 57.0, &[30.0, 48.0]),
            result("gim(conv-mlp)", gim, 1, 50.0, 57.5, &[30.0, 47.0]),
            result("random-init", Some(Trained::RandomInit), 0, 35.0, 42.0, &[]),
        ],
    );
    let b = ExperimentReport::new(
        control.clone(),
        vec![
            result("gim(2 stages, conv-mlp)", gim, 0, 52.5, 58.0, &[30.0, 49.0]),
            result("gim(2 stages, conv-mlp)", gim, 1, 52.0, 59.5, &[30.0, 49.5]),
            result("random-init", Some(Trained::RandomInit), 0, 35.0, 42.0, &[]), // the main report has it
        ],
    );
    let joined = a.clone().join(b.clone(), "control").unwrap();
    assert_eq!((joined.runs.len(), joined.beside.len()), (7, 1));
    let pairs = joined.paired_final();
    let two = pairs.iter().find(|p| p.label == "gim(2 stages, conv-mlp) - gim(conv-mlp)").expect("the control against six-module GIM");
    // kNN: +1.5, +2.0 -> +1.75, se 0.25, t 7; linear: +1.0, +2.0 -> +1.5, se 0.5, t 3.
    let (knn, lin) = (two.knn.unwrap(), two.linear.unwrap());
    assert_eq!((knn.mean, knn.se, knn.t), (1.75, 0.25, Some(7.0)));
    assert_eq!((lin.mean, lin.se, lin.t), (1.5, 0.5, Some(3.0)));
    assert!(pairs.iter().any(|p| p.label == "gim(2 stages, conv-mlp) - simclr"));
    let curve = joined.paired_curve();
    assert!(curve.iter().any(|c| c.label == "gim(2 stages, conv-mlp) - gim(conv-mlp)" && c.points.last().unwrap().mean == 1.75));

    // Written: the report says what it joined and both commits; the second GIM is lighter.
    let dir = common::tmpdir("joined-report");
    joined.write(&dir).unwrap();
    let md = std::fs::read_to_string(dir.join("results.md")).unwrap();
    assert!(md.contains("One report over 2 experiments") && md.contains("`a5b1cfb4ac70`") && md.contains(main.commit.as_deref().unwrap()), "{md}");
    let bars = std::fs::read_to_string(dir.join("final_per_stage.svg")).unwrap().to_uppercase();
    let hex = locolab::method::catalogue::title_colour(Some(MethodKind::Gim)).1.to_uppercase();
    let light: String = (0..3)
        .map(|i| {
            let c = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap() as f64;
            format!("{:02X}", (c + (255.0 - c) * 0.45).round() as u8)
        })
        .collect();
    assert!(bars.contains(&hex) && bars.contains(&format!("#{light}")), "both GIMs drawn, apart: {hex} and #{light}");

    // Refused: another batch; a method label both experiments use.
    let other = ExperimentReport::new(ExperimentSpec { base: TrainConfig { batch: 64, ..control.base.clone() }, ..control.clone() }, vec![]);
    let e = a.clone().join(other, "other").unwrap_err().to_string();
    assert!(e.contains("other does not pair") && e.contains("batch is 128 in one and 64 in the other"), "{e}");
    let same = ExperimentReport::new(control.clone(), vec![result("gim(conv-mlp)", gim, 0, 1.0, 1.0, &[])]);
    let e = a.clone().join(same, "same").unwrap_err().to_string();
    assert!(e.contains("gim(conv-mlp) seed 0") && e.contains("cannot tell them apart"), "{e}");

    // The CLI: --beside needs --out; the joined report goes there and both inputs stay as they were.
    let (da, db) = (dir.join("main"), dir.join("control"));
    for (d, r) in [(&da, &a), (&db, &b)] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join("results.json"), serde_json::to_string(r).unwrap()).unwrap();
    }
    let bin = || std::process::Command::new(env!("CARGO_BIN_EXE_locolab"));
    let no_out = bin().args(["report", "--results"]).arg(da.join("results.json")).arg("--beside").arg(db.join("results.json")).output().unwrap();
    assert!(!no_out.status.success() && String::from_utf8_lossy(&no_out.stderr).contains("--out"));
    let out = bin().args(["report", "--results"]).arg(da.join("results.json")).arg("--beside").arg(db.join("results.json")).arg("--out").arg(dir.join("both")).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("| gim(2 stages, conv-mlp) - gim(conv-mlp) | 0, 1 | +1.8 ± 0.4 (se 0.2, t +7.0) |"));
    assert!(dir.join("both/knn_gap_curve.svg").is_file() && !da.join("results.md").exists() && !db.join("results.md").exists());
    std::fs::remove_dir_all(&dir).ok();
}
