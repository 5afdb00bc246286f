//! `locolab`: the native CLI. Thin: parses arguments and calls the library.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};

use locolab::config::{Arch, DecoderKind, MethodKind, OptimizerKind, SharingMode, TrainConfig};
use locolab::data::{load_dir, CifarSplits};
use locolab::error::{Error, Result};
use locolab::eval::{evaluate, StageAccuracy};
use locolab::model::{inspect::inspect, ArchSpec};
use locolab::report::{loss_curves_svg, markdown_table, MethodResult};
use locolab::{device, StepReport, Trainer};

// Counts every allocation so `locolab bench` can report real peak memory.
#[global_allocator]
static ALLOC: locolab::alloc::Counting = locolab::alloc::Counting;


#[derive(Parser)]
#[command(name = "locolab", version, about = "SimCLR, GIM and LoCo side by side (local contrastive learning on burn)")]
struct Cli {
    /// Backend: flex (default CPU) or wgpu (when compiled in).
    #[arg(long, global = true)]
    backend: Option<String>,
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
    /// Train one method; writes metrics.jsonl, a checkpoint and final accuracies to --out.
    Train {
        #[command(flatten)]
        knobs: Knobs,
        #[arg(long, default_value = "runs/train")]
        out: PathBuf,
        /// Continue from the checkpoint in --out.
        #[arg(long)]
        resume: bool,
        /// Skip the final kNN / linear evaluation.
        #[arg(long)]
        no_eval: bool,
    },
    /// kNN and linear top-1 of a checkpoint on the test split.
    Eval {
        #[arg(long)]
        checkpoint: PathBuf,
        #[arg(long, default_value = "../shared/data/cifar10")]
        data: PathBuf,
        /// Evaluate every stage, not only the last.
        #[arg(long)]
        every_stage: bool,
        #[arg(long)]
        json: bool,
    },
    /// Train SimCLR, GIM and LoCo under one budget; write results.json, results.md, loss_curves.svg.
    Compare {
        #[command(flatten)]
        knobs: Knobs,
        #[arg(long, default_value = "runs/compare")]
        out: PathBuf,
        #[arg(long, default_value = "simclr,gim,loco")]
        methods: String,
    },
    /// Measured peak memory of a training step and throughput, per method (CPU backend).
    Bench {
        #[arg(long, default_value = "presnet-cifar")]
        arch: Arch,
        #[arg(long)]
        input: Option<usize>,
        #[arg(long, default_value_t = 8)]
        batch: usize,
        #[arg(long, default_value = "simclr,gim,loco")]
        methods: String,
        #[arg(long, default_value_t = 3)]
        steps: usize,
        /// LoCo sharing and decoder, as for train.
        #[arg(long, default_value = "hard")]
        sharing: SharingMode,
        #[arg(long, default_value = "conv-mlp")]
        decoder: DecoderKind,
        #[arg(long, default_value = "../shared/data/cifar10")]
        data: PathBuf,
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
    /// Re-render results.md and loss_curves.svg from a compare run's results.json.
    Report {
        #[arg(long, default_value = "runs/compare/results.json")]
        results: PathBuf,
    },
    /// Download the official CIFAR-10 binary archive (needs internet and curl).
    Download {
        #[arg(long, default_value = "data/cifar10")]
        out: PathBuf,
    },
}

#[derive(Args, Clone)]
struct Knobs {
    #[arg(long, default_value = "loco")]
    method: MethodKind,
    /// LoCo sharing: hard, upper-only, soft:<coef>, blocks:<n>.
    #[arg(long, default_value = "hard")]
    sharing: SharingMode,
    /// Decoder above each local unit: mlp or conv-mlp.
    #[arg(long, default_value = "conv-mlp")]
    decoder: DecoderKind,
    #[arg(long, default_value = "presnet-cifar")]
    arch: Arch,
    /// Input side in pixels (crops are resized to it); default: the arch's own (32 or 224).
    #[arg(long)]
    input: Option<usize>,
    #[arg(long, default_value = "../shared/data/cifar10")]
    data: PathBuf,
    #[arg(long, default_value_t = 500)]
    steps: usize,
    #[arg(long, default_value_t = 128)]
    batch: usize,
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    #[arg(long, default_value_t = 0.5)]
    temperature: f64,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value = "adam")]
    optimizer: OptimizerKind,
    #[arg(long)]
    warmup: Option<usize>,
    /// Evaluate every stage (kNN and linear) at the end, not only the last.
    #[arg(long)]
    every_stage: bool,
}

