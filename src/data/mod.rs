//! Datasets behind one type ([`ImageSet`]: decoded images of any size and class count), their
//! readers (CIFAR-10 binary, image folders), augmentation, and the sampler and loader that
//! turn a (seed, step) into a batch of two views.

pub mod augment;
pub mod cifar;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
pub mod loader;
pub mod set;

pub use augment::{Augment, Views};
pub use cifar::load_dir;
pub use loader::{Loader, Sampler};
pub use set::{ImageSet, Img, Splits};

/// Where the doors look for CIFAR-10 when no directory is given: the shared subset beside the repo.
pub const DEFAULT_DIR: &str = "../shared/data/cifar10";

/// A dataset the CLI opened, and one line saying what it found.
#[cfg(not(target_arch = "wasm32"))]
pub struct Opened {
    pub splits: Splits,
    /// e.g. `image folder /data/imagenet100: 126689 train / 5000 test images, 100 classes (...), sides 75-500 px`.
    pub description: String,
    /// Files skipped with `--skip-bad-images` (`path: cause`).
    pub skipped: Vec<String>,
}

/// Open `path` as whatever it is: a CIFAR-10 binary directory (or its `.tar.gz`), an
/// image-folder tree (`train/<class>/*`, `val/` or `test/`), or an image-folder archive
/// (`.tar.xz`, `.tar.gz`, `.tar`: unpacked once into a cache folder, see [`folder::unpack_once`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn open(path: &std::path::Path, opts: folder::FolderOptions) -> crate::Result<Opened> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = |dir: &std::path::Path, what: String| -> crate::Result<Opened> {
        let (splits, report) = folder::load(dir, opts)?;
        let skipped = if report.skipped.is_empty() { String::new() } else { format!(" ({} unreadable files skipped)", report.skipped.len()) };
        Ok(Opened { description: format!("{what}: {}{skipped}", splits.describe()), splits, skipped: report.skipped })
    };
    if path.is_file() && name == cifar::ARCHIVE_NAME {
        let splits = cifar::load_archive(path)?;
        return Ok(Opened { description: format!("CIFAR-10 binary archive {}: {}", path.display(), splits.describe()), splits, skipped: Vec::new() });
    }
    if path.is_file() && [".tar.xz", ".txz", ".tar.gz", ".tgz", ".tar"].iter().any(|s| name.ends_with(s)) {
        let dir = folder::unpack_once(path, &folder::cache_root()?)?;
        return folder(&dir, format!("image-folder archive {} (unpacked in {})", path.display(), dir.display()));
    }
    if folder::is_folder_tree(path) {
        return folder(path, format!("image folder {}", path.display()));
    }
    let splits = load_dir(path).map_err(|e| match e {
        crate::Error::Data(m) if m.starts_with("no CIFAR-10 binary files") => crate::Error::Data(format!(
            "{m}; or an image-folder tree (DIR/train/<class>/*.jpg with DIR/val/ or DIR/test/), or an image-folder archive (.tar.xz)"
        )),
        other => other,
    })?;
    Ok(Opened { description: format!("CIFAR-10 binary {}: {}", path.display(), splits.describe()), splits, skipped: Vec::new() })
}
