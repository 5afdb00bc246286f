//! The kill test: `locolab train` is killed (SIGKILL) at random points, checkpoint writes
//! included, then resumed until done; the run must read as one uninterrupted run, step for step.
#![cfg(not(target_arch = "wasm32"))]
mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use locolab::StepReport;

const STEPS: usize = 12;

fn train(out: &Path, resume: bool) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_locolab"));
    c.args(["train", "--preset", "browser", "--method", "loco", "--batch", "16", "--steps", &STEPS.to_string()])
        .args(["--checkpoint-every", "1", "--no-eval", "--seed", "7", "--data"])
        .arg(common::cifar_dir())
        .arg("--out")
        .arg(out)
        .env("RAYON_NUM_THREADS", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    if resume {
        c.arg("--resume");
    }
    c
}

fn losses(out: &Path) -> Vec<StepReport> {
    locolab::run::read_jsonl(&out.join("metrics.jsonl"))
}

/// xorshift64*, seeded from the clock: a different kill schedule every run (printed).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % n.max(1)
    }
}

#[test]
fn killed_training_resumes_with_the_losses_of_an_uninterrupted_run() {
    let reference = common::tmpdir("kill-reference");
    let t0 = Instant::now();
    let out = train(&reference, false).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let whole = t0.elapsed();
    let want = losses(&reference);
    assert_eq!(want.len(), STEPS);

    let seed = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1;
    let mut rng = Rng(seed);
    let dir = common::tmpdir("kill-victim");
    let mut kills = 0;
    let mut resume = false;
    // Kill up to 4 times at a random moment within the run's length, then let it finish.
    for attempt in 0..5 {
        let mut child = train(&dir, resume).spawn().unwrap();
        if attempt < 4 {
            let delay = Duration::from_millis(200 + rng.below(whole.as_millis() as u64));
            let started = Instant::now();
            while started.elapsed() < delay && child.try_wait().unwrap().is_none() {
                std::thread::sleep(Duration::from_millis(5));
            }
            if child.try_wait().unwrap().is_none() {
                child.kill().unwrap(); // SIGKILL on Unix
                kills += 1;
            }
            if child.wait().unwrap().success() {
                break; // finished before its kill time
            }
        } else {
            let out = child.wait_with_output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        }
        // Once a checkpoint exists, every later start resumes (as a user would).
        resume = locolab::checkpoint::exists(&dir);
    }
    eprintln!("kill schedule seed {seed}: {kills} kills");
    let got = losses(&dir);
    assert_eq!(got.iter().map(|r| r.step).collect::<Vec<_>>(), (1..=STEPS).collect::<Vec<_>>(), "one log line per step");
    for (a, b) in want.iter().zip(&got) {
        for (x, y) in a.losses.iter().zip(&b.losses) {
            assert!((x - y).abs() < 1e-4, "step {}: {x} uninterrupted vs {y} after {kills} kills (seed {seed})", a.step);
        }
    }
}
