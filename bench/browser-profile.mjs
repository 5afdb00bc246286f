// Where the browser's CPU step spends its time: runs steps of one method in the real page with
// V8's sampling profiler on in the training worker (through the DevTools protocol) and prints the
// heaviest functions by self time (wasm ones by their Rust names) with their share of the samples.
//
// Usage (names need a profiling build of the CPU module in place of pkg-cpu/):
//   wasm-pack build --profiling --target web --out-dir pkg-cpu --no-pack -- --no-default-features --features flex
//   node bench/browser-profile.mjs [method=loco] [batch=32] [steps=6] [top=25]
//   bash scripts/build-web.sh     # afterwards: puts the release module back
import { openBrowser, openPage, stepTo } from './chromium.mjs';

const method = process.argv[2] || 'loco';
const batch = Number(process.argv[3] || 32);
const steps = Number(process.argv[4] || 6);
const top = Number(process.argv[5] || 25);

const b = await openBrowser();
let nodes;
try {
  // threads=1: the single-thread module (pkg-cpu/), whose training runs in this worker.
  const page = await openPage(b, `methods=${method}&backend=cpu&batch=${batch}&preset=browser&threads=1`);
  await stepTo(page, 1); // warm-up, unprofiled
  // The training runs in the page's worker (www/worker.js): attach to it through the browser's
  // DevTools protocol session and drive its sampling profiler.
  const cdp = await b.browser.newBrowserCDPSession();
  const { targetInfos } = await cdp.send('Target.getTargets');
  const worker = targetInfos.find((t) => t.type === 'worker' && t.url.endsWith('/www/worker.js'));
  if (!worker) throw new Error(`no training worker among ${targetInfos.map((t) => t.type + ' ' + t.url).join(', ')}`);
  const { sessionId } = await cdp.send('Target.attachToTarget', { targetId: worker.targetId, flatten: false });
  let next = 1;
  const pending = new Map();
  cdp.on('Target.receivedMessageFromTarget', (e) => {
    const msg = JSON.parse(e.message);
    if (pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  });
  const send = (method, params = {}) => new Promise((resolve, reject) => {
    const id = next++;
    pending.set(id, (m) => (m.error ? reject(new Error(`${method}: ${m.error.message}`)) : resolve(m.result)));
    cdp.send('Target.sendMessageToTarget', { sessionId, message: JSON.stringify({ id, method, params }) });
  });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 200 });
  await send('Profiler.start');
  for (let i = 2; i <= steps + 1; i++) await stepTo(page, i);
  ({ profile: { nodes } } = await send('Profiler.stop'));
  await page.close();
} finally {
  await b.close();
}
// Self samples per function name (wasm functions carry their Rust names in a profiling build).
const self = new Map();
let total = 0;
for (const n of nodes) {
  const name = n.callFrame.functionName || `(${n.callFrame.url.split('/').pop() || 'anonymous'})`;
  self.set(name, (self.get(name) || 0) + (n.hitCount || 0));
  total += n.hitCount || 0;
}
const idle = (self.get('(idle)') || 0) + (self.get('(program)') || 0);
console.log(`${method}, batch ${batch}, ${steps} steps on the CPU path: ${total} samples in the training worker, ${(100 * idle / total).toFixed(1)}% idle/program\n`);
console.log('| self share | function |');
console.log('|---|---|');
for (const [name, hits] of [...self].sort((a, c) => c[1] - a[1]).slice(0, top)) {
  console.log(`| ${(100 * hits / total).toFixed(1)}% | \`${name.replace(/\|/g, '\\|').slice(0, 120)}\` |`);
}
