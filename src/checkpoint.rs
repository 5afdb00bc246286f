//! Checkpoints: periodic, atomic, versioned, self-describing.
//!
//! A run directory holds `checkpoints/step-NNNNNNNNN/` folders, each complete: `model.bpk`
//! (burn's recorder), `optim.bpk` (optional: weights-only checkpoints can be evaluated but not
//! resumed) and `state.json` (format version, the full config, the step, and the size and
//! FNV-1a hash of every other file). A checkpoint is written into `checkpoints/.partial-*`,
//! every file is fsynced, then the folder is renamed into place and the parent fsynced: a
//! process killed at any point leaves the previous checkpoint as the latest, never a half one.
//! Loading checks the version, the config and each file's size and hash before burn reads a
//! byte, so a truncated or mismatched checkpoint is a one-line error that names the file.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::data::CifarSplits;
use crate::error::{Error, Result};
use crate::train::Trainer;

/// The checkpoint format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_NAME: &str = "locolab-checkpoint";
const STATE: &str = "state.json";
const MODEL: &str = "model";
const OPTIM: &str = "optim";
/// Where a run directory keeps its checkpoints.
pub const SUBDIR: &str = "checkpoints";

/// Size and FNV-1a 64 hash of one file of a checkpoint.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileSum {
    pub bytes: u64,
    pub fnv1a64: String,
}

/// `state.json`: everything a checkpoint holds besides the tensors.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CheckpointState {
    pub format: String,
    pub version: u32,
    pub config: TrainConfig,
    pub step: usize,
    pub images_seen: usize,
    /// Every other file in the checkpoint folder.
    pub files: BTreeMap<String, FileSum>,
}

/// What to write besides the weights.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Contents {
    /// Weights and optimizer state: training can resume exactly.
    Full,
    /// Weights only (a few hundred KB for presnet-tiny): for evaluation and the page.
    WeightsOnly,
}

/// 64-bit FNV-1a: enough to tell a truncated or swapped file from the one that was written.
fn fnv1a64(mut r: impl Read) -> std::io::Result<(u64, u64)> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut n = 0u64;
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = r.read(&mut buf)?;
        if k == 0 {
            return Ok((h, n));
        }
        for &b in &buf[..k] {
            h ^= b as u64;
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        n += k as u64;
    }
}

/// Size and FNV-1a hash of a file, as `state.json` records them.
pub fn file_sum(path: &Path) -> Result<FileSum> {
    let f = File::open(path).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    let (h, bytes) = fnv1a64(std::io::BufReader::new(f)).map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
    Ok(FileSum { bytes, fnv1a64: format!("{h:016x}") })
}

fn fsync(path: &Path) -> Result<()> {
    // Directories can be opened read-only and fsynced on Unix; elsewhere this is best effort.
    match File::open(path) {
        Ok(f) => match f.sync_all() {
            Ok(()) => Ok(()),
            Err(_) if path.is_dir() => Ok(()),
            Err(e) => Err(Error::io(format!("cannot fsync {}", path.display()), e)),
        },
        Err(_) if path.is_dir() => Ok(()),
        Err(e) => Err(Error::io(format!("cannot open {} to fsync it", path.display()), e)),
    }
}

fn io<T>(r: std::io::Result<T>, what: impl FnOnce() -> String) -> Result<T> {
    r.map_err(|e| Error::io(what(), e))
}

/// The folder name of the checkpoint at `step`; zero-padded so names sort by step.
pub fn step_dir_name(step: usize) -> String {
    format!("step-{step:09}")
}

/// Write `t` as one checkpoint folder `dest`, atomically: into a sibling `.partial-*` folder
/// first, then renamed. An existing `dest` is replaced.
pub fn write_to(t: &Trainer, dest: &Path, contents: Contents) -> Result<()> {
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    io(std::fs::create_dir_all(parent), || format!("cannot create {}", parent.display()))?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".partial-{name}-{}", std::process::id()));
    if tmp.exists() {
        io(std::fs::remove_dir_all(&tmp), || format!("cannot remove the stale {}", tmp.display()))?;
    }
    io(std::fs::create_dir_all(&tmp), || format!("cannot create {}", tmp.display()))?;
    let ck = |what: &str, e: burn::store::RecordError| Error::Checkpoint(format!("cannot write the {what} into {}: {e:?}", tmp.display()));
    t.net.clone().save_file(tmp.join(MODEL)).map_err(|e| ck("model", e))?;
    if contents == Contents::Full {
        t.optimizer().save(tmp.join(OPTIM)).map_err(|e| ck("optimizer state", e))?;
    }
    let mut files = BTreeMap::new();
    for entry in io(std::fs::read_dir(&tmp), || format!("cannot list {}", tmp.display()))? {
        let path = io(entry, || format!("cannot list {}", tmp.display()))?.path();
        fsync(&path)?;
        files.insert(path.file_name().expect("a file name").to_string_lossy().into_owned(), file_sum(&path)?);
    }
    let state = CheckpointState {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        config: t.config.clone(),
        step: t.step_count(),
        images_seen: t.images_seen(),
        files,
    };
    let json = serde_json::to_string_pretty(&state).expect("state serialises");
    io(std::fs::write(tmp.join(STATE), json), || format!("cannot write {}", tmp.join(STATE).display()))?;
    fsync(&tmp.join(STATE))?;
    fsync(&tmp)?;
    if dest.exists() {
        io(std::fs::remove_dir_all(dest), || format!("cannot replace {}", dest.display()))?;
    }
    io(std::fs::rename(&tmp, dest), || format!("cannot rename {} to {}", tmp.display(), dest.display()))?;
    fsync(parent)
}

