// The trainer's Web Worker and its request/answer protocol. A panic or an out-of-memory abort
// traps the wasm instance; the worker then answers `fatal` and is replaced (`restartWorker`),
// so the page never talks to a dead module. In the threaded build a panic on a thread of
// rayon's pool traps only that thread, and the trainer's worker, waiting for the pool, can no
// longer answer: the pool announces it on a BroadcastChannel of this worker's own (src/web.rs),
// and every pending request fails as fatal, which replaces the worker the same way.
let worker = null;
let channel = null;
let nextId = 0;
const pending = new Map();

function failAll(message) {
  for (const [, p] of pending) { const err = new Error(message); err.fatal = true; p.reject(err); }
  pending.clear();
}

export function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  channel?.close();
  const name = `locolab-pool-${crypto.randomUUID()}`;
  channel = new BroadcastChannel(name);
  channel.onmessage = (e) => failAll(`a thread of the CPU pool stopped: ${e.data}`);
  call('panic-channel', { name }).catch(() => { /* a worker that fails to start says so itself */ });
  worker.onmessage = (e) => {
    const { id, ok, value, error, fatal } = e.data;
    const p = pending.get(id);
    pending.delete(id);
    if (ok) return p.resolve(value);
    const err = new Error(error);
    err.fatal = fatal;
    p.reject(err);
  };
  worker.onerror = (e) => {
    e.preventDefault();
    failAll(`the worker failed: ${e.message || 'it could not start'}`);
  };
}

export function restartWorker() {
  worker.terminate();
  failAll('the worker was replaced');
  startWorker();
}

// One request to the worker; resolves to its answer, rejects with its error (`err.fatal` when
// the module trapped).
export function call(cmd, args = {}, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, ...args }, transfer);
  });
}
