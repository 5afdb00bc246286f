//! The cadence (src/cadence.rs) as both doors follow it: `compare` evaluates and checkpoints on
//! its points, a run with its units in parallel stops on the same points, and the page's
//! cadence for the same settings is the same (the page's e2e test checks that the page
//! evaluates on it: "memory bars and accuracy points appear as it trains").
#![cfg(not(target_arch = "wasm32"))]
mod common;

use burn::prelude::*;
use locolab::cadence::Cadence;
use locolab::checkpoint::{step_dir_name, SUBDIR};
use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::experiment::{self, ExperimentSpec};
use locolab::run::{read_jsonl, Run, Sink};
use locolab::{StepReport, Trainer};

fn base() -> TrainConfig {
    TrainConfig { arch: Arch::PresnetTiny, batch: 16, steps: 7, warmup_steps: 1, seed: 3, ..TrainConfig::default() }
}

fn data() -> std::sync::Arc<locolab::data::Splits> {
    let d = common::cifar();
    std::sync::Arc::new(locolab::data::Splits { train: d.train.take(300), test: d.test.take(100) })
}

fn checkpoints(dir: &std::path::Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir.join(SUBDIR)).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn compare_evaluates_and_checkpoints_on_the_cadence_the_page_follows() {
    let spec = ExperimentSpec {
        base: base(),
        methods: vec![MethodKind::Simclr],
        seeds: 1,
        eval_every: 3,
        monitor_train: 100,
        monitor_test: 50,
        checkpoint_every: 4,
        converged_probe: false,
        commit: None,
    };
    let out = common::tmpdir("cadence-compare");
    experiment::write_spec(&spec, &out).unwrap();
    let runs = experiment::run(&spec, &out, data(), &Device::flex(), 1, 1, &|_| {}).unwrap();
    let cfg = spec.config(MethodKind::Simclr, 0);
    // The page with monitor=3 and autosave=4 over the same config has the same cadence ...
    let page = Cadence::monitored(3, 4, cfg.steps);
    assert_eq!(spec.cadence(&cfg), page);
    // ... and compare evaluated on its monitor points: step 0, every 3, the end.
    let steps: Vec<usize> = runs[0].monitor.iter().map(|p| p.step).collect();
    assert_eq!(steps, page.monitor_steps(7));
    assert_eq!(steps, [0, 3, 6, 7]);
    // Checkpoints at 4 and at the end (the two newest kept).
    assert_eq!(checkpoints(&out.join("simclr/seed-3")), [step_dir_name(4), step_dir_name(7)]);
}

#[derive(Default)]
struct Seen {
    steps: Vec<usize>,
    monitors: Vec<usize>,
}

impl Sink for Seen {
    fn step(&mut self, r: &StepReport) -> locolab::Result<()> {
        self.steps.push(r.step);
        Ok(())
    }
    fn monitor(&mut self, t: &Trainer) -> locolab::Result<()> {
        self.monitors.push(t.step_count());
        Ok(())
    }
}

#[test]
fn units_in_parallel_stop_on_the_same_points_and_train_the_same() {
    let cfg = TrainConfig { method: MethodKind::Gim, ..base() };
    let cadence = Cadence::monitored(3, 4, 7);
    let mut got = Vec::new();
    for parallel in [false, true] {
        let dir = common::tmpdir(if parallel { "cadence-parallel" } else { "cadence-sequential" });
        let mut run = Run::start(&dir, cfg.clone(), data(), &Device::flex(), &[]).unwrap();
        let mut seen = Seen::default();
        run.train(&cadence, parallel, &mut seen).unwrap();
        assert_eq!(seen.steps, (1..=7).collect::<Vec<_>>(), "parallel {parallel}");
        assert_eq!(seen.monitors, [0, 3, 6, 7], "parallel {parallel}");
        assert_eq!(checkpoints(&dir), [step_dir_name(4), step_dir_name(7)], "parallel {parallel}");
        got.push(read_jsonl::<StepReport>(&dir.join("metrics.jsonl")).into_iter().map(|r| r.losses).collect::<Vec<_>>());
    }
    // GIM's units in parallel compute exactly the sequential update (tests/parallel.rs).
    assert_eq!(got[0], got[1]);
}
