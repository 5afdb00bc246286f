//! Checkpoints: versioned, self-describing, checked before burn reads a byte.
//!
//! A checkpoint is a few files: `model.bpk` (burn's burnpack record of the network),
//! `optim.bpk` (optional: weights-only checkpoints can be evaluated but not resumed) and
//! `state.json` (format version, the full config, the step, and the size and FNV-1a hash of
//! every other file). It lives in one of two shapes with the same files:
//! * a **folder** (native, [`dir`]): periodic checkpoints of a run, written atomically;
//! * a **bundle**, one uncompressed tar file ([`to_bundle`] / [`from_bundle`]): what the page
//!   downloads and keeps in IndexedDB. `tar xf` turns a bundle into a folder, and
//!   `locolab eval --checkpoint file.tar` reads a bundle directly.
//!
//! Both shapes are read by one path ([`from_files`]): the version, the config and each file's
//! size and hash are checked first, so a truncated, damaged or foreign checkpoint is a one-line
//! error that names the file.

use std::collections::BTreeMap;
use std::sync::Arc;

use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::data::Splits;
use crate::error::{Error, Result};
use crate::model::Network;
use crate::train::Trainer;
use burn::optim::ModuleOptimizer;

#[cfg(not(target_arch = "wasm32"))]
mod dir;
#[cfg(not(target_arch = "wasm32"))]
pub use dir::*;

/// The checkpoint format this build writes and reads.
pub const FORMAT_VERSION: u32 = 2;
const FORMAT_NAME: &str = "locolab-checkpoint";
/// The state file's name in a folder or a bundle.
pub const STATE: &str = "state.json";
/// The network's record.
pub const MODEL: &str = "model.bpk";
/// The optimizer's record (absent from weights-only checkpoints).
pub const OPTIM: &str = "optim.bpk";

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
    /// Every other file of the checkpoint.
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
#[derive(Clone, Copy)]
pub(crate) struct Fnv1a(u64);

impl Fnv1a {
    pub(crate) fn new() -> Self {
        Self(0xcbf2_9ce4_8422_2325)
    }
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    pub(crate) fn hex(self) -> String {
        format!("{:016x}", self.0)
    }
}

/// Size and FNV-1a hash of bytes, as `state.json` records them.
pub fn sum_of(bytes: &[u8]) -> FileSum {
    let mut h = Fnv1a::new();
    h.update(bytes);
    FileSum { bytes: bytes.len() as u64, fnv1a64: h.hex() }
}

/// A checkpoint in memory: its state and the bytes of every file it lists.
pub struct Encoded {
    pub state: CheckpointState,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// The files of `t`'s checkpoint, in memory. Reads every tensor back synchronously: on the
/// browser's WebGPU device that is not allowed (the page saves on the CPU path only).
pub fn encode(t: &Trainer, contents: Contents) -> Result<Encoded> {
    let ck = |what: &str, e: burn::store::RecordError| Error::Checkpoint(format!("cannot encode the {what}: {e:?}"));
    let mut files = BTreeMap::new();
    // `valid` first: burn keeps the last BatchNorm running-statistics update pending (per
    // thread) until the next read, and a record holds only committed values; `valid` commits
    // it, so the checkpoint has the statistics evaluation would use.
    files.insert(MODEL.to_string(), t.net.valid().into_record().into_bytes().map_err(|e| ck("model", e))?.to_vec());
    if contents == Contents::Full {
        files.insert(OPTIM.to_string(), t.optimizer().into_bytes().map_err(|e| ck("optimizer state", e))?.to_vec());
    }
    let state = CheckpointState {
        format: FORMAT_NAME.into(),
        version: FORMAT_VERSION,
        config: t.config.clone(),
        step: t.step_count(),
        images_seen: t.images_seen(),
        files: files.iter().map(|(n, b)| (n.clone(), sum_of(b))).collect(),
    };
    Ok(Encoded { state, files })
}

impl Encoded {
    /// `state.json`'s text.
    pub fn state_json(&self) -> String {
        serde_json::to_string_pretty(&self.state).expect("state serialises")
    }
}

/// Parse and check `state.json`'s text (not the tensors); `source` names it in errors.
pub fn parse_state(text: &str, source: &str) -> Result<CheckpointState> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| Error::Checkpoint(format!("{source}: not valid JSON ({e}); the file is damaged")))?;
    let version = value.get("version").and_then(|v| v.as_u64());
    let format = value.get("format").and_then(|v| v.as_str());
    match (format, version) {
        (Some(FORMAT_NAME), Some(v)) if v == FORMAT_VERSION as u64 => {}
        (Some(FORMAT_NAME), Some(v)) => {
            return Err(Error::Checkpoint(format!(
                "{source}: checkpoint format {v}, but this build of LoCo Lab reads format {FORMAT_VERSION}"
            )))
        }
        (None, None) if value.get("config").is_some() => {
            return Err(Error::Checkpoint(format!(
                "{source}: written by an older LoCo Lab (format 1, no checksums); this build reads format {FORMAT_VERSION}: retrain, or evaluate it with the older build"
            )))
        }
        _ => return Err(Error::Checkpoint(format!("{source}: not a LoCo Lab checkpoint state (no format/version)"))),
    }
    let state: CheckpointState = serde_json::from_value(value).map_err(|e| Error::Checkpoint(format!("{source}: {e}")))?;
    crate::method::check(&state.config).map_err(|e| Error::Checkpoint(format!("{source}: its config is invalid: {e}")))?;
    for name in state.files.keys() {
        if name.contains('/') || name.contains('\\') || name.starts_with("..") {
            return Err(Error::Checkpoint(format!("{source}: it names a file outside the checkpoint: {name}")));
        }
    }
    if !state.files.contains_key(MODEL) {
        return Err(Error::Checkpoint(format!("{source}: it lists no {MODEL}")));
    }
    Ok(state)
}

