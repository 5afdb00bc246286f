//! Image-folder datasets: a tree the test writes itself (JPEG and PNG, mixed sizes and colour
//! modes) read through `data::open`, trained on end to end, and every kind of bad input named
//! in one line.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::prelude::*;
use image::{DynamicImage, GrayImage, ImageFormat, Rgb, RgbImage, Rgba, RgbaImage};
use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::data::folder::{self, FolderOptions};
use locolab::data::{self, Splits};
use locolab::eval::{evaluate, EvalOptions};
use locolab::Trainer;

use common::tmpdir;

const CLASSES: [&str; 3] = ["cat", "dog", "zebra"];

/// A picture that differs by class (so training has something to find) and by index.
fn picture(class: usize, i: usize, w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let stripe = ((x + y * class as u32 + i as u32) / 4) % 2 == 0;
        let base = [(60 * class) as u8, (200 - 50 * class) as u8, (17 * i) as u8];
        if stripe {
            Rgb(base)
        } else {
            Rgb([base[0] / 2 + 100, base[1] / 3, 255 - base[2]])
        }
    })
}

/// One image of every mode: RGB JPEG, gray JPEG, RGBA PNG, gray PNG, RGB PNG; sizes vary.
fn save(path: &Path, class: usize, i: usize) {
    let (w, h) = [(40, 30), (64, 100), (120, 80), (33, 33), (90, 70)][i % 5];
    let rgb = picture(class, i, w, h);
    let img = match i % 5 {
        0 => DynamicImage::ImageRgb8(rgb),
        1 => DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(rgb).to_luma8()),
        2 => DynamicImage::ImageRgba8(RgbaImage::from_fn(w, h, |x, y| {
            let p = rgb.get_pixel(x, y);
            Rgba([p[0], p[1], p[2], 128])
        })),
        3 => DynamicImage::ImageLuma8(GrayImage::from_fn(w, h, |x, _| image::Luma([(x * 7) as u8]))),
        _ => DynamicImage::ImageRgb8(rgb),
    };
    let (ext, fmt) = if matches!(i % 5, 0 | 1) { ("jpg", ImageFormat::Jpeg) } else { ("png", ImageFormat::Png) };
    img.save_with_format(path.join(format!("{i:03}.{ext}")), fmt).unwrap();
}

/// `root/train/<class>/` with `per_class` images and `root/<eval>/<class>/` with 4.
fn write_tree(root: &Path, eval: &str, per_class: usize) {
    for (c, name) in CLASSES.iter().enumerate() {
        for (split, n) in [("train", per_class), (eval, 4)] {
            let dir = root.join(split).join(name);
            std::fs::create_dir_all(&dir).unwrap();
            for i in 0..n {
                save(&dir, c, i);
            }
        }
    }
}

fn open(dir: &Path) -> locolab::Result<data::Opened> {
    data::open(dir, FolderOptions::default())
}

fn err(dir: &Path) -> String {
    let msg = open(dir).err().expect("bad input must be an error").to_string();
    assert!(!msg.contains('\n'), "one line: {msg}");
    msg
}

#[test]
fn a_folder_tree_of_mixed_images_loads_with_sorted_classes() {
    let root = tmpdir("folder-ok");
    write_tree(&root, "val", 10);
    let opened = open(&root).unwrap();
    let d = &opened.splits;
    assert_eq!(d.train.classes, CLASSES.map(String::from).to_vec());
    assert_eq!((d.train.len(), d.test.len()), (30, 12));
    assert_eq!(d.train.labels.iter().filter(|&&l| l == 2).count(), 10);
    let sizes: Vec<(usize, usize)> = (0..5).map(|i| (d.train.image(i).w, d.train.image(i).h)).collect();
    assert_eq!(sizes, [(40, 30), (64, 100), (120, 80), (33, 33), (90, 70)], "files in sorted order, any size");
    assert!(opened.description.starts_with("image folder") && opened.description.contains("3 classes (cat, dog, zebra)"), "{}", opened.description);
    // A gray image comes out with three equal planes.
    let gray = d.train.image(1);
    let plane = gray.w * gray.h;
    assert_eq!(&gray.pixels[..plane], &gray.pixels[plane..2 * plane]);
    // `test/` is accepted as the evaluation split too.
    let other = tmpdir("folder-test-split");
    write_tree(&other, "test", 2);
    assert_eq!(open(&other).unwrap().splits.test.len(), 12);
}

