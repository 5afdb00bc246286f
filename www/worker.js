// The trainer runs here, off the page's main thread, so the UI never freezes.
// One Lab (model + optimizer) per method; the page asks for steps in turns. Which build and
// backend a trainer gets is builds.js's.
//
// The commands (rpc.js `call(cmd, args)`), what each takes and what it answers:
//   meta {settings}                       {presets, knobs, methods, randomInit, settings}: the core's tables, the URL judged
//   summarise {results}                   a results.json summarised (the long-run panel)
//   panic-channel {name}                  {ok}: where a pool thread announces a panic
//   data {train, test, threads, isolation} {ok}: the CIFAR-10 bytes, the threads wanted and why not isolated
//   create {method, config, backend}      a trainer: {backend, backendNote, threads, units, config, step, imagesSeen}
//   restore {bytes, name, pageConfig, backend}  the same, from a saved file, with {method}
//   save {method}                         {bytes, step}: the trainer as one file
//   evaluate-checkpoint {state, model, name, backend, nTrain, nTest}  kNN per stage of committed weights
//   step {method}                         one step's report (losses, images_seen, images_per_sec, peak_bytes, phases)
//   step-parallel {method, steps}         {reports, imagesPerSec, workers}: a chunk with the units in parallel
//   evaluate {method, nTrain, nTest}      kNN per stage [{stage, knn}]
//   views {method, count}                 {side, views}: augmented views as RGBA
//   debug-self-check {tolerance, pretendHardware}, debug-panic {message, pool}   (e2e tests only)
// An error answers {ok: false, error, fatal}; fatal: the module trapped, replace this worker.
import { UnitRun } from './units.js';
import { ready, loaded, cpuBuild, backendFor, setThreads, setPanicChannel, debugSelfCheck } from './builds.js';

const labs = new Map(); // method -> Lab (of whichever build made it)
let data = null;
let current = null; // the build the last trainer was made with

function keep(method, lab, mod) {
  labs.get(method)?.free();
  labs.set(method, lab);
  current = mod;
}
// Parallel runs: method -> UnitRun (its units resident in their workers, units.js). A run's
// trainer is behind it until the run ends, so every command that reads or replaces the trainer
// ends (or abandons) its run first; the view strip reads the run's step.
//
// Runs stay warm across chunks (KEEP_WARM): a method's units stay resident until something
// needs its trainer (a monitor point, an autosave, a save, a sequential step, a new trainer).
// Measured chunk by chunk (docs/BENCHMARKS.md "Warm unit workers"), GIM's warm chunks were
// 4-18% faster than a run per chunk (`node bench/page-chunks.mjs`); false restores a run per
// chunk.
const KEEP_WARM = true;
const runs = new Map();
async function settle(method) {
  const run = runs.get(method);
  if (!run) return;
  runs.delete(method);
  await run.end();
}
function abandon(method) {
  runs.get(method)?.abandon();
  runs.delete(method);
}
async function stepParallel(method, steps) {
  let run = runs.get(method);
  if (!run) {
    run = await UnitRun.start(method, lab(method));
    runs.set(method, run);
  }
  try {
    const chunk = await run.advance(steps);
    if (!KEEP_WARM) await settle(method);
    return chunk;
  } catch (e) {
    runs.delete(method); // its workers are gone; the trainer is as before the run
    throw e;
  }
}

function described(lab, { note, threads }) {
  return { backend: lab.backend, backendNote: note || lab.backendNote, threads, units: lab.units, config: lab.config, step: lab.stepCount, imagesSeen: lab.imagesSeen };
}

async function handle(msg) {
  const cpu = await ready;
  switch (msg.cmd) {
    case 'meta':
      return { presets: cpu.presets(), knobs: cpu.knobs(), methods: cpu.methods(), randomInit: cpu.randomInitStyle(), settings: cpu.lenientSettings(msg.settings ?? []) };
    case 'summarise':
      return cpu.summarise(msg.results);
    case 'panic-channel':
      setPanicChannel(msg.name);
      return { ok: true };
    case 'data':
      for (const m of [...runs.keys()]) abandon(m);
      setThreads(msg.threads, msg.isolation);
      data = { train: new Uint8Array(msg.train), test: new Uint8Array(msg.test ?? new ArrayBuffer(0)) };
      return { ok: true };
    case 'create': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      abandon(msg.method);
      labs.get(msg.method)?.free();
      labs.delete(msg.method);
      const chosen = await backendFor(msg.backend, msg.config, data);
      const lab = await chosen.mod.Lab.create(msg.config, chosen.backend, data.train, data.test);
      keep(msg.method, lab, chosen.mod);
      return described(lab, chosen);
    }
    case 'save': {
      await settle(msg.method);
      const bytes = lab(msg.method).save();
      return { bytes, step: lab(msg.method).stepCount };
    }
    case 'restore': {
      // Built first, swapped in only if it loaded: a refused file leaves training untouched.
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const chosen = await backendFor(msg.backend, msg.pageConfig, data);
      const made = await chosen.mod.Lab.restore(new Uint8Array(msg.bytes), msg.name, msg.pageConfig, chosen.backend, data.train, data.test);
      const method = made.config.method;
      abandon(method);
      keep(method, made, chosen.mod);
      return { method, ...described(made, chosen) };
    }
    case 'evaluate-checkpoint': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const { mod, backend } = await backendFor(msg.backend, undefined, data);
      return await mod.evaluateCheckpoint(msg.state, new Uint8Array(msg.model), msg.name, backend, data.train, data.test, msg.nTrain, msg.nTest);
    }
    case 'step':
      await settle(msg.method);
      return await lab(msg.method).step();
    case 'step-parallel':
      return await stepParallel(msg.method, msg.steps);
    case 'evaluate':
      await settle(msg.method);
      return await lab(msg.method).evaluate(msg.nTrain, msg.nTest);
    case 'views':
      return lab(msg.method).views(msg.count, runs.get(msg.method)?.steps ?? 0);
    case 'debug-self-check':
      debugSelfCheck(msg.tolerance, msg.pretendHardware);
      return { ok: true };
    case 'debug-panic':
      if (msg.pool) return (await cpuBuild()).mod.debugPanicInPool(msg.message ?? 'a panic on a pool thread requested by a test');
      return (current ?? cpu).debugPanic(msg.message ?? 'a panic requested by a test');
    default:
      throw new Error(`unknown command ${msg.cmd}`);
  }
}

function lab(method) {
  const l = labs.get(method);
  if (!l) throw new Error(`no trainer for ${method}; press Reset`);
  return l;
}

// Messages are handled one at a time: a Lab must not be used by two steps at once.
let queue = Promise.resolve();
self.onmessage = (e) => {
  const { id, ...msg } = e.data;
  queue = queue.then(async () => {
    try {
      self.postMessage({ id, ok: true, value: await handle(msg) });
    } catch (err) {
      // A panic (or an out-of-memory abort) traps the wasm instance: nothing in it can be
      // trusted any more, so the page is told to replace this worker. A device error (a lost
      // WebGPU device, a failed read-back) leaves the module sound but the device unusable:
      // the page offers the CPU path in the same way.
      const panic = takePanic();
      const error = panic ?? String(err?.message ?? err);
      const fatal = panic !== undefined || err instanceof WebAssembly.RuntimeError || error.startsWith('device error');
      self.postMessage({ id, ok: false, fatal, error });
    }
  });
};

function takePanic() {
  for (const mod of Object.values(loaded)) {
    try {
      const p = mod.takePanic();
      if (p !== undefined) return p;
    } catch { /* a trapped instance */ }
  }
  return undefined;
}