/// Check that `got` (a file's size and hash) is what `state.json` says; `at` names the file.
pub(crate) fn check_sum(at: &str, got: &FileSum, want: &FileSum) -> Result<()> {
    if got.bytes != want.bytes {
        return Err(Error::Checkpoint(format!(
            "{at} has {} bytes, {STATE} says {}: the file is truncated or was replaced",
            got.bytes, want.bytes
        )));
    }
    if got.fnv1a64 != want.fnv1a64 {
        return Err(Error::Checkpoint(format!(
            "{at} does not match the hash in {STATE}: the file is damaged or belongs to another checkpoint"
        )));
    }
    Ok(())
}

/// A trainer built from a checkpoint's files in memory. `at(name)` names a file in errors
/// (a path for a folder, `bundle: name` for a bundle). Every file is checked against
/// `state.json` before burn parses it. A weights-only checkpoint gets a fresh optimizer and
/// `resumable == false`.
pub fn from_files(
    state: &CheckpointState,
    files: &BTreeMap<String, Vec<u8>>,
    at: &dyn Fn(&str) -> String,
    data: Arc<Splits>,
    device: &Device,
) -> Result<(Trainer, bool)> {
    let mut t = Trainer::new(state.config.clone(), data, device)?;
    let (net, optim) = decode(state, files, at, t.net.clone())?;
    let resumable = optim.is_some();
    t.restore(net, optim, state.step, state.images_seen);
    Ok((t, resumable))
}

/// A checkpoint's network and optimizer state (if it has one), loaded into `template` (a
/// network of the checkpoint's config, e.g. a fresh one). Every file is checked against
/// `state.json` before burn parses it.
pub fn decode(
    state: &CheckpointState,
    files: &BTreeMap<String, Vec<u8>>,
    at: &dyn Fn(&str) -> String,
    template: Network,
) -> Result<(Network, Option<ModuleOptimizer>)> {
    for (name, want) in &state.files {
        let bytes = files.get(name).ok_or_else(|| Error::Checkpoint(format!("{} is missing", at(name))))?;
        check_sum(&at(name), &sum_of(bytes), want)?;
    }
    let fit = |e: String| {
        Error::Checkpoint(format!(
            "cannot load {}: the weights do not fit the {} network its {STATE} describes ({})",
            at(MODEL),
            state.config.arch,
            first_line(&e)
        ))
    };
    // burn's reader parses untrusted bytes (a hash is no signature); it did not panic on
    // 3,000 mutated files (tests/fuzz.rs), but should it ever, natively the file is reported
    // as bad instead of aborting (on wasm a panic aborts the instance and the page recovers).
    let net = guarded(move || {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(files[MODEL].clone())).map_err(|e| format!("{e:?}"))?;
        template.try_load_record(record).map_err(|e| format!("{e:?}"))
    })
    .map_err(fit)?;
    let optim = match files.get(OPTIM).filter(|_| state.files.contains_key(OPTIM)) {
        Some(bytes) => Some(crate::optim::build(&state.config).from_bytes(Bytes::from_bytes_vec(bytes.clone())).map_err(|e| {
            Error::Checkpoint(format!("cannot load the optimizer state {}: {}", at(OPTIM), first_line(&format!("{e:?}"))))
        })?),
        None => None,
    };
    Ok((net, optim))
}

