// Failures. An ordinary error (a bad setting, a config that does not fit) is a message. A
// fatal one (a panic in the module, WebGPU device loss, out of memory) also replaces the
// worker and offers the ways on: the CPU path, a smaller batch, or the same settings again.
import { $, session, onGpu, showError } from './session.js';
import { restartWorker } from './rpc.js';
import { t, tr } from './i18n.js';

export function stopRunning() {
  session.running = false;
  $('start').textContent = t('Start');
}

export function failed(e) {
  stopRunning();
  showError(tr(e.message));
  if (!e.fatal) return;
  const gpu = onGpu();
  restartWorker();
  session.trainers = {};
  $('recover-why').textContent = (gpu ? t('The trainer stopped on WebGPU: {why}.', { why: tr(e.message) }) : t('The trainer stopped: {why}.', { why: tr(e.message) }))
    + ' ' + t('Its worker was restarted; training starts again from step 0.');
  $('recover-cpu').hidden = session.state.backend === 'cpu' && !gpu;
  $('recover').hidden = false;
}
