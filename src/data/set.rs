//! Images and their classes, whatever their source: every image planar CHW u8 (RGB) at its own
//! size. CIFAR-10 binary gives 32x32 images and ten classes; an image folder gives any size and
//! any number of classes. Small data is held decoded in memory; large data as an index of files
//! decoded when read ([`FileSource`], natively), on the loader's worker threads.

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};

/// One image: planar CHW RGB bytes, `w` x `h` (borrowed from memory or decoded from its file).
#[derive(Clone, Debug)]
pub struct Img<'a> {
    pub pixels: Cow<'a, [u8]>,
    pub w: usize,
    pub h: usize,
}

/// The files behind a streamed set, and what went wrong reading them.
#[derive(Debug, Default)]
pub struct FileSource {
    pub paths: Vec<PathBuf>,
    /// Keep training past a file that fails to decode (a mid-gray image stands in for it).
    pub skip_bad: bool,
    failures: Mutex<Vec<String>>,
}

impl FileSource {
    pub fn new(paths: Vec<PathBuf>, skip_bad: bool) -> Self {
        Self { paths, skip_bad, failures: Mutex::default() }
    }
}

/// Images (planar CHW u8, any size) and their labels, with the class names.
#[derive(Clone, Debug, Default)]
pub struct ImageSet {
    pixels: Vec<u8>,
    /// Per image: where it starts in `pixels` (or its file's number in `files`), width, height.
    index: Vec<(usize, u32, u32)>,
    /// Some: images are read from these files when asked for, not held in `pixels`.
    files: Option<Arc<FileSource>>,
    /// The largest side of any image, kept as images are added: evaluation asks per batch.
    max_side: u32,
    pub labels: Vec<u32>,
    /// Class names in label order.
    pub classes: Vec<String>,
}

/// The train and test splits (one class list for both).
#[derive(Clone, Debug)]
pub struct Splits {
    pub train: ImageSet,
    pub test: ImageSet,
}

impl ImageSet {
    pub fn new(classes: Vec<String>) -> Self {
        Self { classes, ..Self::default() }
    }

    /// Add one image (planar CHW, `3 * w * h` bytes).
    pub fn push(&mut self, label: u32, w: usize, h: usize, chw: &[u8]) {
        debug_assert_eq!(chw.len(), 3 * w * h);
        debug_assert!((label as usize) < self.classes.len());
        debug_assert!(self.files.is_none(), "a streamed set holds files, not pixels");
        self.add((self.pixels.len(), w as u32, h as u32), label);
        self.pixels.extend_from_slice(chw);
    }

    /// A set whose images are decoded from `source`'s files when read; `images` gives each
    /// image's (label, file number, width, height).
    pub fn streamed(classes: Vec<String>, source: Arc<FileSource>, images: impl IntoIterator<Item = (u32, usize, usize, usize)>) -> Self {
        let mut set = Self { classes, files: Some(source), ..Self::default() };
        for (label, file, w, h) in images {
            set.add((file, w as u32, h as u32), label);
        }
        set
    }

    /// Whether images are decoded from files when read.
    pub fn is_streamed(&self) -> bool {
        self.files.is_some()
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// Image `i`: borrowed when held in memory, else decoded from its file now. A file that
    /// fails to decode gives a mid-gray image of its size and is recorded ([`ImageSet::stream_error`]).
    pub fn image(&self, i: usize) -> Img<'_> {
        let (start, w, h) = self.index[i];
        let (w, h) = (w as usize, h as usize);
        match &self.files {
            None => Img { pixels: Cow::Borrowed(&self.pixels[start..start + 3 * w * h]), w, h },
            Some(source) => Img { pixels: Cow::Owned(read_file(source, start, w, h)), w, h },
        }
    }

    /// The first file that failed to decode while streaming (`path: cause`), unless the source
    /// skips bad files; then `None` (the failures are counted in [`ImageSet::stream_failures`]).
    pub fn stream_error(&self) -> Option<String> {
        let source = self.files.as_ref()?;
        let failures = source.failures.lock().unwrap_or_else(|e| e.into_inner());
        if source.skip_bad {
            return None;
        }
        failures.first().map(|f| format!("{f} (found while streaming; pass --skip-bad-images to train past such files)"))
    }

    /// How many files failed to decode while streaming so far.
    pub fn stream_failures(&self) -> usize {
        self.files.as_ref().map_or(0, |s| s.failures.lock().unwrap_or_else(|e| e.into_inner()).len())
    }

