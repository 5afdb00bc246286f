//! Configs from every door: bad values are one-line errors naming the knob; the page's URL
//! settings fall back knob by knob.
mod common;

use burn::prelude::*;
use common::tiny as cfg;
use locolab::config::{MethodKind, Overrides, SharingMode, TrainConfig};
use locolab::Trainer;

#[test]
fn bad_configs_are_clear_errors() {
    let data = common::cifar();
    let dev = Device::flex();
    let err = |c: TrainConfig| Trainer::new(c, data.clone(), &dev).err().expect("must be rejected").to_string();
    assert!(err(TrainConfig { batch: 0, ..cfg(MethodKind::Gim) }).contains("batch must be in"));
    assert!(err(TrainConfig { temperature: 0.0, ..cfg(MethodKind::Gim) }).contains("temperature must be in"));
    assert!(err(TrainConfig { lr: f64::NAN, ..cfg(MethodKind::Gim) }).contains("lr must be in"));
    let small = std::sync::Arc::new(locolab::data::Splits { train: data.train.take(100), test: data.test.take(10) });
    let msg = Trainer::new(TrainConfig { batch: 128, ..cfg(MethodKind::Gim) }, small, &dev).err().unwrap().to_string();
    assert!(msg.contains("larger than the 100 training images"), "{msg}");
    assert!(err(TrainConfig { sharing: SharingMode::Blocks(3), ..cfg(MethodKind::Loco) }).contains("exceeds"));
    assert!("soft:abc".parse::<SharingMode>().unwrap_err().to_string().contains("soft:<coef>"));
    assert_eq!("blocks:2".parse::<SharingMode>().unwrap(), SharingMode::Blocks(2));
    assert!(TrainConfig::from_json(r#"{"method": "locoo"}"#).unwrap_err().to_string().contains("unknown method"));
    assert!(TrainConfig::from_json(r#"{"batchsize": 3}"#).unwrap_err().to_string().contains("unknown field"));
    let ok = TrainConfig::from_json(r#"{"method": "gim", "decoder": "mlp", "batch": 16}"#).unwrap();
    assert_eq!((ok.method, ok.batch), (MethodKind::Gim, 16));
}

#[test]
fn url_settings_keep_the_good_knobs_and_name_the_bad_ones() {
    let pairs: Vec<(String, String)> = [("batch", "0"), ("lr", "0.01"), ("temperature", "NaN"), ("sharing", "upper-only"), ("colour", "red")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let l = Overrides::lenient(Some("browser"), "browser", &pairs);
    assert_eq!(l.preset, "browser");
    assert_eq!((l.overrides.batch, l.overrides.lr, l.overrides.sharing), (None, Some(0.01), Some(SharingMode::UpperOnly)));
    assert_eq!(l.warnings.len(), 3, "{:?}", l.warnings);
    assert_eq!(l.warnings[0], "batch=0 ignored: batch must be in [2, 4096], got 0");
    assert!(l.warnings[1].starts_with("temperature=NaN ignored: invalid type: string \"NaN\""), "{:?}", l.warnings);
    assert_eq!(l.warnings[2], "unknown setting 'colour' ignored");
    let c = TrainConfig::preset_with(&l.preset, &l.overrides).unwrap();
    assert_eq!((c.batch, c.lr), (32, 0.01));
    let unknown = Overrides::lenient(Some("huge"), "browser", &[]);
    assert_eq!((unknown.preset.as_str(), unknown.warnings[0].as_str()), ("browser", "unknown preset 'huge' ignored; using 'browser'"));
}

#[test]
fn a_url_setting_given_twice_counts_once_and_says_so() {
    let pairs: Vec<(String, String)> = [("proj_dim", "1"), ("proj_dim", "null"), ("batch", "8"), ("batch", "16")]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let l = Overrides::lenient(None, "browser", &pairs);
    assert_eq!((l.overrides.proj_dim, l.overrides.batch), (None, Some(16)));
    assert_eq!(l.warnings, ["proj_dim=1 ignored: proj_dim is given again later", "batch=8 ignored: batch is given again later"]);
}

/// The paper's recipe (issue 23): LARS at 0.3 x batch/256, warm-up and schedule in epochs.
#[test]
fn the_learning_rate_follows_the_batch_by_the_stated_rule() {
    use locolab::config::LrScaling;
    let paper = TrainConfig::preset("paper").unwrap();
    assert_eq!((paper.batch, paper.lr, paper.lr_scaling), (4096, 0.3, LrScaling::Linear));
    assert!((paper.peak_lr() - 4.8).abs() < 1e-12, "the paper's lr 4.8 at batch 4096");
    let at = |batch, lr_scaling| TrainConfig { batch, lr_scaling, ..paper.clone() }.peak_lr();
    assert!((at(512, LrScaling::Linear) - 0.6).abs() < 1e-12);
    assert!((at(64, LrScaling::Sqrt) - 0.15).abs() < 1e-12, "0.3 x sqrt(64/256)");
    assert_eq!(at(64, LrScaling::None), 0.3);
    // Our Adam presets do not scale: their rate is the one they were tuned at.
    for p in ["cifar", "browser", "imagenet", "cifar-scale"] {
        let c = TrainConfig::preset(p).unwrap();
        assert_eq!(c.peak_lr(), c.lr, "{p}");
    }
    // The schedule reaches the scaled peak at the end of the warm-up.
    let c = TrainConfig { batch: 512, steps: 100, warmup_steps: 10, ..paper.clone() };
    assert!((locolab::optim::learning_rate(&c, 9) - 0.6).abs() < 1e-12);
    assert!(locolab::optim::learning_rate(&c, 99) < 1e-3);
    // Configs written before the knob existed ran unscaled, and still do.
    let old: TrainConfig = serde_json::from_str(r#"{"optimizer": "lars", "lr": 0.5, "batch": 512}"#).unwrap();
    assert_eq!(old.peak_lr(), 0.5);
}

#[test]
fn epochs_size_the_schedule_and_the_paper_warm_up() {
    let o = Overrides::default();
    // 100 epochs of ImageNet at 4096 and 10 warm-up epochs, as the paper.
    let paper = TrainConfig::preset("paper").unwrap();
    assert_eq!((paper.steps, paper.warmup_steps), (31_279, 3_128));
    let small = TrainConfig::preset_for_epochs("paper", &Overrides { batch: Some(64), ..o.clone() }, 2.0, 5_000).unwrap();
    assert_eq!((small.steps, small.warmup_steps), (157, 782), "10 warm-up epochs of 5,000 images at 64 outlast a 2-epoch run");
    let set = TrainConfig::preset_for_epochs("paper", &Overrides { batch: Some(64), warmup_steps: Some(5), ..o.clone() }, 2.0, 5_000).unwrap();
    assert_eq!(set.warmup_steps, 5, "explicit warm-up steps win");
    // Presets without warm-up epochs keep the step rule.
    let cifar = TrainConfig::preset_for_epochs("cifar-scale", &o, 10.0, 50_000).unwrap();
    assert_eq!((cifar.steps, cifar.warmup_steps), (3_907, 10));
    let both = TrainConfig::preset_for_epochs("cifar", &Overrides { steps: Some(5), ..o.clone() }, 1.0, 100).unwrap_err();
    assert!(both.to_string().contains("give --steps or --epochs, not both"));
    assert!(TrainConfig::preset_for_epochs("cifar", &o, 0.0, 100).unwrap_err().to_string().contains("--epochs must be a positive number"));
}

/// The `cifar-scale` preset is the recipe of the published CIFAR-scale comparison: its
/// experiment.json says so field by field.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_cifar_scale_preset_is_the_published_comparison() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/results/cifar50k/experiment.json")).unwrap();
    let spec: locolab::experiment::ExperimentSpec = serde_json::from_str(&text).unwrap();
    let preset = TrainConfig::preset_for_epochs("cifar-scale", &Overrides::default(), 10.0, 50_000).unwrap();
    assert_eq!(spec.base, preset);
}

/// The paper's batch does not fit here: the memory check says so and names the batch that does.
#[test]
fn the_paper_preset_names_the_largest_batch_that_fits() {
    let paper = TrainConfig::preset("paper").unwrap();
    let err = locolab::memory::check_fits(&paper, 24 << 30, "24 GiB").unwrap_err().to_string();
    assert!(err.contains("batch 4096") && err.contains("use batch "), "{err}");
    let fits: usize = err.rsplit("use batch ").next().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert!(fits >= 8 && fits < 4096, "{err}");
    locolab::memory::check_fits(&TrainConfig { batch: fits, ..paper.clone() }, 24 << 30, "24 GiB").unwrap();
    assert!(locolab::memory::check_fits(&TrainConfig { batch: fits + 1, ..paper }, 24 << 30, "24 GiB").is_err());
}

/// The `paper` preset trains here at a batch that fits: PResNet-50 at 224, LARS at the scaled
/// rate, one step.
#[cfg(not(target_arch = "wasm32"))]
#[test]
fn the_paper_preset_runs_a_step_at_a_batch_that_fits() {
    let cfg = TrainConfig { batch: 2, steps: 2, warmup_steps: 1, ..TrainConfig::preset("paper").unwrap() };
    locolab::memory::check_fits(&cfg, 24 << 30, "24 GiB").unwrap();
    let mut t = Trainer::new(cfg, common::cifar(), &Device::flex()).unwrap();
    let r = t.step().unwrap();
    assert_eq!(r.losses.len(), 5, "LoCo on PResNet-50: five units");
    assert!(r.losses.iter().all(|l| l.is_finite()));
    assert!((r.lr - 0.3 * 2.0 / 256.0).abs() < 1e-12, "the rate follows the batch: {}", r.lr);
}

/// The knob table is the config: every field is a knob, and each knob's kind, range and page
/// control come with it (the page builds its settings from this table).
#[test]
fn every_config_field_is_one_knob_of_the_table() {
    use locolab::config::KNOBS;
    // (Optional knobs are left out of the JSON when unset: set them.)
    let json = serde_json::to_value(TrainConfig { blocks: Some(3), ..TrainConfig::preset("paper").unwrap() }).unwrap();
    let fields: Vec<&String> = json.as_object().unwrap().keys().collect();
    let mut names: Vec<&str> = KNOBS.iter().map(|k| k.name).collect();
    names.sort();
    assert_eq!(fields, names, "TrainConfig's fields and the knob table");
    let knob = |n: &str| KNOBS.iter().find(|k| k.name == n).unwrap();
    assert_eq!((knob("batch").kind, knob("batch").range), ("integer", Some((2.0, 4096.0))));
    assert_eq!((knob("lr").kind, knob("warmup_epochs").kind, knob("sharing").kind), ("number", "number", "text"));
    assert_eq!((knob("optimizer").kind, knob("optimizer").values), ("choice", &["adam", "sgd", "lars"][..]));
    let decoder = knob("decoder").page.expect("the page offers the decoder");
    assert_eq!(decoder.options.iter().map(|o| o.0).collect::<Vec<_>>(), ["conv-mlp", "mlp"]);
    // Every option the page offers is a value the knob accepts.
    for k in KNOBS.iter().filter(|k| k.page.is_some()) {
        for (value, _) in k.page.unwrap().options {
            let one = serde_json::json!({ k.name: value });
            assert!(serde_json::from_value::<Overrides>(one).is_ok(), "{} offers {value}", k.name);
        }
    }
    // A declared range is checked by validate, with the knob's name.
    let e = TrainConfig { steps: 0, ..TrainConfig::default() }.validate().unwrap_err().to_string();
    assert!(e.contains("steps must be in [1, 1000000000000], got 0"), "{e}");
    let e = TrainConfig { module_stages: 0, ..TrainConfig::default() }.validate().unwrap_err().to_string();
    assert!(e.contains("module_stages must be in [1, 64]"), "{e}");
}
