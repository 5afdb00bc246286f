//! What the CLI prints: progress, accuracies, experiment events.

use std::path::Path;

use std::collections::HashMap;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use locolab::error::{Error, Result};
use locolab::eval::StageAccuracy;
use locolab::experiment::Event;

pub(crate) fn progress(n: usize, label: &str) -> ProgressBar {
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

/// Without a terminal (a log file, CI) the progress bar draws nothing: one line per twentieth
/// of the run instead, with the epoch, images/s and the time left.
pub(crate) struct LogLines {
    every: usize,
    last: usize,
    started: std::time::Instant,
    done: usize,
    todo: usize,
    active: bool,
}

impl LogLines {
    pub(crate) fn new(todo: usize, last: usize) -> Self {
        use std::io::IsTerminal;
        Self { every: (todo / 20).max(1), last, started: std::time::Instant::now(), done: 0, todo, active: !std::io::stderr().is_terminal() }
    }

    pub(crate) fn step(&mut self, r: &locolab::StepReport) {
        self.done += 1;
        if !self.active || (self.done % self.every != 0 && r.step != self.last) {
            return;
        }
        let per_step = self.started.elapsed().as_secs_f64() / self.done as f64;
        let left = per_step * self.todo.saturating_sub(self.done) as f64;
        eprintln!(
            "step {}/{} (epoch {:.2}) loss [{}] {:.1} img/s, {:.0} s left",
            r.step,
            self.last,
            r.epoch,
            losses(&r.losses),
            r.images_per_sec,
            left
        );
    }
}

pub(crate) fn losses(l: &[f32]) -> String {
    l.iter().map(|l| format!("{l:.3}")).collect::<Vec<_>>().join(" ")
}

pub(crate) fn print_acc(acc: &[StageAccuracy]) {
    let pct = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.2}%"));
    for a in acc {
        let top5 = match (a.knn_top5, a.linear_top5) {
            (None, None) => String::new(),
            (k, l) => format!("  (top-5: kNN {}, linear {})", pct(k), pct(l)),
        };
        println!("{:>6}: kNN top-1 {:.2}%  linear top-1 {}{top5}", a.stage, a.knn, pct(a.linear));
        if let Some(c) = &a.converged {
            let state = if c.converged { "converged" } else { "not converged" };
            println!(
                "        kNN k=20 {}  converged probe top-1 {:.2}% (L2 {:e} chosen on validation; {} L-BFGS iterations, gradient {:.1e}, {state})",
                pct(a.knn20),
                c.top1,
                c.l2,
                c.iterations,
                c.gradient
            );
        }
    }
}

pub(crate) fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// One line per event of a running experiment (runs may interleave with --jobs).
pub(crate) fn log_event(e: Event) {
    match e {
        Event::Started { run, from_step, steps } => eprintln!("[{run}] {} at step {from_step} of {steps}", if from_step > 0 { "resumed" } else { "started" }),
        Event::Step { run, report } if report.step % 25 == 0 => {
            eprintln!(
                "[{run}] step {} (epoch {:.2}) loss [{}] {:.1} img/s, waited {:.0} ms for data",
                report.step,
                report.epoch,
                losses(&report.losses),
                report.images_per_sec,
                report.data_wait_seconds * 1e3
            )
        }
        Event::Step { .. } => {}
        Event::Monitor { run, point } => {
            let knn: Vec<String> = point.knn.iter().map(|k| format!("{k:.1}")).collect();
            eprintln!("[{run}] step {} ({} images): kNN per stage [{}]", point.step, point.images_seen, knn.join(" "))
        }
        Event::Finished { run, result } => {
            let last = result.accuracy.last();
            eprintln!(
                "[{run}] done: kNN {:.1}%, linear {}",
                last.map_or(f64::NAN, |a| a.knn),
                last.and_then(|a| a.linear).map_or("-".into(), |v| format!("{v:.1}%"))
            )
        }
    }
}

/// A running experiment's output: on a terminal, one progress bar per run (epoch, images/s,
/// time left) with the monitor points and results printed above the bars; otherwise (a log
/// file, CI) [`log_event`]'s lines.
pub(crate) struct ExperimentProgress {
    bars: Option<(MultiProgress, Mutex<HashMap<String, ProgressBar>>)>,
}

impl ExperimentProgress {
    pub(crate) fn new() -> Self {
        use std::io::IsTerminal;
        Self { bars: std::io::stderr().is_terminal().then(|| (MultiProgress::new(), Mutex::new(HashMap::new()))) }
    }

    pub(crate) fn event(&self, e: Event) {
        let Some((multi, bars)) = &self.bars else { return log_event(e) };
        let mut bars = bars.lock().unwrap_or_else(|p| p.into_inner());
        match e {
            Event::Started { run, from_step, steps } => {
                let pb = multi.add(progress(steps, &run));
                pb.set_position(from_step as u64);
                pb.reset_eta();
                bars.insert(run, pb);
            }
            Event::Step { run, report } => {
                if let Some(pb) = bars.get(&run) {
                    pb.set_position(report.step as u64);
                    pb.set_message(format!("epoch {:.2} loss [{}] {:.0} img/s", report.epoch, losses(&report.losses), report.images_per_sec));
                }
            }
            Event::Monitor { run, point } => {
                let knn: Vec<String> = point.knn.iter().map(|k| format!("{k:.1}")).collect();
                let _ = multi.println(format!("[{run}] step {} ({} images): kNN per stage [{}]", point.step, point.images_seen, knn.join(" ")));
            }
            Event::Finished { run, result } => {
                let last = result.accuracy.last();
                let done = format!(
                    "done: kNN {:.1}%, linear {}",
                    last.map_or(f64::NAN, |a| a.knn),
                    last.and_then(|a| a.linear).map_or("-".into(), |v| format!("{v:.1}%"))
                );
                match bars.remove(&run) {
                    Some(pb) => pb.finish_with_message(done),
                    None => {
                        let _ = multi.println(format!("[{run}] {done}"));
                    }
                }
            }
        }
    }
}
