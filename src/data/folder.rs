//! Image-folder datasets in the ImageNet layout: `DIR/train/<class>/*` and `DIR/val/<class>/*`
//! (or `DIR/test/<class>/*`), JPEG or PNG at any size, any number of classes. Class names and
//! their label order are the sorted folder names of `train/`; the other split must have the
//! same folders. Grayscale, CMYK and alpha images are converted to RGB (alpha dropped, as
//! torchvision's `convert("RGB")`). Every file's header is read first (format, size limits);
//! a split that decodes to at most [`MAX_DECODED_BYTES`] is then decoded on every core with the
//! `image` crate (zune-jpeg, png) and kept in memory, planar CHW; a larger one is kept as an
//! index of files and decoded when read (the loader's worker threads do it ahead of the step).
//!
//! Also the shipped CIFAR-10 JPEG archive (`cifar10-jpeg.tar.xz`): unpacked once with the
//! system's `tar` into a cache directory outside the repository, then read as a folder.

use std::path::{Path, PathBuf};

use std::sync::Arc;

use super::set::{FileSource, ImageSet, Splits};
use crate::error::{Error, Result};

// The decoder (JPEG, PNG) and its limits live in `data/image.rs`; re-exported where they were.
pub use super::image::{decode, read_image, MAX_PIXELS, MIN_SIDE};
use super::image::read_header;
/// A split decoded into memory takes at most this many bytes; a larger one is streamed: its
/// images are decoded from their files when read, on the loader's worker threads.
pub const MAX_DECODED_BYTES: usize = 4 << 30;

/// How a folder is read.
#[derive(Clone, Copy, Debug, Default)]
pub struct FolderOptions {
    /// Skip files that cannot be read or decoded (counted and named in the report) instead of
    /// stopping at the first.
    pub skip_bad: bool,
    /// Decode images from their files at every read, even when the split would fit in memory.
    pub stream: bool,
}

/// What a load found besides the images.
#[derive(Clone, Debug, Default)]
pub struct FolderReport {
    /// `path: cause` of every skipped file (only with [`FolderOptions::skip_bad`]).
    pub skipped: Vec<String>,
}

/// Whether `dir` looks like an image-folder tree (it has a `train/` folder).
pub fn is_folder_tree(dir: &Path) -> bool {
    dir.join("train").is_dir()
}

/// The evaluation split of a tree: `val/`, else `test/`.
fn eval_dir(dir: &Path) -> Result<PathBuf> {
    ["val", "test"].iter().map(|n| dir.join(n)).find(|p| p.is_dir()).ok_or_else(|| {
        Error::Data(format!("{} has train/ but no val/ or test/ folder (the ImageNet layout: DIR/train/<class>/*, DIR/val/<class>/*)", dir.display()))
    })
}

/// Read both splits of an image-folder tree.
pub fn load(dir: &Path, opts: FolderOptions) -> Result<(Splits, FolderReport)> {
    let train_dir = dir.join("train");
    let test_dir = eval_dir(dir)?;
    let classes = class_folders(&train_dir)?;
    let test_classes = class_folders(&test_dir)?;
    if classes != test_classes {
        let only = |a: &[String], b: &[String]| a.iter().filter(|c| !b.contains(c)).cloned().collect::<Vec<_>>().join(", ");
        return Err(Error::Data(format!(
            "{} and {} have different class folders (only in train: [{}]; only in {}: [{}])",
            train_dir.display(),
            test_dir.display(),
            only(&classes, &test_classes),
            test_dir.file_name().and_then(|n| n.to_str()).unwrap_or("test"),
            only(&test_classes, &classes)
        )));
    }
    let mut report = FolderReport::default();
    let train = read_split(&train_dir, &classes, opts, &mut report)?;
    let test = read_split(&test_dir, &classes, opts, &mut report)?;
    Ok((Splits::new(train, test)?, report))
}

/// Sorted names of the class folders in `split`.
fn class_folders(split: &Path) -> Result<Vec<String>> {
    let mut classes = Vec::new();
    for entry in list(split)? {
        // `is_dir` follows symlinks; a symlink loop is neither a file nor a folder here.
        if entry.is_dir() {
            let name = entry.file_name().and_then(|n| n.to_str()).map(str::to_string);
            match name {
                Some(n) if !n.starts_with('.') => classes.push(n),
                Some(_) => {}
                None => return Err(Error::Data(format!("{}: the class folder's name is not UTF-8", entry.display()))),
            }
        }
    }
    if classes.is_empty() {
        return Err(Error::Data(format!("{} has no class folders (expected {}/<class>/<image>.jpg)", split.display(), split.display())));
    }
    Ok(classes)
}

/// The entries of a folder, sorted (the order every run sees).
fn list(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(format!("cannot list {}", dir.display()), e))?;
    v.sort();
    Ok(v)
}

