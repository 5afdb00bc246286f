// The CIFAR-10 bytes: fetched from next to the page, or picked/dropped by the user; the page
// keeps them to re-send to a restarted worker.
import { isolation } from './isolate.js';
import { session } from './session.js';
import { call } from './rpc.js';
import { t } from './i18n.js';

const CANDIDATES = [
  ['data/train_5k.bin', 'data/test_1k.bin'],
  ['data/data_batch_1.bin', 'data/test_batch.bin'],
  ['data/cifar-10-binary.tar.gz', null],
];

export async function fetchData() {
  for (const [train, test] of CANDIDATES) {
    const r = await fetch(train).catch(() => null);
    if (!r || !r.ok) continue;
    const trainBuf = await r.arrayBuffer();
    const testBuf = test ? await (await fetch(test)).arrayBuffer() : new ArrayBuffer(0);
    return { train: trainBuf, test: testBuf, source: train };
  }
  return null;
}

export async function loadFiles(files) {
  const list = [...files];
  const gz = list.find((f) => f.name.endsWith('.gz'));
  if (gz) return { train: await gz.arrayBuffer(), test: new ArrayBuffer(0), source: gz.name };
  const test = list.find((f) => /^test/.test(f.name));
  const train = list.find((f) => f !== test);
  if (!train || !test) throw new Error(t('pick a train file and a test file (e.g. data_batch_1.bin and test_batch.bin), or the .tar.gz archive'));
  return { train: await train.arrayBuffer(), test: await test.arrayBuffer(), source: `${train.name} + ${test.name}` };
}

// Copies go to the worker (transferred), the page keeps the originals; with them the threads
// the CPU build should use (the worker chooses its build when it makes the first trainer).
export function sendData() {
  const train = session.dataset.train.slice(0);
  const test = session.dataset.test.slice(0);
  return call('data', { train, test, threads: session.state.threads, isolation: isolation.why }, [train, test].filter((b) => b.byteLength));
}
