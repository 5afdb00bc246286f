#![cfg(not(target_arch = "wasm32"))]
//! Experiment files (src/recipe.rs): one-line errors naming the key, flags over the file, the
//! resolved file a run keeps reproduces it, and every published result has its file.
mod common;

use std::path::Path;
use std::process::Command;

use locolab::config::{MethodKind, TrainConfig};
use locolab::experiment::ExperimentSpec;
use locolab::recipe::Recipe;

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

#[test]
fn a_bad_file_is_one_line_that_names_the_key() {
    let err = |text: &str| Recipe::parse(text, "x.toml").unwrap_err().to_string();
    assert_eq!(err("bach = 8"), "invalid configuration: x.toml: unknown key 'bach' (nearest known: 'batch')");
    assert!(err("tempreature = 0.5").contains("nearest known: 'temperature'"));
    assert!(err("batch = \"eight\"").contains("x.toml: batch: invalid type: string \"eight\""), "{}", err("batch = \"eight\""));
    assert!(err("methods = [\"simclr\", \"xx\"]").contains("methods: unknown method 'xx'; expected one of: simclr, gim, loco"));
    assert!(err("preset = \"browser").starts_with("invalid configuration: x.toml: not TOML:"));
    for text in ["bach = 8", "batch = \"eight\"", "preset = \"browser"] {
        assert!(!err(text).contains('\n'), "one line: {}", err(text));
    }
    // A bad combination fails when the config is built, naming the knob.
    let r = Recipe::parse("preset = \"browser\"\ndecoder = \"mlp\"\ndecoder_depth = 2", "x.toml").unwrap();
    assert!(r.config(|| Ok(100)).unwrap_err().to_string().contains("decoder_depth 2 needs the conv-mlp decoder"));
}

#[test]
fn flags_override_the_file_and_data_is_relative_to_it() {
    let dir = common::tmpdir("recipe-flags");
    let file = dir.join("exp.toml");
    std::fs::write(&file, "preset = \"browser\"\ndata = \"images\"\nbatch = 16\nlr = 0.01\nseeds = 2\n").unwrap();
    let read = Recipe::read(&file).unwrap();
    assert_eq!(read.data.as_deref(), Some(dir.join("images").as_path()));
    let flags = Recipe { knobs: locolab::config::Overrides { batch: Some(8), ..Default::default() }, seeds: Some(3), ..Recipe::default() };
    let merged = read.under(flags);
    let cfg = merged.config(|| Ok(1000)).unwrap();
    assert_eq!((cfg.batch, cfg.lr, cfg.arch), (8, 0.01, locolab::config::Arch::PresnetTiny), "the flag's batch, the file's lr, the preset's arch");
    assert_eq!(merged.spec(cfg).seeds, 3);
}

#[test]
fn the_resolved_file_a_run_keeps_builds_the_same_config() {
    let data = Path::new("/data/somewhere");
    for preset in locolab::config::PRESETS {
        let cfg = TrainConfig { method: MethodKind::Gim, seed: 7, ..TrainConfig::preset(preset).unwrap() };
        let r = Recipe::resolved(preset, &cfg, data, None);
        let text = r.to_toml("a header\nover two lines");
        assert!(text.starts_with("# a header\n# over two lines\npreset = "), "{text}");
        let back = Recipe::parse(&text, "resolved.toml").unwrap();
        assert_eq!(back.config(|| unreachable!("steps are explicit")).unwrap(), cfg, "{preset}");
        assert_eq!(back.data.as_deref(), Some(data));
    }
    let spec: ExperimentSpec = serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/docs/results/cifar50k/experiment.json")).unwrap()).unwrap();
    let r = Recipe::resolved("cifar-scale", &spec.base, data, Some(&spec));
    let back = Recipe::parse(&r.to_toml(""), "resolved.toml").unwrap();
    assert_eq!(back.spec(back.config(|| unreachable!()).unwrap()), spec.without_commit());
}

/// Every published experiment (docs/results) has its file in experiments/, and the file gives
/// the published spec.
#[test]
fn every_published_result_has_its_experiment_file() {
    for (file, published, train_images) in [
        ("cifar50k", "docs/results/cifar50k/experiment.json", 50_000),
        ("cifar50k-gim2", "docs/results/cifar50k-gim2/experiment.json", 50_000),
        ("presnet-tiny-5k", "docs/results/experiment.json", 5_000),
    ] {
        let r = Recipe::read(Path::new(&format!("{ROOT}/experiments/{file}.toml"))).unwrap();
        let spec: ExperimentSpec = serde_json::from_str(&std::fs::read_to_string(format!("{ROOT}/{published}")).unwrap()).unwrap();
        assert_eq!(r.spec(r.config(|| Ok(train_images)).unwrap()), spec.without_commit(), "experiments/{file}.toml against {published}");
        assert!(r.data.unwrap().starts_with(format!("{ROOT}/experiments/../../shared/data")));
    }
    // The paper's file: the paper preset, 100 epochs of whatever --data gives.
    let paper = Recipe::read(Path::new(&format!("{ROOT}/experiments/paper.toml"))).unwrap();
    let cfg = paper.config(|| Ok(locolab::config::IMAGENET_TRAIN_IMAGES)).unwrap();
    assert_eq!(cfg, TrainConfig::preset("paper").unwrap());
}

