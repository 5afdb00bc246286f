//! Checkpoints: a resumed run continues exactly; a damaged, foreign or half-written checkpoint
//! is a one-line error that names the file, and never the one `--resume` picks.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::path::Path;

use burn::prelude::*;
use locolab::checkpoint::{self, step_dir_name, SUBDIR};
use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::cadence::Cadence;
use locolab::run::Run;
use locolab::Trainer;

fn cfg(method: MethodKind) -> TrainConfig {
    TrainConfig { arch: Arch::PresnetTiny, method, batch: 16, steps: 6, warmup_steps: 1, ..TrainConfig::default() }
}

/// A run directory with checkpoints at steps 2 and 4 (checkpoint every 2, stopped at 4).
fn run_with_checkpoints(name: &str, method: MethodKind) -> std::path::PathBuf {
    let dir = common::tmpdir(name);
    let mut run = Run::start(&dir, cfg(method), common::cifar(), &Device::flex(), &[]).unwrap();
    run.train(&Cadence { monitor_every: None, save_every: 2, end: 4 }, false, &mut ()).unwrap();
    dir
}

fn one_line(e: &locolab::Error) -> String {
    let s = e.to_string();
    assert!(!s.contains('\n') && s.len() < 400, "not a one-line message: {s}");
    s
}

#[test]
fn resumed_run_continues_with_the_same_losses() {
    let dir = run_with_checkpoints("resume", MethodKind::Loco);
    let mut whole = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    let reference = whole.run(6, |_| {}).unwrap();
    let mut run = Run::resume(&dir, common::cifar(), &Device::flex(), &[]).unwrap();
    assert_eq!(run.trainer.step_count(), 4);
    run.train(&Cadence { monitor_every: None, save_every: 2, end: 6 }, false, &mut ()).unwrap();
    let logged: Vec<locolab::StepReport> = locolab::run::read_jsonl(&dir.join("metrics.jsonl"));
    assert_eq!(logged.iter().map(|r| r.step).collect::<Vec<_>>(), (1..=6).collect::<Vec<_>>());
    for (a, b) in reference.iter().zip(&logged) {
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 1e-4, "step {}: {x} uninterrupted vs {y} resumed", a.step);
        }
    }
}

#[test]
fn resume_skips_a_truncated_newest_checkpoint() {
    let dir = run_with_checkpoints("truncated", MethodKind::Gim);
    let newest = dir.join(SUBDIR).join(step_dir_name(4));
    let model = newest.join("model.bpk");
    let bytes = std::fs::read(&model).unwrap();
    std::fs::write(&model, &bytes[..bytes.len() / 2]).unwrap();
    // The folder itself is refused with the file and the cause ...
    let e = locolab::Trainer::load(&newest, common::cifar(), &Device::flex()).err().unwrap();
    let msg = one_line(&e);
    assert!(msg.contains("model.bpk") && msg.contains("truncated"), "{msg}");
    // ... and the run directory falls back to the previous complete checkpoint.
    let loaded = locolab::Trainer::load(&dir, common::cifar(), &Device::flex()).unwrap();
    assert_eq!(loaded.trainer.step_count(), 2);
}

#[test]
fn a_half_written_checkpoint_is_never_the_latest() {
    let dir = run_with_checkpoints("partial", MethodKind::Simclr);
    // What a kill during a write leaves: a .partial folder with some of the files.
    let partial = dir.join(SUBDIR).join(format!(".partial-{}-99999", step_dir_name(6)));
    std::fs::create_dir_all(&partial).unwrap();
    std::fs::write(partial.join("model.bpk"), b"half").unwrap();
    let loaded = locolab::Trainer::load(&dir, common::cifar(), &Device::flex()).unwrap();
    assert_eq!(loaded.trainer.step_count(), 4);
    // The next save clears the leftover and keeps two checkpoints.
    checkpoint::save(&loaded.trainer.snapshot(checkpoint::Contents::Full).unwrap(), &dir, 2).unwrap();
    let names: Vec<String> = std::fs::read_dir(dir.join(SUBDIR)).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.starts_with(".partial")), "{names:?}");
}

