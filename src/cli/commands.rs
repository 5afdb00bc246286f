//! The CLI's commands: each parses nothing (clap did, src/cli/args.rs) and calls the library.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Parser;

use locolab::config::TrainConfig;
use locolab::data::folder::FolderOptions;
use locolab::data::{DataRecord, Splits, DEFAULT_DIR};
use locolab::error::{Error, Result};
use locolab::eval::{evaluate, EvalOptions};
use locolab::experiment;
use locolab::recipe::Recipe;
use locolab::model::{inspect::inspect, ArchSpec};
use locolab::report::ExperimentReport;
use locolab::cadence::Cadence;
use locolab::run::{Run, Sink};
use locolab::device;

use super::args::{methods, Cli, Cmd, ExperimentKnobs, Knobs};
use super::output::{self, losses, print_acc, progress, write};

/// What every command shares: the backend, the data the flags name, how a folder is read, and
/// the loader's workers.
struct Door {
    backend: Option<String>,
    data: Option<PathBuf>,
    folder: FolderOptions,
    workers: usize,
}

impl Door {
    fn device(&self) -> Result<burn::prelude::Device> {
        device::by_name(self.backend.as_deref())
    }

    /// The data: --data, else an experiment file's `data`, else the default directory.
    fn data_dir(&self, recipe: Option<&Recipe>) -> PathBuf {
        recipe.and_then(|r| r.data.clone()).or(self.data.clone()).unwrap_or_else(|| PathBuf::from(DEFAULT_DIR))
    }

    fn open(&self, dir: &Path) -> Result<Arc<Splits>> {
        let opened = locolab::data::open(dir, self.folder)?;
        eprintln!("data: {}", opened.description);
        for s in &opened.skipped {
            eprintln!("skipped {s}");
        }
        Ok(Arc::new(opened.splits))
    }
}

/// One function per command; what they share is the [`Door`].
fn run(cli: Cli) -> Result<()> {
    let door = Door {
        backend: cli.backend,
        data: cli.data,
        folder: FolderOptions { skip_bad: cli.skip_bad_images, stream: cli.stream },
        workers: cli.workers.unwrap_or_else(locolab::data::loader::default_workers),
    };
    match cli.cmd {
        Cmd::Inspect { arch, input, blocks, config, json } => inspect_cmd(arch, input, blocks, config, json),
        Cmd::Train { knobs, out, resume, epochs, checkpoint_every, no_eval, every_stage, parallel_units } => {
            train(&door, knobs, out, resume, epochs, checkpoint_every, no_eval, every_stage, parallel_units)
        }
        Cmd::Eval { checkpoint, every_stage, probe, predictions, json } => eval(&door, checkpoint, every_stage, probe, predictions, json),
        Cmd::Compare { knobs, exp, out, resume, jobs } => compare(&door, knobs, exp, out, resume, jobs),
        Cmd::Bench { knobs, methods: list, memory, phases, json, parallel_units, loader_only } => {
            bench(&door, knobs, list, memory, phases, json, parallel_units, loader_only)
        }
        Cmd::Report { results, beside, out } => report(results, beside, out),
        Cmd::Download { out } => download(out),
    }
}

/// `locolab inspect`: a network's stages, units, parameters, FLOPs and activations.
fn inspect_cmd(arch: Option<locolab::config::Arch>, input: Option<usize>, blocks: Option<usize>, config: Option<PathBuf>, json: bool) -> Result<()> {
    // The file's network only (its budget needs no data here).
    let file = match config {
        Some(f) => {
            let r = Recipe::read(&f)?;
            Some(r.network_config()?)
        }
        None => None,
    };
    let arch = arch.or(file.as_ref().map(|c| c.arch)).unwrap_or(locolab::config::Arch::Presnet50);
    let input = input.or(file.as_ref().filter(|c| c.arch == arch).map(|c| c.input)).unwrap_or(arch.native_input());
    let blocks = blocks.or(file.as_ref().filter(|c| c.arch == arch).and_then(|c| c.blocks));
    let ins = inspect(&ArchSpec::with_blocks(arch, input, blocks)?);
    if json {
        println!("{}", serde_json::to_string_pretty(&ins).expect("serialises"));
    } else {
        print!("{}", ins.to_markdown());
    }
    Ok(())
}

