// LoCo Lab page: state in the URL, the trainer in a Web Worker, live loss curves (uPlot).
// The methods, presets, limits and the checks of every setting come from the wasm module.
let METHODS = []; // [{kind, title, summary, details, end_to_end}] from the core (MethodKind::ALL)
let REF = null; // the end-to-end reference method (SimCLR)
const KNOBS = ['preset', 'batch', 'lr', 'temperature', 'seed', 'sharing', 'decoder', 'backend'];
const CONFIG_KNOBS = KNOBS.filter((k) => k !== 'backend');
// URL keys the page itself reads; every other key is a training setting, checked by the core.
const PAGE_KEYS = ['methods', 'backend', 'embed', 'hide', 'autostart', 'monitor'];
const BACKENDS = ['auto', 'webgpu', 'cpu'];
const DEFAULT_MONITOR = 30; // steps between kNN monitor points (URL: &monitor=N)
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
  sharing: null, decoder: null, backend: 'auto', embed: false, hide: [], autostart: false, monitor: DEFAULT_MONITOR,
};
// The kNN monitor: every `state.monitor` steps, k=200 on a fixed bank (the first MONITOR.train
// training images) and the first MONITOR.test test images, every stage.
const MONITOR = { train: 400, test: 200 };
let randomInit = null; // per-stage kNN of the untrained encoder (every method starts from it)
let stageNames = [];
let timing = { train: 0, monitor: 0 }; // seconds, to show what the monitor costs
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
  if (q.has('monitor')) state.monitor = q.get('monitor');
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
  const every = Number(state.monitor);
  if (!Number.isInteger(every) || every < 1 || every > 100000) {
    warnings.push(`monitor=${String(state.monitor).slice(0, 40)} ignored; expected a whole number of steps in [1, 100000]`);
    state.monitor = DEFAULT_MONITOR;
  } else {
    state.monitor = every;
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
  if (state.monitor !== DEFAULT_MONITOR) q.set('monitor', String(state.monitor));
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
      const made = await call('create', { method: m, config: configFor(m), backend: state.backend });
      trainers[m] = { units: made.units, curve: { x: [], ys: made.units.map(() => []) }, mem: null, knn: { x: [], y: [] }, stages: null };
      $('backend-used').textContent = made.backend;
      $('backend-note').textContent = made.backendNote ? `(${made.backendNote})` : '';
    }
    buildCharts();
    await showViews();
    // Every method starts from the same seeded encoder: its accuracy is the random-init line.
    randomInit = null;
    const first = state.methods.find((m) => trainers[m]);
    if (first) {
      const stages = await evaluateMethod(first);
      randomInit = stages.map((x) => x.knn);
      stageNames = stages.map((x) => x.stage);
    }
    timing = { train: 0, monitor: 0 };
    drawMemory();
    drawAccuracy();
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
    timing.train += r.seconds;
    // The first step also creates the optimizer's state: later steps show the steady peak.
    if (r.peak_bytes != null && (r.step >= 2 || !t.mem)) t.mem = { peak: r.peak_bytes, units: r.phases.map((p) => p.peak_bytes), step: r.step };
    last = r;
  }
  if (last) {
    stepCount = last.step;
    $('step-count').textContent = String(last.step);
    $('images').textContent = String(last.images_seen);
    $('speed').textContent = last.images_per_sec.toFixed(1);
  }
  redraw();
  drawMemory();
  if (stepCount % 5 === 0) showViews();
  if (stepCount % state.monitor === 0) await monitorAll();
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

