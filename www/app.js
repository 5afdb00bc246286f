// LoCo Lab page: state in the URL, the trainer in a Web Worker, live loss curves (uPlot).
// The methods, presets, limits and the checks of every setting come from the wasm module.
let METHODS = []; // [{kind, title, summary, details, end_to_end}] from the core (MethodKind::ALL)
let REF = null; // the end-to-end reference method (SimCLR)
// The training settings the page offers: the core's knob table (config.rs) marks them `page`.
let TRAINING = [];
let KNOBS = ['preset', 'backend'];
// URL keys the page itself reads; every other key is a training setting, checked by the core.
const PAGE_KEYS = ['methods', 'backend', 'embed', 'hide', 'autostart', 'monitor', 'autosave', 'parallel'];
// Steps per parallel run (at most): each run fills and drains the units' pipeline once.
const PARALLEL_CHUNK = 10;
const BACKENDS = ['auto', 'webgpu', 'cpu'];
const DEFAULT_MONITOR = 30; // steps between kNN monitor points (URL: &monitor=N)
const DEFAULT_AUTOSAVE = 200; // steps between autosaves to IndexedDB (URL: &autosave=N, 0 = off)
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
  autosave: DEFAULT_AUTOSAVE,
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
  if (q.has('autosave')) state.autosave = q.get('autosave');
  state.parallel = q.get('parallel') === '1';
}

// The URL's settings, as the core judged them: bad ones fall back to the preset, with a warning.
function applySettings(settings) {
  const warnings = [...settings.warnings];
  state.preset = settings.preset;
  for (const k of TRAINING) state[k] = settings.overrides[k] ?? null;
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
  const autosave = Number(state.autosave);
  if (!Number.isInteger(autosave) || autosave < 0 || autosave > 100000) {
    warnings.push(`autosave=${String(state.autosave).slice(0, 40)} ignored; expected a whole number of steps in [0, 100000] (0: off)`);
    state.autosave = DEFAULT_AUTOSAVE;
  } else {
    state.autosave = autosave;
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
  if (state.autosave !== DEFAULT_AUTOSAVE) q.set('autosave', String(state.autosave));
  if (state.parallel) q.set('parallel', '1');
  history.replaceState(null, '', `${location.pathname}?${q}`);
}

function fillControls() {
  $('preset').innerHTML = Object.keys(presets).map((p) => `<option>${p}</option>`).join('');
  const p = presets[state.preset] || presets.browser;
  for (const k of TRAINING) if (state[k] === null) state[k] = p[k];
  for (const k of KNOBS) $(k).value = state[k];
  document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = state.methods.includes(c.value); });
  $('parallel').checked = state.parallel;
  document.body.classList.toggle('embed', state.embed);
  for (const id of state.hide) $(id)?.classList.add('hidden');
}

function readControls() {
  const numeric = presets.browser ?? {};
  for (const k of KNOBS) state[k] = typeof numeric[k] === 'number' ? Number($(k).value) : $(k).value;
  state.methods = [...document.querySelectorAll('input[name=method]:checked')].map((c) => c.value);
  state.parallel = $('parallel').checked;
  writeUrl();
}

