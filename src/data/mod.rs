//! Dataset readers, augmentation and batching.

pub mod augment;
pub mod cifar;

pub use augment::{Augment, Views};
pub use cifar::{load_dir, Cifar10, CifarSplits};

/// Where the doors look for CIFAR-10 when no directory is given: the shared subset beside the repo.
pub const DEFAULT_DIR: &str = "../shared/data/cifar10";
