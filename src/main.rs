//! `locolab`: the native CLI. Thin: parses arguments and calls the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use locolab::config::{Arch, DecoderKind, MethodKind, OptimizerKind, Overrides, SharingMode, TrainConfig, DEFAULT_PRESET};
use locolab::data::{load_dir, CifarSplits, DEFAULT_DIR};
use locolab::error::{Error, Result};
use locolab::eval::{evaluate, EvalOptions, StageAccuracy};
use locolab::experiment::{self, Event, ExperimentSpec};
use locolab::model::{inspect::inspect, ArchSpec};
use locolab::report::ExperimentReport;
use locolab::run::Run;
use locolab::{checkpoint, device};

// Counts every allocation so `locolab bench` can report real peak memory.
#[global_allocator]
static ALLOC: locolab::memory::Counting = locolab::memory::Counting;

#[derive(Parser)]
#[command(name = "locolab", version, about = "SimCLR, GIM and LoCo side by side (local contrastive learning on burn)")]
struct Cli {
    /// Backend: flex (default CPU) or wgpu (when compiled in).
    #[arg(long, global = true)]
    backend: Option<String>,
    /// CIFAR-10 directory (binary batches or the official .tar.gz) [default: ../shared/data/cifar10].
    #[arg(long, global = true)]
    data: Option<PathBuf>,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Per-stage shapes, parameters, activation memory and FLOPs of an architecture.
    Inspect {
        #[arg(long, default_value = "presnet50")]
        arch: Arch,
        #[arg(long)]
        input: Option<usize>,
        #[arg(long)]
        json: bool,
    },
    /// Train one method; writes metrics.jsonl, periodic checkpoints and final accuracies to --out.
    Train {
        #[command(flatten)]
        knobs: Knobs,
        #[arg(long, default_value = "runs/train")]
        out: PathBuf,
        /// Continue from the newest complete checkpoint in --out (--steps may extend the run).
        #[arg(long)]
        resume: bool,
        /// Save a checkpoint every N steps (and at the end).
        #[arg(long, default_value_t = 50)]
        checkpoint_every: usize,
        /// Skip the final kNN / linear evaluation.
        #[arg(long)]
        no_eval: bool,
        /// Evaluate every stage at the end, not only the last.
        #[arg(long)]
        every_stage: bool,
    },
    /// kNN and linear top-1 of a checkpoint (a checkpoint folder or a run directory) on the test split.
    Eval {
        #[arg(long)]
        checkpoint: PathBuf,
        /// Evaluate every stage, not only the last.
        #[arg(long)]
        every_stage: bool,
        #[arg(long)]
        json: bool,
    },
    /// Train every method with several seeds under one budget, with a kNN monitor, a random-init
    /// baseline and resumable runs; writes results.json, results.md and the figures to --out.
    Compare {
        #[command(flatten)]
        knobs: Knobs,
        #[command(flatten)]
        exp: ExperimentKnobs,
        #[arg(long, default_value = "runs/compare")]
        out: PathBuf,
        /// Continue the experiment in --out (its experiment.json; the training knobs are ignored).
        #[arg(long)]
        resume: bool,
        /// Runs trained at the same time (threads sharing the CPU backend's thread pool).
        #[arg(long, default_value_t = 1)]
        jobs: usize,
    },
    /// Measured peak memory of a training step and throughput, per method (CPU backend).
    /// `--steps` is the number of measured steps here.
    Bench {
        #[command(flatten)]
        knobs: Knobs,
        /// Methods to measure [default: every method].
        #[arg(long)]
        methods: Option<String>,
        /// How peak memory is read: `alloc` (this binary's counting allocator, exact) or `rss`
        /// (the process's resident set, Linux; the same probe works for any program).
        #[arg(long, default_value = "alloc", value_parser = ["alloc", "rss"])]
        memory: String,
        /// Also print, per method, each unit's median forward / backward / update time.
        #[arg(long)]
        phases: bool,
        #[arg(long)]
        json: bool,
    },
    /// Re-render results.md and the figures from an experiment's results.json, or from an
    /// experiment directory (its finished runs; unfinished ones are named and left out).
    Report {
        #[arg(long, default_value = "runs/compare")]
        results: PathBuf,
    },
    /// Download the official CIFAR-10 binary archive (needs internet and curl).
    Download {
        #[arg(long, default_value = "data/cifar10")]
        out: PathBuf,
    },
}

