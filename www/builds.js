// Which build of the core a trainer runs on, and where: the page's three wasm builds loaded on
// demand (pkg-cpu/ first; pkg-mt/ and pkg/ when asked for and served), the WebGPU adapter's facts,
// the core's backend choice and its self-check. State here is per worker: the threads the page
// asked for, why the page is not isolated, the channel a pool thread's panic is announced on.
//
// The core comes in three builds: pkg-cpu/ (burn's flex CPU backend only: small, loaded first,
// serves every page on the CPU path), pkg-mt/ (the same on threads, below) and pkg/ (flex +
// WebGPU, loaded only when the page trains on WebGPU). Which one a trainer uses is the core's
// choice (browserBackend), from the preference and what this browser's adapter says of itself.
//
// On the CPU path, a cross-origin-isolated page loads the threaded build (pkg-mt/: rayon's pool
// of Web Workers over shared memory) with `threads` threads (URL key; default: the cores the
// browser reports); `threads=1`, a page without isolation, or a browser without wasm threads
// keeps the single-thread build, and the status line says why.

const BUILDS = { cpu: '../pkg-cpu/locolab.js', threads: '../pkg-mt/locolab.js', webgpu: '../pkg/locolab.js' };
export const loaded = {}; // build -> module (initialised)
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
export const ready = load('cpu');

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
export async function cpuBuild() {
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
async function selfCheck(pref, config, data) {
  if (!checked[pref]) {
    const gpu = await load('webgpu');
    if (tolerance !== null) gpu.debugSelfCheckTolerance(tolerance);
    checked[pref] = await gpu.webgpuSelfCheck(config ?? { method: 'loco' }, pref, data.train, data.test);
  }
  return checked[pref];
}

// The build and backend for a preference (auto, webgpu, cpu), with the core's reason.
export async function backendFor(pref, config, data) {
  const cpu = await ready;
  let choice = cpu.browserBackend(pref, await adapterFacts());
  if (choice.backend === 'webgpu' && !await served('webgpu')) {
    if (pref === 'webgpu') throw new Error(`the WebGPU build ${NOT_BUILT}`);
    choice = { backend: 'cpu', note: `the WebGPU build ${NOT_BUILT}` };
  }
  if (choice.backend === 'webgpu') {
    const check = await selfCheck(pref, config, data);
    const note = [choice.note, check.note].filter(Boolean).join('; ');
    if (check.backend === 'webgpu') return { mod: await load('webgpu'), backend: 'webgpu', note, threads: null };
    choice = { backend: 'cpu', note };
  }
  const build = await cpuBuild();
  return { mod: build.mod, backend: choice.backend, note: choice.note, threads: { count: build.threads, note: build.note } };
}

// The page's thread count and why it is not cross-origin isolated (with its data), and the
// channel a pool thread's panic is announced on (src/web/panic.rs).
export function setThreads(threads, why) {
  wanted = threads ?? 1;
  isolationWhy = why || isolationWhy;
}
export function setPanicChannel(name) {
  panicChannel = name;
}

// For the e2e tests: the self-check's tolerance from now on, and an adapter taken for hardware
// (the test's only adapter is a software one, which `auto` never checks).
export function debugSelfCheck(t, pretendHardware) {
  tolerance = t;
  if (pretendHardware) adapter = { present: true, is_fallback: false, vendor: 'e2e test', architecture: '', description: 'a pretended hardware adapter' };
  for (const k of Object.keys(checked)) delete checked[k];
}
