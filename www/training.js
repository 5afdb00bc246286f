// Training: the trainers made from the settings, steps in turns (or each method's units in
// parallel), the monitor and autosave on their steps, and the status line.
import { $, lab, info, active, trainerFrom, showInfo } from './session.js';
import { call } from './rpc.js';
import { configFor, readControls } from './settings.js';
import { buildCharts, redrawLosses } from './losses.js';
import { drawMemory, recordMemory } from './memory.js';
import { drawAccuracy, measureRandomInit, monitorAll } from './accuracy.js';
import { autosave, download } from './saves.js';
import { failed, stopRunning } from './failure.js';
import { t, tr, num } from './i18n.js';

// Steps per parallel chunk (at most): the page draws after each. The units stay resident
// across chunks; their run ends at a monitor point or an autosave (units.js, worker.js).
const PARALLEL_CHUNK = 10;

export function showProgress(step, imagesSeen) {
  lab.stepCount = step;
  $('step-count').textContent = num(step);
  $('images').textContent = num(imagesSeen);
}

// The backend the trainers run on, and why (all of a page's trainers share one preference).
function showBackend() {
  const tn = Object.values(lab.trainers).at(-1);
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
  lab.trainers = {};
  showProgress(0, 0);
  try {
    for (const m of lab.state.methods) {
      lab.trainers[m] = trainerFrom(await call('create', { method: m, config: configFor(m), backend: lab.state.backend }));
    }
    lab.randomInit = null;
    const first = active()[0];
    if (first) await measureRandomInit(first);
    lab.timing = { train: 0, monitor: 0 };
    redrawAll();
    await showViews();
    showInfo(t('ready'));
  } catch (e) {
    failed(e);
  }
}

// Steps of one method: one sequential step, or with "units in parallel" a pipelined chunk of
// several (up to the next monitor point or autosave, so those still fall on their steps).
async function stepMethod(m) {
  const tn = lab.trainers[m];
  const { state } = lab;
  if (state.parallel) {
    const until = (every) => (every ? every - (lab.stepCount % every) : PARALLEL_CHUNK);
    const steps = Math.max(1, Math.min(PARALLEL_CHUNK, until(state.monitor), until(state.autosave)));
    try {
      const run = await call('step-parallel', { method: m, steps });
      tn.parallel = { imagesPerSec: run.imagesPerSec, workers: run.workers };
      return run.reports;
    } catch (e) {
      // What cannot run in parallel (WebGPU, LoCo's soft sharing) steps on its own, and says why.
      if (!/parallel|soft sharing/.test(e.message) || e.fatal) throw e;
      tn.parallel = { refused: e.message };
    }
  }
  const r = await call('step', { method: m });
  tn.sequential = r.images_per_sec;
  return [r];
}

// One step of every method at a time: Single step clicked again, or Start right after Pause,
// while a step (its kNN monitor and autosave included) is still running waits for that step, so
// two steps never interleave on the worker (an autosave would store one method's weights from
// the step after the one it names).
let inFlight = Promise.resolve();
export function stepAll() {
  const next = inFlight.then(stepAllNow);
  inFlight = next.catch(() => {});
  return next;
}

async function stepAllNow() {
  let last = null;
  for (const m of active()) {
    const tn = lab.trainers[m];
    for (const r of await stepMethod(m)) {
      tn.curve.x.push(r.images_seen);
      r.losses.forEach((l, i) => tn.curve.ys[i].push(l));
      lab.timing.train += r.seconds;
      recordMemory(tn, r);
      last = r;
    }
  }
  showSpeeds();
  if (last) {
    showProgress(last.step, last.images_seen);
    if (!lab.state.parallel) $('speed').textContent = num(last.images_per_sec, 1);
  }
  redrawLosses();
  drawMemory();
  if (lab.stepCount % 5 === 0) showViews();
  if (lab.stepCount % lab.state.monitor === 0) await monitorAll();
  if (lab.state.autosave && lab.stepCount % lab.state.autosave === 0) await autosave();
}

// With units in parallel: each method's images/s over its last parallel run, beside its last
// sequential figure (measured when the box was off), so the two can be compared.
export function showSpeeds() {
  const box = $('parallel-speeds');
  box.hidden = !lab.state.parallel;
  if (!lab.state.parallel) return;
  const fmt = (v) => (v == null ? t('not measured yet') : t('{rate} images/s', { rate: num(v, 1) }));
  box.innerHTML = active().map((m) => {
    const tn = lab.trainers[m];
    const p = tn.parallel ?? {};
    const par = p.refused ? t('not in parallel: {why}', { why: tr(p.refused) }) : t('{rate} in parallel ({workers} workers)', { rate: fmt(p.imagesPerSec), workers: p.workers ?? '-' });
    return `<li data-method="${m}"><b>${info(m).title}</b>: <span class="par">${par}</span>${t('; sequential')} <span class="seq">${fmt(tn.sequential)}</span></li>`;
  }).join('');
  const rates = active().map((m) => lab.trainers[m].parallel?.imagesPerSec).filter((v) => v != null);
  if (rates.length) $('speed').textContent = num(rates.reduce((a, b) => a + b, 0) / rates.length, 1);
}

let looping = false;
export async function loop() {
  // Start right after Pause finds the loop still finishing its step: that loop goes on.
  if (looping) return;
  looping = true;
  try {
    while (lab.running) {
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