/// Save a periodic checkpoint of `t` into `run_dir/checkpoints/`, keeping the newest `keep`
/// complete ones (at least one) and removing leftovers of interrupted writes.
pub fn save(t: &Trainer, run_dir: &Path, keep: usize) -> Result<PathBuf> {
    let root = run_dir.join(SUBDIR);
    let dest = root.join(step_dir_name(t.step_count()));
    write_to(t, &dest, Contents::Full)?;
    let mut complete = list(&root)?;
    complete.sort_by_key(|(step, _)| std::cmp::Reverse(*step));
    for (_, old) in complete.into_iter().skip(keep.max(1)) {
        let _ = std::fs::remove_dir_all(old);
    }
    if let Ok(entries) = std::fs::read_dir(&root) {
        for e in entries.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            // Our own process's partial folder is gone by now; others belong to killed runs.
            if n.starts_with(".partial-") {
                let _ = std::fs::remove_dir_all(e.path());
            }
        }
    }
    Ok(dest)
}

/// The `(step, folder)` of every checkpoint folder under `root` (complete by construction:
/// only a finished write is renamed to `step-*`).
fn list(root: &Path) -> Result<Vec<(usize, PathBuf)>> {
    let Ok(entries) = std::fs::read_dir(root) else { return Ok(Vec::new()) };
    let mut out = Vec::new();
    for e in entries.flatten() {
        let n = e.file_name().to_string_lossy().into_owned();
        if let Some(step) = n.strip_prefix("step-").and_then(|s| s.parse::<usize>().ok()) {
            out.push((step, e.path()));
        }
    }
    Ok(out)
}

/// Whether `path` is a run directory with at least one checkpoint, or a checkpoint folder.
pub fn exists(path: &Path) -> bool {
    path.join(STATE).is_file() || list(&path.join(SUBDIR)).map(|l| !l.is_empty()).unwrap_or(false)
}

/// Read and check `state.json` of the checkpoint folder `dir` (not the tensors).
pub fn read_state(dir: &Path) -> Result<CheckpointState> {
    let path = dir.join(STATE);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::io(format!("{} is not a checkpoint (no readable {STATE})", dir.display()), e))?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::Checkpoint(format!("{}: not valid JSON ({e}); the file is damaged", path.display())))?;
    let version = value.get("version").and_then(|v| v.as_u64());
    let format = value.get("format").and_then(|v| v.as_str());
    match (format, version) {
        (Some(FORMAT_NAME), Some(v)) if v == FORMAT_VERSION as u64 => {}
        (Some(FORMAT_NAME), Some(v)) => {
            return Err(Error::Checkpoint(format!(
                "{}: checkpoint format {v}, but this build of LoCo Lab reads format {FORMAT_VERSION}",
                path.display()
            )))
        }
        (None, None) if value.get("config").is_some() => {
            return Err(Error::Checkpoint(format!(
                "{}: written by an older LoCo Lab (format 1, no checksums); this build reads format {FORMAT_VERSION}: retrain, or evaluate it with the older build",
                path.display()
            )))
        }
        _ => return Err(Error::Checkpoint(format!("{}: not a LoCo Lab checkpoint state (no format/version)", path.display()))),
    }
    let state: CheckpointState = serde_json::from_value(value).map_err(|e| Error::Checkpoint(format!("{}: {e}", path.display())))?;
    crate::method::check(&state.config).map_err(|e| Error::Checkpoint(format!("{}: its config is invalid: {e}", path.display())))?;
    Ok(state)
}

/// Check that every file `state.json` lists is there with the size and hash it was written with.
fn verify(dir: &Path, state: &CheckpointState) -> Result<()> {
    if !state.files.keys().any(|k| k.starts_with(MODEL)) {
        return Err(Error::Checkpoint(format!("{}: {STATE} lists no model file", dir.display())));
    }
    for (name, want) in &state.files {
        let path = dir.join(name);
        if name.contains('/') || name.contains('\\') || name.starts_with("..") {
            return Err(Error::Checkpoint(format!("{}: {STATE} names a file outside the folder: {name}", dir.display())));
        }
        let got = file_sum(&path).map_err(|_| Error::Checkpoint(format!("{} is missing", path.display())))?;
        if got.bytes != want.bytes {
            return Err(Error::Checkpoint(format!(
                "{} has {} bytes, {STATE} says {}: the file is truncated or was replaced",
                path.display(),
                got.bytes,
                want.bytes
            )));
        }
        if got.fnv1a64 != want.fnv1a64 {
            return Err(Error::Checkpoint(format!(
                "{} does not match the hash in {STATE}: the file is damaged or belongs to another checkpoint",
                path.display()
            )));
        }
    }
    Ok(())
}