// Only what the user set: the core merges it over the preset once (TrainConfig::preset_with).
function configFor(method) {
  const c = { preset: state.preset, method };
  for (const k of TRAINING) {
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
    div.innerHTML = `<h3>${info(m).title}${vsRef(m) ? ` vs ${info(REF).title}` : ''} <span class="acc" id="acc-${m}"></span>${saveButtons(m)}</h3><p>${info(m).summary}</p><p class="latest" id="latest-${m}"></p>`;
    plots.appendChild(div);
    div.querySelectorAll('button.save').forEach((b) => { b.onclick = () => download(b.dataset.method); });
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
  showProgress(0, 0);
  try {
    for (const m of state.methods) {
      adopt(m, await call('create', { method: m, config: configFor(m), backend: state.backend }));
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

// A trainer the worker made (created or restored) becomes method m's, with empty curves.
function adopt(m, made) {
  trainers[m] = { units: made.units, config: made.config, curve: { x: [], ys: made.units.map(() => []) }, mem: null, knn: { x: [], y: [] }, stages: null };
  $('backend-used').textContent = made.backend;
  $('backend-note').textContent = made.backendNote ? `(${made.backendNote})` : '';
}

function showProgress(step, imagesSeen) {
  stepCount = step;
  $('step-count').textContent = String(step);
  $('images').textContent = String(imagesSeen);
}

// Every panel drawn anew from `trainers` (after trainers were replaced by loading).
function redrawAll() {
  buildCharts();
  redraw();
  drawMemory();
  drawAccuracy();
}

// Steps of one method: one sequential step, or with "units in parallel" a pipelined run of
// several (up to the next monitor point or autosave, so those still fall on their steps).
async function stepMethod(m) {
  const t = trainers[m];
  if (state.parallel) {
    const until = (every) => (every ? every - (stepCount % every) : PARALLEL_CHUNK);
    const steps = Math.max(1, Math.min(PARALLEL_CHUNK, until(state.monitor), until(state.autosave)));
    try {
      const run = await call('step-parallel', { method: m, steps });
      t.parallel = { imagesPerSec: run.imagesPerSec, workers: run.workers };
      return run.reports;
    } catch (e) {
      // What cannot run in parallel (WebGPU, LoCo's soft sharing) steps on its own, and says why.
      if (!/parallel|soft sharing/.test(e.message) || e.fatal) throw e;
      t.parallel = { refused: e.message };
    }
  }
  const r = await call('step', { method: m });
  t.sequential = r.images_per_sec;
  return [r];
}

async function stepAll() {
  let last = null;
  for (const m of state.methods) {
    const t = trainers[m];
    if (!t) continue;
    for (const r of await stepMethod(m)) {
      t.curve.x.push(r.images_seen);
      r.losses.forEach((l, i) => t.curve.ys[i].push(l));
      timing.train += r.seconds;
      // The first step also creates the optimizer's state: later steps show the steady peak.
      if (r.peak_bytes != null && (r.step >= 2 || !t.mem)) t.mem = { peak: r.peak_bytes, units: r.phases.map((p) => p.peak_bytes), step: r.step };
      last = r;
    }
  }
  showSpeeds();
  if (last) {
    showProgress(last.step, last.images_seen);
    if (!state.parallel) $('speed').textContent = last.images_per_sec.toFixed(1);
  }
  redraw();
  drawMemory();
  if (stepCount % 5 === 0) showViews();
  if (stepCount % state.monitor === 0) await monitorAll();
  if (state.autosave && stepCount % state.autosave === 0) await autosave();
}

// With units in parallel: each method's images/s over its last parallel run, beside its last
// sequential figure (measured when the box was off), so the two can be compared.
function showSpeeds() {
  const box = $('parallel-speeds');
  box.hidden = !state.parallel;
  if (!state.parallel) return;
  const fmt = (v) => (v == null ? 'not measured yet' : `${v.toFixed(1)} images/s`);
  box.innerHTML = state.methods.filter((m) => trainers[m]).map((m) => {
    const t = trainers[m];
    const p = t.parallel ?? {};
    const par = p.refused ? `not in parallel: ${p.refused}` : `${fmt(p.imagesPerSec)} in parallel (${p.workers ?? '-'} workers)`;
    return `<li data-method="${m}"><b>${info(m).title}</b>: <span class="par">${par}</span>; sequential <span class="seq">${fmt(t.sequential)}</span></li>`;
  }).join('');
  const rates = state.methods.map((m) => trainers[m]?.parallel?.imagesPerSec).filter((v) => v != null);
  if (rates.length) $('speed').textContent = (rates.reduce((a, b) => a + b, 0) / rates.length).toFixed(1);
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

// ---- save, load, autosave ----
// A model is saved as one file, the core's checkpoint bundle (a tar of state.json, model.bpk
// and optim.bpk: the files of a native checkpoint folder, so `locolab eval --checkpoint f.tar`
// reads it). Loading builds a new trainer first and swaps it in only if the file was accepted.
function saveButtons(m) {
  // The two panels show the end-to-end reference beside a local method: each can be saved.
  const ms = [m, ...(vsRef(m) ? [REF] : [])];
  return ms.map((x) => `<button class="save" type="button" data-method="${x}" id="save-${x}" title="Download ${info(x).title}'s model (weights, optimizer state, config, step)">Save ${info(x).title}</button>`).join('');
}

async function download(m) {
  try {
    const { bytes, step } = await call('save', { method: m });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/x-tar' }));
    a.download = `locolab-${m}-${trainers[m]?.config?.arch ?? 'model'}-step${step}.tar`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    showInfo(`saved ${a.download}`);
  } catch (e) {
    if (e.fatal) failed(e); else showError(e.message);
  }
}

// Restore one bundle into the page; resolves to the worker's answer ({method, step, ...}).
async function restoreInto(name, buffer) {
  const pageConfig = configFor(state.methods[0] ?? REF);
  const made = await call('restore', { bytes: buffer, name, pageConfig, backend: state.backend }, [buffer]);
  const m = made.method;
  if (!state.methods.includes(m)) {
    state.methods = METHODS.map((x) => x.kind).filter((k) => k === m || state.methods.includes(k));
    document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = state.methods.includes(c.value); });
    writeUrl();
  }
  adopt(m, made);
  return made;
}

async function loadCheckpointFiles(files) {
  const done = [];
  const refused = [];
  for (const f of files) {
    try {
      const made = await restoreInto(f.name, await f.arrayBuffer());
      done.push(`${info(made.method).title} at step ${made.step} from ${f.name}`);
      showProgress(made.step, made.imagesSeen);
    } catch (e) {
      if (e.fatal) return failed(e);
      refused.push(e.message);
    }
  }
  if (done.length) redrawAll();
  if (refused.length) showError(`refused (training is unchanged): ${refused.join(' · ')}`);
  else showInfo(`loaded ${done.join(', ')}`);
}

// IndexedDB: one autosaved session ({time, step, methods: {m: {bytes, curve, knn, stages}},
// randomInit, stageNames}), replaced at every autosave, offered after a reload.
const DB = { name: 'locolab', store: 'autosave', key: 'session' };
function idb(mode, fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB.name, 1);
    open.onupgradeneeded = () => open.result.createObjectStore(DB.store);
    open.onerror = () => reject(open.error ?? new Error('IndexedDB is not available'));
    open.onsuccess = () => {
      const db = open.result;
      const tx = db.transaction(DB.store, mode);
      const req = fn(tx.objectStore(DB.store));
      tx.oncomplete = () => { db.close(); resolve(req.result); };
      tx.onerror = tx.onabort = () => { db.close(); reject(tx.error ?? new Error('the IndexedDB transaction failed')); };
    };
  });
}
const loadSession = () => idb('readonly', (s) => s.get(DB.key));
const storeSession = (v) => idb('readwrite', (s) => s.put(v, DB.key));
const dropSession = () => idb('readwrite', (s) => s.delete(DB.key));

