// LoCo Lab page: state in the URL, the trainer in a Web Worker, live loss curves (uPlot).
const METHODS = ['simclr', 'gim', 'loco'];
const KNOBS = ['preset', 'batch', 'lr', 'temperature', 'seed', 'sharing', 'decoder', 'backend'];
const EXPLAIN = {
  simclr: 'End to end: one loss on top, gradients flow through every stage.',
  gim: 'Greedy InfoMax: one loss per stage, no gradient crosses a stage boundary.',
  loco: 'LoCo: units of two stages overlap by one; the shared stage bridges gradients.',
};
const $ = (id) => document.getElementById(id);

// ---- worker RPC ----
const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
let nextId = 0;
const pending = new Map();
worker.onmessage = (e) => {
  const { id, ok, value, error } = e.data;
  const p = pending.get(id);
  pending.delete(id);
  ok ? p.resolve(value) : p.reject(new Error(error));
};
worker.onerror = (e) => showError(`worker failed: ${e.message}`);
function call(cmd, args = {}, transfer = []) {
  return new Promise((resolve, reject) => {
    const id = nextId++;
    pending.set(id, { resolve, reject });
    worker.postMessage({ id, cmd, ...args }, transfer);
  });
}

// ---- state (mirrors the URL) ----
const state = {
  methods: [...METHODS], preset: 'browser', batch: null, lr: null, temperature: null, seed: 0,
  sharing: 'hard', decoder: 'conv-mlp', backend: 'auto', embed: false, hide: [], autostart: false,
};
let presets = {};
let running = false;
let trainers = {}; // method -> {units, backend, curve: {x: [], ys: [[]...]}, acc}
let charts = {};
let stepCount = 0;

function readUrl() {
  const q = new URLSearchParams(location.search);
  if (q.has('methods')) state.methods = q.get('methods').split(',').filter((m) => METHODS.includes(m));
  for (const k of KNOBS) if (q.has(k)) state[k] = q.get(k);
  for (const k of ['batch', 'seed']) if (state[k] !== null) state[k] = parseInt(state[k], 10);
  for (const k of ['lr', 'temperature']) if (state[k] !== null) state[k] = parseFloat(state[k]);
  state.embed = q.get('embed') === '1';
  state.hide = (q.get('hide') || '').split(',').filter(Boolean);
  state.autostart = q.get('autostart') === '1';
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
  for (const k of ['batch', 'lr', 'temperature']) if (state[k] === null) state[k] = p[k];
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
async function useData(d) {
  await call('data', { train: d.train, test: d.test }, [d.train, d.test].filter((b) => b.byteLength));
  $('data-box').hidden = true;
  showInfo(`data: ${d.source}`);
  await resetAll();
}

// ---- charts ----
function panelsFor(methods) {
  const local = methods.filter((m) => m !== 'simclr');
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
    div.innerHTML = `<h3>${m.toUpperCase()}${m !== 'simclr' && trainers.simclr ? ' vs SimCLR' : ''} <span class="acc" id="acc-${m}"></span></h3><p>${EXPLAIN[m]}</p><p class="latest" id="latest-${m}"></p>`;
    plots.appendChild(div);
    return [m, div];
  });
  for (const [m, div] of panels) {
    const t = trainers[m];
    const series = [{ label: 'images seen' }];
    const n = t.units.length;
    t.units.forEach((u, i) => series.push({ label: u, stroke: `hsl(${210 - (150 * i) / Math.max(1, n - 1)}, 70%, ${35 + 20 * (i / n)}%)`, width: 1.5 }));
    if (m !== 'simclr' && trainers.simclr) series.push({ label: 'SimCLR', stroke: '#000', width: 2 });
    const width = Math.max(320, div.getBoundingClientRect().width - 20);
    charts[m] = new uPlot({
      width, height: 260, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: 'images seen', values: (u, ticks) => ticks.map((v) => Math.round(v)) }, { label: 'loss' }],
    }, chartData(m), div);
  }
}
function chartData(m) {
  const t = trainers[m];
  const data = [t.curve.x, ...t.curve.ys];
  if (m !== 'simclr' && trainers.simclr) {
    // SimCLR's loss at the same x (images seen): methods train in turns on one x-axis.
    const s = trainers.simclr.curve;
    data.push(t.curve.x.map((_, i) => (i < s.ys[0].length ? s.ys[0][i] : null)));
  }
  return data;
}
function redraw() {
  for (const [m, c] of Object.entries(charts)) {
    c.setData(chartData(m));
    const t = trainers[m];
    const latest = t.units.map((u, i) => `${u} ${t.curve.ys[i].at(-1)?.toFixed(3) ?? '-'}`);
    if (m !== 'simclr' && trainers.simclr) latest.push(`SimCLR ${trainers.simclr.curve.ys[0].at(-1)?.toFixed(3) ?? '-'}`);
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
    showError(e.message);
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
      running = false;
      $('start').textContent = 'Start';
      showError(e.message);
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
      const { knn } = await call('evaluate', { method: m, nTrain: 1000, nTest: 500 });
      const el = $(`acc-${m}`);
      if (el) el.textContent = `kNN ${knn.toFixed(1)}%`;
      trainers[m].acc = knn;
    }
    showInfo(state.methods.map((m) => `${m}: kNN ${trainers[m].acc.toFixed(1)}%`).join(' · '));
  } catch (e) {
    showError(e.message);
  }
}

// ---- wiring ----
$('start').onclick = () => {
  running = !running;
  $('start').textContent = running ? 'Pause' : 'Start';
  if (running) loop();
};
$('step').onclick = () => { if (!running) stepAll().catch((e) => showError(e.message)); };
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
    const meta = await call('meta');
    presets = meta.presets;
    const L = meta.limits;
    $('batch').min = L.batch[0]; $('batch').max = L.batch[1];
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
