// LoCo Lab page: state in the URL, the trainer in a Web Worker, live loss curves (uPlot).
// The methods, presets, limits and the checks of every setting come from the wasm module.
let METHODS = []; // [{kind, title, summary, details, end_to_end}] from the core (MethodKind::ALL)
let REF = null; // the end-to-end reference method (SimCLR)
const KNOBS = ['preset', 'batch', 'lr', 'temperature', 'seed', 'sharing', 'decoder', 'backend'];
const CONFIG_KNOBS = KNOBS.filter((k) => k !== 'backend');
// URL keys the page itself reads; every other key is a training setting, checked by the core.
const PAGE_KEYS = ['methods', 'backend', 'embed', 'hide', 'autostart'];
const BACKENDS = ['auto', 'webgpu', 'cpu'];
const $ = (id) => document.getElementById(id);
const info = (m) => METHODS.find((x) => x.kind === m);

// ---- worker RPC ----
// A panic or an out-of-memory abort traps the wasm instance; the worker then answers `fatal`
// and is replaced by a fresh one (data re-sent), so the page never talks to a dead module.
let worker = null;
let nextId = 0;
const pending = new Map();
function startWorker() {
  worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
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
function failAll(message) {
  for (const [, p] of pending) { const err = new Error(message); err.fatal = true; p.reject(err); }
  pending.clear();
}
function call(cmd, args = {}, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, ...args }, transfer);
  });
}
startWorker();

// ---- state (mirrors the URL) ----
const state = {
  methods: null, preset: 'browser', batch: null, lr: null, temperature: null, seed: null,
  sharing: null, decoder: null, backend: 'auto', embed: false, hide: [], autostart: false,
};
let urlSettings = []; // [[key, text]] training settings from the URL, checked by the core
let urlMethods = null;
let dataset = null; // the CIFAR-10 bytes, kept to re-send to a restarted worker
let presets = {};
let running = false;
let trainers = {}; // method -> {units, backend, curve: {x: [], ys: [[]...]}, acc}
let charts = {};
let stepCount = 0;

function readUrl() {
  const q = new URLSearchParams(location.search);
  urlSettings = [...q.entries()].filter(([k]) => !PAGE_KEYS.includes(k));
  if (q.has('methods')) urlMethods = q.get('methods').split(',').map((m) => m.trim()).filter(Boolean);
  if (q.has('backend')) state.backend = q.get('backend');
  state.embed = q.get('embed') === '1';
  state.hide = (q.get('hide') || '').split(',').filter(Boolean);
  state.autostart = q.get('autostart') === '1';
}

// The URL's settings, as the core judged them: bad ones fall back to the preset, with a warning.
function applySettings(settings) {
  const warnings = [...settings.warnings];
  state.preset = settings.preset;
  for (const k of CONFIG_KNOBS) if (k !== 'preset') state[k] = settings.overrides[k] ?? null;
  const kinds = METHODS.map((m) => m.kind);
  if (urlMethods) {
    const unknown = urlMethods.filter((m) => !kinds.includes(m));
    if (unknown.length) warnings.push(`unknown method ${unknown.map((m) => `'${m.slice(0, 40)}'`).join(', ')} ignored; methods are ${kinds.join(', ')}`);
    state.methods = urlMethods.filter((m) => kinds.includes(m));
    if (!state.methods.length) { state.methods = [...kinds]; warnings.push('no known method named: showing all'); }
  } else {
    state.methods = [...kinds];
  }
  if (!BACKENDS.includes(state.backend)) {
    warnings.push(`backend=${String(state.backend).slice(0, 40)} ignored; expected ${BACKENDS.join(', ')}`);
    state.backend = 'auto';
  }
  showWarnings(warnings);
}

function showWarnings(list) {
  const ul = $('warnings');
  ul.innerHTML = '';
  for (const w of list) { const li = document.createElement('li'); li.textContent = w; ul.appendChild(li); }
  ul.hidden = list.length === 0;
}

function buildMethodControls() {
  $('methods').innerHTML = '<legend>Methods</legend>' + METHODS.map((m) => `<label><input type="checkbox" name="method" value="${m.kind}"> ${m.title}</label>`).join('\n');
  $('method-details').innerHTML = METHODS.map((m) => `<dt>${m.title}</dt><dd>${m.details}</dd>`).join('');
  }