async function autosave() {
  const note = $('autosave-note');
  if ($('backend-used').textContent !== 'cpu') {
    note.textContent = 'autosave: on the CPU path only (WebGPU weights cannot be read back synchronously)';
    return;
  }
  const session = { time: Date.now(), step: stepCount, methods: {}, randomInit, stageNames };
  try {
    for (const m of state.methods) {
      const t = trainers[m];
      if (!t) continue;
      const { bytes } = await call('save', { method: m });
      session.methods[m] = { bytes, curve: t.curve, knn: t.knn, stages: t.stages };
    }
    await storeSession(session);
    note.textContent = `autosaved at step ${stepCount}`;
  } catch (e) {
    if (e.fatal) throw e;
    note.textContent = `autosave failed: ${e.message}`;
  }
}

async function offerResume() {
  const saved = await loadSession().catch(() => null);
  if (!saved?.methods || !Object.keys(saved.methods).length) return;
  const names = Object.keys(saved.methods).map((m) => info(m)?.title ?? m).join(', ');
  $('resume-why').textContent = `This browser holds a session autosaved at step ${saved.step} (${new Date(saved.time).toLocaleString()}): ${names}.`;
  $('resume-box').hidden = false;
}

async function resumeSession() {
  $('resume-box').hidden = true;
  running = false;
  $('start').textContent = 'Start';
  try {
    const saved = await loadSession();
    if (!saved) return showError('the autosaved session is gone');
    trainers = {};
    state.methods = METHODS.map((x) => x.kind).filter((k) => saved.methods[k]);
    let last = null;
    for (const m of state.methods) {
      const s = saved.methods[m];
      last = await restoreInto(`the autosave of ${info(m).title}`, s.bytes.slice().buffer);
      Object.assign(trainers[m], { curve: s.curve, knn: s.knn, stages: s.stages });
    }
    randomInit = saved.randomInit;
    stageNames = saved.stageNames;
    // The page's settings follow the restored trainers (they all share one config but the method).
    for (const k of TRAINING) state[k] = last.config[k];
    fillControls();
    writeUrl();
    showProgress(last.step, last.imagesSeen);
    redrawAll();
    showInfo(`resumed at step ${last.step}`);
  } catch (e) {
    failed(e);
  }
}

