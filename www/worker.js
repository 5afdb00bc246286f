// The trainer runs here, off the page's main thread, so the UI never freezes.
// One Lab (model + optimizer) per method; the page asks for steps in turns. Which build and
// backend a trainer gets is builds.js's.
//
// The commands (rpc.js `call(cmd, args)`), what each takes and what it answers:
//   meta {settings}                       {presets, knobs, methods, random_init, knn_k, settings}: the core's tables, the URL judged
//   summarise {results}                   a results.json summarised (the long-run panel)
//   panic-channel {name}                  {ok}: where a pool thread announces a panic
//   data {train, test, threads, isolation} {ok}: the CIFAR-10 bytes, the threads wanted and why not isolated
//   create {method, config, backend}      a trainer: {backend, backend_note, threads, units, unit_colours, config, step, images_seen}
//   restore {bytes, name, page_config, backend}  the same, from a saved file, with {method}
//   save {method}                         {bytes, step}: the trainer as one file
//   evaluate-checkpoint {state, model, name, backend, n_train, n_test}  kNN per stage of committed weights
//   round {methods, parallel, monitor, autosave, n_train, n_test}
//                                         every method's steps in turn, then what falls due at the
//                                         round's step (the core's Cadence): {step, due, methods:
//                                         {m: {reports, parallel?, refused?, sequential?}},
//                                         monitor?: {seconds, stages: {m: [{stage, knn}]}},
//                                         autosave?: {step} | {skipped} | {failed}}
//   evaluate {method, n_train, n_test, as} kNN per stage [{stage, knn}]; as 'random-init' or
//                                         'point': kept for the autosave as the start or a point
//   resume {page_config, backend}         the autosaved session back: {step, random_init,
//                                         stage_names, methods: [{method, ...trainer, curve, knn, stages}]}
//   views {method, count}                 {side, views}: augmented views as RGBA
//   debug-self-check {tolerance, pretend_hardware}, debug-panic {message, pool}   (e2e tests only)
// An error answers {ok: false, error, fatal}; fatal: the module trapped, replace this worker.
import { UnitRun } from './units.js';
import { loadSession, storeSession } from './store.js';
import { ready, loaded, cpuBuild, backendFor, setThreads, setPanicChannel, debugSelfCheck } from './builds.js';

const labs = new Map(); // method -> Lab (of whichever build made it)
let data = null;
let current = null; // the build the last trainer was made with

function keep(method, lab, mod, past = null) {
  labs.get(method)?.free();
  labs.set(method, lab);
  current = mod;
  history.set(method, past ?? { curve: { x: [], ys: lab.units.map(() => []) }, knn: { x: [], y: [] }, stages: null });
}

// What the autosave keeps besides the weights, as the page draws it: per method its losses
// against images seen, its monitor points and latest per-stage kNN; the untrained encoder's
// per-stage kNN (every method starts from it).
const history = new Map();
let start = { random_init: null, stage_names: [] };
function recordReports(method, reports) {
  const h = history.get(method);
  for (const r of reports) {
    h.curve.x.push(r.images_seen);
    r.losses.forEach((l, i) => h.curve.ys[i].push(l));
  }
}
function recordPoint(method, stages) {
  const h = history.get(method);
  h.knn.x.push(h.curve.x.at(-1) ?? 0);
  h.knn.y.push(stages.at(-1).knn);
  h.stages = stages;
}
// Parallel runs: method -> UnitRun (its units resident in their workers, units.js). A run's
// trainer is behind it until the run ends, so every command that reads or replaces the trainer
// ends (or abandons) its run first; the view strip reads the run's step.
//
// Steps per parallel chunk (at most): the page draws after each round.
const PARALLEL_CHUNK = 10;
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

// A method's step count, a warm parallel run's steps included.
const stepOf = (method) => lab(method).stepCount + (runs.get(method)?.steps ?? 0);

// Why `method` cannot run its units in parallel (WebGPU, LoCo's soft sharing), or null.
function refusal(method) {
  if (runs.has(method)) return null;
  try {
    lab(method).parallelPlan();
    return null;
  } catch (e) {
    return String(e?.message ?? e);
  }
}

// The page's cadence (src/cadence.rs, the one `locolab compare` follows), kept while the
// settings stay.
let cadence = null;
function cadenceFor(cpu, monitor, autosave, end) {
  const key = `${monitor}/${autosave}/${end}`;
  if (cadence?.key !== key) {
    cadence?.value.free();
    cadence = { key, value: new cpu.Cadence(monitor, autosave, end) };
  }
  return cadence.value;
}

// `n` steps of one method: its units in parallel (a warm run, units.js) where it can, else in
// turn, saying why not.
async function stepsOf(method, n, parallel) {
  const refused = parallel ? refusal(method) : null;
  if (parallel && !refused) {
    const chunk = await stepParallel(method, n);
    return { reports: chunk.reports, parallel: { images_per_sec: chunk.images_per_sec, workers: chunk.workers } };
  }
  await settle(method);
  const reports = [];
  for (let i = 0; i < n; i++) reports.push(await lab(method).step());
  return { reports, sequential: reports.at(-1).images_per_sec, ...(refused ? { refused } : {}) };
}