function writeUrl() {
  const q = new URLSearchParams();
  q.set('methods', state.methods.join(','));
  for (const k of KNOBS) if (state[k] !== null && state[k] !== '') q.set(k, state[k]);
  if (state.embed) q.set('embed', '1');
  if (state.hide.length) q.set('hide', state.hide.join(','));
  if (state.autostart) q.set('autostart', '1');
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

function fillControls() {
  $('preset').innerHTML = Object.keys(presets).map((p) => `<option>${p}</option>`).join('');
  const p = presets[state.preset] || presets.browser;
  for (const k of ['batch', 'lr', 'temperature', 'seed', 'sharing', 'decoder']) if (state[k] === null) state[k] = p[k];
  for (const k of KNOBS) $(k).value = state[k];
  document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = state.methods.includes(c.value); });
  document.body.classList.toggle('embed', state.embed);
  for (const id of state.hide) $(id)?.classList.add('hidden');
}

function readControls() {
  for (const k of KNOBS) state[k] = $(k).value;
  state.batch = parseInt(state.batch, 10);
  state.seed = parseInt(state.seed, 10);
  state.lr = parseFloat(state.lr);
  state.temperature = parseFloat(state.temperature);
  state.methods = [...document.querySelectorAll('input[name=method]:checked')].map((c) => c.value);
  writeUrl();
}

// Only what the user set: the core merges it over the preset once (TrainConfig::preset_with).
function configFor(method) {
  const c = { preset: state.preset, method };
  for (const k of ['batch', 'lr', 'temperature', 'seed', 'sharing', 'decoder']) {
    if (state[k] !== null && state[k] !== undefined && state[k] !== '') c[k] = state[k];
  }
  return c;
}

// ---- messages ----
function showError(msg) { const m = $('message'); m.textContent = msg; m.className = 'error'; }
function showInfo(msg) { const m = $('message'); m.textContent = msg; m.className = ''; }

// ---- data ----
const DATA_CANDIDATES = [
  ['data/train_5k.bin', 'data/test_1k.bin'],
  ['data/data_batch_1.bin', 'data/test_batch.bin'],
  ['data/cifar-10-binary.tar.gz', null],
];
async function fetchData() {
  for (const [train, test] of DATA_CANDIDATES) {
    const r = await fetch(train).catch(() => null);
    if (!r || !r.ok) continue;
    const trainBuf = await r.arrayBuffer();
    const testBuf = test ? await (await fetch(test)).arrayBuffer() : new ArrayBuffer(0);
    return { train: trainBuf, test: testBuf, source: train };
  }
  return null;
}
async function loadFiles(files) {
  const list = [...files];
  const gz = list.find((f) => f.name.endsWith('.gz'));
  if (gz) return { train: await gz.arrayBuffer(), test: new ArrayBuffer(0), source: gz.name };
  const test = list.find((f) => /^test/.test(f.name));
  const train = list.find((f) => f !== test);
  if (!train || !test) throw new Error('pick a train file and a test file (e.g. data_batch_1.bin and test_batch.bin), or the .tar.gz archive');
  return { train: await train.arrayBuffer(), test: await test.arrayBuffer(), source: `${train.name} + ${test.name}` };
}
// Copies go to the worker (transferred), the page keeps the originals for a restarted worker.
function sendData() {
  const train = dataset.train.slice(0);
  const test = dataset.test.slice(0);
  return call('data', { train, test }, [train, test].filter((b) => b.byteLength));
}
async function useData(d) {
  dataset = d;
  await sendData();
  $('data-box').hidden = true;
  showInfo(`data: ${d.source}`);
  await resetAll();
}

