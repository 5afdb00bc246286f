// The trainer runs here, off the page's main thread, so the UI never freezes.
// One Lab (model + optimizer) per method; the page asks for steps in turns.
//
// The core comes in two builds: pkg-cpu/ (burn's flex CPU backend only: small, loaded first,
// serves every page on the CPU path) and pkg/ (flex + WebGPU, loaded only when the page trains
// on WebGPU). Which one a trainer uses is the core's choice (browserBackend), from the
// preference and what this browser's adapter says of itself.
//
// On the CPU path, a cross-origin-isolated page loads the threaded build (pkg-mt/: rayon's pool
// of Web Workers over shared memory) with `threads` threads (URL key; default: the cores the
// browser reports); `threads=1`, a page without isolation, or a browser without wasm threads
// keeps the single-thread build, and the status line says why.
import { UnitRun } from './units.js';

const BUILDS = { cpu: '../pkg-cpu/locolab.js', threads: '../pkg-mt/locolab.js', webgpu: '../pkg/locolab.js' };
const loaded = {}; // build -> module (initialised)
// Whether a build is served at all (scripts/demo.sh serves the page before the threaded and
// WebGPU modules are built); asked once per build and worker, as the page says "reload when it is".
const servedAnswers = {};
function served(build) {
  const wasm = new URL(BUILDS[build].replace(/\.js$/, '_bg.wasm'), import.meta.url);
  // A network error is no answer (it is asked again next time); only a response says "not there".
  servedAnswers[build] ??= fetch(wasm, { method: 'HEAD' }).then((r) => r.ok, () => { delete servedAnswers[build]; return false; });
  return servedAnswers[build];
}
const NOT_BUILT = 'is not built yet (scripts/build-web.sh builds it; reload when it is)';
async function load(build) {
  if (!loaded[build]) {
    const mod = await import(BUILDS[build]);
    await mod.default();
    loaded[build] = mod;
  }
  return loaded[build];
}
const ready = load('cpu');

let adapter = null;
// Facts about the WebGPU adapter, gathered once; the core judges them.
async function adapterFacts() {
  if (adapter) return adapter;
  adapter = { present: false };
  try {
    const a = await navigator.gpu?.requestAdapter();
    if (a) {
      const info = a.info ?? {};
      adapter = {
        present: true,
        is_fallback: Boolean(info.isFallbackAdapter ?? a.isFallbackAdapter),
        vendor: info.vendor ?? '', architecture: info.architecture ?? '', description: info.description ?? '',
      };
    }
  } catch { /* no WebGPU here: the CPU path */ }
  return adapter;
}

// The CPU build, chosen once per worker (rayon's pool is built once per module instance):
// {mod, threads, note}. `wanted` comes from the page (URL key `threads`).
let wanted = 1;
// Why the page is not cross-origin isolated, as the page found out (www/isolate.js).
let isolationWhy = '';
let cpuChoice = null;
// The page's BroadcastChannel for a thread of the pool that stops (rpc.js, src/web.rs).
let panicChannel = null;
async function cpuBuild() {
  if (cpuChoice) return cpuChoice;
  const single = async (note) => ({ mod: await ready, threads: 1, note });
  if (wanted <= 1) {
    cpuChoice = await single('threads=1: the single-thread build');
  } else if (!await served('threads')) {
    cpuChoice = await single(`one thread: the threaded build ${NOT_BUILT}`);
  } else if (!self.crossOriginIsolated) {
    cpuChoice = await single(`one thread: this page is not cross-origin isolated (${isolationWhy || 'served without COOP/COEP headers'}: docs/page.md, "The page's threads")`);
  } else {
    try {
      const mod = await load('threads');
      if (panicChannel) mod.setPanicChannel(panicChannel);
      await mod.initThreadPool(wanted);
      cpuChoice = { mod, threads: mod.threadCount(), note: '' };
    } catch (e) {
      cpuChoice = await single(`one thread: the threaded build did not start (${String(e?.message ?? e).slice(0, 120)})`);
    }
  }
  return cpuChoice;
}

// Before the first WebGPU trainer: the core's self-check (two steps on a small batch, WebGPU
// against the CPU from the same weights), once per preference; it may send `auto` to the CPU.
const checked = {}; // pref -> {backend, note}
let tolerance = null; // the e2e test's override
async function selfCheck(pref, config) {
  if (!checked[pref]) {
    const gpu = await load('webgpu');
    if (tolerance !== null) gpu.debugSelfCheckTolerance(tolerance);
    checked[pref] = await gpu.webgpuSelfCheck(config ?? { method: 'loco' }, pref, data.train, data.test);
  }
  return checked[pref];
}

// The build and backend for a preference (auto, webgpu, cpu), with the core's reason.
async function backendFor(pref, config) {
  const cpu = await ready;
  let choice = cpu.browserBackend(pref, await adapterFacts());
  if (choice.backend === 'webgpu' && !await served('webgpu')) {
    if (pref === 'webgpu') throw new Error(`the WebGPU build ${NOT_BUILT}`);
    choice = { backend: 'cpu', note: `the WebGPU build ${NOT_BUILT}` };
  }
  if (choice.backend === 'webgpu') {
    const check = await selfCheck(pref, config);
    const note = [choice.note, check.note].filter(Boolean).join('; ');
    if (check.backend === 'webgpu') return { mod: await load('webgpu'), backend: 'webgpu', note, threads: null };
    choice = { backend: 'cpu', note };
  }
  const build = await cpuBuild();
  return { mod: build.mod, backend: choice.backend, note: choice.note, threads: { count: build.threads, note: build.note } };
}

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
      panicChannel = msg.name;
      return { ok: true };
    case 'data':
      for (const m of [...runs.keys()]) abandon(m);
      wanted = msg.threads ?? 1;
      isolationWhy = msg.isolation || isolationWhy;
      data = { train: new Uint8Array(msg.train), test: new Uint8Array(msg.test ?? new ArrayBuffer(0)) };
      return { ok: true };
    case 'create': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      abandon(msg.method);
      labs.get(msg.method)?.free();
      labs.delete(msg.method);
      const chosen = await backendFor(msg.backend, msg.config);
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
      const chosen = await backendFor(msg.backend, msg.pageConfig);
      const made = await chosen.mod.Lab.restore(new Uint8Array(msg.bytes), msg.name, msg.pageConfig, chosen.backend, data.train, data.test);
      const method = made.config.method;
      abandon(method);
      keep(method, made, chosen.mod);
      return { method, ...described(made, chosen) };
    }
    case 'evaluate-checkpoint': {
      if (!data) throw new Error('no CIFAR-10 data loaded yet');
      const { mod, backend } = await backendFor(msg.backend);
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
      tolerance = msg.tolerance;
      // The e2e test's only adapter is a software one, which `auto` never checks: pretend.
      if (msg.pretendHardware) adapter = { present: true, is_fallback: false, vendor: 'e2e test', architecture: '', description: 'a pretended hardware adapter' };
      for (const k of Object.keys(checked)) delete checked[k];
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
