// Saving and loading models, and the autosave. A model is one file, the core's checkpoint
// bundle (a tar of state.json, model.bpk and optim.bpk: the files of a native checkpoint
// folder, so `locolab eval --checkpoint f.tar` reads it). Loading builds a new trainer first
// and swaps it in only if the file was accepted.
import { $, session, info, trainerFrom, showInfo, showError } from './session.js';
import { call } from './rpc.js';
import { configFor, writeUrl } from './settings.js';
import { t, tr, lang } from './i18n.js';
import { loadSession } from './store.js';

export { dropSession } from './store.js';

export async function download(m, failed) {
  try {
    const { bytes, step } = await call('save', { method: m });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([bytes], { type: 'application/x-tar' }));
    a.download = `locolab-${m}-${session.trainers[m]?.config?.arch ?? 'model'}-step${step}.tar`;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60_000);
    showInfo(t('saved {file}', { file: a.download }));
  } catch (e) {
    if (e.fatal) failed(e); else showError(tr(e.message));
  }
}

// Restore one bundle into the page as its method's trainer; resolves to the worker's answer.
async function restoreInto(name, buffer) {
  const page_config = configFor(session.state.methods[0] ?? session.ref);
  const made = await call('restore', { bytes: buffer, name, page_config, backend: session.state.backend }, [buffer]);
  const m = made.method;
  if (!session.state.methods.includes(m)) {
    session.state.methods = session.methods.map((x) => x.kind).filter((k) => k === m || session.state.methods.includes(k));
    document.querySelectorAll('input[name=method]').forEach((c) => { c.checked = session.state.methods.includes(c.value); });
    writeUrl();
  }
  session.trainers[m] = trainerFrom(made);
  return made;
}

// Every file that restores; resolves to {done: [text], refused: [why], last: made}. A fatal
// error is thrown.
export async function loadCheckpointFiles(files) {
  const done = [];
  const refused = [];
  let last = null;
  for (const f of files) {
    try {
      last = await restoreInto(f.name, await f.arrayBuffer());
      done.push(t('{method} at step {step} from {file}', { method: info(last.method).title, step: last.step, file: f.name }));
    } catch (e) {
      if (e.fatal) throw e;
      refused.push(tr(e.message));
    }
  }
  return { done, refused, last };
}

// The autosave: the worker writes the session into IndexedDB when the core's cadence says
// (worker.js `round`); the page says what happened, offers the session after a reload and
// asks the worker to bring it back.
export function showAutosave(result) {
  const note = $('autosave-note');
  if (result.skipped) note.textContent = t('autosave: on the CPU path only (WebGPU weights cannot be read back synchronously)');
  else if (result.failed) note.textContent = t('autosave failed: {why}', { why: tr(result.failed) });
  else note.textContent = t('autosaved at step {step}', { step: result.step });
}

export async function offerResume() {
  const saved = await loadSession().catch(() => null);
  if (!saved?.methods || !Object.keys(saved.methods).length) return;
  const names = Object.keys(saved.methods).map((m) => info(m)?.title ?? m).join(', ');
  $('resume-why').textContent = t('This browser holds a session autosaved at step {step} ({time}): {names}.', { step: saved.step, time: new Date(saved.time).toLocaleString(lang() === 'fa' ? 'fa-IR' : undefined), names });
  $('resume-box').hidden = false;
}

// The autosaved trainers back into the page, with their curves; resolves to the last one made.
export async function resumeSession() {
  const page_config = configFor(session.state.methods[0] ?? session.ref);
  const saved = await call('resume', { page_config, backend: session.state.backend });
  session.trainers = {};
  session.state.methods = session.methods.map((x) => x.kind).filter((k) => saved.methods.some((s) => s.method === k));
  let last = null;
  for (const made of saved.methods) {
    session.trainers[made.method] = { ...trainerFrom(made), curve: made.curve, knn: made.knn, stages: made.stages };
    last = made;
  }
  session.randomInit = saved.random_init;
  session.stageNames = saved.stage_names;
  return last;
}
