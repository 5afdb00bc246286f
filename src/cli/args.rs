//! The CLI's arguments (clap). Training knobs are optional overrides of a preset: no default
//! value of the library is repeated here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

use locolab::config::{Arch, MethodKind, Overrides};
use locolab::error::{Error, Result};
use locolab::recipe::Recipe;

#[derive(Parser)]
#[command(name = "locolab", version = concat!(env!("CARGO_PKG_VERSION"), " (commit ", env!("LOCOLAB_COMMIT"), ")"), about = "SimCLR, GIM and LoCo side by side (local contrastive learning on burn)")]
pub(crate) struct Cli {
    /// Backend: flex (default, CPU), or wgpu / cuda when compiled in (`--features wgpu`, `cuda`).
    #[arg(long, global = true)]
    pub(crate) backend: Option<String>,
    /// The data: a CIFAR-10 binary directory (or the official .tar.gz), an image-folder tree
    /// (DIR/train/<class>/*.jpg|png and DIR/val/ or DIR/test/), or an image-folder archive
    /// (.tar.xz, unpacked once into ~/.cache/locolab-data) [default: ../shared/data/cifar10].
    #[arg(long, global = true)]
    pub(crate) data: Option<PathBuf>,
    /// Skip image files that cannot be read or decoded (counted in the log) instead of stopping.
    #[arg(long, global = true)]
    pub(crate) skip_bad_images: bool,
    /// Decode an image folder's files at every read (on the loader's workers) instead of once
    /// into memory; automatic when a split would take more than 4 GiB decoded.
    #[arg(long, global = true)]
    pub(crate) stream: bool,
    /// Threads that augment batches ahead of the training step (0: on the training thread);
    /// the batches are the same for any count [default: a quarter of the cores, 1 to 8].
    #[arg(long, global = true)]
    pub(crate) workers: Option<usize>,
    #[command(subcommand)]
    pub(crate) cmd: Cmd,
}

