//! Checkpoint folders (native): a run directory holds `checkpoints/step-NNNNNNNNN/` folders,
//! each complete. A checkpoint is written into `checkpoints/.partial-*`, every file is fsynced,
//! then the folder is renamed into place and the parent fsynced: a process killed at any point
//! leaves the previous checkpoint as the latest, never a half one.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::format::{parse_state, read_bundle, state_json, CheckpointState, FileSum, Fnv1a, Origin, Snapshot, STATE};
use crate::error::{Error, Result};

/// Where a run directory keeps its checkpoints.
pub const SUBDIR: &str = "checkpoints";

/// Size and FNV-1a hash of a file, as `state.json` records them.
pub fn file_sum(path: &Path) -> Result<FileSum> {
    let cannot = |e| Error::io(format!("cannot read {}", path.display()), e);
    let mut r = std::io::BufReader::new(File::open(path).map_err(cannot)?);
    let (mut h, mut bytes) = (Fnv1a::new(), 0u64);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let k = r.read(&mut buf).map_err(cannot)?;
        if k == 0 {
            return Ok(FileSum { bytes, fnv1a64: h.hex() });
        }
        h.update(&buf[..k]);
        bytes += k as u64;
    }
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

/// Write `snap` as one checkpoint folder `dest`, atomically: into a sibling `.partial-*` folder
/// first, then renamed. An existing `dest` is replaced.
pub fn write_to(snap: &Snapshot, dest: &Path) -> Result<()> {
    let parent = dest.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    io(std::fs::create_dir_all(parent), || format!("cannot create {}", parent.display()))?;
    let name = dest.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "checkpoint".into());
    let tmp = parent.join(format!(".partial-{name}-{}", std::process::id()));
    if tmp.exists() {
        io(std::fs::remove_dir_all(&tmp), || format!("cannot remove the stale {}", tmp.display()))?;
    }
    io(std::fs::create_dir_all(&tmp), || format!("cannot create {}", tmp.display()))?;
    let (state, files) = snap.files();
    for (name, bytes) in files {
        let path = tmp.join(name);
        io(std::fs::write(&path, bytes), || format!("cannot write {}", path.display()))?;
        fsync(&path)?;
    }
    io(std::fs::write(tmp.join(STATE), state_json(&state)), || format!("cannot write {}", tmp.join(STATE).display()))?;
    fsync(&tmp.join(STATE))?;
    fsync(&tmp)?;
    if dest.exists() {
        io(std::fs::remove_dir_all(dest), || format!("cannot replace {}", dest.display()))?;
    }
    io(std::fs::rename(&tmp, dest), || format!("cannot rename {} to {}", tmp.display(), dest.display()))?;
    fsync(parent)
}

/// Save a periodic checkpoint (`snap`, at its step) into `run_dir/checkpoints/`, keeping the
/// newest `keep` complete ones (at least one) and removing leftovers of interrupted writes.
pub fn save(snap: &Snapshot, run_dir: &Path, keep: usize) -> Result<PathBuf> {
    let root = run_dir.join(SUBDIR);
    let dest = root.join(step_dir_name(snap.step));
    write_to(snap, &dest)?;
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
    parse_state(&text, &path.display().to_string())
}

/// Read the checkpoint folder `dir`: its `state.json`, then every file it lists, each checked
/// (size and hash, once) before anything parses it.
pub fn read(dir: &Path) -> Result<Snapshot> {
    let state = read_state(dir)?;
    let mut files = BTreeMap::new();
    for name in state.files.keys() {
        let p = dir.join(name);
        let bytes = std::fs::read(&p).map_err(|_| Error::Checkpoint(format!("{} is missing", p.display())))?;
        files.insert(name.clone(), bytes);
    }
    Snapshot::from_parts(state, files, Origin::Folder(dir.display().to_string()))
}

/// Where a checkpoint is, and what it holds: a checkpoint folder itself, or a run directory
/// whose newest complete checkpoint is taken (a damaged newest one is skipped with a warning on
/// stderr).
pub fn resolve(path: &Path) -> Result<(PathBuf, Snapshot)> {
    if path.join(STATE).exists() {
        return Ok((path.to_path_buf(), read(path)?));
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
        match read(&dir) {
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

/// Read a checkpoint folder, a run directory (see [`resolve`]) or a bundle file (the page's
/// download, see [`Snapshot::to_bundle`]); returns where it was read and what it holds.
pub fn load(path: &Path) -> Result<(PathBuf, Snapshot)> {
    if path.is_file() {
        let bytes = io(std::fs::read(path), || format!("cannot read {}", path.display()))?;
        return Ok((path.to_path_buf(), read_bundle(&bytes, &path.display().to_string())?));
    }
    resolve(path)
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