// ---- the long run: the committed results and checkpoints of `locolab compare` ----
const LONGRUN = { results: 'docs/results/results.json', folder: (m) => `docs/results/presnet-tiny/${m}` };
let longrun = null; // {stages, rows: [{kind, label, n, mean, std, seed0}], spec}

function stats(xs) {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const std = xs.length > 1 ? Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, std };
}

async function loadLongRun() {
  const r = await fetch(LONGRUN.results).catch(() => null);
  if (!r || !r.ok) {
    $('longrun-summary').textContent = `No committed results next to this page (${LONGRUN.results}).`;
    return;
  }
  const res = await r.json();
  const groups = new Map();
  for (const run of res.runs) {
    if (!groups.has(run.method)) groups.set(run.method, []);
    groups.get(run.method).push(run);
  }
  const stages = res.runs[0].stages;
  const rows = [...groups].map(([label, runs]) => {
    const kind = label.split('(')[0];
    const per = stages.map((_, s) => stats(runs.map((x) => x.accuracy[s].knn)));
    const first = runs.reduce((a, b) => (b.seed < a.seed ? b : a));
    return { kind, label, n: runs.length, mean: per.map((p) => p.mean), std: per.map((p) => p.std), seed0: first.accuracy.map((a) => a.knn), seed: first.seed, here: null };
  });
  const b = res.spec.base;
  longrun = { stages, rows, spec: res.spec };
  const run = res.runs.find((x) => x.steps);
  $('longrun-how').textContent = `(${b.arch}, batch ${b.batch}, ${run?.steps ?? b.steps} steps = ${run?.images_seen ?? '?'} images seen, ${res.spec.seeds} seeds; kNN top-1, k=200, all 5,000 train / 1,000 test images)`;
  $('longrun-summary').textContent = 'Final kNN accuracy of every stage after the native comparison (`locolab compare`, docs/results/). '
    + 'Bars: the mean over seeds. The committed seed-0 checkpoints can be evaluated here, in this browser, on the same images: '
    + 'the numbers should match the native ones.';
  drawLongRun();
  $('longrun-eval').disabled = !dataset;
}