/// Where a checkpoint is: a checkpoint folder itself, or a run directory whose newest complete
/// checkpoint is taken (a damaged newest one is skipped with a warning on stderr).
pub fn resolve(path: &Path) -> Result<(PathBuf, CheckpointState)> {
    if path.join(STATE).exists() {
        let state = read_state(path)?;
        verify(path, &state)?;
        return Ok((path.to_path_buf(), state));
    }
    let mut all = list(&path.join(SUBDIR))?;
    if all.is_empty() {
        if !path.exists() {
            return Err(Error::Checkpoint(format!("{} does not exist", path.display())));
        }
        return Err(Error::Checkpoint(format!(
            "{} is not a checkpoint (no {STATE}) and holds no {SUBDIR}/step-* folder",
            path.display()
        )));
    }
    all.sort_by_key(|(step, _)| std::cmp::Reverse(*step));
    let mut first_err = None;
    for (_, dir) in all {
        match read_state(&dir).and_then(|s| verify(&dir, &s).map(|_| s)) {
            Ok(s) => {
                if let Some(e) = &first_err {
                    eprintln!("warning: skipped a damaged checkpoint: {e}");
                }
                return Ok((dir, s));
            }
            Err(e) => {
                first_err.get_or_insert(e);
            }
        }
    }
    Err(first_err.expect("at least one checkpoint was tried"))
}

/// Load a trainer from a checkpoint folder or a run directory (see [`resolve`]). A weights-only
/// checkpoint gets a fresh optimizer; [`Loaded::resumable`] says so.
pub fn load(path: &Path, data: Arc<CifarSplits>, device: &Device) -> Result<Loaded> {
    let (dir, state) = resolve(path)?;
    let mut t = Trainer::new(state.config.clone(), data, device)?;
    let fit = |e: String| {
        Error::Checkpoint(format!(
            "cannot load the weights in {}: they do not fit the {} network its {STATE} describes ({})",
            dir.display(),
            state.config.arch,
            first_line(&e)
        ))
    };
    // burn's reader parses untrusted bytes; it did not panic on 3,000 mutated files
    // (tests/fuzz.rs), but should it ever, the file is reported as bad instead of aborting.
    let net = t.net.clone();
    let net = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| net.try_load_file(dir.join(MODEL))))
        .map_err(|p| fit(panic_text(&p)))?
        .map_err(|e| fit(format!("{e:?}")))?;
    let has_optim = state.files.keys().any(|k| k.starts_with(OPTIM));
    let optim = if has_optim {
        Some(t.optimizer().clone().load(dir.join(OPTIM)).map_err(|e| {
            Error::Checkpoint(format!("cannot load the optimizer state in {}: {}", dir.display(), first_line(&format!("{e:?}"))))
        })?)
    } else {
        None
    };
    t.restore(net, optim, state.step, state.images_seen);
    Ok(Loaded { trainer: t, dir, resumable: has_optim })
}

/// A loaded checkpoint.
pub struct Loaded {
    pub trainer: Trainer,
    /// The checkpoint folder that was read.
    pub dir: PathBuf,
    /// False for weights-only checkpoints: training from it would restart the optimizer.
    pub resumable: bool,
}

fn panic_text(p: &Box<dyn std::any::Any + Send>) -> String {
    let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
    format!("the reader panicked: {}", msg.unwrap_or_default())
}

/// At most 200 characters of the first line: burn's record errors can list every tensor.
fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > 200 {
        format!("{}...", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}

/// Keep only the JSON lines of `path` whose `step` is at most `step` (and drop a torn last
/// line): after a resume, a log continues exactly where its checkpoint stopped.
pub fn truncate_log(path: &Path, step: usize) -> Result<()> {
    let Ok(text) = std::fs::read_to_string(path) else { return Ok(()) };
    let kept: Vec<&str> = text
        .lines()
        .filter(|l| {
            serde_json::from_str::<serde_json::Value>(l)
                .ok()
                .and_then(|v| v.get("step").and_then(|s| s.as_u64()))
                .is_some_and(|s| s as usize <= step)
        })
        .collect();
    let mut out = kept.join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    write_atomic(path, out.as_bytes())
}

/// Write a small file atomically (temporary name, fsync, rename).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        std::process::id()
    ));
    io(std::fs::write(&tmp, bytes), || format!("cannot write {}", tmp.display()))?;
    fsync(&tmp)?;
    io(std::fs::rename(&tmp, path), || format!("cannot rename {} to {}", tmp.display(), path.display()))
}
