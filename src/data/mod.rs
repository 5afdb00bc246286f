//! Dataset readers, augmentation and batching.

pub mod augment;
pub mod cifar;

pub use augment::{Augment, Views};
pub use cifar::{load_dir, Cifar10, CifarSplits};