/// Step-1 losses against published ones: bit for bit where this CPU runs the kernels that
/// published them (`first-steps.cpu` beside the file: [`locolab::device::cpu_kernels`]), else
/// within [`REPLAY_TOLERANCE`].
///
/// The tolerance: on an AVX2 machine the published LoCo losses came back 6e-7 off (about one
/// float ULP at 5.45: the matrix kernels sum in another order), so 5e-5 is some 100 ULPs above
/// that drift, and 10x below the smallest change a different computation makes: one step and one
/// batch later the same run's unit losses move by at least 5e-4 (checked below on the published
/// file), and another seed, augmentation or network moves them by more.
const REPLAY_TOLERANCE: f64 = 5e-5;

fn assert_replays(got: &[f64], published_file: &Path) {
    let rows: Vec<serde_json::Value> =
        std::fs::read_to_string(published_file).unwrap().lines().take(2).map(|l| serde_json::from_str(l).unwrap()).collect();
    let losses = |r: &serde_json::Value| -> Vec<f64> { r["losses"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect() };
    let (published, next) = (losses(&rows[0]), losses(&rows[1]));
    // A real change exceeds the tolerance: step 2 against step 1 of the same run.
    let moved = published.iter().zip(&next).map(|(a, b)| (a - b).abs()).fold(f64::INFINITY, f64::min);
    assert!(moved > 10.0 * REPLAY_TOLERANCE, "{}: step 2 moved a loss by only {moved}", published_file.display());
    let cpu_file = published_file.with_file_name("first-steps.cpu");
    let published_cpu = std::fs::read_to_string(&cpu_file).unwrap_or_else(|e| panic!("{}: {e}", cpu_file.display()));
    let here = locolab::device::cpu_kernels();
    if published_cpu.trim() == here {
        assert_eq!(got, published, "{} (same kernels, {here}: bit for bit)", published_file.display());
    } else {
        assert_eq!(got.len(), published.len());
        for (i, (g, p)) in got.iter().zip(&published).enumerate() {
            assert!((g - p).abs() <= REPLAY_TOLERANCE, "{} unit {i}: {g} vs published {p} (kernels {here} here, {} there)", published_file.display(), published_cpu.trim());
        }
    }
}

/// The CIFAR-scale file replays the published run: the first step of LoCo seed 0 from
/// experiments/cifar50k.toml gives the published first-step losses ([`assert_replays`]), and so
/// does the resolved file that run keeps (`--config RUN/experiment.toml`).
#[test]
fn the_cifar50k_file_replays_the_published_first_step() {
    let file = format!("{ROOT}/experiments/cifar50k.toml");
    let data = Recipe::read(Path::new(&file)).unwrap().data.unwrap();
    if !data.is_file() {
        eprintln!("SKIPPED: {} not found", data.display());
        return;
    }
    let first_losses = |metrics: &Path| -> Vec<f64> {
        let line = std::fs::read_to_string(metrics).unwrap().lines().next().unwrap().to_string();
        let row: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(row["step"], 1);
        row["losses"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect()
    };
    let published = Path::new(&format!("{ROOT}/docs/results/cifar50k/loco/seed-0/first-steps.jsonl")).to_path_buf();
    let dir = common::tmpdir("recipe-replay");
    let train_method = |method: &str, config: &Path, out: &Path| {
        let o = Command::new(env!("CARGO_BIN_EXE_locolab"))
            .args(["train", "--method", method, "--steps", "1", "--no-eval", "--config"])
            .arg(config)
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    let train = |config: &Path, out: &Path| train_method("loco", config, out);
    train(Path::new(&file), &dir.join("a"));
    assert_replays(&first_losses(&dir.join("a/metrics.jsonl")), &published);
    train(&dir.join("a/experiment.toml"), &dir.join("b"));
    assert_eq!(first_losses(&dir.join("b/metrics.jsonl")), first_losses(&dir.join("a/metrics.jsonl")), "the kept file replays its run");
    // Every finished method of the published experiment replays the same way.
    train_method("gim", Path::new(&file), &dir.join("g"));
    assert_replays(&first_losses(&dir.join("g/metrics.jsonl")), Path::new(&format!("{ROOT}/docs/results/cifar50k/gim/seed-0/first-steps.jsonl")));
    let kept = std::fs::read_to_string(dir.join("a/experiment.toml")).unwrap();
    assert!(kept.contains("preset = \"cifar-scale\"") && kept.contains("steps = 1") && kept.contains("batch = 128"), "{kept}");
}
