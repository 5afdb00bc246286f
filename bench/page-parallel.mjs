// Benchmark: images/s of the page's CPU (wasm) path with each method's units in turn
// (sequential) and with "units in parallel" (groups of units in Web Workers, one per core),
// presnet-tiny, in one headless Chromium run. Prints a markdown table.
// Parallel figures: the page's own (images/s of its last chunk, from the first views fed to
// the last step) and the wall clock over `chunks` clicks of one chunk each after a warm-up
// chunk, which also counts what happens between chunks (starting and ending runs, where a
// build does that per chunk).
// Usage: scripts/build-web.sh && node bench/page-parallel.mjs [batch=32] [steps=10] [chunks=3]
import { openBrowser, openPage, stepTo } from './chromium.mjs';

const batch = Number(process.argv[2] || 32);
const steps = Number(process.argv[3] || 10); // also the page's steps per parallel chunk (PARALLEL_CHUNK)
const chunks = Number(process.argv[4] || 3);
const b = await openBrowser();
const base = `backend=cpu&batch=${batch}&preset=browser&monitor=100000&autosave=0`;
const cores = await (await b.browser.newPage()).evaluate(() => navigator.hardwareConcurrency);
console.log(`presnet-tiny, batch ${batch}, headless Chromium, navigator.hardwareConcurrency = ${cores}; `
  + `sequential: ${steps} steps after one warm-up; parallel: ${chunks} chunks of ${steps} steps after a warm-up chunk`);
console.log('| method | units | sequential images/s | parallel images/s (page figure, last chunk) | parallel images/s (wall clock) | speedup (wall) | workers |');
console.log('|---|---|---|---|---|---|---|');
try {
  for (const method of ['simclr', 'gim', 'loco']) {
    const seq = await openPage(b, `methods=${method}&${base}`);
    await stepTo(seq, 1);
    let secs = 0;
    for (let i = 2; i <= steps + 1; i++) secs += await stepTo(seq, i);
    const seqRate = (steps * batch) / secs;
    const units = (await seq.evaluate((m) => window.locolabDebug.lastLosses(m), method)).length;
    await seq.close();
    const par = await openPage(b, `methods=${method}&${base}&parallel=1`);
    await stepTo(par, steps); // warm-up chunk: starts the workers and their wasm
    let wall = 0;
    for (let c = 2; c <= chunks + 1; c++) wall += await stepTo(par, c * steps);
    const wallRate = (chunks * steps * batch) / wall;
    const text = await par.locator('#parallel-speeds li').first().textContent();
    const rate = Number(/([\d.]+) images\/s in parallel/.exec(text)?.[1]);
    const workers = /\((\d+) workers\)/.exec(text)?.[1];
    console.log(`| ${method} | ${units} | ${seqRate.toFixed(1)} | ${rate.toFixed(1)} | ${wallRate.toFixed(1)} | ${(wallRate / seqRate).toFixed(2)}x | ${workers} |`);
    await par.close();
  }
} finally {
  await b.close();
}
