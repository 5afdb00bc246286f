//! CIFAR-10 in the official binary format: records of 1 label byte + 3072 pixel bytes
//! (1024 R, 1024 G, 1024 B, row-major 32x32). Reads `data_batch_*.bin`/`test_batch.bin`,
//! the `cifar-10-binary.tar.gz` archive, or any `train*.bin`/`test*.bin` pair.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::set::{ImageSet, Splits};
use crate::error::{Error, Result};

pub const SIDE: usize = 32;
pub const PIXELS: usize = 3 * SIDE * SIDE;
pub const RECORD: usize = 1 + PIXELS;
pub const CLASSES: usize = 10;
/// Where the official archive lives (used only by `locolab download`).
pub const ARCHIVE_URL: &str = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz";
pub const ARCHIVE_NAME: &str = "cifar-10-binary.tar.gz";

/// CIFAR-10's class names in label order (`batches.meta.txt`).
pub const CLASS_NAMES: [&str; CLASSES] = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

fn empty() -> ImageSet {
    ImageSet::new(CLASS_NAMES.iter().map(|s| s.to_string()).collect())
}

/// Parse concatenated records; `source` names the file in error messages.
pub fn from_bytes(bytes: &[u8], source: &str) -> Result<ImageSet> {
    if bytes.is_empty() {
        return Err(Error::Data(format!("{source} is empty")));
    }
    if bytes.len() % RECORD != 0 {
        return Err(Error::Data(format!(
            "{source} has {} bytes, not a multiple of the {RECORD}-byte CIFAR-10 record: the file is truncated or not CIFAR-10 binary ({} whole records, {} bytes left over)",
            bytes.len(),
            bytes.len() / RECORD,
            bytes.len() % RECORD
        )));
    }
    let mut out = empty();
    for (i, rec) in bytes.chunks_exact(RECORD).enumerate() {
        if rec[0] as usize >= CLASSES {
            return Err(Error::Data(format!(
                "{source}: record {i} has label {} (CIFAR-10 labels are 0-9); is this CIFAR-100 or a corrupt file?",
                rec[0]
            )));
        }
        out.push(rec[0] as u32, SIDE, SIDE, &rec[1..]);
    }
    Ok(out)
}

pub fn load_file(path: &Path) -> Result<ImageSet> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    from_bytes(&bytes, &path.display().to_string())
}

fn get_help(dir: &Path) -> String {
    format!(
        "expected data_batch_1.bin..data_batch_5.bin + test_batch.bin, train*.bin + test*.bin, or {ARCHIVE_NAME}. \
         Get them with `locolab download --out {}` (needs internet) or point --data at ../shared/data/cifar10",
        dir.display()
    )
}

/// Load both splits from a directory (see the module docs for the layouts accepted).
pub fn load_dir(dir: &Path) -> Result<Splits> {
    if !dir.is_dir() {
        return Err(Error::Data(format!("data directory {} does not exist; {}", dir.display(), get_help(dir))));
    }
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    let name = |p: &PathBuf| p.file_name().and_then(|n| n.to_str()).unwrap_or("").to_string();
    let bins = |pred: &dyn Fn(&str) -> bool| -> Vec<PathBuf> {
        entries.iter().filter(|p| name(p).ends_with(".bin") && pred(&name(p))).cloned().collect()
    };
    let train_files = bins(&|n| n.starts_with("data_batch_") || n.starts_with("train"));
    let test_files = bins(&|n| n.starts_with("test"));
    if !train_files.is_empty() && !test_files.is_empty() {
        let read_all = |files: &[PathBuf]| -> Result<ImageSet> {
            let mut d = empty();
            for f in files {
                d.extend(load_file(f)?);
            }
            Ok(d)
        };
        return Splits::new(read_all(&train_files)?, read_all(&test_files)?);
    }
    let archive = dir.join(ARCHIVE_NAME);
    if archive.is_file() {
        return load_archive(&archive);
    }
    Err(Error::Data(format!("no CIFAR-10 binary files in {}: {}", dir.display(), get_help(dir))))
}

/// Read the official `cifar-10-binary.tar.gz` without unpacking it to disk.
pub fn load_archive(path: &Path) -> Result<Splits> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    load_archive_from(file, &path.display().to_string())
}

pub fn load_archive_from(reader: impl Read, source: &str) -> Result<Splits> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(reader));
    let mut train: Vec<(String, ImageSet)> = Vec::new();
    let mut test = None;
    let bad = |e: std::io::Error| Error::Data(format!("{source} is not a readable tar.gz archive: {e}"));
    for entry in tar.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        let path = entry.path().map_err(bad)?.to_string_lossy().to_string();
        let file = path.rsplit('/').next().unwrap_or("").to_string();
        if file.starts_with("data_batch_") && file.ends_with(".bin") || file == "test_batch.bin" {
            let mut bytes = Vec::new();
            entry.read_to_end(&mut bytes).map_err(bad)?;
            let split = from_bytes(&bytes, &format!("{source}:{path}"))?;
            if file == "test_batch.bin" {
                test = Some(split);
            } else {
                train.push((file, split));
            }
        }
    }
    train.sort_by(|a, b| a.0.cmp(&b.0));
    let test = test.ok_or_else(|| Error::Data(format!("{source} has no test_batch.bin")))?;
    if train.is_empty() {
        return Err(Error::Data(format!("{source} has no data_batch_*.bin")));
    }
    let mut all = empty();
    for (_, t) in train {
        all.extend(t);
    }
    Splits::new(all, test)
}
