//! Datasets behind one type ([`ImageSet`]: decoded images of any size and class count), their
//! readers (CIFAR-10 binary, image folders), augmentation, and the sampler and loader that
//! turn a (seed, step) into a batch of two views.

pub mod augment;
pub mod cifar;
#[cfg(not(target_arch = "wasm32"))]
pub mod complete;
#[cfg(not(target_arch = "wasm32"))]
pub mod folder;
#[cfg(not(target_arch = "wasm32"))]
pub mod image;
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
pub fn open(path: &std::path::Path, opts: folder::FolderOptions) -> crate::error::Result<Opened> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let folder = |dir: &std::path::Path, what: String| -> crate::error::Result<Opened> {
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

/// `data.json` in a run or experiment directory: where the data came from, its size and its
/// classes in label order (an image folder's sorted folder names). A resumed run checks the
/// data it is given against it, and without `--data` reads its `source`.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DataRecord {
    pub source: String,
    pub train_images: usize,
    pub test_images: usize,
    pub classes: Vec<String>,
}

impl DataRecord {
    pub const FILE: &'static str = "data.json";

    /// The record of `data`, read from `source` (kept absolute where it exists, so a resume from
    /// another folder finds it).
    pub fn of(source: &std::path::Path, data: &Splits) -> Self {
        let source = std::fs::canonicalize(source).unwrap_or_else(|_| source.to_path_buf());
        Self { source: source.display().to_string(), train_images: data.train.len(), test_images: data.test.len(), classes: data.train.classes.clone() }
    }

    /// The record in `dir`, if it has one (a directory from before data.json existed has none).
    pub fn read(dir: &std::path::Path) -> crate::error::Result<Option<Self>> {
        let path = dir.join(Self::FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| crate::Error::Data(format!("{}: {e}", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(crate::Error::io(format!("cannot read {}", path.display()), e)),
        }
    }

    /// Refuse to continue `dir`'s run on other data than it started with.
    pub fn check(&self, dir: &std::path::Path, now: &DataRecord) -> crate::error::Result<()> {
        if (self.train_images, self.test_images, &self.classes) != (now.train_images, now.test_images, &now.classes) {
            return Err(crate::Error::Data(format!(
                "{} started on {} ({} train / {} test images, {} classes) but was given {} ({} / {}, {} classes): resume with --data {}",
                dir.display(),
                self.source,
                self.train_images,
                self.test_images,
                self.classes.len(),
                now.source,
                now.train_images,
                now.test_images,
                now.classes.len(),
                self.source
            )));
        }
        Ok(())
    }
}
