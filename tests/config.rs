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
