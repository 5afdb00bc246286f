// The long runs: the committed results of `locolab compare` (summarised by the core), and their
// committed seed-0 checkpoints re-evaluated in this browser on the page's CIFAR-10 images.
// Three experiments, one tab each: the CIFAR-scale one (all 50,000 training images), the same
// with two residual blocks in every stage (issue 35's experiment, still running: the panel reads
// whatever is committed, a method at a time) and the first one (5,000 images).
import { $, session, showError } from './session.js';
import { call } from './rpc.js';
import { t, tr, num } from './i18n.js';

const EXPERIMENTS = {
  cifar50k: {
    tab: () => t('CIFAR-10, 50,000 images'),
    results: 'docs/results/cifar50k/results.json',
    folder: (kind) => `docs/results/cifar50k/${kind}/seed-0/final`,
    bank: () => t('50,000 train / 8,000 test images'),
    // The page loads the 5,000 / 1,000 subset, not the 50k bank: its numbers are set beside the
    // same weights evaluated natively on that subset (docs/results/cifar50k/page-check.sh).
    check: 'docs/results/cifar50k/page-check.json',
  },
  blocks2: {
    tab: () => t('CIFAR-10, 2 blocks per stage'),
    results: 'docs/results/cifar50k-b2/results.json',
    folder: (kind) => `docs/results/cifar50k-b2/${kind}/seed-0/final`,
    bank: () => t('50,000 train / 8,000 test images'),
    check: 'docs/results/cifar50k-b2/page-check.json',
  },
  subset: {
    tab: () => t('5,000 images (the first comparison)'),
    results: 'docs/results/results.json',
    folder: (kind) => `docs/results/presnet-tiny/${kind}`,
    bank: () => t('all 5,000 train / 1,000 test images'),
    check: null, // evaluated on the very images the page loads: the published seed-0 numbers
  },
};
// A row's title: a method's name as it is; the random-init row's in the page's language.
const named = (title, kind) => (kind ? title : tr(title));
let shown = 'cifar50k';
const loaded = {}; // name -> {summary, check: {kind: [knn per stage]} | null}
const here = {}; // name -> kind -> this browser's kNN per stage

export async function loadLongRun() {
  const tabs = $('longrun-tabs');
  tabs.innerHTML = Object.entries(EXPERIMENTS).map(([name, e]) => `<button type="button" role="tab" data-name="${name}">${e.tab()}</button>`).join('');
  for (const b of tabs.querySelectorAll('button')) b.onclick = () => show(b.dataset.name);
  for (const [name, e] of Object.entries(EXPERIMENTS)) {
    const r = await fetch(e.results).catch(() => null);
    if (!r || !r.ok) continue;
    const summary = await call('summarise', { results: await r.text() });
    let check = null;
    if (e.check) {
      const c = await fetch(e.check).catch(() => null);
      if (!c || !c.ok) throw new Error(t('{file} is not served next to this page', { file: e.check }));
      check = Object.fromEntries(Object.entries((await c.json()).runs).map(([kind, stages]) => [kind, stages.map((s) => s.knn)]));
    }
    loaded[name] = { summary, check };
    here[name] = {};
  }
  if (!Object.keys(loaded).length) {
    $('longrun-summary').textContent = t('No committed results next to this page ({files}).', { files: Object.values(EXPERIMENTS).map((e) => e.results).join(', ') });
    return;
  }
  show(loaded[shown] ? shown : Object.keys(loaded)[0]);
}

export const longRunLoaded = () => Object.keys(loaded).length > 0;

