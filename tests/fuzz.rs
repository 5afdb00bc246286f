//! Property tests of every reader of bytes from outside: random and mutated input to the CIFAR
//! reader, the tar.gz reader, the checkpoint loader and the config parsers must give a value or
//! an error, never a panic (proptest reports a panic as a failure, with the shrunk input).
//! Case counts are per property; `PROPTEST_CASES` raises them for a longer hunt.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::io::Write;

use burn::prelude::*;
use locolab::checkpoint;
use locolab::config::{Arch, MethodKind, Overrides, SharingMode, TrainConfig};
use locolab::data::cifar::{self, load_archive_from, RECORD};
use locolab::Trainer;
use proptest::prelude::*;

fn cases(n: u32) -> ProptestConfig {
    let n = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(n);
    ProptestConfig { cases: n, failure_persistence: None, ..ProptestConfig::default() }
}

/// A few real records, the seed that mutations start from.
fn real_records(n: usize) -> Vec<u8> {
    let d = common::cifar();
    (0..n).flat_map(|i| std::iter::once(d.train.labels[i] as u8).chain(d.train.image(i).pixels.to_vec())).collect()
}

fn archive(records: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    {
        let mut tar = tar::Builder::new(&mut gz);
        for name in ["cifar-10-batches-bin/data_batch_1.bin", "cifar-10-batches-bin/test_batch.bin"] {
            let mut h = tar::Header::new_gnu();
            h.set_size(records.len() as u64);
            h.set_mode(0o644);
            h.set_cksum();
            tar.append_data(&mut h, name, records).unwrap();
        }
        tar.finish().unwrap();
    }
    gz.flush().unwrap();
    gz.finish().unwrap()
}

/// Flip, overwrite, cut or extend bytes of `seed` at positions drawn from `edits`.
fn mutate(seed: &[u8], edits: &[(u32, u8, u8)]) -> Vec<u8> {
    let mut v = seed.to_vec();
    for &(pos, byte, op) in edits {
        if v.is_empty() {
            v.push(byte);
            continue;
        }
        let i = pos as usize % v.len();
        match op % 4 {
            0 => v[i] ^= byte | 1,
            1 => v[i] = byte,
            2 => v.truncate(i),
            _ => v.insert(i, byte),
        }
    }
    v
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn cifar_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..4 * RECORD)) {
        if let Ok(d) = cifar::from_bytes(&bytes, "fuzz") {
            prop_assert_eq!(d.len() * RECORD, bytes.len());
            prop_assert!(d.labels.iter().all(|&l| l < 10));
        }
    }

    /// The image-folder decoder on mutated JPEG and PNG files: an image or a one-line reason.
    #[test]
    fn image_decoder_never_panics(png in any::<bool>(), edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 1..8)) {
        static SEEDS: std::sync::OnceLock<[Vec<u8>; 2]> = std::sync::OnceLock::new();
        let seeds = SEEDS.get_or_init(|| {
            let img = image::RgbImage::from_fn(24, 20, |x, y| image::Rgb([(x * 9) as u8, (y * 11) as u8, ((x ^ y) * 5) as u8]));
            let encode = |f| {
                let mut v = Vec::new();
                img.write_to(&mut std::io::Cursor::new(&mut v), f).unwrap();
                v
            };
            [encode(image::ImageFormat::Jpeg), encode(image::ImageFormat::Png)]
        });
        match locolab::data::folder::decode(&mutate(&seeds[png as usize], &edits)) {
            Ok((w, h, chw)) => prop_assert_eq!(chw.len(), 3 * w * h),
            Err(why) => prop_assert!(!why.contains('\n') && !why.is_empty(), "{}", why),
        }
    }

    #[test]
    fn cifar_reader_on_mutated_records(edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 1..8)) {
        let _ = cifar::from_bytes(&mutate(&real_records(3), &edits), "fuzz");
    }

    #[test]
    fn archive_reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = load_archive_from(bytes.as_slice(), "fuzz");
    }

    #[test]
    fn archive_reader_on_mutated_archives(edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 1..6)) {
        let good = archive(&real_records(2));
        let _ = load_archive_from(mutate(&good, &edits).as_slice(), "fuzz");
    }

    #[test]
    fn config_parsers_never_panic(s in ".{0,80}", json in "\\{(\"[a-z_]{1,12}\": ?(-?[0-9e.]{1,8}|\"[a-z0-9:.-]{0,10}\"|null|true|\\[\\]),? ?){0,5}\\}") {
        let _ = s.parse::<SharingMode>();
        let _ = s.parse::<MethodKind>();
        let _ = s.parse::<Arch>();
        let _ = TrainConfig::from_json(&s);
        let _ = TrainConfig::from_json(&json);
        if let Ok(o) = serde_json::from_str::<Overrides>(&json) {
            let _ = TrainConfig::preset_with("browser", &o);
        }
    }

    #[test]
    fn preset_with_any_numbers_is_valid_or_an_error(
        batch in any::<usize>(), input in any::<usize>(), steps in any::<usize>(),
        lr in any::<f64>(), temperature in any::<f64>(), wd in any::<f64>(), proj in any::<usize>(),
    ) {
        let o = Overrides { batch: Some(batch), input: Some(input % 1024), steps: Some(steps), lr: Some(lr),
            temperature: Some(temperature), weight_decay: Some(wd), proj_dim: Some(proj % 4096), ..Overrides::default() };
        if let Ok(c) = TrainConfig::preset_with("browser", &o) {
            prop_assert!(c.validate().is_ok());
        }
    }
}