#[test]
fn foreign_and_future_checkpoints_are_one_line_errors() {
    let tiny = run_with_checkpoints("foreign-a", MethodKind::Simclr);
    let tiny_ck = tiny.join(SUBDIR).join(step_dir_name(4));
    // A checkpoint of another architecture, its state.json copied over this one's.
    let other = common::tmpdir("foreign-b");
    let c = TrainConfig { arch: Arch::PresnetCifar, steps: 1, ..cfg(MethodKind::Simclr) };
    let t = Trainer::new(c, common::cifar(), &Device::flex()).unwrap();
    let other_ck = other.join("ck");
    checkpoint::write_to(&t.snapshot(checkpoint::Contents::Full).unwrap(), &other_ck).unwrap();
    std::fs::copy(other_ck.join("state.json"), tiny_ck.join("state.json")).unwrap();
    let msg = one_line(&locolab::Trainer::load(&tiny_ck, common::cifar(), &Device::flex()).err().unwrap());
    assert!(msg.contains("model.bpk"), "{msg}");
    // Another format version.
    let state = std::fs::read_to_string(other_ck.join("state.json")).unwrap();
    let v = format!("\"version\": {}", checkpoint::FORMAT_VERSION);
    assert!(state.contains(&v));
    std::fs::write(other_ck.join("state.json"), state.replace(&v, "\"version\": 99")).unwrap();
    let msg = one_line(&locolab::Trainer::load(&other_ck, common::cifar(), &Device::flex()).err().unwrap());
    assert!(msg.contains("format 99") && msg.contains("state.json"), "{msg}");
    // Not a checkpoint at all.
    let msg = one_line(&locolab::Trainer::load(Path::new("/nonexistent"), common::cifar(), &Device::flex()).err().unwrap());
    assert!(msg.contains("/nonexistent") && msg.contains("does not exist"), "{msg}");
}

#[test]
fn weights_only_checkpoints_evaluate_but_do_not_resume() {
    let dir = common::tmpdir("weights-only");
    let t = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    checkpoint::write_to(&t.snapshot(checkpoint::Contents::WeightsOnly).unwrap(), &dir.join("final")).unwrap();
    let loaded = locolab::Trainer::load(&dir.join("final"), common::cifar(), &Device::flex()).unwrap();
    assert!(!loaded.resumable);
    let e = Run::resume(&dir.join("final"), common::cifar(), &Device::flex(), &[]).err().unwrap();
    assert!(one_line(&e).contains("weights only"), "{e}");
}

/// The page's one-file checkpoint: a tar of the same files a folder holds. It resumes exactly,
/// `locolab eval --checkpoint file.tar` reads it, and bad bundles are one-line errors.
#[test]
fn a_bundle_holds_the_folder_files_and_resumes_exactly() {
    let dir = common::tmpdir("bundle");
    let mut t = Trainer::new(cfg(MethodKind::Loco), common::cifar(), &Device::flex()).unwrap();
    t.run(2, |_| {}).unwrap();
    let bundle = t.snapshot(checkpoint::Contents::Full).and_then(|s| s.to_bundle()).unwrap();
    assert_eq!(bundle, t.snapshot(checkpoint::Contents::Full).and_then(|s| s.to_bundle()).unwrap(), "bundles are reproducible");
    // The same bytes as a checkpoint folder's files.
    checkpoint::write_to(&t.snapshot(checkpoint::Contents::Full).unwrap(), &dir.join("ck")).unwrap();
    let snap = checkpoint::read_bundle(&bundle, "b.tar").unwrap();
    assert_eq!(snap.step, 2);
    let (_, files) = snap.files();
    for (name, bytes) in &files {
        assert_eq!(*bytes, &std::fs::read(dir.join("ck").join(name)).unwrap()[..], "{name}");
    }
    assert_eq!(files.keys().collect::<Vec<_>>(), ["model.bpk", "optim.bpk"]);
    // Loaded from a file, it continues with the losses of the uninterrupted trainer.
    let file = dir.join("b.tar");
    std::fs::write(&file, &bundle).unwrap();
    let mut loaded = locolab::Trainer::load(&file, common::cifar(), &Device::flex()).unwrap();
    assert!(loaded.resumable);
    assert_eq!((loaded.trainer.step_count(), loaded.trainer.images_seen()), (2, t.images_seen()));
    let (a, b) = (t.step().unwrap(), loaded.trainer.step().unwrap());
    assert_eq!(a.step, 3);
    for (x, y) in a.losses.iter().zip(&b.losses) {
        assert!((x - y).abs() < 1e-5, "{x} vs {y}");
    }

    // Not a bundle, a truncated one, one whose weights were swapped: named, one line.
    let e = checkpoint::read_bundle(b"hello", "notes.tar").err().unwrap();
    assert!(one_line(&e).contains("notes.tar is not a LoCo Lab checkpoint"), "{e}");
    let e = checkpoint::read_bundle(&bundle[..4096], "cut.tar").err().unwrap();
    let msg = one_line(&e);
    assert!(msg.contains("cut.tar") && msg.contains("truncated"), "{msg}");
    let mut swapped = bundle.clone();
    let at = swapped.len() / 2;
    swapped[at] ^= 0x55;
    let e = checkpoint::read_bundle(&swapped, "x.tar").err().unwrap();
    assert!(one_line(&e).contains("does not match the hash"), "{e}");
}
