//! Checkpoints: versioned, self-describing, checked before burn reads a byte.
//!
//! A checkpoint is a few files: `model.bpk` (burn's burnpack record of the network),
//! `optim.bpk` (optional: weights-only checkpoints can be evaluated but not resumed) and
//! `state.json` (format version, the full config, the step, and the size and FNV-1a hash of
//! every other file). It lives in one of two shapes with the same files:
//! * a **folder** (native, [`dir`]): periodic checkpoints of a run, written atomically;
//! * a **bundle**, one uncompressed tar file ([`Snapshot::to_bundle`] / [`read_bundle`]): what the page
//!   downloads and keeps in IndexedDB. `tar xf` turns a bundle into a folder, and
//!   `locolab eval --checkpoint file.tar` reads a bundle directly.
//!
//! Both shapes read into one [`Snapshot`] (config, counters, burn's records): the version, the
//! config and each file's size and hash are checked first (once), so a truncated, damaged or
//! foreign checkpoint is a one-line error that names the file. This module knows records, not
//! trainers: [`crate::train::Trainer`] makes and loads snapshots.

mod format;
pub use format::*;
#[cfg(not(target_arch = "wasm32"))]
mod dir;
#[cfg(not(target_arch = "wasm32"))]
pub use dir::*;