/// The checkpoint of `t` as one file: an uncompressed tar holding `state.json`, `model.bpk`
/// and (with [`Contents::Full`]) `optim.bpk`. Reproducible: fixed modes, no timestamps.
pub fn to_bundle(t: &Trainer, contents: Contents) -> Result<Vec<u8>> {
    let enc = encode(t, contents)?;
    let mut tar = tar::Builder::new(Vec::new());
    let state = enc.state_json();
    let mut add = |name: &str, bytes: &[u8]| {
        let mut h = tar::Header::new_ustar();
        h.set_size(bytes.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        tar.append_data(&mut h, name, bytes).map_err(|e| Error::Checkpoint(format!("cannot write {name} into the bundle: {e}")))
    };
    add(STATE, state.as_bytes())?;
    for (name, bytes) in &enc.files {
        add(name, bytes)?;
    }
    tar.into_inner().map_err(|e| Error::Checkpoint(format!("cannot finish the bundle: {e}")))
}

/// Whether `bytes` start like a tar archive (the `ustar` magic of its first header).
pub fn looks_like_bundle(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && &bytes[257..262] == b"ustar"
}

/// Read a bundle (see [`to_bundle`]): `source` names it in errors. A tar of a checkpoint
/// folder (`tar cf x.tar step-000000100/`) is read too: one leading folder is ignored.
pub fn read_bundle(bytes: &[u8], source: &str) -> Result<(CheckpointState, BTreeMap<String, Vec<u8>>)> {
    if !looks_like_bundle(bytes) {
        return Err(Error::Checkpoint(format!(
            "{source} is not a LoCo Lab checkpoint: not a tar bundle ({} bytes, no ustar header)",
            bytes.len()
        )));
    }
    // The tar reader quotes the damaged bytes in its message: keep it to one printable line.
    let bad = |e: std::io::Error| {
        let why: String = e.to_string().chars().map(|c| if c.is_control() { ' ' } else { c }).take(160).collect();
        Error::Checkpoint(format!("{source}: the tar bundle is truncated or damaged ({why})"))
    };
    let mut files = BTreeMap::new();
    let mut archive = tar::Archive::new(bytes);
    for entry in archive.entries().map_err(bad)? {
        let mut entry = entry.map_err(bad)?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry.path().map_err(bad)?.into_owned();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.components().count() > 2 || name.is_empty() {
            continue;
        }
        let mut buf = Vec::with_capacity((entry.size() as usize).min(bytes.len()));
        std::io::Read::read_to_end(&mut entry, &mut buf).map_err(bad)?;
        files.insert(name, buf);
    }
    let state = files
        .remove(STATE)
        .ok_or_else(|| Error::Checkpoint(format!("{source} is not a LoCo Lab checkpoint: the tar holds no {STATE}")))?;
    let text = String::from_utf8(state).map_err(|_| Error::Checkpoint(format!("{source}: its {STATE} is not text")))?;
    let state = parse_state(&text, &format!("{source}: {STATE}"))?;
    Ok((state, files))
}

/// A trainer from a bundle's bytes; `source` (a file name) names it in errors.
pub fn from_bundle(bytes: &[u8], source: &str, data: Arc<Splits>, device: &Device) -> Result<(Trainer, bool)> {
    let (state, files) = read_bundle(bytes, source)?;
    from_files(&state, &files, &|name| format!("{source}: {name}"), data, device)
}

/// Run `f`, turning a panic into an error natively.
fn guarded<T>(f: impl FnOnce() -> std::result::Result<T, String>) -> std::result::Result<T, String> {
    #[cfg(not(target_arch = "wasm32"))]
    {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
            let msg = p.downcast_ref::<String>().cloned().or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()));
            Err(format!("the reader panicked: {}", msg.unwrap_or_default()))
        })
    }
    #[cfg(target_arch = "wasm32")]
    {
        f()
    }
}

/// At most 200 characters of the first line: burn's record errors can list every tensor.
pub(crate) fn first_line(s: &str) -> String {
    let line = s.lines().next().unwrap_or("");
    if line.chars().count() > 200 {
        format!("{}...", line.chars().take(200).collect::<String>())
    } else {
        line.to_string()
    }
}
