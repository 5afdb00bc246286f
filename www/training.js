// Training: the trainers made from the settings, rounds of steps (the worker's, on the core's
// cadence) drawn as they come, and the status line.
import { $, session, info, active, trainerFrom, showInfo } from './session.js';
import { call } from './rpc.js';
import { configFor, readControls } from './settings.js';
import { buildCharts, redrawLosses } from './losses.js';
import { drawMemory, recordMemory } from './memory.js';
import { MONITOR, drawAccuracy, measureRandomInit, recordPoint } from './accuracy.js';
import { showAutosave, download } from './saves.js';
import { failed, stopRunning } from './failure.js';
import { t, tr, num } from './i18n.js';

export function showProgress(step, imagesSeen) {
  session.stepCount = step;
  $('step-count').textContent = num(step);
  $('images').textContent = num(imagesSeen);
}

// The backend the trainers run on, and why (all of a page's trainers share one preference).
function showBackend() {
  const tn = Object.values(session.trainers).at(-1);
  $('backend-used').textContent = tn?.backend ?? '-';
  $('backend-note').textContent = tn?.backendNote ? `(${tr(tn.backendNote)})` : '';
  // WebGPU trainers have no CPU thread count.
  $('threads-used').textContent = tn?.threads ? num(tn.threads.count) : '-';
  $('threads-note').textContent = tn?.threads?.note ? `(${tr(tn.threads.note)})` : '';
}

// Every panel drawn anew from the trainers (after a reset, a load or a resume).
export function redrawAll() {
  showBackend();
  buildCharts((m) => download(m, failed));
  redrawLosses();
  drawMemory();
  drawAccuracy();
}

export async function resetAll() {
  stopRunning();
  readControls();
  session.trainers = {};
  showProgress(0, 0);
  try {
    for (const m of session.state.methods) {
      session.trainers[m] = trainerFrom(await call('create', { method: m, config: configFor(m), backend: session.state.backend }));
    }
    session.randomInit = null;
    const first = active()[0];
    if (first) await measureRandomInit(first);
    session.timing = { train: 0, monitor: 0 };
    redrawAll();
    await showViews();
    showInfo(t('ready'));
  } catch (e) {
    failed(e);
  }
}

// One round of steps: the worker steps every method in turn (one step, or with "units in
// parallel" a chunk up to the next point) and does what the core's cadence says falls due at
// the round's step (src/cadence.rs): the kNN monitor, the autosave. The page only draws the
// answer. Single step clicked again, or Start right after Pause, while a round is running
// queues behind it on the worker, which answers in order.
export async function stepAll() {
  const { state } = session;
  const round = await call('round', { methods: active(), parallel: state.parallel, monitor: state.monitor, autosave: state.autosave, n_train: MONITOR.train, n_test: MONITOR.test });
  let last = null;
  for (const [m, done] of Object.entries(round.methods)) {
    const tn = session.trainers[m];
    if (done.parallel) tn.parallel = { imagesPerSec: done.parallel.images_per_sec, workers: done.parallel.workers };
    if (done.refused) tn.parallel = { refused: done.refused };
    if (done.sequential != null) tn.sequential = done.sequential;
    for (const r of done.reports) {
      tn.curve.x.push(r.images_seen);
      r.losses.forEach((l, i) => tn.curve.ys[i].push(l));
      session.timing.train += r.seconds;
      recordMemory(tn, r);
      last = r;
    }
  }
  showSpeeds();
  if (last) {
    showProgress(last.step, last.images_seen);
    if (!state.parallel) $('speed').textContent = num(last.images_per_sec, 1);
  }
  redrawLosses();
  drawMemory();
  if (round.monitor) {
    session.timing.monitor += round.monitor.seconds;
    session.monitorSteps.push(round.step);
    for (const [m, stages] of Object.entries(round.monitor.stages)) recordPoint(m, stages);
    drawAccuracy();
  }
  if (round.autosave) showAutosave(round.autosave);
  if (session.stepCount % 5 === 0) showViews();
}

// With units in parallel: each method's images/s over its last parallel run, beside its last
// sequential figure (measured when the box was off), so the two can be compared.
export function showSpeeds() {
  const box = $('parallel-speeds');
  box.hidden = !session.state.parallel;
  if (!session.state.parallel) return;
  const fmt = (v) => (v == null ? t('not measured yet') : t('{rate} images/s', { rate: num(v, 1) }));
  box.innerHTML = active().map((m) => {
    const tn = session.trainers[m];
    const p = tn.parallel ?? {};
    const par = p.refused ? t('not in parallel: {why}', { why: tr(p.refused) }) : t('{rate} in parallel ({workers} workers)', { rate: fmt(p.imagesPerSec), workers: p.workers ?? '-' });
    return `<li data-method="${m}"><b>${info(m).title}</b>: <span class="par">${par}</span>${t('; sequential')} <span class="seq">${fmt(tn.sequential)}</span></li>`;
  }).join('');
  const rates = active().map((m) => session.trainers[m].parallel?.imagesPerSec).filter((v) => v != null);
  if (rates.length) $('speed').textContent = num(rates.reduce((a, b) => a + b, 0) / rates.length, 1);
}

let looping = false;
export async function loop() {
  // Start right after Pause finds the loop still finishing its step: that loop goes on.
  if (looping) return;
  looping = true;
  try {
    while (session.running) {
      try {
        await stepAll();
      } catch (e) {
        failed(e);
      }
      await new Promise((r) => setTimeout(r, 0)); // yield to the event loop
    }
  } finally {
    looping = false;
  }
}

// Two augmented views of the first 8 images, as the first method's trainer draws them.
async function showViews() {
  const m = active()[0];
  if (!m) return;
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