function show(name) {
  shown = name;
  for (const b of $('longrun-tabs').querySelectorAll('button')) {
    b.setAttribute('aria-selected', String(b.dataset.name === name));
    b.disabled = !loaded[b.dataset.name];
  }
  const { summary, check } = loaded[name];
  const e = EXPERIMENTS[name];
  const b = summary.spec.base;
  const trained = summary.rows.filter((x) => x.steps);
  const seeds = [...new Set(trained.map((x) => x.seeds.length))];
  $('longrun-how').textContent = t('({arch}, batch {batch}, {steps} steps = {images} images seen, {done} of {seeds} seeds; kNN top-1, k={k}, {bank})', {
    k: session.knnK, arch: b.arch, batch: b.batch, steps: trained[0]?.steps ?? b.steps, images: trained[0]?.images_seen ?? '?',
    done: seeds.length === 1 ? num(seeds[0]) : `${num(Math.min(...seeds))}-${num(Math.max(...seeds))}`, seeds: summary.spec.seeds, bank: e.bank() });
  $('longrun-summary').textContent = t('Final kNN accuracy of every stage after the native comparison (`locolab compare`, docs/results/). '
    + 'Bars: the mean over the seeds finished so far. The committed seed-0 checkpoints can be evaluated here, in this browser,') + ' '
    + (check ? t('on the 5,000 / 1,000 images this page loads; the same weights evaluated natively on those images are shown beside them, and should match.')
      : t('on the same images: the numbers should match the native ones.'));
  drawLongRun();
  $('longrun-eval').disabled = !session.dataset;
}

function drawLongRun() {
  const { summary: { stages, rows }, check } = loaded[shown];
  const mine = here[shown];
  const box = $('longrun-bars');
  box.innerHTML = '';
  const fmt = (v) => (v == null || Number.isNaN(v) ? '–' : num(v, 1));
  const max = Math.max(1, ...rows.flatMap((r) => r.knn_mean));
  stages.forEach((name, s) => {
    const g = document.createElement('div');
    g.className = 'stage-group';
    g.innerHTML = `<div class="cols">${rows.map((r) => `<div class="col" title="${named(r.title, r.kind)} ${name}: ${fmt(r.knn_mean[s])}${r.seeds.length > 1 ? ` ± ${fmt(r.knn_std[s])}` : ''}%" style="height:${(100 * r.knn_mean[s]) / max}%;background:${r.colour}"></div>`).join('')}</div>${name}`;
    box.appendChild(g);
  });
  const legend = document.createElement('div');
  legend.className = 'legend';
  legend.innerHTML = rows.map((r) => `<span><i style="background:${r.colour}"></i>${named(r.title, r.kind)}</span>`).join('');
  box.appendChild(legend);
  const head = `<tr><th>${t('method')}</th><th>${t('kNN top-1 (%)')}</th>${stages.map((x) => `<th>${x}</th>`).join('')}</tr>`;
  const body = rows.map((r) => {
    const sd = (s) => (r.seeds.length > 1 ? ` ± ${fmt(r.knn_std[s])}` : '');
    const n = r.seeds.length;
    const mean = n > 1 ? t('native, mean ± std ({n} seeds)', { n }) : t('native, mean ({n} seed)', { n });
    const lines = [[mean, stages.map((_, s) => `${fmt(r.knn_mean[s])}${sd(s)}`), ''],
      [t('native, seed {seed}', { seed: r.first_seed }), r.first_knn.map(fmt), '']];
    if (r.kind && check) lines.push([t("native, seed {seed}, on this page's 5,000 / 1,000 images", { seed: r.first_seed }), stages.map((_, s) => fmt(check[r.kind]?.[s])), '']);
    if (r.kind) lines.push([check ? t('this browser, seed {seed}, same images', { seed: r.first_seed }) : t('this browser, seed {seed}', { seed: r.first_seed }), stages.map((_, s) => fmt(mine[r.kind]?.[s])), 'here']);
    return lines.map(([what, cells, cls], i) => `<tr class="${cls}" id="${cls ? `longrun-here-${r.kind}` : ''}"><td>${i ? '' : `<b style="color:${r.colour}">${named(r.title, r.kind)}</b>`}</td><td>${what}</td>${cells.map((c) => `<td>${c}</td>`).join('')}</tr>`).join('');
  }).join('');
  $('longrun-table').innerHTML = head + body;
  drawPairs();
}