// ---- charts ----
function panelsFor(methods) {
  const local = methods.filter((m) => m !== REF);
  return local.length ? local : methods;
}
function buildCharts() {
  const plots = $('plots');
  plots.innerHTML = '';
  charts = {};
  // Lay out every panel first, then size each chart to its panel.
  const panels = panelsFor(state.methods).filter((m) => trainers[m]).map((m) => {
    const div = document.createElement('div');
    div.className = 'panel';
    div.innerHTML = `<h3>${info(m).title}${vsRef(m) ? ` vs ${info(REF).title}` : ''} <span class="acc" id="acc-${m}"></span></h3><p>${info(m).summary}</p><p class="latest" id="latest-${m}"></p>`;
    plots.appendChild(div);
    return [m, div];
  });
  for (const [m, div] of panels) {
    const t = trainers[m];
    const series = [{ label: 'images seen' }];
    const n = t.units.length;
    t.units.forEach((u, i) => series.push({ label: u, stroke: `hsl(${210 - (150 * i) / Math.max(1, n - 1)}, 70%, ${35 + 20 * (i / n)}%)`, width: 1.5 }));
    if (vsRef(m)) series.push({ label: info(REF).title, stroke: '#000', width: 2 });
    const width = Math.max(320, div.getBoundingClientRect().width - 20);
    charts[m] = new uPlot({
      width, height: 260, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: 'images seen', values: (u, ticks) => ticks.map((v) => Math.round(v)) }, { label: 'loss' }],
    }, chartData(m), div);
  }
}
// Whether method m's panel shows the end-to-end reference's loss beside its own.
function vsRef(m) { return m !== REF && Boolean(trainers[REF]); }
function chartData(m) {
  const t = trainers[m];
  const data = [t.curve.x, ...t.curve.ys];
  if (vsRef(m)) {
    // The reference's loss at the same x (images seen): methods train in turns on one x-axis.
    const s = trainers[REF].curve;
    data.push(t.curve.x.map((_, i) => (i < s.ys[0].length ? s.ys[0][i] : null)));
  }
  return data;
}
function redraw() {
  for (const [m, c] of Object.entries(charts)) {
    c.setData(chartData(m));
    const t = trainers[m];
    const latest = t.units.map((u, i) => `${u} ${t.curve.ys[i].at(-1)?.toFixed(3) ?? '-'}`);
    if (vsRef(m)) latest.push(`${info(REF).title} ${trainers[REF].curve.ys[0].at(-1)?.toFixed(3) ?? '-'}`);
    $(`latest-${m}`).textContent = `latest loss: ${latest.join(' · ')}`;
  }
}

// ---- training ----
async function resetAll() {
  running = false;
  $('start').textContent = 'Start';
  readControls();
  trainers = {};
  stepCount = 0;
  $('step-count').textContent = '0';
  $('images').textContent = '0';
  try {
    for (const m of state.methods) {
      const info = await call('create', { method: m, config: configFor(m), backend: state.backend });
      trainers[m] = { units: info.units, curve: { x: [], ys: info.units.map(() => []) } };
      $('backend-used').textContent = info.backend;
      $('backend-note').textContent = info.backendNote ? `(${info.backendNote})` : '';
    }
    buildCharts();
    await showViews();
    showInfo('ready');
  } catch (e) {
    failed(e);
  }
}

async function stepAll() {
  let last = null;
  for (const m of state.methods) {
    const t = trainers[m];
    if (!t) continue;
    const r = await call('step', { method: m });
    t.curve.x.push(r.images_seen);
    r.losses.forEach((l, i) => t.curve.ys[i].push(l));
    last = r;
  }
  if (last) {
    stepCount = last.step;
    $('step-count').textContent = String(last.step);
    $('images').textContent = String(last.images_seen);
    $('speed').textContent = last.images_per_sec.toFixed(1);
  }
  redraw();
  if (stepCount % 5 === 0) showViews();
}

async function loop() {
  while (running) {
    try {
      await stepAll();
    } catch (e) {
      failed(e);
    }
    await new Promise((r) => setTimeout(r, 0)); // yield to the event loop
  }
}

async function showViews() {
  const m = state.methods[0];
  if (!m || !trainers[m]) return;
  const { side, views } = await call('views', { method: m, count: 8 });
  const strip = $('view-strip');
  strip.innerHTML = '';
  for (const pair of views) {
    const div = document.createElement('div');
    div.className = 'pair';
    for (const rgba of pair) {
      const c = document.createElement('canvas');
      c.width = side; c.height = side;
      c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(rgba), side, side), 0, 0);
      div.appendChild(c);
    }
    strip.appendChild(div);
  }
}