/// `locolab train`: one method in a run directory, started or resumed.
#[allow(clippy::too_many_arguments)]
fn train(door: &Door, knobs: Knobs, out: PathBuf, resume: bool, epochs: Option<f64>, checkpoint_every: Option<usize>, no_eval: bool, every_stage: bool, parallel_units: bool) -> Result<()> {
    let recipe = knobs.recipe(door.data.clone(), epochs, None)?;
    // Bad knobs fail before any I/O; a budget in epochs needs the data's size.
    let cfg = if resume || recipe.epochs.is_some() { None } else { Some(recipe.config(|| unreachable!("no epochs"))?) };
    let (data_dir, data) = if resume {
        resume_data(&out, recipe.data.clone(), &|d| door.open(d))?
    } else {
        let dir = door.data_dir(Some(&recipe));
        let data = door.open(&dir)?;
        (dir, data)
    };
    let cfg = match cfg {
        None if !resume => Some(recipe.config(|| Ok(data.train.len()))?),
        c => c,
    };
    let checkpoint_every = checkpoint_every.or(recipe.checkpoint_every).unwrap_or(locolab::recipe::DEFAULT_CHECKPOINT_EVERY);
    let mut run = match cfg {
        None => Run::resume(&out, data, &door.device()?, &[])?,
        Some(cfg) => {
            fits_in_memory(door.backend.as_deref(), [cfg.clone()], 1)?;
            if parallel_units {
                locolab::method::check_parallel(&cfg)?; // before the run directory is touched
            }
            let run = Run::start(&out, cfg.clone(), data, &door.device()?, &[])?;
            write_data_json(&out, &data_dir, run.trainer.data())?;
            write_recipe(&out, "train", &Recipe::resolved(recipe.preset_name(), &cfg, &data_dir, None))?;
            run
        }
    };
    run.trainer.set_loader_workers(door.workers);
    let t = &run.trainer;
    if resume {
        eprintln!("resuming {} at step {} from {}", locolab::method::label(t.config()), t.step_count(), out.display());
    }
    let extend = match epochs {
        Some(e) if resume => experiment::ExperimentSpec::steps_for_epochs(e, t.data().train.len(), t.config().batch)?,
        _ => 0,
    };
    let steps = knobs.set.steps.unwrap_or(0).max(extend).max(t.config().steps);
    let pb = progress(steps.saturating_sub(t.step_count()), &locolab::method::label(t.config()));
    let mut lines = output::LogLines::new(steps.saturating_sub(t.step_count()), steps);
    struct Show<F: FnMut(&locolab::StepReport)>(F);
    impl<F: FnMut(&locolab::StepReport)> Sink for Show<F> {
        fn step(&mut self, r: &locolab::StepReport) -> Result<()> {
            (self.0)(r);
            Ok(())
        }
    }
    let mut show = Show(|r: &locolab::StepReport| {
        pb.set_message(format!("epoch {:.2} loss [{}] {:.1} img/s", r.epoch, losses(&r.losses), r.images_per_sec));
        pb.inc(1);
        lines.step(r);
    });
    let cadence = Cadence { monitor_every: None, save_every: checkpoint_every.max(1), end: steps };
    run.train(&cadence, parallel_units, &mut show)?;
    pb.finish();
    if !no_eval {
        let acc = evaluate(&run.trainer, &EvalOptions { every_stage, ..EvalOptions::default() })?;
        print_acc(&acc);
        write(&out.join("accuracy.json"), &serde_json::to_string_pretty(&acc).expect("serialises"))?;
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}

/// `locolab eval`: kNN and linear probes of a checkpoint.
fn eval(door: &Door, checkpoint: PathBuf, every_stage: bool, probe: String, predictions: Option<PathBuf>, json: bool) -> Result<()> {
    let data = || door.open(&door.data_dir(None));
    let loaded = locolab::Trainer::load(&checkpoint, data()?, &door.device()?)?;
    let opts = EvalOptions { every_stage, converged: probe == "converged", predictions: predictions.is_some(), ..EvalOptions::default() };
    let mut acc = evaluate(&loaded.trainer, &opts)?;
    if let Some(file) = predictions {
        let stages: Vec<_> = acc.iter_mut().map(|a| serde_json::json!({ "stage": a.stage, "predictions": a.predictions.take() })).collect();
        let labels = &loaded.trainer.data().test.labels;
        let doc = serde_json::json!({ "checkpoint": checkpoint, "labels": labels, "stages": stages });
        write(&file, &serde_json::to_string(&doc).expect("serialises"))?;
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&acc).expect("serialises"));
    } else {
        eprintln!("{} (step {})", loaded.dir.display(), loaded.trainer.step_count());
        print_acc(&acc);
    }
    Ok(())
}