// The paired differences at the last stage (same seed: same initial weights, same batches),
// as the core computed them from results.json: the claim in numbers, with its uncertainty.
function drawPairs() {
  const { summary: { stages, pairs } } = loaded[shown];
  const signed = (v) => `${v < 0 ? '−' : '+'}${num(Math.abs(v), 1)}`;
  const cell = (d) => {
    if (!d) return '<td>–</td>';
    if (d.n === 1) return `<td>${signed(d.mean)} ${t('(one seed)')}</td>`;
    const text = `${signed(d.mean)} ± ${num(d.se, 1)} (t ${d.t == null ? '–' : signed(d.t)})`;
    return `<td class="${d.significant ? 'significant' : ''}">${d.significant ? `<b>${text}</b>` : text}</td>`;
  };
  const n = Math.max(0, ...pairs.map((p) => p.seeds.length));
  $('longrun-pairs-note').innerHTML = pairs.length === 0 ? '' : t("Paired by seed, {stage}: each seed's run of the first method minus the second's (same initial weights, same batches). ", { stage: stages[stages.length - 1] })
    + (n > 1 ? t("Mean ± standard error over the seeds (percentage points) and t = mean / se; <b>bold</b>: |t| above the two-sided 5% level of Student's t with n − 1 degrees of freedom ({n} seeds: n − 1 = {df}).", { n, df: n - 1 })
      : t("Mean ± standard error over the seeds (percentage points) and t = mean / se; <b>bold</b>: |t| above the two-sided 5% level of Student's t with n − 1 degrees of freedom."));
  $('longrun-pairs').innerHTML = pairs.length === 0 ? '' : `<tr><th>${t('difference')}</th><th>${t('seeds')}</th><th>${t('kNN top-1')}</th><th>${t('linear probe top-1')}</th></tr>`
    + pairs.map((p) => `<tr id="longrun-pair-${p.first ?? 'random'}-${p.second ?? 'random'}"><td><b style="color:${p.colour}">${named(p.titles[0], p.first)}</b> − ${named(p.titles[1], p.second)}</td><td>${p.seeds.map((x) => num(x)).join(t(', '))}</td>${cell(p.knn)}${cell(p.linear)}</tr>`).join('');
}

// Evaluates the shown experiment's seed-0 checkpoints in this browser, one method at a time.
export async function evaluateLongRun(failed) {
  const btn = $('longrun-eval');
  btn.disabled = true;
  const name = shown;
  const { summary, check } = loaded[name];
  const status = $('longrun-status');
  const notes = [];
  try {
    for (const r of summary.rows.filter((x) => x.kind)) {
      const folder = EXPERIMENTS[name].folder(r.kind);
      status.textContent = t('evaluating {method} ({folder})...', { method: named(r.title, r.kind), folder });
      const t0 = performance.now();
      const st = await fetch(`${folder}/state.json`);
      const mb = await fetch(`${folder}/model.bpk`);
      if (!st.ok || !mb.ok) throw new Error(t('{file} is not served next to this page', { file: folder }));
      const model = await mb.arrayBuffer();
      const stages = await call('evaluate-checkpoint', { state: await st.text(), model, name: folder, backend: session.state.backend }, [model]);
      here[name][r.kind] = stages.map((x) => x.knn);
      const native = check ? check[r.kind] : r.first_knn;
      const diff = Math.max(...here[name][r.kind].map((v, s) => Math.abs(v - native[s])));
      notes.push(t('{method} {seconds} s, largest difference to native {diff} points', { method: named(r.title, r.kind), seconds: num((performance.now() - t0) / 1000, 0), diff: num(diff, 1) }));
      if (shown === name) drawLongRun();
    }
    status.textContent = t('done: {notes}', { notes: notes.join(' · ') });
  } catch (e) {
    status.textContent = '';
    if (e.fatal) failed(e); else showError(tr(e.message));
  } finally {
    btn.disabled = false;
  }
}