// One round: every method steps in turn (one step, or with `parallel` a chunk up to the
// cadence's next point where some method can run in parallel), then what falls due at the round's step: every method's kNN monitor,
// a snapshot of every trainer for the page to autosave. One message, so a round never
// interleaves with another command.
async function round(cpu, { methods, parallel, monitor, autosave, n_train, n_test }) {
  if (!methods.length) throw new Error('no trainer to step; press Reset');
  const c = cadenceFor(cpu, monitor, autosave, lab(methods[0]).config.steps);
  // A chunk only where some method runs its units in parallel: methods that cannot (WebGPU)
  // step one at a time, as without `parallel`, so the page draws after every step.
  const chunked = parallel && methods.some((m) => !refusal(m));
  const n = chunked ? c.stretch(stepOf(methods.at(-1)), PARALLEL_CHUNK) : 1;
  const out = { methods: {} };
  for (const m of methods) {
    out.methods[m] = await stepsOf(m, n, parallel);
    recordReports(m, out.methods[m].reports);
  }
  out.step = stepOf(methods.at(-1));
  out.due = c.due(out.step);
  if (out.due.monitor) {
    const t0 = performance.now();
    const stages = {};
    for (const m of methods) {
      await settle(m);
      stages[m] = await lab(m).evaluate(n_train, n_test);
      recordPoint(m, stages[m]);
    }
    out.monitor = { stages, seconds: (performance.now() - t0) / 1000 };
  }
  if (out.due.save) out.autosave = await keepSession(methods, out.step);
  return out;
}

// Every trainer (one file each) with what the page draws, into IndexedDB (store.js), replacing
// the last autosave. WebGPU weights cannot be read back synchronously (Lab.save), so a page on
// WebGPU skips it; a failed save or write is reported, and training goes on.
async function keepSession(methods, step) {
  if (methods.some((m) => lab(m).backend !== 'cpu')) return { skipped: 'webgpu' };
  try {
    const session = { time: Date.now(), step, methods: {}, ...start };
    for (const m of methods) {
      await settle(m);
      session.methods[m] = { bytes: lab(m).save(), ...history.get(m) };
    }
    await storeSession(session);
    return { step };
  } catch (err) {
    if (fatal(err)) throw err;
    return { failed: String(err?.message ?? err) };
  }
}

// A trainer from a file, swapped in only if it loaded: a refused file leaves training untouched.
async function restore(bytes, name, page_config, backend, past) {
  if (!data) throw new Error('no CIFAR-10 data loaded yet');
  const chosen = await backendFor(backend, page_config, data);
  const made = await chosen.mod.Lab.restore(bytes, name, page_config, chosen.backend, data.train, data.test);
  const method = made.config.method;
  abandon(method);
  keep(method, made, chosen.mod, past);
  return { method, ...described(made, chosen) };
}

// The autosaved session's trainers and what the page drew of them, every other trainer gone.
async function resume(cpu, { page_config, backend }) {
  const title = (m) => cpu.methods().find((x) => x.kind === m)?.title ?? m;
  const saved = await loadSession();
  if (!saved?.methods) throw new Error('the autosaved session is gone');
  for (const m of [...labs.keys()]) {
    abandon(m);
    labs.get(m).free();
    labs.delete(m);
  }
  const methods = [];
  for (const [m, s] of Object.entries(saved.methods)) {
    const { bytes, ...past } = s;
    methods.push({ ...(await restore(bytes, `the autosave of ${title(m)}`, page_config, backend, past)), ...past });
  }
  // (Sessions autosaved before the page's data was named as the core names it: camelCase.)
  start = { random_init: saved.random_init ?? saved.randomInit, stage_names: saved.stage_names ?? saved.stageNames };
  return { step: saved.step, methods, ...start };
}

// A trapped module (a panic, an out-of-memory abort) or a device error: nothing in the module,
// or its device, can be trusted any more.
const fatal = (err) => err instanceof WebAssembly.RuntimeError || String(err?.message ?? err).startsWith('device error');

function described(lab, { mod, note, threads }) {
  const units = lab.units;
  return { backend: lab.backend, backend_note: note || lab.backendNote, threads, units, unit_colours: mod.unitColours(units.length), config: lab.config, step: lab.stepCount, images_seen: lab.imagesSeen };
}

async function handle(msg) {
  const cpu = await ready;
  switch (msg.cmd) {
    case 'meta':
      return { presets: cpu.presets(), knobs: cpu.knobs(), methods: cpu.methods(), random_init: cpu.randomInitStyle(), knn_k: cpu.knnK(), settings: cpu.lenientSettings(msg.settings ?? []) };
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
    case 'restore':
      return await restore(new Uint8Array(msg.bytes), msg.name, msg.page_config, msg.backend);
    case 'resume':
      return await resume(cpu, msg);
    case 'evaluate-checkpoint': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const { mod, backend } = await backendFor(msg.backend, undefined, data);
      return await mod.evaluateCheckpoint(msg.state, new Uint8Array(msg.model), msg.name, backend, data.train, data.test, msg.n_train, msg.n_test);
    }
    case 'round':
      return await round(cpu, msg);
    case 'evaluate': {
      await settle(msg.method);
      const stages = await lab(msg.method).evaluate(msg.n_train, msg.n_test);
      if (msg.as === 'random-init') start = { random_init: stages.map((x) => x.knn), stage_names: stages.map((x) => x.stage) };
      if (msg.as === 'point') recordPoint(msg.method, stages);
      return stages;
    }
    case 'views':
      return lab(msg.method).views(msg.count, runs.get(msg.method)?.steps ?? 0);
    case 'debug-self-check':
      debugSelfCheck(msg.tolerance, msg.pretend_hardware);
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
      self.postMessage({ id, ok: false, fatal: panic !== undefined || fatal(err), error });
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
