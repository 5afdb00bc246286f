// The long run: the committed results of `locolab compare` (summarised by the core), and its
// committed seed-0 checkpoints re-evaluated in this browser on the same images.
import { $, lab, showError } from './session.js';
import { call } from './rpc.js';

const LONGRUN = { results: 'docs/results/results.json', folder: (kind) => `docs/results/presnet-tiny/${kind}` };
let summary = null; // {stages, spec, rows: [{kind, title, colour, seeds, knn_mean, knn_std, first_seed, first_knn}]}
const here = {}; // kind -> this browser's kNN per stage

export async function loadLongRun() {
  const r = await fetch(LONGRUN.results).catch(() => null);
  if (!r || !r.ok) {
    $('longrun-summary').textContent = `No committed results next to this page (${LONGRUN.results}).`;
    return;
  }
  summary = await call('summarise', { results: await r.text() });
  const b = summary.spec.base;
  const trained = summary.rows.find((x) => x.steps);
  $('longrun-how').textContent = `(${b.arch}, batch ${b.batch}, ${trained?.steps ?? b.steps} steps = ${trained?.images_seen ?? '?'} images seen, ${summary.spec.seeds} seeds; kNN top-1, k=200, all 5,000 train / 1,000 test images)`;
  $('longrun-summary').textContent = 'Final kNN accuracy of every stage after the native comparison (`locolab compare`, docs/results/). '
    + 'Bars: the mean over seeds. The committed seed-0 checkpoints can be evaluated here, in this browser, on the same images: '
    + 'the numbers should match the native ones.';
  drawLongRun();
  $('longrun-eval').disabled = !lab.dataset;
}

export const longRunLoaded = () => summary !== null;

function drawLongRun() {
  const { stages, rows } = summary;
  const box = $('longrun-bars');
  box.innerHTML = '';
  const max = Math.max(1, ...rows.flatMap((r) => r.knn_mean));
  stages.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    g.innerHTML = `<div class="cols">${rows.map((r) => `<div class="col" title="${r.title} ${name}: ${r.knn_mean[s].toFixed(1)} ± ${r.knn_std[s].toFixed(1)}%" style="height:${(100 * r.knn_mean[s]) / max}%;background:${r.colour}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = rows.map((r) => `<span><i style="background:${r.colour}"></i>${r.title}</span>`).join('');
  box.appendChild(legend);
  const fmt = (v) => (v == null ? '–' : v.toFixed(1));
  const head = `<tr><th>method</th><th>kNN top-1 (%)</th>${stages.map((x) => `<th>${x}</th>`).join('')}</tr>`;
  const body = rows.map((r) => {
    const lines = [[`native, mean ± std (${r.seeds.length} seeds)`, stages.map((_, s) => `${fmt(r.knn_mean[s])} ± ${fmt(r.knn_std[s])}`), ''],
      [`native, seed ${r.first_seed}`, r.first_knn.map(fmt), '']];
    if (r.kind) lines.push([`this browser, seed ${r.first_seed}`, stages.map((_, s) => fmt(here[r.kind]?.[s])), 'here']);
    return lines.map(([what, cells, cls], i) => `<tr class="${cls}" id="${cls ? `longrun-here-${r.kind}` : ''}"><td>${i ? '' : `<b style="color:${r.colour}">${r.title}</b>`}</td><td>${what}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  }).join('');
  $('longrun-table').innerHTML = head + body;
}

export async function evaluateLongRun(failed) {
  const btn = $('longrun-eval');
  btn.disabled = true;
  const status = $('longrun-status');
  const notes = [];
  try {
    for (const r of summary.rows.filter((x) => x.kind)) {
      const folder = LONGRUN.folder(r.kind);
      status.textContent = `evaluating ${r.title} (${folder})...`;
      const t0 = performance.now();
      const st = await fetch(`${folder}/state.json`);
      const mb = await fetch(`${folder}/model.bpk`);
      if (!st.ok || !mb.ok) throw new Error(`${folder} is not served next to this page`);
      const model = await mb.arrayBuffer();
      const stages = await call('evaluate-checkpoint', { state: await st.text(), model, name: folder, backend: lab.state.backend }, [model]);
      here[r.kind] = stages.map((x) => x.knn);
      const diff = Math.max(...here[r.kind].map((v, s) => Math.abs(v - r.first_knn[s])));
      notes.push(`${r.title} ${((performance.now() - t0) / 1000).toFixed(0)} s, largest difference to native ${diff.toFixed(1)} points`);
      drawLongRun();
    }
    status.textContent = `done: ${notes.join(' · ')}`;
  } catch (e) {
    status.textContent = '';
    if (e.fatal) failed(e); else showError(e.message);
  } finally {
    btn.disabled = false;
  }
}