/// Training knobs: a preset, then only what the user sets (no defaults repeated here).
#[derive(Args, Clone, Default)]
struct Knobs {
    /// Preset the knobs start from: cifar (default), browser, imagenet.
    #[arg(long)]
    preset: Option<String>,
    #[arg(long)]
    method: Option<MethodKind>,
    /// LoCo sharing: hard, upper-only, soft:<coef>, blocks:<n>.
    #[arg(long)]
    sharing: Option<SharingMode>,
    /// Decoder above each local unit: mlp or conv-mlp.
    #[arg(long)]
    decoder: Option<DecoderKind>,
    #[arg(long)]
    arch: Option<Arch>,
    /// Input side in pixels (crops are resized to it); default: the arch's own (32 or 224).
    #[arg(long)]
    input: Option<usize>,
    #[arg(long)]
    steps: Option<usize>,
    #[arg(long)]
    batch: Option<usize>,
    #[arg(long)]
    lr: Option<f64>,
    #[arg(long)]
    temperature: Option<f64>,
    #[arg(long)]
    seed: Option<u64>,
    #[arg(long)]
    optimizer: Option<OptimizerKind>,
    /// Warm-up steps; default 5% of the steps, at most 10.
    #[arg(long)]
    warmup: Option<usize>,
    #[arg(long)]
    weight_decay: Option<f64>,
    #[arg(long)]
    proj_dim: Option<usize>,
}

impl Knobs {
    fn overrides(&self) -> Overrides {
        Overrides {
            arch: self.arch,
            method: self.method,
            sharing: self.sharing,
            decoder: self.decoder,
            input: self.input,
            batch: self.batch,
            lr: self.lr,
            temperature: self.temperature,
            seed: self.seed,
            steps: self.steps,
            warmup_steps: self.warmup,
            optimizer: self.optimizer,
            weight_decay: self.weight_decay,
            proj_dim: self.proj_dim,
        }
    }
    fn config(&self) -> Result<TrainConfig> {
        TrainConfig::preset_with(self.preset.as_deref().unwrap_or(DEFAULT_PRESET), &self.overrides())
    }
}

#[derive(Args, Clone)]
struct ExperimentKnobs {
    /// Methods to compare [default: every method].
    #[arg(long)]
    methods: Option<String>,
    /// Seeds per method (seed, seed + 1, ...).
    #[arg(long, default_value_t = 1)]
    seeds: usize,
    /// Train for this many passes over the training images instead of --steps.
    #[arg(long)]
    epochs: Option<f64>,
    /// kNN monitor every K steps (and at the start and end) [default: 10 points per run].
    #[arg(long)]
    eval_every: Option<usize>,
    /// Monitor bank: the first N training images.
    #[arg(long, default_value_t = 2000)]
    monitor_train: usize,
    /// Monitor queries: the first N test images.
    #[arg(long, default_value_t = 1000)]
    monitor_test: usize,
    #[arg(long, default_value_t = 50)]
    checkpoint_every: usize,
}

fn methods(list: Option<&str>) -> Result<Vec<MethodKind>> {
    match list {
        None => Ok(MethodKind::ALL.to_vec()),
        Some(l) => l.split(',').map(str::parse).collect(),
    }
}

fn progress(n: usize, label: &str) -> ProgressBar {
    let pb = ProgressBar::new(n as u64);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>18} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_prefix(label.to_string());
    pb
}

fn losses(l: &[f32]) -> String {
    l.iter().map(|l| format!("{l:.3}")).collect::<Vec<_>>().join(" ")
}