impl Knobs {
    fn config(&self) -> Result<TrainConfig> {
        let base = TrainConfig::default();
        let cfg = TrainConfig {
            arch: self.arch,
            method: self.method,
            sharing: self.sharing,
            decoder: self.decoder,
            input: self.input.unwrap_or(self.arch.native_input()),
            batch: self.batch,
            lr: self.lr,
            temperature: self.temperature,
            seed: self.seed,
            steps: self.steps,
            warmup_steps: self.warmup.unwrap_or((self.steps / 20).min(base.warmup_steps)),
            optimizer: self.optimizer,
            ..base
        };
        cfg.validate()?;
        Ok(cfg)
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

fn loss_msg(r: &StepReport) -> String {
    let l: Vec<String> = r.losses.iter().map(|l| format!("{l:.3}")).collect();
    format!("loss [{}] {:.1} img/s", l.join(" "), r.images_per_sec)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
}

/// Train for the remaining steps, appending one JSON line per step to `metrics`.
fn train_loop(t: &mut Trainer, steps: usize, metrics: &Path, label: &str) -> Result<Vec<StepReport>> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(metrics)
        .map_err(|e| Error::io(format!("cannot open {}", metrics.display()), e))?;
    let remaining = steps.saturating_sub(t.step_count());
    let pb = progress(remaining, label);
    let reports = t.run(remaining, |r| {
        let _ = writeln!(file, "{}", serde_json::to_string(r).expect("report serialises"));
        pb.set_message(loss_msg(r));
        pb.inc(1);
    });
    pb.finish();
    reports
}

fn eval_trainer(t: &Trainer, every_stage: bool) -> Result<Vec<StageAccuracy>> {
    let names: Vec<String> = t.spec.stages.iter().map(|s| s.name.clone()).collect();
    let data = t.data();
    evaluate(&t.eval_network(), &names, &data.train, &data.test, t.config.input, t.device(), every_stage, true)
}

fn print_acc(acc: &[StageAccuracy]) {
    for a in acc {
        println!("{:>6}: kNN top-1 {:.2}%  linear top-1 {}", a.stage, a.knn, a.linear.map_or("-".into(), |v| format!("{v:.2}%")));
    }
}

fn load_data(dir: &Path) -> Result<Arc<CifarSplits>> {
    Ok(Arc::new(load_dir(dir)?))
}

fn run(cli: Cli) -> Result<()> {
    let dev = || device::by_name(cli.backend.as_deref());
    match cli.cmd {
        Cmd::Inspect { arch, input, json } => {
            let spec = ArchSpec::new(arch, input.unwrap_or(arch.native_input()))?;
            let ins = inspect(&spec);
            if json {
                println!("{}", serde_json::to_string_pretty(&ins).expect("serialises"));
            } else {
                print!("{}", ins.to_markdown());
            }
        }
        Cmd::Train { knobs, out, resume, no_eval } => {
            let cfg = if resume { None } else { Some(knobs.config()?) }; // bad knobs fail before any I/O
            let data = load_data(&knobs.data)?;
            create_dir(&out)?;
            let mut t = if resume {
                let t = Trainer::load(&out, data, &dev()?)?;
                eprintln!("resuming {} at step {}", t.config.method_label(), t.step_count());
                t
            } else {
                let _ = std::fs::remove_file(out.join("metrics.jsonl"));
                Trainer::new(cfg.expect("set when not resuming"), data, &dev()?)?
            };
            let steps = if resume { knobs.steps.max(t.config.steps) } else { t.config.steps };
            let label = t.config.method_label();
            let res = train_loop(&mut t, steps, &out.join("metrics.jsonl"), &label);
            t.save(&out)?; // keep what was learned even if a later step diverged
            res?;
            if !no_eval {
                let acc = eval_trainer(&t, knobs.every_stage)?;
                print_acc(&acc);
                write(&out.join("accuracy.json"), &serde_json::to_string_pretty(&acc).expect("serialises"))?;
            }
            eprintln!("wrote {}", out.display());
        }
        Cmd::Eval { checkpoint, data, every_stage, json } => {
            let t = Trainer::load(&checkpoint, load_data(&data)?, &dev()?)?;
            let acc = eval_trainer(&t, every_stage)?;
            if json {
                println!("{}", serde_json::to_string_pretty(&acc).expect("serialises"));
            } else {
                print_acc(&acc);
            }
        }
        Cmd::Compare { knobs, out, methods } => {
            knobs.config()?;
            let data = load_data(&knobs.data)?;
            create_dir(&out)?;
            let mut results = Vec::new();
            for m in methods.split(',') {
                let mut k = knobs.clone();
                k.method = m.parse()?;
                let cfg = k.config()?;
                let dir = out.join(cfg.method.to_string());
                create_dir(&dir)?;
                let _ = std::fs::remove_file(dir.join("metrics.jsonl"));
                let label = cfg.method_label();
                let mut t = Trainer::new(cfg, data.clone(), &dev()?)?;
                let start = web_time::Instant::now();
                let steps = t.config.steps;
                let reports = train_loop(&mut t, steps, &dir.join("metrics.jsonl"), &label)?;
                let secs = start.elapsed().as_secs_f64();
                t.save(&dir)?;
                let acc = eval_trainer(&t, knobs.every_stage)?;
                print_acc(&acc);
                results.push(MethodResult::new(label, &reports, secs, acc));
                // Write after each method so an interrupted comparison keeps what it has.
                write(&out.join("results.json"), &serde_json::to_string_pretty(&results).expect("serialises"))?;
                write(&out.join("results.md"), &markdown_table(&results))?;
                write(&out.join("loss_curves.svg"), &loss_curves_svg(&results))?;
            }
            print!("{}", markdown_table(&results));
            eprintln!("wrote {}/results.json, results.md, loss_curves.svg", out.display());
        }
        Cmd::Bench { arch, input, batch, methods, steps, sharing, decoder, data, memory, phases, json } => {
            let cfg = TrainConfig { arch, input: input.unwrap_or(arch.native_input()), batch, sharing, decoder, ..TrainConfig::default() };
            cfg.validate()?;
            let methods: Vec<MethodKind> = methods.split(',').map(|m| m.parse()).collect::<Result<_>>()?;
            let probe: &dyn locolab::bench::MemoryProbe = if memory == "rss" {
                if !locolab::alloc::RssProbe::available() {
                    return Err(Error::Config("--memory rss needs Linux /proc/self/status and /proc/self/clear_refs".into()));
                }
                &locolab::alloc::RssProbe
            } else {
                &locolab::alloc::AllocProbe
            };
            let rows = locolab::bench::bench(&cfg, &methods, steps, load_data(&data)?, &dev()?, probe)?;
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
            let text = std::fs::read_to_string(&results).map_err(|e| Error::io(format!("cannot read {}", results.display()), e))?;
            let results_v: Vec<MethodResult> =
                serde_json::from_str(&text).map_err(|e| Error::Config(format!("{} is not a compare results.json: {e}", results.display())))?;
            let dir = results.parent().unwrap_or(Path::new("."));
            write(&dir.join("results.md"), &markdown_table(&results_v))?;
            write(&dir.join("loss_curves.svg"), &loss_curves_svg(&results_v))?;
            print!("{}", markdown_table(&results_v));
        }
        Cmd::Download { out } => {
            create_dir(&out)?;
            let dest = out.join(locolab::data::cifar::ARCHIVE_NAME);
            eprintln!("downloading {} -> {}", locolab::data::cifar::ARCHIVE_URL, dest.display());
            let status = std::process::Command::new("curl")
                .args(["-fL", "--retry", "3", "-o"])
                .arg(&dest)
                .arg(locolab::data::cifar::ARCHIVE_URL)
                .status()
                .map_err(|e| Error::io("cannot run curl (is it installed?)", e))?;
            if !status.success() {
                return Err(Error::Data(format!("download failed ({status}); no internet here? Use ../shared/data/cifar10 instead")));
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