#[test]
fn trains_and_evaluates_on_a_folder_at_another_input_size() {
    let root = tmpdir("folder-train");
    write_tree(&root, "val", 12);
    let data = Arc::new(open(&root).unwrap().splits);
    for method in [MethodKind::Simclr, MethodKind::Loco] {
        let cfg = TrainConfig { arch: Arch::PresnetTiny, method, input: 48, batch: 8, steps: 3, warmup_steps: 1, ..TrainConfig::default() };
        let mut t = Trainer::new(cfg, data.clone(), &Device::flex()).unwrap();
        t.set_loader_workers(2);
        let reports = t.run(3, |_| {}).unwrap();
        assert!(reports.iter().all(|r| r.losses.iter().all(|l| l.is_finite())));
        assert!((reports[2].epoch - 24.0 / 36.0).abs() < 1e-9, "epoch = images seen / train images: {}", reports[2].epoch);
        let acc = evaluate(&t, &EvalOptions { every_stage: true, ..EvalOptions::default() }).unwrap();
        assert_eq!(acc.len(), t.spec().stage_names().len());
        assert!(acc.iter().all(|a| (0.0..=100.0).contains(&a.knn) && a.linear.is_some()));
    }
}

#[test]
fn the_larger_images_get_the_imagenet_recipe_and_a_centre_crop() {
    use locolab::data::augment::{plain, Augment};
    let root = tmpdir("folder-recipe");
    write_tree(&root, "val", 5);
    let d = open(&root).unwrap().splits;
    let aug = Augment::for_data(64, &d.train);
    assert_eq!((aug.scale.0, aug.blur_p), (0.08, 0.5), "images above 64 px: the ImageNet recipe");
    assert_eq!(Augment::for_data(32, &common::cifar().train).blur_p, 0.0, "CIFAR keeps its recipe");
    let v = aug.views(&d.train, &[(2, 0), (4, 1)], 3);
    assert_eq!(v.data.len(), 2 * 2 * 3 * 64 * 64);
    assert!(v.data.iter().all(|x| x.is_finite()));
    assert_eq!(plain(&d.test, &[0, 1, 2], 64).len(), 3 * 3 * 64 * 64);
}

/// A small valid tree with one file replaced or added; returns the root.
fn broken(name: &str, edit: impl FnOnce(&Path)) -> PathBuf {
    let root = tmpdir(name);
    write_tree(&root, "val", 3);
    edit(&root);
    root
}

