// LoCo Lab page: the wiring. Settings live in the URL, the trainers in a Web Worker, and every
// panel in its own module, all over one session object (session.js). The methods, presets,
// knobs and the checks of every setting come from the wasm module.
import { $, session, info, active, showInfo, showError } from './session.js';
import { call, startWorker } from './rpc.js';
import { readUrl, applySettings, buildControls, fillControls, readControls, writeUrl, adoptConfig } from './settings.js';
import { fetchData, loadFiles, sendData } from './data.js';
import { MONITOR, monitorAll } from './accuracy.js';
import { loadLongRun, longRunLoaded, evaluateLongRun } from './longrun.js';
import { loadCheckpointFiles, offerResume, resumeSession, dropSession } from './saves.js';
import { resetAll, stepAll, loop, showSpeeds, showProgress, redrawAll } from './training.js';
import { failed, stopRunning } from './failure.js';
import { isolate, isolation } from './isolate.js';
import { buildEmbed } from './embed.js';
import { t, tr, num, pickLang, setLang, localise, missing, LANGS } from './i18n.js';

// The language first: every text the page writes from here on is in it.
setLang(pickLang(new URLSearchParams(location.search).get('lang'), navigator.languages ?? []).lang);
localise(document);

// Threads need cross-origin isolation: on a plain static host the site's service worker gives
// it (one reload the first time); otherwise the page says why it trains on one thread.
await isolate().catch((e) => { isolation.why = `isolation failed (${String(e?.message ?? e).slice(0, 100)})`; });
startWorker();

async function useData(d) {
  session.dataset = d;
  await sendData();
  $('data-box').hidden = true;
  showInfo(t('data: {source}', { source: d.source }));
  await resetAll();
}

async function evaluateAll() {
  showInfo(t('evaluating (kNN, k={k}, on {train} train / {test} test images)...', { ...MONITOR, k: session.knnK }));
  try {
    await monitorAll();
    showInfo(active().filter((m) => session.trainers[m].stages).map((m) => t('{method}: kNN {knn}%', { method: info(m).title, knn: num(session.trainers[m].stages.at(-1).knn, 1) })).join(' · '));
  } catch (e) {
    failed(e);
  }
}

async function loadModels(files) {
  try {
    const { done, refused, last } = await loadCheckpointFiles(files);
    if (last) showProgress(last.step, last.images_seen);
    if (done.length) redrawAll();
    if (refused.length) showError(t('refused (training is unchanged): {why}', { why: refused.join(' · ') }));
    else showInfo(t('loaded {what}', { what: done.join(t(', ')) }));
  } catch (e) {
    failed(e);
  }
}

async function resume() {
  $('resume-box').hidden = true;
  stopRunning();
  try {
    const last = await resumeSession();
    adoptConfig(last.config);
    showProgress(last.step, last.images_seen);
    redrawAll();
    showInfo(t('resumed at step {step}', { step: last.step }));
  } catch (e) {
    failed(e);
  }
}

// After a fatal failure: change a setting, re-send the data to the new worker, start over.
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

$('start').onclick = () => {
  session.running = !session.running;
  $('start').textContent = session.running ? t('Pause') : t('Start');
  if (session.running) loop();
};
$('step').onclick = () => { if (!session.running) stepAll().catch(failed); };
$('recover-cpu').onclick = () => recover(() => { session.state.backend = 'cpu'; });
$('recover-batch').onclick = () => recover(() => { session.state.batch = Math.max(2, Math.floor(session.state.batch / 2)); });
$('recover-retry').onclick = () => recover(() => {});
$('reset').onclick = () => resetAll();
$('load').onclick = () => $('ckpt-files').click();
$('ckpt-files').onchange = async (e) => {
  const files = [...e.target.files];
  e.target.value = '';
  await loadModels(files);
};
$('resume').onclick = () => resume();
$('discard').onclick = async () => { $('resume-box').hidden = true; await dropSession().catch(() => {}); };
$('longrun-eval').onclick = () => evaluateLongRun(failed);
$('evaluate').onclick = () => evaluateAll();
$('share').onclick = async () => {
  readControls();
  try { await navigator.clipboard.writeText(location.href); showInfo(t('link copied')); } catch { showInfo(location.href); }
};
$('files').onchange = async (e) => {
  try { await useData(await loadFiles(e.target.files)); } catch (err) { showError(tr(err.message)); }
};
// The language: the page reloads in it (the URL keeps it; an autosaved session is offered back).
$('lang').innerHTML = [['', t("the browser's")], ...Object.entries(LANGS).map(([k, l]) => [k, l.name])]
  .map(([k, name]) => `<option value="${k}"${k ? ' translate="no"' : ''}>${name}</option>`).join('');