    /// The largest width and height of any image (0 when empty).
    pub fn max_side(&self) -> usize {
        self.max_side as usize
    }

    /// Index one image (its start or file number, width, height) with its label.
    fn add(&mut self, entry: (usize, u32, u32), label: u32) {
        self.max_side = self.max_side.max(entry.1).max(entry.2);
        self.index.push(entry);
        self.labels.push(label);
    }

    /// `WxH` when every image has one size, else the range of sides.
    pub fn size_text(&self) -> String {
        let mut sizes = self.index.iter().map(|&(_, w, h)| (w, h));
        let Some(first) = sizes.next() else { return "no images".into() };
        if sizes.all(|s| s == first) {
            return format!("{}x{}", first.0, first.1);
        }
        let min = self.index.iter().map(|&(_, w, h)| w.min(h)).min().unwrap_or(0);
        format!("sides {min}-{} px", self.max_side())
    }

    /// Append `other`'s images (same classes), decoded into memory.
    pub fn extend(&mut self, other: ImageSet) {
        for i in 0..other.len() {
            let img = other.image(i);
            self.push(other.labels[i], img.w, img.h, &img.pixels);
        }
    }

    /// The images `picks` (in that order), in the same storage (streamed sets stay streamed).
    fn pick(&self, picks: impl Iterator<Item = usize>) -> ImageSet {
        let mut out = ImageSet { files: self.files.clone(), ..ImageSet::new(self.classes.clone()) };
        for j in picks {
            match &self.files {
                Some(_) => {
                    out.add(self.index[j], self.labels[j]);
                }
                None => {
                    let img = self.image(j);
                    out.push(self.labels[j], img.w, img.h, &img.pixels);
                }
            }
        }
        out
    }

    /// `n` images spread evenly over the set (image `i * len / n` for each `i`), in order: a
    /// monitor bank with every class in proportion even when the set is sorted by class (an
    /// image folder is). All images when `n >= len`.
    pub fn spread(&self, n: usize) -> ImageSet {
        if n >= self.len() {
            return self.clone();
        }
        self.pick((0..n).map(|i| i * self.len() / n))
    }

    /// The first `n` images (for quick runs).
    pub fn take(&self, n: usize) -> ImageSet {
        self.pick(0..n.min(self.len()))
    }
}

/// Decode file `file` of `source`, expected `w` x `h`; a mid-gray image (recorded) if it fails.
fn read_file(source: &FileSource, file: usize, w: usize, h: usize) -> Vec<u8> {
    let path = &source.paths[file];
    #[cfg(not(target_arch = "wasm32"))]
    let got = super::image::read_image(path).and_then(|(fw, fh, px)| {
        if (fw, fh) == (w, h) {
            Ok(px)
        } else {
            Err(format!("decoded as {fw}x{fh}, but its header said {w}x{h}"))
        }
    });
    #[cfg(target_arch = "wasm32")]
    let got: std::result::Result<Vec<u8>, String> = Err("files cannot be read in the browser".into());
    got.unwrap_or_else(|cause| {
        source.failures.lock().unwrap_or_else(|e| e.into_inner()).push(format!("{}: {cause}", path.display()));
        vec![128; 3 * w * h]
    })
}

impl Splits {
    /// Both splits, checked to share one non-empty class list.
    pub fn new(train: ImageSet, test: ImageSet) -> Result<Self> {
        if train.classes != test.classes {
            return Err(Error::Data(format!(
                "the train split has classes [{}] but the test split has [{}]: both need the same class folders",
                train.classes.join(", "),
                test.classes.join(", ")
            )));
        }
        if train.classes.is_empty() {
            return Err(Error::Data("the data has no classes".into()));
        }
        Ok(Self { train, test })
    }

    /// One line: what was found (for the doors to print).
    pub fn describe(&self) -> String {
        let names = &self.train.classes;
        let shown = if names.len() <= 10 { names.join(", ") } else { format!("{}, ... {}", names[..5].join(", "), names[names.len() - 1]) };
        format!(
            "{} train / {} test images, {} classes ({shown}), {}{}",
            self.train.len(),
            self.test.len(),
            names.len(),
            self.train.size_text(),
            if self.train.is_streamed() { ", decoded from the files as read (streamed)" } else { ", decoded in memory" }
        )
    }
}