function drawLongRun() {
  const { stages, rows } = longrun;
  const title = (k) => (k === 'random-init' ? 'random init' : info(k)?.title ?? k);
  const colourOf = (k) => (k === 'random-init' ? '#8c8c8c' : colour(k));
  const box = $('longrun-bars');
  box.innerHTML = '';
  const max = Math.max(1, ...rows.flatMap((r) => r.mean));
  stages.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    g.innerHTML = `<div class="cols">${rows.map((r) => `<div class="col" title="${title(r.kind)} ${name}: ${r.mean[s].toFixed(1)} ± ${r.std[s].toFixed(1)}%" style="height:${(100 * r.mean[s]) / max}%;background:${colourOf(r.kind)}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = rows.map((r) => `<span><i style="background:${colourOf(r.kind)}"></i>${title(r.kind)}</span>`).join('');
  box.appendChild(legend);
  const fmt = (v) => (v == null ? '–' : v.toFixed(1));
  const head = `<tr><th>method</th><th>kNN top-1 (%)</th>${stages.map((x) => `<th>${x}</th>`).join('')}</tr>`;
  const body = rows.map((r) => {
    const lines = [[`native, mean ± std (${r.n} seeds)`, stages.map((_, s) => `${fmt(r.mean[s])} ± ${fmt(r.std[s])}`), ''],
      [`native, seed ${r.seed}`, r.seed0.map(fmt), '']];
    if (r.kind !== 'random-init') lines.push([`this browser, seed ${r.seed}`, stages.map((_, s) => fmt(r.here?.[s])), 'here']);
    return lines.map(([what, cells, cls], i) => `<tr class="${cls}" id="${cls ? `longrun-here-${r.kind}` : ''}"><td>${i ? '' : `<b style="color:${colourOf(r.kind)}">${title(r.kind)}</b>`}</td><td>${what}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  }).join('');
  $('longrun-table').innerHTML = head + body;
}

async function evaluateLongRun() {
  const btn = $('longrun-eval');
  btn.disabled = true;
  const status = $('longrun-status');
  const notes = [];
  try {
    for (const r of longrun.rows.filter((x) => x.kind !== 'random-init')) {
      const folder = LONGRUN.folder(r.kind);
      status.textContent = `evaluating ${info(r.kind).title} (${folder})...`;
      const t0 = performance.now();
      const st = await fetch(`${folder}/state.json`);
      const mb = await fetch(`${folder}/model.bpk`);
      if (!st.ok || !mb.ok) throw new Error(`${folder} is not served next to this page`);
      const model = await mb.arrayBuffer();
      const stages = await call('evaluate-checkpoint', { state: await st.text(), model, name: folder, backend: state.backend }, [model]);
      r.here = stages.map((x) => x.knn);
      const diff = Math.max(...r.here.map((v, s) => Math.abs(v - r.seed0[s])));
      notes.push(`${info(r.kind).title} ${((performance.now() - t0) / 1000).toFixed(0)} s, largest difference to native ${diff.toFixed(1)} points`);
      drawLongRun();
    }
    status.textContent = `done: ${notes.join(' · ')}`;
  } catch (e) {
    status.textContent = '';
    if (e.fatal) failed(e); else showError(e.message);
  } finally {
    btn.disabled = false;
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
$('load').onclick = () => $('ckpt-files').click();
$('ckpt-files').onchange = async (e) => {
  const files = [...e.target.files];
  e.target.value = '';
  await loadCheckpointFiles(files);
};
$('resume').onclick = () => resumeSession();
$('discard').onclick = async () => { $('resume-box').hidden = true; await dropSession().catch(() => {}); };
$('longrun-eval').onclick = () => evaluateLongRun();
$('evaluate').onclick = () => evaluateAll();
$('share').onclick = async () => {
  readControls();
  try { await navigator.clipboard.writeText(location.href); showInfo('link copied'); } catch { showInfo(location.href); }
};
$('preset').onchange = () => {
  const p = presets[$('preset').value];
  for (const k of ['batch', 'lr', 'temperature']) $(k).value = p[k];
};
$('parallel').addEventListener('change', () => { readControls(); showSpeeds(); });
document.querySelectorAll('input[name=method]').forEach((c) => c.addEventListener('change', () => readControls()));
$('files').onchange = async (e) => {
  try { await useData(await loadFiles(e.target.files)); } catch (err) { showError(err.message); }
};
document.body.addEventListener('dragover', (e) => e.preventDefault());
document.body.addEventListener('drop', async (e) => {
  e.preventDefault();
  const files = [...e.dataTransfer.files];
  // A saved model (.tar) continues training; anything else is taken for CIFAR-10 files.
  if (files.length && files.every((f) => f.name.endsWith('.tar'))) return loadCheckpointFiles(files);
  try { await useData(await loadFiles(files)); } catch (err) { showError(err.message); }
});

async function main() {
  readUrl();
  try {
    const meta = await call('meta', { settings: urlSettings });
    presets = meta.presets;
    METHODS = meta.methods;
    REF = METHODS.find((m) => m.end_to_end)?.kind ?? null;
    const page = meta.knobs.filter((k) => k.page);
    TRAINING = page.map((k) => k.name);
    KNOBS = ['preset', ...TRAINING, 'backend'];
    for (const k of page) if (k.range) [$(k.name).min, $(k.name).max] = k.range;
    for (const k of KNOBS) $(k).addEventListener('change', () => readControls());
    buildMethodControls();
    applySettings(meta.settings);
  } catch (e) {
    showError(`could not load the wasm module (build it with scripts/build-web.sh): ${e.message}`);
    return;
  }
  fillControls();
  writeUrl();
  loadLongRun();
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
  $('longrun-eval').disabled = !longrun;
  await offerResume();
  if (state.autostart) $('start').click();
}
main();
// For the e2e tests: a real panic inside the wasm module, handled like any other failure, and
// the exact losses the panels round.
window.locolabDebug = {
  panic: (message) => call('debug-panic', { message }).catch(failed),
  // Every unit's loss at the latest step, unrounded (the panels show 3 decimals).
  lastLosses: (m) => trainers[m]?.curve.ys.map((y) => y.at(-1)),
};
