//! The CIFAR-10 reader (real files and bad ones) and the augmentation pipeline.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::io::Write;

use locolab::data::augment::{plain, Augment};
use locolab::data::cifar::{self, load_archive, load_dir, RECORD};
use locolab::data::ImageSet;
use locolab::Error;

use common::tmpdir;

#[test]
fn reads_the_real_subset() {
    let d = common::cifar();
    assert_eq!(d.train.len(), 5000);
    assert_eq!(d.test.len(), 1000);
    let mut counts = [0; 10];
    d.train.labels.iter().for_each(|&l| counts[l as usize] += 1);
    assert_eq!(counts, [500; 10]);
}

#[test]
fn truncated_file_is_a_clear_error() {
    let err = cifar::from_bytes(&vec![0u8; RECORD * 2 + 100], "x.bin").unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::Data(_)) && msg.contains("truncated") && msg.contains("x.bin"), "{msg}");
    assert!(cifar::from_bytes(&[], "empty.bin").unwrap_err().to_string().contains("empty"));
}

#[test]
fn label_outside_0_to_9_is_rejected() {
    let mut bytes = vec![0u8; RECORD * 3];
    bytes[RECORD] = 11;
    let msg = cifar::from_bytes(&bytes, "bad.bin").unwrap_err().to_string();
    assert!(msg.contains("record 1") && msg.contains("label 11"), "{msg}");
}

#[test]
fn missing_directory_says_how_to_get_data() {
    let msg = load_dir(std::path::Path::new("/nonexistent/cifar")).unwrap_err().to_string();
    assert!(msg.contains("does not exist") && msg.contains("locolab download"), "{msg}");
    let empty = tmpdir("empty");
    let msg = load_dir(&empty).unwrap_err().to_string();
    assert!(msg.contains("no CIFAR-10 binary files"), "{msg}");
}

#[test]
fn reads_the_official_archive_layout() {
    // Build a cifar-10-binary.tar.gz from real records, the way the official one is laid out.
    let real = common::cifar();
    let rec = |d: &ImageSet, i: usize| {
        let mut v = vec![d.labels[i] as u8];
        v.extend_from_slice(&d.image(i).pixels);
        v
    };
    let dir = tmpdir("archive");
    let path = dir.join("cifar-10-binary.tar.gz");
    let gz = flate2::write::GzEncoder::new(std::fs::File::create(&path).unwrap(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    let mut add = |name: &str, bytes: Vec<u8>| {
        let mut h = tar::Header::new_gnu();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, name, bytes.as_slice()).unwrap();
    };
    add("cifar-10-batches-bin/batches.meta.txt", b"airplane\n".to_vec());
    add("cifar-10-batches-bin/data_batch_2.bin", (10..20).flat_map(|i| rec(&real.train, i)).collect());
    add("cifar-10-batches-bin/data_batch_1.bin", (0..10).flat_map(|i| rec(&real.train, i)).collect());
    add("cifar-10-batches-bin/test_batch.bin", (0..5).flat_map(|i| rec(&real.test, i)).collect());
    tar.into_inner().unwrap().finish().unwrap().flush().unwrap();
    let splits = load_archive(&path).unwrap();
    assert_eq!(splits.train.len(), 20);
    assert_eq!(&splits.train.labels[..], &real.train.labels[..20], "batches in order");
    assert_eq!(splits.test.image(4).pixels, real.test.image(4).pixels);
    assert_eq!(load_dir(&dir).unwrap().train.len(), 20, "a directory holding only the archive works");
}

#[test]
fn augmentation_is_seeded_and_varied() {
    let d = common::cifar();
    let aug = Augment::simclr_cifar(32);
    let idx = [0, 1, 2, 3];
    let items: Vec<(usize, u64)> = idx.iter().map(|&i| (i, 100 + i as u64)).collect();
    let a = aug.views(&d.train, &items, 7);
    let b = aug.views(&d.train, &items, 7);
    let c = aug.views(&d.train, &items, 8);
    let moved: Vec<(usize, u64)> = idx.iter().map(|&i| (i, 200 + i as u64)).collect();
    assert_eq!(a.data, b.data, "same seed and positions, same views");
    assert_ne!(a.data, c.data, "another seed, other views");
    assert_ne!(a.data, aug.views(&d.train, &moved, 7).data, "other stream positions, other views");
    let plane = 3 * 32 * 32;
    assert_ne!(&a.data[..plane], &a.data[4 * plane..5 * plane], "the two views of one image differ");
    assert!(a.data.iter().all(|v| v.is_finite()));
    // Views stay within the normalised range of [0, 1] pixels.
    assert!(a.data.iter().all(|v| (-2.1..=2.2).contains(v)));
    let p = plain(&d.train, &idx, 32);
    assert_eq!(p.len(), 4 * plane);
}
