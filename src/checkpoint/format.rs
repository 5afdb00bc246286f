//! The checkpoint format: [`Snapshot`], `state.json`, the files' sums, bundles (both targets).

use std::collections::BTreeMap;
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::Bytes;
use serde::{Deserialize, Serialize};

use crate::config::TrainConfig;
use crate::error::{Error, Result};
use crate::model::Network;
use burn::optim::ModuleOptimizer;

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

/// A trainer's state, below the trainer: its config, counters and burn's records of the network
/// and the optimizer (burnpack bytes). The checkpointer writes and reads snapshots; the trainer
/// makes one ([`crate::train::Trainer::snapshot`]) and is built from one
/// ([`crate::train::Trainer::from_snapshot`]), as burn's learner loads what its checkpointer read.
#[derive(Clone)]
pub struct Snapshot {
    pub config: TrainConfig,
    pub step: usize,
    pub images_seen: usize,
    /// burn's record of the network (`model.bpk`).
    pub model: Vec<u8>,
    /// burn's record of the optimizer (`optim.bpk`); `None` for weights only.
    pub optim: Option<Vec<u8>>,
    /// Names the snapshot's files in messages: `<origin>/model.bpk` or `<origin>: model.bpk`.
    origin: Origin,
}

#[derive(Clone, Debug)]
pub(super) enum Origin {
    Memory,
    Folder(String),
    Bundle(String),
}

impl Snapshot {
    /// A snapshot made in memory (by the trainer); `optim` is `None` for weights only.
    pub fn new(config: TrainConfig, step: usize, images_seen: usize, model: Vec<u8>, optim: Option<Vec<u8>>) -> Self {
        Self { config, step, images_seen, model, optim, origin: Origin::Memory }
    }

    /// Whether training can continue exactly from it (it holds the optimizer's state).
    pub fn resumable(&self) -> bool {
        self.optim.is_some()
    }

    /// The name of one of its files in messages.
    pub fn at(&self, file: &str) -> String {
        match &self.origin {
            Origin::Memory => format!("the trainer's {file}"),
            Origin::Folder(dir) => format!("{dir}/{file}"),
            Origin::Bundle(name) => format!("{name}: {file}"),
        }
    }

    /// Where it was read from (a folder, a bundle's name; empty when made in memory).
    pub fn origin(&self) -> &str {
        match &self.origin {
            Origin::Memory => "",
            Origin::Folder(s) | Origin::Bundle(s) => s,
        }
    }

    /// The files of its checkpoint (name -> bytes) and `state.json` describing them.
    pub fn files(&self) -> (CheckpointState, BTreeMap<String, &[u8]>) {
        let mut files = BTreeMap::new();
        files.insert(MODEL.to_string(), &self.model[..]);
        if let Some(o) = &self.optim {
            files.insert(OPTIM.to_string(), &o[..]);
        }
        let state = CheckpointState {
            format: FORMAT_NAME.into(),
            version: FORMAT_VERSION,
            config: self.config.clone(),
            step: self.step,
            images_seen: self.images_seen,
            files: files.iter().map(|(n, b)| (n.clone(), sum_of(b))).collect(),
        };
        (state, files)
    }

    /// A snapshot from a checkpoint's checked `state.json` and the bytes of its files; each
    /// file is checked against the state (size and hash, once) before anything parses it.
    pub(super) fn from_parts(state: CheckpointState, mut files: BTreeMap<String, Vec<u8>>, origin: Origin) -> Result<Self> {
        let mut snap = Self { config: state.config, step: state.step, images_seen: state.images_seen, model: Vec::new(), optim: None, origin };
        for (name, want) in &state.files {
            let bytes = files.get(name).ok_or_else(|| Error::Checkpoint(format!("{} is missing", snap.at(name))))?;
            check_sum(&snap.at(name), &sum_of(bytes), want)?;
        }
        snap.model = files.remove(MODEL).expect("parse_state checked that a model is listed");
        snap.optim = files.remove(OPTIM).filter(|_| state.files.contains_key(OPTIM));
        Ok(snap)
    }