// ---- the paper's two claims: memory and accuracy ----
const COLOURS = ['#141414', '#d66014', '#1f77b4', '#2ca02c', '#9467bd'];
const colour = (m) => COLOURS[Math.max(0, METHODS.findIndex((x) => x.kind === m)) % COLOURS.length];
function bytes(n) {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(2)} GiB` : n >= 2 ** 20 ? `${(n / 2 ** 20).toFixed(1)} MiB` : `${(n / 1024).toFixed(0)} KiB`;
}

// One bar per method: the measured peak of its latest step (counting allocator in the module),
// the saving against the end-to-end reference, and the paper's saving on PResNet-50.
function drawMemory() {
  const rows = state.methods.filter((m) => trainers[m]?.mem);
  const box = $('memory-bars');
  box.innerHTML = '';
  const onGpu = $('backend-used').textContent === 'webgpu';
  if (!rows.length) {
    $('memory-note').textContent = onGpu
      ? 'Measured on the CPU path only: on WebGPU the tensors live in GPU buffers, which burn 0.22.1 does not report. Choose the CPU backend to see the bars.'
      : 'Press Start or Single step: each method\'s peak appears after its first step.';
    return;
  }
  const max = Math.max(...rows.map((m) => trainers[m].mem.peak));
  const ref = trainers[REF]?.mem?.peak;
  for (const m of rows) {
    const { peak, units, step } = trainers[m].mem;
    const names = trainers[m].units;
    const top = units.indexOf(Math.max(...units));
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.id = `mem-${m}`;
    row.title = `step ${step}, peak per unit:\n` + names.map((u, i) => `${u}: ${bytes(units[i])}${i === top ? ' (sets the peak)' : ''}`).join('\n');
    let text = bytes(peak);
    const paper = info(m).paper_saving_presnet50;
    if (ref && m !== REF) text += ref >= peak ? ` · ${(ref / peak).toFixed(2)}x less than ${info(REF).title}` : ` · ${(peak / ref).toFixed(2)}x more than ${info(REF).title}`;
    if (paper) text += ` (paper, PResNet-50: ${paper.toFixed(2)}x)`;
    row.innerHTML = `<b>${info(m).title}</b><div class="bar-track"><div class="bar" style="width:${(100 * peak) / max}%;background:${colour(m)}">&nbsp;<span></span></div></div>`;
    row.querySelector('span').textContent = text;
    box.appendChild(row);
  }
  $('memory-note').textContent = 'Peak bytes a training step allocates in the wasm module on top of what was live before it '
    + '(hover a bar for each unit\'s peak). The paper saves more on PResNet-50 at 224 pixels, where activations dwarf everything '
    + 'else; on this small network at 32 pixels the weights, optimizer state, input views and decoders are a larger share of a '
    + 'step, so local learning saves less here (natively, presnet-tiny at batch 32: 1.85x GIM, 1.51x LoCo).';
}

async function evaluateMethod(m) {
  const t0 = performance.now();
  const stages = await call('evaluate', { method: m, nTrain: MONITOR.train, nTest: MONITOR.test });
  timing.monitor += (performance.now() - t0) / 1000;
  return stages;
}

async function monitorAll() {
  for (const m of state.methods) {
    const t = trainers[m];
    if (!t) continue;
    const stages = await evaluateMethod(m);
    t.stages = stages;
    t.knn.x.push(t.curve.x.at(-1) ?? 0);
    t.knn.y.push(stages.at(-1).knn);
    const el = $(`acc-${m}`);
    if (el) el.textContent = `kNN ${stages.at(-1).knn.toFixed(1)}%`;
  }
  drawAccuracy();
}

let accChart = null;
function drawAccuracy() {
  const methods = state.methods.filter((m) => trainers[m]);
  const share = timing.train ? ` · ${(100 * timing.monitor / (timing.train + timing.monitor)).toFixed(0)}% of the time so far` : '';
  $('acc-how').textContent = `(last stage; k=200, ${MONITOR.train} train / ${MONITOR.test} test images, every ${state.monitor} steps${share})`;
  // Methods step in turns, so their monitor points share one x (images seen).
  const xs = [0, ...(trainers[methods[0]]?.knn.x ?? [])];
  const data = [xs];
  const series = [{ label: 'images seen' }];
  for (const m of methods) {
    data.push([randomInit?.at(-1) ?? null, ...trainers[m].knn.y]);
    series.push({ label: info(m).title, stroke: colour(m), width: 2, points: { show: true } });
  }
  data.push(xs.map(() => randomInit?.at(-1) ?? null));
  series.push({ label: 'random init', stroke: '#8c8c8c', width: 1.5, dash: [6, 4], points: { show: false } });
  const box = $('acc-chart');
  if (!accChart || accChart.series.length !== series.length) {
    box.innerHTML = '';
    const width = Math.max(320, box.getBoundingClientRect().width - 10);
    accChart = new uPlot({ width, height: 220, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: 'images seen' }, { label: 'kNN top-1 (%)' }] }, data, box);
  } else {
    accChart.setData(data);
  }
  drawStageBars(methods);
}

// Per-stage kNN at the latest monitor point, grouped by stage, the random init in grey.
function drawStageBars(methods) {
  const box = $('stage-bars');
  box.innerHTML = '';
  const latest = methods.filter((m) => trainers[m].stages);
  if (!randomInit) return;
  const all = [randomInit, ...latest.map((m) => trainers[m].stages.map((s) => s.knn))];
  const max = Math.max(1, ...all.flat());
  const names = stageNames;
  names.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    const cols = [['random init', '#8c8c8c', randomInit[s]], ...latest.map((m) => [info(m).title, colour(m), trainers[m].stages[s].knn])];
    g.innerHTML = `<div class="cols">${cols.map(([label, c, v]) => `<div class="col" title="${label} ${name}: ${v.toFixed(1)}%" style="height:${(100 * v) / max}px;background:${c}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
}

async function evaluateAll() {
  showInfo(`evaluating (kNN, k=200, on ${MONITOR.train} train / ${MONITOR.test} test images)...`);
  try {
    await monitorAll();
    showInfo(state.methods.filter((m) => trainers[m]?.stages).map((m) => `${info(m).title}: kNN ${trainers[m].stages.at(-1).knn.toFixed(1)}%`).join(' · '));
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
