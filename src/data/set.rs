//! Decoded images in memory, whatever their source: every image planar CHW u8 (RGB) at its own
//! size, with its class. CIFAR-10 binary gives 32x32 images and ten classes; an image folder
//! gives any size and any number of classes.

use crate::error::{Error, Result};

/// One decoded image: planar CHW RGB bytes, `w` x `h`.
#[derive(Clone, Copy, Debug)]
pub struct Img<'a> {
    pub pixels: &'a [u8],
    pub w: usize,
    pub h: usize,
}

/// Images (planar CHW u8, any size) and their labels, with the class names.
#[derive(Clone, Debug, Default)]
pub struct ImageSet {
    pixels: Vec<u8>,
    /// Where each image starts in `pixels`, and its width and height.
    index: Vec<(usize, u32, u32)>,
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
        self.index.push((self.pixels.len(), w as u32, h as u32));
        self.pixels.extend_from_slice(chw);
        self.labels.push(label);
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

    /// Image `i`.
    pub fn image(&self, i: usize) -> Img<'_> {
        let (start, w, h) = self.index[i];
        let (w, h) = (w as usize, h as usize);
        Img { pixels: &self.pixels[start..start + 3 * w * h], w, h }
    }

    /// The largest width and height of any image (0 when empty).
    pub fn max_side(&self) -> usize {
        self.index.iter().map(|&(_, w, h)| w.max(h) as usize).max().unwrap_or(0)
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

    /// Append `other`'s images (same classes).
    pub fn extend(&mut self, other: ImageSet) {
        for i in 0..other.len() {
            let img = other.image(i);
            self.push(other.labels[i], img.w, img.h, img.pixels);
        }
    }

    /// `n` images spread evenly over the set (image `i * len / n` for each `i`), in order: a
    /// monitor bank with every class in proportion even when the set is sorted by class (an
    /// image folder is). All images when `n >= len`.
    pub fn spread(&self, n: usize) -> ImageSet {
        if n >= self.len() {
            return self.clone();
        }
        let mut out = ImageSet::new(self.classes.clone());
        for i in 0..n {
            let j = i * self.len() / n;
            let img = self.image(j);
            out.push(self.labels[j], img.w, img.h, img.pixels);
        }
        out
    }

    /// The first `n` images (for quick runs).
    pub fn take(&self, n: usize) -> ImageSet {
        let n = n.min(self.len());
        let end = if n == self.len() { self.pixels.len() } else { self.index[n].0 };
        ImageSet { pixels: self.pixels[..end].to_vec(), index: self.index[..n].to_vec(), labels: self.labels[..n].to_vec(), classes: self.classes.clone() }
    }
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
            "{} train / {} test images, {} classes ({shown}), {}",
            self.train.len(),
            self.test.len(),
            names.len(),
            self.train.size_text()
        )
    }
}