/// Every image of one split, class by class: headers read on every core (format, size
/// limits), then decoded into memory on every core, or indexed for streaming when the split's
/// decoded size passes [`MAX_DECODED_BYTES`] or [`FolderOptions::stream`] asks.
fn read_split(split: &Path, classes: &[String], opts: FolderOptions, report: &mut FolderReport) -> Result<ImageSet> {
    let mut files: Vec<(u32, PathBuf)> = Vec::new();
    for (label, class) in classes.iter().enumerate() {
        let dir = split.join(class);
        let before = files.len();
        for path in list(&dir)? {
            let hidden = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.'));
            if !hidden && !path.is_dir() {
                files.push((label as u32, path));
            }
        }
        if files.len() == before {
            return Err(Error::Data(format!("class folder {} holds no files", dir.display())));
        }
    }
    let bad = |path: &Path, cause: String, report: &mut FolderReport| -> Result<()> {
        if opts.skip_bad {
            report.skipped.push(format!("{}: {cause}", path.display()));
            Ok(())
        } else {
            Err(Error::Data(format!("{}: {cause} (pass --skip-bad-images to skip such files)", path.display())))
        }
    };
    let headers = on_every_core(&files, |(_, p)| read_header(p));
    let mut kept: Vec<(u32, PathBuf, usize, usize)> = Vec::with_capacity(files.len());
    for ((label, path), h) in files.into_iter().zip(headers) {
        match h {
            Ok((w, h)) => kept.push((label, path, w, h)),
            Err(cause) => bad(&path, cause, report)?,
        }
    }
    let decoded_bytes: usize = kept.iter().map(|&(_, _, w, h)| 3 * w * h).sum();
    let set = if opts.stream || decoded_bytes > MAX_DECODED_BYTES {
        let source = Arc::new(FileSource::new(kept.iter().map(|k| k.1.clone()).collect(), opts.skip_bad));
        ImageSet::streamed(classes.to_vec(), source, kept.iter().enumerate().map(|(i, &(label, _, w, h))| (label, i, w, h)))
    } else {
        let decoded = on_every_core(&kept, |(_, p, _, _)| read_image(p));
        let mut set = ImageSet::new(classes.to_vec());
        for ((label, path, _, _), d) in kept.iter().zip(decoded) {
            match d {
                Ok((w, h, chw)) => set.push(*label, w, h, &chw),
                Err(cause) => bad(path, cause, report)?,
            }
        }
        set
    };
    for (label, class) in classes.iter().enumerate() {
        if !set.labels.contains(&(label as u32)) {
            return Err(Error::Data(format!("class folder {} has no readable image", split.join(class).display())));
        }
    }
    Ok(set)
}

/// `f` of every item, in order, on every core.
fn on_every_core<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get()).min(items.len().max(1));
    let chunk = items.len().div_ceil(threads).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let handles: Vec<_> = items.chunks(chunk).map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("reader thread")).collect()
    })
}

/// Where archives are unpacked: `$LOCOLAB_CACHE`, else `$HOME/.cache/locolab-data`.
pub fn cache_root() -> Result<PathBuf> {
    std::env::var_os("LOCOLAB_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/locolab-data")))
        .ok_or_else(|| Error::Data("neither LOCOLAB_CACHE nor HOME is set: nowhere to unpack the archive".into()))
}

/// The folder under `root` that `archive` unpacks to: one per archive name and size.
pub fn cache_dir_for(archive: &Path, root: &Path) -> Result<PathBuf> {
    let size = std::fs::metadata(archive).map_err(|e| Error::io(format!("cannot read {}", archive.display()), e))?.len();
    let name = archive.file_name().and_then(|n| n.to_str()).unwrap_or("archive");
    let stem = name.split(".tar").next().unwrap_or(name).trim_end_matches(".tgz").trim_end_matches(".txz");
    Ok(root.join(format!("{stem}-{size}")))
}

/// Unpack an image-folder archive (`.tar.xz`, `.tar.gz`, `.tar`) once into its folder under
/// `root` and return that folder. A half-unpacked folder (killed mid-way) is never used: the
/// archive is unpacked beside it and renamed into place.
pub fn unpack_once(archive: &Path, root: &Path) -> Result<PathBuf> {
    let dest = cache_dir_for(archive, root)?;
    if is_folder_tree(&dest) {
        return Ok(dest);
    }
    let parent = dest.parent().expect("cache dir has a parent");
    std::fs::create_dir_all(parent).map_err(|e| Error::io(format!("cannot create {}", parent.display()), e))?;
    let tmp = parent.join(format!(".unpacking-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).map_err(|e| Error::io(format!("cannot create {}", tmp.display()), e))?;
    eprintln!("unpacking {} into {} (once)", archive.display(), dest.display());
    let status = std::process::Command::new("tar")
        .arg("-xf")
        .arg(archive)
        .arg("-C")
        .arg(&tmp)
        .status()
        .map_err(|e| Error::io("cannot run tar to unpack the archive (is it installed?)", e))?;
    if !status.success() {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(Error::Data(format!("{}: tar could not unpack it ({status})", archive.display())));
    }
    // The archive's tree may sit one folder down.
    let root = if is_folder_tree(&tmp) {
        tmp.clone()
    } else {
        list(&tmp)?.into_iter().find(|p| is_folder_tree(p)).ok_or_else(|| {
            let _ = std::fs::remove_dir_all(&tmp);
            Error::Data(format!("{} holds no train/ folder: not an image-folder archive", archive.display()))
        })?
    };
    std::fs::rename(&root, &dest).map_err(|e| Error::io(format!("cannot move the unpacked tree to {}", dest.display()), e))?;
    let _ = std::fs::remove_dir_all(&tmp);
    Ok(dest)
}
