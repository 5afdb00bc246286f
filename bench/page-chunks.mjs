// Wall time of each chunk of the page's "units in parallel" (presnet-tiny, CPU), one page per
// thread count of the trainer's own build: shows whether chunks slow down with a run's age and,
// run once with KEEP_WARM true and once false in www/worker.js, what keeping units warm buys.
// Usage: node bench/page-chunks.mjs [method=gim] [batch=32] [chunks=8]
import { openBrowser, openPage, stepTo } from './chromium.mjs';

const method = process.argv[2] || 'gim';
const batch = Number(process.argv[3] || 32);
const chunks = Number(process.argv[4] || 8);
const b = await openBrowser();
try {
  for (const threads of [2, 1]) {
    const page = await openPage(b, `methods=${method}&backend=cpu&batch=${batch}&preset=browser&monitor=100000&autosave=0&parallel=1&threads=${threads}`);
    const t = [];
    for (let c = 1; c <= chunks; c++) t.push(await stepTo(page, c * 10));
    console.log(`${method}, batch ${batch}, trainer on ${threads} thread(s): s per chunk of 10 steps: ${t.map((x) => x.toFixed(2)).join(' ')}`);
    await page.close();
  }
} finally {
  await b.close();
}