$('lang').onchange = () => {
  session.state.lang = $('lang').value || null;
  writeUrl();
  location.reload();
};
document.body.addEventListener('dragover', (e) => e.preventDefault());
document.body.addEventListener('drop', async (e) => {
  e.preventDefault();
  const files = [...e.dataTransfer.files];
  // A saved model (.tar) continues training; anything else is taken for CIFAR-10 files.
  if (files.length && files.every((f) => f.name.endsWith('.tar'))) return loadModels(files);
  try { await useData(await loadFiles(files)); } catch (err) { showError(tr(err.message)); }
});

async function main() {
  const urlSettings = readUrl();
  try {
    const meta = await call('meta', { settings: urlSettings });
    session.presets = meta.presets;
    session.methods = meta.methods;
    session.randomInitStyle = meta.random_init;
    session.knnK = meta.knn_k;
    session.ref = session.methods.find((m) => m.end_to_end)?.kind ?? null;
    session.knobs = meta.knobs.filter((k) => k.page);
    buildControls(() => { readControls(); showSpeeds(); });
    applySettings(meta.settings);
  } catch (e) {
    showError(t('could not load the wasm module (build it with scripts/build-web.sh): {why}', { why: tr(e.message) }));
    return;
  }
  fillControls();
  writeUrl();
  $('lang').value = session.state.lang ?? '';
  buildEmbed();
  loadLongRun().catch((e) => showError(tr(e.message)));
  showInfo(t('loading CIFAR-10...'));
  const d = await fetchData();
  if (!d) {
    $('data-box').hidden = false;
    $('data-help').textContent = t('No CIFAR-10 data found next to this page (data/train_5k.bin, data/data_batch_1.bin or data/cifar-10-binary.tar.gz). '
      + 'Pick or drop the files here, or serve the page with `scripts/demo.sh DATA_DIR`; `locolab download` fetches the official archive.');
    showError(t('no data yet'));
    return;
  }
  await useData(d);
  $('longrun-eval').disabled = !longRunLoaded();
  await offerResume();
  if (session.state.autostart) $('start').click();
}
main();

// For the e2e tests: a real panic inside the wasm module, handled like any other failure, and
// the exact losses the panels round.
window.locolabDebug = {
  panic: (message) => call('debug-panic', { message }).catch(failed),
  // The same on a thread of rayon's pool (the threaded build), which traps only that thread.
  panicInPool: (message) => call('debug-panic', { message, pool: true }).catch(failed),
  // The WebGPU self-check's tolerance from now on (a negative one fails every check), and
  // whether `auto` should take this browser's adapter for hardware (so that it checks it).
  selfCheckTolerance: (tolerance, pretendHardware = false) => call('debug-self-check', { tolerance, pretend_hardware: pretendHardware }),
  // Text the page showed in a language that has no entry for it (www/i18n.js).
  missingText: () => [...missing],
  // Every unit's loss at the latest step, unrounded (the panels show 3 decimals).
  lastLosses: (m) => session.trainers[m]?.curve.ys.map((y) => y.at(-1)),
  // The steps of the kNN monitor points since the last reset (the core's cadence).
  monitorSteps: () => [...session.monitorSteps],
};