#[test]
fn bad_input_is_one_line_naming_the_file_and_the_cause() {
    let truncated = broken("bad-truncated", |r| {
        let f = r.join("train/dog/000.jpg");
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() / 3]).unwrap();
    });
    let msg = err(&truncated);
    assert!(msg.contains("train/dog/000.jpg") && msg.contains("--skip-bad-images"), "{msg}");
    // --skip-bad-images: skipped, counted, named; the rest loads.
    let opened = data::open(&truncated, FolderOptions { skip_bad: true, ..FolderOptions::default() }).unwrap();
    assert_eq!((opened.skipped.len(), opened.splits.train.len()), (1, 8));
    assert!(opened.skipped[0].contains("000.jpg") && opened.description.contains("1 unreadable files skipped"));

    let text = broken("bad-text", |r| std::fs::write(r.join("train/cat/notes.txt"), "hello").unwrap());
    let msg = err(&text);
    assert!(msg.contains("notes.txt") && msg.contains("not a JPEG or PNG"), "{msg}");

    let empty = broken("bad-empty-class", |r| std::fs::create_dir_all(r.join("train/emu")).unwrap());
    let msg = err(&empty);
    assert!(msg.contains("different class folders") && msg.contains("emu"), "{msg}");
    let empty_both = broken("bad-empty-both", |r| {
        std::fs::create_dir_all(r.join("train/emu")).unwrap();
        std::fs::create_dir_all(r.join("val/emu")).unwrap();
    });
    let msg = err(&empty_both);
    assert!(msg.contains("train/emu holds no files"), "{msg}");

    let no_classes = tmpdir("bad-no-classes");
    std::fs::create_dir_all(no_classes.join("train")).unwrap();
    std::fs::create_dir_all(no_classes.join("val")).unwrap();
    assert!(err(&no_classes).contains("has no class folders"));

    let no_val = tmpdir("bad-no-val");
    std::fs::create_dir_all(no_val.join("train/cat")).unwrap();
    assert!(err(&no_val).contains("no val/ or test/"));

    let tiny = broken("bad-1x1", |r| RgbImage::new(1, 1).save(r.join("val/zebra/tiny.png")).unwrap());
    let msg = err(&tiny);
    assert!(msg.contains("tiny.png") && msg.contains("1x1"), "{msg}");

    let bomb = broken("bad-bomb", |r| std::fs::write(r.join("train/cat/bomb.png"), bomb_png()).unwrap());
    let msg = err(&bomb);
    assert!(msg.contains("bomb.png") && msg.contains("pixel limit"), "{msg}");

    #[cfg(unix)]
    {
        let looped = broken("bad-symlink-loop", |r| std::os::unix::fs::symlink("loop.jpg", r.join("train/cat/loop.jpg")).unwrap());
        let msg = err(&looped);
        assert!(msg.contains("loop.jpg") && msg.contains("cannot read"), "{msg}");
    }
}