/// `locolab compare`: methods x seeds as one experiment, started or resumed.
fn compare(door: &Door, knobs: Knobs, exp: ExperimentKnobs, out: PathBuf, resume: bool, jobs: usize) -> Result<()> {
    // The data is read once: --epochs needs its size before the spec exists.
    let recipe = knobs.recipe(door.data.clone(), exp.epochs, Some(&exp))?;
    let data_dir = door.data_dir(Some(&recipe));
    let (spec, data) = if resume {
        let spec = experiment::read_spec(&out)?;
        eprintln!("resuming the experiment in {} (its experiment.json; training knobs ignored)", out.display());
        match spec.commit.as_deref() {
            Some(c) if !c.starts_with(locolab::COMMIT) && !locolab::COMMIT.starts_with(c) => eprintln!(
                "note: commit {c} started this experiment and this binary is {}: runs it continues may draw other batches than that binary would",
                locolab::COMMIT
            ),
            _ => {}
        }
        (spec, resume_data(&out, recipe.data.clone(), &|d| door.open(d))?.1)
    } else {
        if recipe.epochs.is_none() {
            recipe.config(|| unreachable!("no epochs"))?; // bad knobs fail before any I/O
        }
        let data = door.open(&data_dir)?;
        let spec = experiment::ExperimentSpec { commit: Some(locolab::COMMIT.to_string()), ..recipe.spec(recipe.config(|| Ok(data.train.len()))?) };
        spec.validate()?;
        fits_in_memory(door.backend.as_deref(), spec.methods.iter().map(|&m| spec.config(m, 0)), jobs)?;
        experiment::write_spec(&spec, &out)?;
        write_recipe(&out, "compare", &Recipe::resolved(recipe.preset_name(), &spec.base, &data_dir, Some(&spec)))?;
        write_data_json(&out, &data_dir, &data)?;
        (spec, data)
    };
    let shown = output::ExperimentProgress::new();
    let runs = experiment::run(&spec, &out, data, &door.device()?, jobs, door.workers, &|e| shown.event(e))?;
    let report = ExperimentReport::new(spec, runs);
    let written = report.write(&out)?;
    print!("{}{}", report.markdown(), report.paired_markdown());
    eprintln!("wrote {}", written.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "));
    Ok(())
}

/// `locolab bench`: step memory, images/s and phases per method (or the loader alone).
#[allow(clippy::too_many_arguments)]
fn bench(door: &Door, knobs: Knobs, list: Option<String>, memory: String, phases: bool, json: bool, parallel_units: bool, loader_only: bool) -> Result<()> {
    // Here --steps counts measured steps: a file's budget does not apply.
    let measured = knobs.set.steps.unwrap_or(3);
    let recipe = knobs.recipe(door.data.clone(), None, None)?;
    let data_dir = door.data_dir(Some(&recipe));
    let data = || door.open(&data_dir);
    let cfg = recipe.network_config()?;
    let list = list.or(recipe.methods.as_ref().map(|m| m.iter().map(|m| m.to_string()).collect::<Vec<_>>().join(",")));
    if loader_only {
        let row = locolab::bench::bench_loader(data()?, cfg.input, cfg.batch, door.workers, measured);
        if json {
            println!("{}", serde_json::to_string_pretty(&row).expect("serialises"));
        } else {
            println!(
                "loader: {:.1} images/s (two {}x{} views each, batch {}, {} door.workers, {}, {} batches)",
                row.images_per_sec,
                row.input,
                row.input,
                row.batch,
                row.workers,
                if row.streamed { "decoded from files at every read" } else { "decoded once, in memory" },
                row.batches
            );
        }
        return Ok(());
    }
    let methods = methods(list.as_deref())?;
    fits_in_memory(door.backend.as_deref(), methods.iter().map(|&method| TrainConfig { method, ..cfg.clone() }), 1)?;
    if parallel_units {
        let rows = locolab::bench::bench_parallel(&cfg, &methods, measured, data()?, &door.device()?)?;
        if json {
            println!("{}", serde_json::to_string_pretty(&rows).expect("serialises"));
        } else {
            print!("{}", locolab::bench::parallel_markdown(&cfg, &rows));
        }
        return Ok(());
    }
    let probe = locolab::memory::probe(&memory)?;
    // One line per finished method on stderr: a run stopped halfway (a lease running out
    // on a GPU's kernel compilation) still says what it measured.
    let rows = locolab::bench::bench(&cfg, &methods, measured, data()?, &door.device()?, probe, |r| {
        eprintln!("{}: {:.1} images/s (median step {:.4} s; first step {:.1} s)", r.method, r.images_per_sec, r.median_step_seconds, r.first_step_seconds)
    })?;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows).expect("serialises"));
    } else {
        print!("{}", locolab::bench::markdown(&cfg, &rows));
        if phases {
            print!("{}", locolab::bench::phases_markdown(&rows));
        }
    }
    Ok(())
}

