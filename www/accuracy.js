// The second claim, live: kNN accuracy of every method's last stage while it trains (the core's k on
// a fixed bank), the random-init line, and every stage's kNN at the latest monitor point.
import { $, session, info, colour, active } from './session.js';
import { call } from './rpc.js';
import { figureButtons } from './figure.js';
import { t, tr, num } from './i18n.js';

// The bank: the first MONITOR.train training images; queries: the first MONITOR.test test images.
export const MONITOR = { train: 400, test: 200 };
let chart = null;

// `as`: 'random-init' or 'point', kept by the worker for the autosave (worker.js).
async function evaluateMethod(m, as) {
  const t0 = performance.now();
  const stages = await call('evaluate', { method: m, n_train: MONITOR.train, n_test: MONITOR.test, as });
  session.timing.monitor += (performance.now() - t0) / 1000;
  return stages;
}

// Every method starts from the same seeded encoder: its accuracy is the random-init line, and
// step 0's monitor point of every method (src/cadence.rs).
export async function measureRandomInit(m) {
  const stages = await evaluateMethod(m, 'random-init');
  session.randomInit = stages.map((x) => x.knn);
  session.stageNames = stages.map((x) => x.stage);
  session.monitorSteps = [0];
}

// A monitor point of method `m`: its kNN per stage at the latest step.
export function recordPoint(m, stages) {
  const tn = session.trainers[m];
  tn.stages = stages;
  tn.knn.x.push(tn.curve.x.at(-1) ?? 0);
  tn.knn.y.push(stages.at(-1).knn);
  const el = $(`acc-${m}`);
  if (el) el.textContent = t('kNN {knn}%', { knn: num(stages.at(-1).knn, 1) });
}

// Every method evaluated now (the Evaluate button), a point on the chart.
export async function monitorAll() {
  for (const m of active()) recordPoint(m, await evaluateMethod(m, 'point'));
  drawAccuracy();
}

export function drawAccuracy() {
  const methods = active();
  const { train, monitor } = session.timing;
  const share = train ? t(' · {share}% of the time so far', { share: num(100 * monitor / (train + monitor), 0) }) : '';
  $('acc-how').textContent = t('(last stage; k={k}, {train} train / {test} test images, every {every} steps{share})', { k: session.knnK, train: MONITOR.train, test: MONITOR.test, every: session.state.monitor, share });
  // Methods step in turns, so their monitor points share one x (images seen).
  const xs = [0, ...(session.trainers[methods[0]]?.knn.x ?? [])];
  const start = session.randomInit?.at(-1) ?? null;
  const data = [xs];
  const series = [{ label: t('images seen') }];
  for (const m of methods) {
    data.push([start, ...session.trainers[m].knn.y]);
    series.push({ label: info(m).title, stroke: colour(m), width: 2, points: { show: true } });
  }
  data.push(xs.map(() => start));
  series.push({ label: tr(session.randomInitStyle.title), stroke: session.randomInitStyle.colour, width: 1.5, dash: [6, 4], points: { show: false } });
  const box = $('acc-chart');
  if (!chart || chart.series.length !== series.length) {
    box.innerHTML = '';
    const width = Math.max(320, box.getBoundingClientRect().width - 10);
    chart = new uPlot({ width, height: 220, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: t('images seen') }, { label: t('kNN top-1 (%)') }] }, data, box);
    if (!$('acc-figure').childElementCount) $('acc-figure').append(...figureButtons(() => chart, 'locolab-knn', t('kNN top-1 of the last stage while it trains')));
  } else {
    chart.setData(data);
  }
  drawStageBars(methods);
}

// Per-stage kNN at the latest monitor point, grouped by stage, the random init in grey.
function drawStageBars(methods) {
  const box = $('stage-bars');
  box.innerHTML = '';
  if (!session.randomInit) return;
  const latest = methods.filter((m) => session.trainers[m].stages);
  const all = [session.randomInit, ...latest.map((m) => session.trainers[m].stages.map((s) => s.knn))];
  const max = Math.max(1, ...all.flat());
  session.stageNames.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    const cols = [[tr(session.randomInitStyle.title), session.randomInitStyle.colour, session.randomInit[s]], ...latest.map((m) => [info(m).title, colour(m), session.trainers[m].stages[s].knn])];
    g.innerHTML = `<div class="cols">${cols.map(([label, c, v]) => `<div class="col" title="${label} ${name}: ${num(v, 1)}%" style="height:${(100 * v) / max}px;background:${c}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
}