/// A PNG whose header claims 60000 x 60000 pixels (3.6 billion): refused before decoding.
fn bomb_png() -> Vec<u8> {
    let mut bytes = Vec::new();
    RgbImage::new(8, 8).write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
    // IHDR: 8-byte signature, 4 length, 4 "IHDR", then width and height; CRC over type + data.
    bytes[16..20].copy_from_slice(&60000u32.to_be_bytes());
    bytes[20..24].copy_from_slice(&60000u32.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bytes
}

#[test]
fn an_archive_is_unpacked_once_into_the_cache() {
    let root = tmpdir("archive-src");
    write_tree(&root.join("tree"), "test", 2);
    let archive = root.join("mini-jpeg.tar.gz");
    let status = std::process::Command::new("tar").arg("-czf").arg(&archive).arg("-C").arg(root.join("tree")).args(["train", "test"]).status().unwrap();
    assert!(status.success());
    let cache = tmpdir("archive-cache");
    let unpacked = folder::unpack_once(&archive, &cache).unwrap();
    assert_eq!(unpacked, folder::cache_dir_for(&archive, &cache).unwrap());
    assert!(unpacked.starts_with(&cache) && unpacked.join("train/cat").is_dir());
    let opened = data::open(&unpacked, FolderOptions::default()).unwrap();
    assert_eq!(opened.splits.train.len(), 6);
    // A second call finds the unpacked tree (a marker file there survives).
    std::fs::write(unpacked.join("marker"), "x").unwrap();
    assert_eq!(folder::unpack_once(&archive, &cache).unwrap(), unpacked);
    assert!(unpacked.join("marker").exists(), "not unpacked again");
    // Not an image-folder archive: a one-line error naming it.
    let plain = root.join("plain.tar");
    std::fs::write(root.join("x.txt"), "x").unwrap();
    assert!(std::process::Command::new("tar").arg("-cf").arg(&plain).arg("-C").arg(&root).arg("x.txt").status().unwrap().success());
    let msg = folder::unpack_once(&plain, &cache).unwrap_err().to_string();
    assert!(msg.contains("plain.tar") && msg.contains("no train/ folder"), "{msg}");
}

#[test]
fn the_shipped_cifar_jpeg_archive_reads_in_cifar_label_order() {
    // The shipped archive's first 500 images per class are the binary subset's (README there):
    // the folder reader's class order and file order must line them up.
    let archive = common::cifar_dir().join("../cifar10-jpeg/cifar10-jpeg.tar.xz");
    if !archive.is_file() {
        eprintln!("SKIPPED: {} not found", archive.display());
        return;
    }
    let opened = data::open(&archive, FolderOptions::default()).unwrap();
    assert!(opened.description.starts_with("image-folder archive"), "{}", opened.description);
    let d: Splits = opened.splits;
    assert_eq!((d.train.len(), d.test.len()), (50_000, 8_000));
    assert_eq!(d.train.classes, locolab::data::cifar::CLASS_NAMES.map(String::from).to_vec());
    assert_eq!(d.train.size_text(), "32x32");
    // Record i of the binary subset with label c is the k-th of its class there, and
    // train/<c>/<k>.jpg here: image (c * 5000 + k) of the folder. JPEG is lossy (README: mean
    // absolute error ~5.8), another image is ~60 away.
    let bin = &common::cifar().train;
    let mut seen = [0usize; 10];
    for i in 0..50 {
        let c = bin.labels[i] as usize;
        let j = c * 5000 + seen[c];
        seen[c] += 1;
        assert_eq!(d.train.labels[j] as usize, c);
        let (a, b) = (bin.image(i).pixels, d.train.image(j).pixels);
        let mae = a.iter().zip(b.iter()).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.len() as f64;
        assert!(mae < 15.0, "record {i}: mean abs difference {mae} to train/{}/{:04}.jpg", d.train.classes[c], seen[c] - 1);
    }
}

#[test]
fn a_streamed_folder_gives_the_batches_and_losses_of_the_decoded_one() {
    let root = tmpdir("folder-stream");
    write_tree(&root, "val", 8);
    let memory = Arc::new(open(&root).unwrap().splits);
    let streamed = Arc::new(data::open(&root, FolderOptions { stream: true, ..FolderOptions::default() }).unwrap());
    assert!(streamed.description.contains("streamed") && !memory.train.is_streamed(), "{}", streamed.description);
    let streamed = Arc::new(streamed.splits.clone());
    assert!(streamed.train.is_streamed() && streamed.train.spread(5).is_streamed());
    let cfg = TrainConfig { arch: Arch::PresnetTiny, method: MethodKind::Gim, input: 32, batch: 6, steps: 2, warmup_steps: 1, ..TrainConfig::default() };
    let mut a = Trainer::new(cfg.clone(), memory, &Device::flex()).unwrap();
    let mut b = Trainer::new(cfg, streamed, &Device::flex()).unwrap();
    b.set_loader_workers(2);
    assert_eq!(a.batch_views(3).data, b.batch_views(3).data);
    let (ra, rb) = (a.run(2, |_| {}).unwrap(), b.run(2, |_| {}).unwrap());
    assert_eq!(ra.iter().map(|r| r.losses.clone()).collect::<Vec<_>>(), rb.iter().map(|r| r.losses.clone()).collect::<Vec<_>>());
    let ea = evaluate(&a, &EvalOptions::default()).unwrap();
    let eb = evaluate(&b, &EvalOptions::default()).unwrap();
    assert_eq!((ea[0].knn, ea[0].linear), (eb[0].knn, eb[0].linear), "evaluation reads the files the same way");
}

#[test]
fn a_file_that_breaks_while_streaming_stops_training_before_the_update() {
    // A PNG cut inside its pixel data: its header reads, its pixels do not.
    let root = broken("stream-broken", |r| {
        let f = r.join("train/cat/002.png");
        let bytes = std::fs::read(&f).unwrap();
        std::fs::write(&f, &bytes[..bytes.len() * 2 / 3]).unwrap();
    });
    let cfg = TrainConfig { arch: Arch::PresnetTiny, method: MethodKind::Simclr, input: 32, batch: 9, steps: 2, warmup_steps: 1, ..TrainConfig::default() };
    for skip_bad in [false, true] {
        let opened = data::open(&root, FolderOptions { stream: true, skip_bad }).unwrap();
        let mut t = Trainer::new(cfg.clone(), Arc::new(opened.splits), &Device::flex()).unwrap();
        // Batch 9 of 9 training images: every step reads every file.
        match (skip_bad, t.step()) {
            (false, Err(e)) => {
                let msg = e.to_string();
                assert!(msg.contains("train/cat/002.png") && msg.contains("streaming") && !msg.contains('\n'), "{msg}");
                assert_eq!(t.step_count(), 0, "no update was applied");
            }
            (true, Ok(r)) => {
                assert!(r.losses[0].is_finite());
                assert_eq!(t.data().train.stream_failures(), 1);
            }
            (skip, other) => panic!("skip_bad {skip}: {:?}", other.map(|r| r.losses)),
        }
    }
}

/// The CLI end to end on a folder: `train --epochs`, `eval` per stage, `compare`.
#[test]
fn the_cli_trains_evaluates_and_compares_on_a_folder() {
    let root = tmpdir("folder-cli");
    write_tree(&root, "val", 8);
    let cli = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_locolab")).args(args).arg("--data").arg(&root).env("RAYON_NUM_THREADS", "1").output().unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout).to_string(), String::from_utf8_lossy(&out.stderr).to_string());
        assert!(out.status.success(), "{args:?}: {stderr}");
        (stdout, stderr)
    };
    let run = root.join("run");
    let run_s = run.to_str().unwrap();
    let (stdout, stderr) = cli(&["train", "--preset", "browser", "--method", "loco", "--batch", "8", "--epochs", "2", "--every-stage", "--workers", "2", "--out", run_s]);
    assert!(stderr.contains("data: image folder") && stderr.contains("3 classes (cat, dog, zebra)"), "{stderr}");
    assert!(stdout.contains("res7: kNN top-1"), "{stdout}");
    let metrics: Vec<locolab::StepReport> = locolab::run::read_jsonl(&run.join("metrics.jsonl"));
    assert_eq!(metrics.len(), 6, "2 epochs of 24 images at batch 8");
    assert!((metrics[5].epoch - 2.0).abs() < 1e-9);
    let data_json: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(run.join("data.json")).unwrap()).unwrap();
    assert_eq!(data_json["classes"], serde_json::json!(["cat", "dog", "zebra"]));
    let (stdout, _) = cli(&["eval", "--checkpoint", run_s, "--every-stage"]);
    assert_eq!(stdout.lines().filter(|l| l.contains("kNN top-1")).count(), 6, "{stdout}");
    let cmp = root.join("cmp");
    let (stdout, _) = cli(&["compare", "--preset", "browser", "--methods", "simclr,gim", "--batch", "8", "--steps", "2", "--monitor-train", "12", "--monitor-test", "6", "--out", cmp.to_str().unwrap()]);
    assert!(stdout.contains("simclr") && stdout.contains("gim") && stdout.contains("random-init"), "{stdout}");
    // A resumed run continues on the data it started with: without --data it reads data.json's
    // source (absolute), from any folder; other data is refused in one line.
    let bin = || {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_locolab"));
        c.current_dir(std::env::temp_dir()).env("RAYON_NUM_THREADS", "1");
        c
    };
    let out = bin().args(["train", "--resume", "--steps", "7", "--no-eval", "--out", run_s]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(locolab::run::read_jsonl::<locolab::StepReport>(&run.join("metrics.jsonl")).len(), 7);
    let other = bin().args(["train", "--resume", "--steps", "8", "--no-eval", "--out", run_s, "--data"]).arg(common::cifar_dir()).output().unwrap();
    let msg = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success() && msg.contains("started on") && msg.contains("(24 train / 12 test images, 3 classes) but was given") && msg.contains("resume with --data"), "{msg}");
    // The experiment carries the commit that started it; another binary resuming it says so.
    let spec = locolab::experiment::read_spec(&cmp).unwrap();
    assert_eq!(spec.commit.as_deref(), Some(locolab::COMMIT));
    assert!(std::fs::read_to_string(cmp.join("results.md")).unwrap().contains(&format!("commit `{}`", locolab::COMMIT)));
    let stamped = locolab::experiment::ExperimentSpec { commit: Some("0123456789ab".into()), ..spec };
    std::fs::write(cmp.join("experiment.json"), serde_json::to_string_pretty(&stamped).unwrap()).unwrap();
    let resumed = bin().args(["compare", "--resume", "--out", cmp.to_str().unwrap()]).output().unwrap();
    let msg = String::from_utf8_lossy(&resumed.stderr);
    assert!(resumed.status.success() && msg.contains("note: commit 0123456789ab started this experiment"), "{msg}");
    let other = bin().args(["compare", "--resume", "--out", cmp.to_str().unwrap(), "--data"]).arg(common::cifar_dir()).output().unwrap();
    assert!(!other.status.success() && String::from_utf8_lossy(&other.stderr).contains("but was given"));
}