/// `locolab report`: the tables and figures of finished runs (a control beside its main).
fn report(results: PathBuf, beside: Vec<PathBuf>, out: Option<PathBuf>) -> Result<()> {
    let (mut report, dir) = read_report(&results)?;
    for other in &beside {
        report = report.join(read_report(other)?.0, &other.display().to_string())?;
    }
    let dir = out.unwrap_or(dir);
    std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
    report.write(&dir)?;
    print!("{}{}", report.markdown(), report.paired_markdown());
    Ok(())
}

/// `locolab download`: the official CIFAR-10 archive (needs internet).
fn download(out: PathBuf) -> Result<()> {
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
    Ok(())
}

/// `experiment.toml` in a run or experiment directory: the resolved recipe, for `--config`.
fn write_recipe(out: &Path, command: &str, recipe: &Recipe) -> Result<()> {
    let header = format!(
        "Written by locolab {} (commit {}): everything this run used, every knob explicit.\nRun it again: locolab {command} --config {} --out NEW_DIR",
        env!("CARGO_PKG_VERSION"),
        locolab::COMMIT,
        out.join("experiment.toml").display()
    );
    write(&out.join("experiment.toml"), &recipe.to_toml(&header))
}

/// An experiment's report, and the directory it is written to by default: from an experiment
/// directory (its finished runs; the unfinished ones are named on stderr and left out) or from a
/// `results.json`.
fn read_report(results: &Path) -> Result<(ExperimentReport, PathBuf)> {
    if results.join("experiment.json").is_file() {
        let spec = experiment::read_spec(results)?;
        let (runs, missing) = experiment::collect(&spec, results);
        for m in &missing {
            eprintln!("not finished (left out): {m}");
        }
        return Ok((ExperimentReport::new(spec, runs), results.to_path_buf()));
    }
    let text = std::fs::read_to_string(results).map_err(|e| Error::io(format!("cannot read {}", results.display()), e))?;
    let report = serde_json::from_str(&text).map_err(|e| Error::Config(format!("{} is not an experiment's results.json: {e}", results.display())))?;
    Ok((report, results.parent().unwrap_or(Path::new(".")).to_path_buf()))
}

/// `data.json` in a run or experiment directory ([`DataRecord`]).
fn write_data_json(out: &Path, source: &Path, data: &Splits) -> Result<()> {
    std::fs::create_dir_all(out).map_err(|e| Error::io(format!("cannot create {}", out.display()), e))?;
    write(&out.join(DataRecord::FILE), &serde_json::to_string_pretty(&DataRecord::of(source, data)).expect("serialises"))
}

/// The data to resume `out` on: `--data` (or the file's) when given, else where the run started
/// (its data.json), else the default; checked against data.json either way.
fn resume_data(out: &Path, given: Option<PathBuf>, open: &dyn Fn(&Path) -> Result<Arc<Splits>>) -> Result<(PathBuf, Arc<Splits>)> {
    let record = DataRecord::read(out)?;
    let dir = given.or_else(|| record.as_ref().map(|r| PathBuf::from(&r.source))).unwrap_or_else(|| PathBuf::from(DEFAULT_DIR));
    let data = open(&dir)?;
    if let Some(r) = &record {
        r.check(out, &DataRecord::of(&dir, &data))?;
    }
    Ok((dir, data))
}

/// Refuse configs whose estimated step peak would not fit in this machine's memory, `jobs` runs
/// at a time (CPU backend only: a GPU's memory is its own).
fn fits_in_memory(backend: Option<&str>, cfgs: impl IntoIterator<Item = TrainConfig>, jobs: usize) -> Result<()> {
    if !matches!(backend, None | Some("flex")) {
        return Ok(());
    }
    cfgs.into_iter().try_for_each(|c| locolab::memory::check_fits_here(&c, jobs))
}

/// Parse the command line and run it; a failure is one line on stderr and exit status 1.
pub fn main() {
    let cli = Cli::parse();
    // Freed memory kept for the next step (src/memory.rs), except where the resident set is what
    // is measured: `bench --memory rss` reads it around a step, as for any other program.
    if !matches!(&cli.cmd, Cmd::Bench { memory, .. } if memory == "rss") {
        locolab::memory::keep_freed_memory();
    }
    if let Err(e) = run(cli) {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}