fn print_acc(acc: &[StageAccuracy]) {
    for a in acc {
        println!("{:>6}: kNN top-1 {:.2}%  linear top-1 {}", a.stage, a.knn, a.linear.map_or("-".into(), |v| format!("{v:.2}%")));
    }
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// One line per event of a running experiment (runs may interleave with --jobs).
fn log_event(e: Event) {
    match e {
        Event::Started { run, from_step, steps } => eprintln!("[{run}] {} at step {from_step} of {steps}", if from_step > 0 { "resumed" } else { "started" }),
        Event::Step { run, report } if report.step % 25 == 0 => {
            eprintln!("[{run}] step {} loss [{}] {:.1} img/s", report.step, losses(&report.losses), report.images_per_sec)
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

fn run(cli: Cli) -> Result<()> {
    let dev = || device::by_name(cli.backend.as_deref());
    let data_dir = cli.data.clone().unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let data = || -> Result<Arc<CifarSplits>> { Ok(Arc::new(load_dir(&data_dir)?)) };
    match cli.cmd {
        Cmd::Inspect { arch, input, json } => {
            let ins = inspect(&ArchSpec::new(arch, input.unwrap_or(arch.native_input()))?);
            if json {
                println!("{}", serde_json::to_string_pretty(&ins).expect("serialises"));
            } else {
                print!("{}", ins.to_markdown());
            }
        }
        Cmd::Train { knobs, out, resume, checkpoint_every, no_eval, every_stage } => {
            let cfg = if resume { None } else { Some(knobs.config()?) }; // bad knobs fail before any I/O
            let mut run = match cfg {
                None => Run::resume(&out, data()?, &dev()?, &[])?,
                Some(cfg) => Run::start(&out, cfg, data()?, &dev()?, &[])?,
            };
            let t = &run.trainer;
            if resume {
                eprintln!("resuming {} at step {} from {}", t.config.method_label(), t.step_count(), out.display());
            }
            let steps = knobs.steps.unwrap_or(0).max(t.config.steps);
            let pb = progress(steps.saturating_sub(t.step_count()), &t.config.method_label());
            run.train_to(steps, checkpoint_every, |_, r, _| {
                pb.set_message(format!("loss [{}] {:.1} img/s", losses(&r.losses), r.images_per_sec));
                pb.inc(1);
                Ok(())
            })?;
            pb.finish();
            if !no_eval {
                let acc = evaluate(&run.trainer, &EvalOptions { every_stage, ..EvalOptions::default() })?;
                print_acc(&acc);
                write(&out.join("accuracy.json"), &serde_json::to_string_pretty(&acc).expect("serialises"))?;
            }
            eprintln!("wrote {}", out.display());
        }
        Cmd::Eval { checkpoint, every_stage, json } => {
            let loaded = checkpoint::load(&checkpoint, data()?, &dev()?)?;
            let acc = evaluate(&loaded.trainer, &EvalOptions { every_stage, ..EvalOptions::default() })?;
            if json {
                println!("{}", serde_json::to_string_pretty(&acc).expect("serialises"));
            } else {
                eprintln!("{} (step {})", loaded.dir.display(), loaded.trainer.step_count());
                print_acc(&acc);
            }
        }
        Cmd::Compare { knobs, exp, out, resume, jobs } => {
            let spec = if resume {
                let spec = experiment::read_spec(&out)?;
                eprintln!("resuming the experiment in {} (its experiment.json; training knobs ignored)", out.display());
                spec
            } else {
                let mut base = knobs.config()?;
                let methods = methods(exp.methods.as_deref())?;
                let data = data()?;
                if let Some(epochs) = exp.epochs {
                    if knobs.steps.is_some() {
                        return Err(Error::Config("give --steps or --epochs, not both".into()));
                    }
                    let steps = ExperimentSpec::steps_for_epochs(epochs, data.train.len(), base.batch)?;
                    base = TrainConfig::preset_with(
                        knobs.preset.as_deref().unwrap_or(DEFAULT_PRESET),
                        &Overrides { steps: Some(steps), ..knobs.overrides() },
                    )?;
                }
                let eval_every = exp.eval_every.unwrap_or((base.steps / 10).max(1));
                let spec = ExperimentSpec {
                    base,
                    methods,
                    seeds: exp.seeds,
                    eval_every,
                    monitor_train: exp.monitor_train,
                    monitor_test: exp.monitor_test,
                    checkpoint_every: exp.checkpoint_every,
                };
                spec.validate()?;
                experiment::write_spec(&spec, &out)?;
                spec
            };
            let runs = experiment::run(&spec, &out, data()?, &dev()?, jobs, &log_event)?;
            let report = ExperimentReport { spec, runs };
            let written = report.write(&out)?;
            print!("{}", report.markdown());
            eprintln!("wrote {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
        }
        Cmd::Bench { knobs, methods: list, memory, phases, json } => {
            let measured = knobs.steps.unwrap_or(3);
            let cfg = knobs.config()?;
            let methods = methods(list.as_deref())?;
            let probe = locolab::memory::probe(&memory)?;
            let rows = locolab::bench::bench(&cfg, &methods, measured, data()?, &dev()?, probe)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&rows).expect("serialises"));
            } else {
                print!("{}", locolab::bench::markdown(&cfg, &rows));
                if phases {
                    print!("{}", locolab::bench::phases_markdown(&rows));
                }
            }
        }
        Cmd::Report { results } => {
            // An experiment directory (finished runs only, the others named), or a results.json.
            let (report, dir) = if results.join("experiment.json").is_file() {
                let spec = experiment::read_spec(&results)?;
                let (runs, missing) = experiment::collect(&spec, &results);
                for m in &missing {
                    eprintln!("not finished (left out): {m}");
                }
                (ExperimentReport { spec, runs }, results.clone())
            } else {
                let text = std::fs::read_to_string(&results).map_err(|e| Error::io(format!("cannot read {}", results.display()), e))?;
                let report = serde_json::from_str(&text)
                    .map_err(|e| Error::Config(format!("{} is not an experiment's results.json: {e}", results.display())))?;
                (report, results.parent().unwrap_or(Path::new(".")).to_path_buf())
            };
            report.write(&dir)?;
            print!("{}", report.markdown());
        }
        Cmd::Download { out } => {
            std::fs::create_dir_all(&out).map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
            let dest = out.join(locolab::data::cifar::ARCHIVE_NAME);
            eprintln!("downloading {} -> {}", locolab::data::cifar::ARCHIVE_URL, dest.display());
            let status = std::process::Command::new("curl")
                .args(["-fL", "--retry", "3", "-o"])
                .arg(&dest)
                .arg(locolab::data::cifar::ARCHIVE_URL)
                .status()
                .map_err(|e| Error::io("cannot run curl (is it installed?)", e))?;
            if !status.success() {
                return Err(Error::Data(format!("download failed ({status}); no internet here? Use {DEFAULT_DIR} instead")));
            }
            let splits = locolab::data::cifar::load_archive(&dest)?;
            eprintln!("ok: {} train and {} test images in {}", splits.train.len(), splits.test.len(), dest.display());
        }
    }
    Ok(())
}

fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