proptest! {
    #![proptest_config(cases(512))]

    /// The page's URL settings: any keys and texts give a config that validates, and every
    /// dropped setting is named in a warning.
    #[test]
    fn lenient_url_settings_always_validate(
        preset in proptest::option::of("(browser|cifar|imagenet|[a-z]{0,8})"),
        pairs in proptest::collection::vec((
            "(batch|lr|temperature|seed|sharing|decoder|arch|input|steps|method|optimizer|proj_dim|[a-z_]{1,10})",
            "(-?[0-9]{1,25}(\\.[0-9]{0,4})?(e-?[0-9]{1,3})?|NaN|inf|-inf|null|true|\\[\\]|\\{\\}|\"x\"|[a-z0-9:.-]{0,12}|.{0,20})",
        ), 0..8),
    ) {
        let l = Overrides::lenient(preset.as_deref(), "browser", &pairs);
        let cfg = TrainConfig::preset_with(&l.preset, &l.overrides);
        prop_assert!(cfg.is_ok(), "{:?} -> {:?}: {:?}", pairs, l, cfg.err());
        // Every setting is either applied or named in a warning (or all were dropped together).
        let set = serde_json::to_value(&l.overrides).unwrap();
        let together = l.warnings.iter().any(|w| w.contains("do not fit together"));
        for (k, v) in &pairs {
            let applied = set.get(k).is_some_and(|x| !x.is_null()) || v == "null";
            let named = l.warnings.iter().any(|w| w.contains(&format!("{k}=")) || w.contains(&format!("'{k}'")));
            prop_assert!(applied || named || together, "{k}={v} neither applied nor warned: {:?}", l);
        }
    }
}

/// A checkpoint folder whose files are mutated and whose state.json is then made to agree with
/// them, so the bytes reach burn's reader past our size/hash check.
fn checkpoint_seed() -> (std::path::PathBuf, Vec<u8>, String) {
    let dir = common::tmpdir("fuzz-ck-seed");
    let c = TrainConfig { arch: Arch::PresnetTiny, method: MethodKind::Gim, batch: 8, steps: 2, ..TrainConfig::default() };
    let mut t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
    t.step().unwrap();
    checkpoint::write_to(&t.snapshot(checkpoint::Contents::Full).unwrap(), &dir.join("ck")).unwrap();
    let model = std::fs::read(dir.join("ck/model.bpk")).unwrap();
    let state = std::fs::read_to_string(dir.join("ck/state.json")).unwrap();
    (dir, model, state)
}

proptest! {
    #![proptest_config(cases(48))]

    #[test]
    fn checkpoint_loader_never_panics(
        edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 1..6),
        state_edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 0..3),
        which in 0u8..3,
    ) {
        static SEED: std::sync::OnceLock<(std::path::PathBuf, Vec<u8>, String)> = std::sync::OnceLock::new();
        let (seed_dir, model, state) = SEED.get_or_init(checkpoint_seed);
        let dir = seed_dir.join(format!("case-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        for f in std::fs::read_dir(seed_dir.join("ck")).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), dir.join(f.file_name())).unwrap();
        }
        match which {
            // Mutated weights, state.json updated to match: burn's reader sees the bytes.
            0 | 1 => {
                let bad = mutate(model, &edits);
                std::fs::write(dir.join("model.bpk"), &bad).unwrap();
                let mut v: serde_json::Value = serde_json::from_str(state).unwrap();
                v["files"]["model.bpk"] = serde_json::to_value(checkpoint::file_sum(&dir.join("model.bpk")).unwrap()).unwrap();
                std::fs::write(dir.join("state.json"), v.to_string()).unwrap();
                if let Err(e) = locolab::Trainer::load(&dir, common::cifar(), &Device::flex()) {
                    let msg = e.to_string();
                    prop_assert!(!msg.contains('\n'), "{}", msg);
                }
            }
            // Mutated state.json.
            _ => {
                let bad = mutate(state.as_bytes(), &state_edits);
                std::fs::write(dir.join("state.json"), &bad).unwrap();
                let _ = locolab::Trainer::load(&dir, common::cifar(), &Device::flex());
            }
        }
    }
}

proptest! {
    #![proptest_config(cases(96))]

    /// Mutated bundles (the page's saved-model file, also read by `locolab eval`): a trainer
    /// or an error, never a panic; the tar reader sees every mutation.
    #[test]
    fn bundle_reader_never_panics(edits in proptest::collection::vec((any::<u32>(), any::<u8>(), any::<u8>()), 1..6)) {
        static SEED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
        let seed = SEED.get_or_init(|| {
            let c = TrainConfig { arch: Arch::PresnetTiny, method: MethodKind::Loco, batch: 8, steps: 2, ..TrainConfig::default() };
            let t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
            t.snapshot(checkpoint::Contents::Full).and_then(|s| s.to_bundle()).unwrap()
        });
        // Mutations land in the headers and state.json (the first 2 KiB) as often as elsewhere.
        let head = mutate(&seed[..2048], &edits[..edits.len() / 2]);
        let bad = mutate(&[head.as_slice(), &seed[2048..]].concat(), &edits[edits.len() / 2..]);
        let loaded = checkpoint::read_bundle(&bad, "fuzz.tar").and_then(|s| Trainer::from_snapshot(&s, common::cifar(), &Device::flex()));
        if let Err(e) = loaded {
            let msg = e.to_string();
            prop_assert!(!msg.contains('\n'), "{}", msg);
        }
    }
}