#[derive(Subcommand)]
pub(crate) enum Cmd {
    /// Per-stage shapes, parameters, activation memory and FLOPs of an architecture.
    Inspect {
        /// [default: presnet50, or the --config file's]
        #[arg(long)]
        arch: Option<Arch>,
        #[arg(long)]
        input: Option<usize>,
        /// Residual blocks in every stage [default: the architecture's own, or the --config file's]
        #[arg(long)]
        blocks: Option<usize>,
        /// An experiment file: its architecture, input and blocks.
        #[arg(long)]
        config: Option<PathBuf>,
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
        /// Train for this many passes over the training images instead of --steps.
        #[arg(long, conflicts_with = "steps")]
        epochs: Option<f64>,
        /// Save a checkpoint every N steps (and at the end) [default: 50].
        #[arg(long)]
        checkpoint_every: Option<usize>,
        /// Skip the final kNN / linear evaluation.
        #[arg(long)]
        no_eval: bool,
        /// Evaluate every stage at the end, not only the last.
        #[arg(long)]
        every_stage: bool,
        /// Train each local unit on its own thread (GIM, LoCo with hard, upper-only or blocks
        /// sharing); docs/design.md "Parallel units".
        #[arg(long)]
        parallel_units: bool,
    },
    /// kNN and linear top-1 of a checkpoint (a checkpoint folder, a run directory, or a bundle
    /// file saved by the page) on the test split.
    Eval {
        #[arg(long)]
        checkpoint: PathBuf,
        /// Evaluate every stage, not only the last.
        #[arg(long)]
        every_stage: bool,
        /// `adam`: kNN (k = 200) and the 300-step Adam probe, as every published number since
        /// the first; `converged`: also kNN at k = 20 and the converged probe (L-BFGS to a
        /// vanishing gradient, L2 chosen on 10% of the training images held out).
        #[arg(long, default_value = "adam", value_parser = ["adam", "converged"])]
        probe: String,
        /// Also write every test image's label and predicted class by each scorer to this JSON
        /// file (what a bootstrap over the test images pairs by image).
        #[arg(long)]
        predictions: Option<PathBuf>,
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
        /// Compare images/s of the sequential engine (intra-op threads) with every unit on its
        /// own single-threaded worker, per method, instead of memory.
        #[arg(long)]
        parallel_units: bool,
        /// Time the input pipeline alone (decode with --stream, augment into two views, on
        /// --workers threads): images/s at --input and --batch over --steps batches.
        #[arg(long)]
        loader_only: bool,
        #[arg(long)]
        json: bool,
    },
    /// Re-render results.md and the figures from an experiment's results.json, or from an
    /// experiment directory (its finished runs; unfinished ones are named and left out).
    Report {
        #[arg(long, default_value = "runs/compare")]
        results: PathBuf,
        /// Compare with the runs of another experiment (its directory or results.json; repeat
        /// for more) seed for seed, in one report written to --out: it must train the same
        /// network, batch, schedule and seeds, and differ only in its methods and their knobs
        /// (a control beside the main comparison).
        #[arg(long, value_name = "RESULTS", requires = "out")]
        beside: Vec<PathBuf>,
        /// Where the report goes (default: beside --results; needed with --beside, which leaves
        /// both experiments' own reports as they are).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Download the official CIFAR-10 binary archive (needs internet and curl).
    Download {
        #[arg(long, default_value = "data/cifar10")]
        out: PathBuf,
    },
}

/// Training knobs: a preset, then only what the user sets (no defaults repeated here).
#[derive(Args, Clone, Default)]
pub(crate) struct Knobs {
    /// An experiment file (TOML: preset, knobs, data, budget, methods, seeds; docs/results.md
    /// "Experiment files"); the flags override it.
    #[arg(long)]
    pub(crate) config: Option<PathBuf>,
    /// Preset the knobs start from: cifar (default), browser, imagenet, paper, cifar-scale.
    #[arg(long)]
    pub(crate) preset: Option<String>,
    /// The training knobs (declared once, in `config.rs`'s knob table).
    #[command(flatten)]
    pub(crate) set: Overrides,
}

impl Knobs {
    pub(crate) fn overrides(&self) -> Overrides {
        self.set.clone()
    }
    /// The flags as a recipe, under the --config file when there is one (`data`: the global
    /// --data; `epochs`, `exp`: the command's own).
    pub(crate) fn recipe(&self, data: Option<PathBuf>, epochs: Option<f64>, exp: Option<&ExperimentKnobs>) -> Result<Recipe> {
        let flags = Recipe {
            preset: self.preset.clone(),
            data,
            epochs,
            methods: exp.and_then(|e| e.methods.as_deref()).map(|l| methods(Some(l))).transpose()?,
            seeds: exp.and_then(|e| e.seeds),
            eval_every: exp.and_then(|e| e.eval_every),
            monitor_train: exp.and_then(|e| e.monitor_train),
            monitor_test: exp.and_then(|e| e.monitor_test),
            checkpoint_every: exp.and_then(|e| e.checkpoint_every),
            converged_probe: exp.and_then(|e| e.converged_probe.then_some(true)),
            knobs: self.overrides(),
        };
        if flags.epochs.is_some() && flags.knobs.steps.is_some() {
            return Err(Error::Config("give --steps or --epochs, not both".into()));
        }
        let merged = match &self.config {
            None => flags,
            Some(file) => {
                let mut base = Recipe::read(file)?;
                // A budget given on the command line replaces the file's, whichever unit it is in.
                if flags.epochs.is_some() || flags.knobs.steps.is_some() {
                    base.epochs = None;
                    base.knobs.steps = None;
                }
                base.under(flags)
            }
        };
        // Checked before the data is read (the steps it gives need the data's size).
        if let Some(e) = merged.epochs {
            locolab::config::check_epochs(e)?;
        }
        Ok(merged)
    }
}

#[derive(Args, Clone)]
pub(crate) struct ExperimentKnobs {
    /// Methods to compare [default: every method].
    #[arg(long)]
    pub(crate) methods: Option<String>,
    /// Seeds per method (seed, seed + 1, ...) [default: 1].
    #[arg(long)]
    pub(crate) seeds: Option<usize>,
    /// Train for this many passes over the training images instead of --steps.
    #[arg(long)]
    pub(crate) epochs: Option<f64>,
    /// kNN monitor every K steps (and at the start and end) [default: 10 points per run].
    #[arg(long)]
    pub(crate) eval_every: Option<usize>,
    /// Monitor bank: N training images spread over the split (every class in proportion)
    /// [default: 2000].
    #[arg(long)]
    pub(crate) monitor_train: Option<usize>,
    /// Monitor queries: N test images spread over the split [default: 1000].
    #[arg(long)]
    pub(crate) monitor_test: Option<usize>,
    /// [default: 50]
    #[arg(long)]
    pub(crate) checkpoint_every: Option<usize>,
    /// The final evaluation also runs the converged probe (L2 chosen on a validation split of
    /// the training images) and kNN at k = 20, beside the 300-step probe.
    #[arg(long)]
    pub(crate) converged_probe: bool,
}

pub(crate) fn methods(list: Option<&str>) -> Result<Vec<MethodKind>> {
    match list {
        None => Ok(MethodKind::ALL.to_vec()),
        Some(l) => l.split(',').map(str::parse).collect(),
    }
}