/// `picture` as JPEG bytes: `color` 1 (gray), 3 (RGB) or 4 (CMYK), baseline or progressive.
fn jpeg_bytes(color: usize, progressive: bool) -> Vec<u8> {
    use jpeg_encoder::{ColorType, Encoder};
    let rgb = picture(2, 5, 64, 48);
    let (data, kind): (Vec<u8>, ColorType) = match color {
        1 => (DynamicImage::ImageRgb8(rgb).to_luma8().into_raw(), ColorType::Luma),
        3 => (rgb.into_raw(), ColorType::Rgb),
        _ => (rgb.into_raw().chunks(3).flat_map(|p| [255 - p[0], 255 - p[1], 255 - p[2], 30]).collect(), ColorType::Cmyk),
    };
    let mut out = Vec::new();
    let mut enc = Encoder::new(&mut out, 90);
    enc.set_progressive(progressive);
    enc.encode(&data, 64, 48, kind).unwrap();
    out
}

/// A file cut short (a download that stopped) is refused in one line whatever its colour model
/// or encoding: zune-jpeg alone fills in the missing part of a gray, CMYK or progressive JPEG.
#[test]
fn a_truncated_image_is_refused_whatever_its_encoding() {
    let mut cases: Vec<(String, Vec<u8>)> = Vec::new();
    for (color, name) in [(1, "gray"), (3, "rgb"), (4, "cmyk")] {
        for progressive in [false, true] {
            cases.push((format!("{name} {} JPEG", if progressive { "progressive" } else { "baseline" }), jpeg_bytes(color, progressive)));
        }
    }
    for (name, img) in [("rgb PNG", DynamicImage::ImageRgb8(picture(1, 2, 64, 48))), ("gray PNG", DynamicImage::ImageLuma8(DynamicImage::ImageRgb8(picture(1, 2, 64, 48)).to_luma8()))] {
        let mut bytes = Vec::new();
        img.write_to(&mut std::io::Cursor::new(&mut bytes), ImageFormat::Png).unwrap();
        cases.push((name.into(), bytes));
    }
    for (name, bytes) in &cases {
        let (w, h, px) = folder::decode(bytes).unwrap_or_else(|e| panic!("{name}: the whole file decodes: {e}"));
        assert_eq!((w, h, px.len()), (64, 48, 3 * 64 * 48), "{name}");
        // Bytes after the end marker (some cameras append data) are allowed.
        let mut trailing = bytes.clone();
        trailing.extend_from_slice(b"trailing bytes");
        folder::decode(&trailing).unwrap_or_else(|e| panic!("{name} with trailing bytes: {e}"));
        // Cut at half, at 90% and just before the end marker (the image data all there).
        for keep in [bytes.len() / 2, bytes.len() * 9 / 10, bytes.len() - 2] {
            let e = match folder::decode(&bytes[..keep]) {
                Ok((w, h, _)) => panic!("{name} cut to {keep} of {} bytes decoded to {w}x{h} pixels", bytes.len()),
                Err(e) => e,
            };
            assert!(e.starts_with("truncated ") && !e.contains('\n'), "{name} cut to {keep}: {e}");
        }
    }
    // Through the folder reader: the file named, --skip-bad-images skips and counts it.
    let root = broken("bad-truncated-cmyk", |r| {
        let bytes = jpeg_bytes(4, true);
        std::fs::write(r.join("train/cat/cut.jpg"), &bytes[..bytes.len() / 2]).unwrap();
    });
    let msg = err(&root);
    assert!(msg.contains("train/cat/cut.jpg") && msg.contains("truncated JPEG"), "{msg}");
    let opened = data::open(&root, FolderOptions { skip_bad: true, ..FolderOptions::default() }).unwrap();
    assert_eq!(opened.skipped.len(), 1);
}