async function evaluateAll() {
  showInfo('evaluating (kNN, k=200, on 1000 train / 500 test images)...');
  try {
    for (const m of state.methods) {
      if (!trainers[m]) continue;
      const stages = await call('evaluate', { method: m, nTrain: 1000, nTest: 500 });
      const knn = stages.at(-1).knn;
      const el = $(`acc-${m}`);
      if (el) el.textContent = `kNN ${knn.toFixed(1)}%`;
      trainers[m].acc = knn;
    }
    showInfo(state.methods.filter((m) => trainers[m]).map((m) => `${info(m).title}: kNN ${trainers[m].acc.toFixed(1)}%`).join(' · '));
  } catch (e) {
    failed(e);
  }
}

// ---- failures ----
// An ordinary error (a bad setting, a config that does not fit) is a message. A fatal one (a
// panic in the module, WebGPU device loss, out of memory) also replaces the worker and offers
// the ways on: the CPU path, a smaller batch, or the same settings again; no reload needed.
function failed(e) {
  running = false;
  $('start').textContent = 'Start';
  showError(e.message);
  if (!e.fatal) return;
  worker.terminate();
  failAll('the worker was replaced');
  startWorker();
  trainers = {};
  const onGpu = $('backend-used').textContent === 'webgpu';
  $('recover-why').textContent = `The trainer stopped${onGpu ? ' on WebGPU' : ''}: ${e.message}. `
    + 'Its worker was restarted; training starts again from step 0.';
  $('recover-cpu').hidden = state.backend === 'cpu' && !onGpu;
  $('recover').hidden = false;
}

async function recover(change) {
  $('recover').hidden = true;
  change();
  fillControls();
  writeUrl();
  try {
    await sendData();
    await resetAll();
  } catch (e) {
    failed(e);
  }
}

// ---- wiring ----
$('start').onclick = () => {
  running = !running;
  $('start').textContent = running ? 'Pause' : 'Start';
  if (running) loop();
};
$('step').onclick = () => { if (!running) stepAll().catch(failed); };
$('recover-cpu').onclick = () => recover(() => { state.backend = 'cpu'; });
$('recover-batch').onclick = () => recover(() => { state.batch = Math.max(2, Math.floor(state.batch / 2)); });
$('recover-retry').onclick = () => recover(() => {});
$('reset').onclick = () => resetAll();
$('evaluate').onclick = () => evaluateAll();
$('share').onclick = async () => {
  readControls();
  try { await navigator.clipboard.writeText(location.href); showInfo('link copied'); } catch { showInfo(location.href); }
};
$('preset').onchange = () => {
  const p = presets[$('preset').value];
  for (const k of ['batch', 'lr', 'temperature']) $(k).value = p[k];
};
for (const k of KNOBS) $(k).addEventListener('change', () => readControls());
document.querySelectorAll('input[name=method]').forEach((c) => c.addEventListener('change', () => readControls()));
$('files').onchange = async (e) => {
  try { await useData(await loadFiles(e.target.files)); } catch (err) { showError(err.message); }
};
document.body.addEventListener('dragover', (e) => e.preventDefault());
document.body.addEventListener('drop', async (e) => {
  e.preventDefault();
  try { await useData(await loadFiles(e.dataTransfer.files)); } catch (err) { showError(err.message); }
});

async function main() {
  readUrl();
  try {
    const meta = await call('meta', { settings: urlSettings });
    presets = meta.presets;
    METHODS = meta.methods;
    REF = METHODS.find((m) => m.end_to_end)?.kind ?? null;
    const L = meta.limits;
    $('batch').min = L.batch[0]; $('batch').max = L.batch[1];
    buildMethodControls();
    applySettings(meta.settings);
  } catch (e) {
    showError(`could not load the wasm module (build it with scripts/build-web.sh): ${e.message}`);
    return;
  }
  fillControls();
  writeUrl();
  showInfo('loading CIFAR-10...');
  const d = await fetchData();
  if (!d) {
    $('data-box').hidden = false;
    $('data-help').textContent = 'No CIFAR-10 data found next to this page (data/train_5k.bin, data/data_batch_1.bin or data/cifar-10-binary.tar.gz). '
      + 'Pick or drop the files here, or serve the page with `scripts/demo.sh DATA_DIR`; `locolab download` fetches the official archive.';
    showError('no data yet');
    return;
  }
  await useData(d);
  if (state.autostart) $('start').click();
}
main();
// For the e2e tests: a real panic inside the wasm module, handled like any other failure.
window.locolabDebug = { panic: (message) => call('debug-panic', { message }).catch(failed) };