    /// Its weights loaded into `template`, a network of its config's shape. Built without
    /// initialising (burn's parameters are lazy), the template costs nothing to throw away.
    pub fn load_network(&self, template: Network) -> Result<Network> {
        load_record(template, self.model.clone()).map_err(|e| {
            Error::Checkpoint(format!(
                "cannot load {}: the weights do not fit the {} network its {STATE} describes ({})",
                self.at(MODEL),
                self.config.arch,
                first_line(&e)
            ))
        })
    }

    /// Its optimizer state (`None` for weights only).
    pub fn load_optimizer(&self) -> Result<Option<ModuleOptimizer>> {
        let Some(bytes) = &self.optim else { return Ok(None) };
        load_optimizer_record(&self.config, bytes.clone())
            .map(Some)
            .map_err(|e| Error::Checkpoint(format!("cannot load the optimizer state {}: {}", self.at(OPTIM), first_line(&e))))
    }

    /// The snapshot as one file: an uncompressed tar holding `state.json`, `model.bpk` and
    /// (when it has one) `optim.bpk`. Reproducible: fixed modes, no timestamps.
    pub fn to_bundle(&self) -> Result<Vec<u8>> {
        let (state, files) = self.files();
        let mut tar = tar::Builder::new(Vec::new());
        let mut add = |name: &str, bytes: &[u8]| {
            let mut h = tar::Header::new_ustar();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            h.set_mtime(0);
            h.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut h, name, bytes).map_err(|e| Error::Checkpoint(format!("cannot write {name} into the bundle: {e}")))
        };
        add(STATE, state_json(&state).as_bytes())?;
        for (name, bytes) in files {
            add(&name, bytes)?;
        }
        tar.into_inner().map_err(|e| Error::Checkpoint(format!("cannot finish the bundle: {e}")))
    }
}

/// `template` (a network, a unit's modules) with the weights of a burn record's bytes.
/// burn's reader parses untrusted bytes (a hash is no signature); it did not panic on 3,000
/// mutated files (tests/fuzz.rs), but should it ever, natively the bytes are reported as bad
/// instead of aborting (on wasm a panic aborts the instance and the page recovers).
pub fn load_record<M: Module>(template: M, bytes: Vec<u8>) -> std::result::Result<M, String> {
    guarded(move || {
        let record = ModuleRecord::from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| format!("{e:?}"))?;
        template.try_load_record(record).map_err(|e| format!("{e:?}"))
    })
}

/// An optimizer of `config`'s kind with the state of a burn record's bytes.
pub fn load_optimizer_record(config: &TrainConfig, bytes: Vec<u8>) -> std::result::Result<ModuleOptimizer, String> {
    crate::optim::build(config).from_bytes(Bytes::from_bytes_vec(bytes)).map_err(|e| format!("{e:?}"))
}

/// `state.json`'s text.
pub fn state_json(state: &CheckpointState) -> String {
    serde_json::to_string_pretty(state).expect("state serialises")
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
    state.config.validate().map_err(|e| Error::Checkpoint(format!("{source}: its config is invalid: {e}")))?;
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

/// Whether `bytes` start like a tar archive (the `ustar` magic of its first header).
pub fn looks_like_bundle(bytes: &[u8]) -> bool {
    bytes.len() >= 512 && &bytes[257..262] == b"ustar"
}

/// Read a bundle (see [`to_bundle`]): `source` names it in errors. A tar of a checkpoint
/// folder (`tar cf x.tar step-000000100/`) is read too: one leading folder is ignored.
pub fn read_bundle(bytes: &[u8], source: &str) -> Result<Snapshot> {
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
    Snapshot::from_parts(state, files, Origin::Bundle(source.to_string()))
}

/// A snapshot from `state.json`'s text and the bytes of the files it lists, read from the
/// checkpoint folder `folder` (which names them in messages; the page fetches a committed
/// folder file by file).
pub fn from_files(state_text: &str, files: BTreeMap<String, Vec<u8>>, folder: &str) -> Result<Snapshot> {
    let state = parse_state(state_text, &format!("{folder}/{STATE}"))?;
    Snapshot::from_parts(state, files, Origin::Folder(folder.to_string()))
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
