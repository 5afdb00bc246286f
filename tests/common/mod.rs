#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use locolab::data::{load_dir, CifarSplits};

/// The real CIFAR-10 subset beside the repo (`../shared/data/cifar10`), loaded once.
pub fn cifar() -> Arc<CifarSplits> {
    static DATA: OnceLock<Arc<CifarSplits>> = OnceLock::new();
    DATA.get_or_init(|| {
        let dir = std::env::var("LOCOLAB_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cifar10"));
        Arc::new(load_dir(&dir).unwrap_or_else(|e| panic!("tests need the CIFAR-10 subset: {e}")))
    })
    .clone()
}
