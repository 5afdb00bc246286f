//! A training run in a directory, as `locolab train` and each run of `locolab compare` keep
//! it: `metrics.jsonl` (one [`StepReport`] per line), periodic checkpoints
//! ([`crate::checkpoint`]) and `time.json` (training seconds as of the last checkpoint). A
//! killed run resumes from its last complete checkpoint; the logs are cut back to it, so the
//! continued run reads as one uninterrupted run.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::prelude::*;
use serde::Serialize;
use web_time::Instant;

use crate::cadence::Cadence;
use crate::checkpoint;
use crate::config::TrainConfig;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::train::{StepReport, Trainer};

/// Checkpoints kept per run (the newest ones; older ones are removed after each save).
pub const KEEP_CHECKPOINTS: usize = 2;

/// An open run: its trainer and where it lives.
pub struct Run {
    pub trainer: Trainer,
    pub dir: PathBuf,
    /// Training seconds of earlier sessions, as of the checkpoint resumed from.
    pub seconds_before: f64,
    /// Whether this run continued from a checkpoint.
    pub resumed: bool,
}

/// Append one JSON line to `path`.
pub fn append_line(path: &Path, value: &impl Serialize) -> Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| Error::io(format!("cannot open {}", path.display()), e))?;
    writeln!(f, "{}", serde_json::to_string(value).expect("serialises")).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// The parseable lines of a JSON-lines file (a torn last line is skipped).
pub fn read_jsonl<T: for<'de> serde::Deserialize<'de>>(path: &Path) -> Vec<T> {
    std::fs::read_to_string(path).map(|t| t.lines().filter_map(|l| serde_json::from_str(l).ok()).collect()).unwrap_or_default()
}

impl Run {
    /// Logs that follow the step count and are cut back on resume.
    pub fn metrics_path(&self) -> PathBuf {
        self.dir.join("metrics.jsonl")
    }

    /// Start a fresh run in `dir` (removing an old run's logs and checkpoints there).
    pub fn start(dir: &Path, config: TrainConfig, data: Arc<Splits>, device: &Device, logs: &[&str]) -> Result<Self> {
        let trainer = Trainer::new(config, data, device)?; // bad config fails before the directory is touched
        std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
        for name in ["metrics.jsonl", "time.json"].iter().chain(logs) {
            let _ = std::fs::remove_file(dir.join(name));
        }
        let _ = std::fs::remove_dir_all(dir.join(checkpoint::SUBDIR));
        Ok(Self { trainer, dir: dir.to_path_buf(), seconds_before: 0.0, resumed: false })
    }

    /// Continue the run in `dir` from its newest complete checkpoint; `logs` (besides
    /// `metrics.jsonl`) are cut back to that checkpoint's step too.
    pub fn resume(dir: &Path, data: Arc<Splits>, device: &Device, logs: &[&str]) -> Result<Self> {
        let loaded = Trainer::load(dir, data, device)?;
        if !loaded.resumable {
            return Err(Error::Checkpoint(format!(
                "{} holds weights only (no optimizer state): it can be evaluated, not resumed",
                loaded.dir.display()
            )));
        }
        let step = loaded.trainer.step_count();
        for name in ["metrics.jsonl"].iter().chain(logs) {
            checkpoint::truncate_log(&dir.join(name), step)?;
        }
        let seconds_before = std::fs::read_to_string(dir.join("time.json"))
            .ok()
            .and_then(|s| serde_json::from_str::<(usize, f64)>(&s).ok())
            .filter(|(s, _)| *s == step)
            .map_or(0.0, |(_, secs)| secs);
        Ok(Self { trainer: loaded.trainer, dir: dir.to_path_buf(), seconds_before, resumed: true })
    }

    /// Resume if `dir` has a checkpoint, else start fresh with `config`.
    pub fn open(dir: &Path, config: TrainConfig, data: Arc<Splits>, device: &Device, logs: &[&str]) -> Result<Self> {
        if checkpoint::exists(dir) {
            Self::resume(dir, data, device, logs)
        } else {
            Self::start(dir, config, data, device, logs)
        }
    }

    /// Save a checkpoint now (and the training time as of it).
    pub fn checkpoint(&mut self, clock: &mut Instant) -> Result<PathBuf> {
        self.seconds_before += clock.elapsed().as_secs_f64();
        let path = checkpoint::save(&self.trainer.snapshot(checkpoint::Contents::Full)?, &self.dir, KEEP_CHECKPOINTS)?;
        let time = serde_json::to_string(&(self.trainer.step_count(), self.seconds_before)).expect("serialises");
        checkpoint::write_atomic(&self.dir.join("time.json"), time.as_bytes())?;
        *clock = Instant::now();
        Ok(path)
    }

    /// Train to the cadence's end, following it ([`Cadence`]): every report appended to
    /// `metrics.jsonl` and handed to `sink.step`, `sink.monitor` at each monitor point (the
    /// training clock paused), a checkpoint at each save point. With `parallel`, every local
    /// unit runs on its own thread ([`Trainer::run_parallel`]) for a stretch up to the next
    /// point; otherwise one step at a time. A diverged step (or a failed stretch) leaves the
    /// last checkpoint and the trainer before it, and the error is returned.
    pub fn train(&mut self, cadence: &Cadence, parallel: bool, sink: &mut impl Sink) -> Result<()> {
        let metrics = self.metrics_path();
        let mut clock = Instant::now();
        if self.trainer.step_count() == 0 && cadence.due(0).monitor {
            sink.monitor(&self.trainer)?;
            clock = Instant::now();
        }
        while self.trainer.step_count() < cadence.end {
            let at = self.trainer.step_count();
            if parallel {
                let mut logged = Ok(());
                self.trainer.run_parallel(cadence.stretch(at, cadence.end - at), |r| {
                    if logged.is_ok() {
                        logged = append_line(&metrics, r).and_then(|()| sink.step(r));
                    }
                })?;
                logged?;
            } else {
                let r = self.trainer.step()?;
                append_line(&metrics, &r)?;
                sink.step(&r)?;
            }
            let due = cadence.due(self.trainer.step_count());
            if due.monitor {
                self.seconds_before += clock.elapsed().as_secs_f64();
                sink.monitor(&self.trainer)?;
                clock = Instant::now();
            }
            if due.save {
                self.checkpoint(&mut clock)?;
            }
        }
        self.seconds_before += clock.elapsed().as_secs_f64();
        Ok(())
    }
}

/// Where [`Run::train`] hands what it does (the CLI's progress, `compare`'s monitor log).
pub trait Sink {
    /// A step's report, as each completes (already in `metrics.jsonl`).
    fn step(&mut self, _report: &StepReport) -> Result<()> {
        Ok(())
    }
    /// A monitor point: the trainer at that step, the training clock paused.
    fn monitor(&mut self, _trainer: &Trainer) -> Result<()> {
        Ok(())
    }
}

/// No sink: the run's own logs and checkpoints only.
impl Sink for () {}
