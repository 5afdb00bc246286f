#![allow(dead_code)]
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use locolab::config::{Arch, MethodKind, TrainConfig};
use locolab::data::{load_dir, Splits};

/// The directory of the real CIFAR-10 subset (`../shared/data/cifar10`, or `$LOCOLAB_DATA`).
pub fn cifar_dir() -> PathBuf {
    std::env::var("LOCOLAB_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/cifar10"))
}

/// The real CIFAR-10 subset beside the repo, loaded once.
pub fn cifar() -> Arc<Splits> {
    static DATA: OnceLock<Arc<Splits>> = OnceLock::new();
    DATA.get_or_init(|| Arc::new(load_dir(&cifar_dir()).unwrap_or_else(|e| panic!("tests need the CIFAR-10 subset: {e}"))))
        .clone()
}

/// A fresh, empty temporary directory for one test.
pub fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("locolab-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// presnet-tiny at batch 32 for 40 steps: the tests' small, fast config.
pub fn tiny(method: MethodKind) -> TrainConfig {
    TrainConfig { arch: Arch::PresnetTiny, method, batch: 32, steps: 40, warmup_steps: 4, lr: 2e-3, ..TrainConfig::default() }
}

/// Drive a future whose read-backs resolve at once (the CPU backend) to completion.
#[allow(dead_code)]
pub fn ready<F: std::future::Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}
