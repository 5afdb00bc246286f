// The second claim, live: kNN accuracy of every method's last stage while it trains (k=200 on
// a fixed bank), the random-init line, and every stage's kNN at the latest monitor point.
import { $, lab, info, colour, active } from './session.js';
import { call } from './rpc.js';
import { figureButtons } from './figure.js';

// The bank: the first MONITOR.train training images; queries: the first MONITOR.test test images.
export const MONITOR = { train: 400, test: 200 };
let chart = null;

export async function evaluateMethod(m) {
  const t0 = performance.now();
  const stages = await call('evaluate', { method: m, nTrain: MONITOR.train, nTest: MONITOR.test });
  lab.timing.monitor += (performance.now() - t0) / 1000;
  return stages;
}

// Every method starts from the same seeded encoder: its accuracy is the random-init line.
export async function measureRandomInit(m) {
  const stages = await evaluateMethod(m);
  lab.randomInit = stages.map((x) => x.knn);
  lab.stageNames = stages.map((x) => x.stage);
}

export async function monitorAll() {
  for (const m of active()) {
    const t = lab.trainers[m];
    const stages = await evaluateMethod(m);
    t.stages = stages;
    t.knn.x.push(t.curve.x.at(-1) ?? 0);
    t.knn.y.push(stages.at(-1).knn);
    const el = $(`acc-${m}`);
    if (el) el.textContent = `kNN ${stages.at(-1).knn.toFixed(1)}%`;
  }
  drawAccuracy();
}

export function drawAccuracy() {
  const methods = active();
  const { train, monitor } = lab.timing;
  const share = train ? ` · ${(100 * monitor / (train + monitor)).toFixed(0)}% of the time so far` : '';
  $('acc-how').textContent = `(last stage; k=200, ${MONITOR.train} train / ${MONITOR.test} test images, every ${lab.state.monitor} steps${share})`;
  // Methods step in turns, so their monitor points share one x (images seen).
  const xs = [0, ...(lab.trainers[methods[0]]?.knn.x ?? [])];
  const start = lab.randomInit?.at(-1) ?? null;
  const data = [xs];
  const series = [{ label: 'images seen' }];
  for (const m of methods) {
    data.push([start, ...lab.trainers[m].knn.y]);
    series.push({ label: info(m).title, stroke: colour(m), width: 2, points: { show: true } });
  }
  data.push(xs.map(() => start));
  series.push({ label: lab.randomInitStyle.title, stroke: lab.randomInitStyle.colour, width: 1.5, dash: [6, 4], points: { show: false } });
  const box = $('acc-chart');
  if (!chart || chart.series.length !== series.length) {
    box.innerHTML = '';
    const width = Math.max(320, box.getBoundingClientRect().width - 10);
    chart = new uPlot({ width, height: 220, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: 'images seen' }, { label: 'kNN top-1 (%)' }] }, data, box);
    if (!$('acc-figure').childElementCount) $('acc-figure').append(...figureButtons(() => chart, 'locolab-knn', 'kNN top-1 of the last stage while it trains'));
  } else {
    chart.setData(data);
  }
  drawStageBars(methods);
}

// Per-stage kNN at the latest monitor point, grouped by stage, the random init in grey.
function drawStageBars(methods) {
  const box = $('stage-bars');
  box.innerHTML = '';
  if (!lab.randomInit) return;
  const latest = methods.filter((m) => lab.trainers[m].stages);
  const all = [lab.randomInit, ...latest.map((m) => lab.trainers[m].stages.map((s) => s.knn))];
  const max = Math.max(1, ...all.flat());
  lab.stageNames.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    const cols = [[lab.randomInitStyle.title, lab.randomInitStyle.colour, lab.randomInit[s]], ...latest.map((m) => [info(m).title, colour(m), lab.trainers[m].stages[s].knn])];
    g.innerHTML = `<div class="cols">${cols.map(([label, c, v]) => `<div class="col" title="${label} ${name}: ${v.toFixed(1)}%" style="height:${(100 * v) / max}px;background:${c}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
}
