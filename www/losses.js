// The loss panels: one per local method, each unit's loss against images seen, with the
// end-to-end reference's loss beside it; each panel offers to save its models.
import { $, session, info, active } from './session.js';
import { figureButtons } from './figure.js';
import { t, tr, num } from './i18n.js';

let charts = {};

// Whether method m's panel shows the end-to-end reference's loss beside its own.
export const vsRef = (m) => m !== session.ref && Boolean(session.trainers[session.ref]);

function saveButtons(m) {
  // The panels show the end-to-end reference beside a local method: each can be saved.
  const ms = [m, ...(vsRef(m) ? [session.ref] : [])];
  return ms.map((x) => `<button class="save" type="button" data-method="${x}" id="save-${x}" title="${t("Download {method}'s model (weights, optimizer state, config, step)", { method: info(x).title })}">${t('Save {method}', { method: info(x).title })}</button>`).join('');
}

function chartData(m) {
  const tn = session.trainers[m];
  const data = [tn.curve.x, ...tn.curve.ys];
  if (vsRef(m)) {
    // The reference's loss at the same x (images seen): methods train in turns on one x-axis.
    const s = session.trainers[session.ref].curve;
    data.push(tn.curve.x.map((_, i) => (i < s.ys[0].length ? s.ys[0][i] : null)));
  }
  return data;
}

export function buildCharts(onSave) {
  const plots = $('plots');
  plots.innerHTML = '';
  charts = {};
  const shown = active();
  const local = shown.filter((m) => m !== session.ref);
  // Lay out every panel first, then size each chart to its panel.
  const panels = (local.length ? local : shown).map((m) => {
    const div = document.createElement('div');
    div.className = 'panel';
    const heading = vsRef(m) ? t('{method} vs {ref}', { method: info(m).title, ref: info(session.ref).title }) : info(m).title;
    div.innerHTML = `<h3>${heading} <span class="acc" id="acc-${m}"></span>${saveButtons(m)}</h3><p>${tr(info(m).summary)}</p><p class="latest" id="latest-${m}"></p>`;
    plots.appendChild(div);
    div.querySelectorAll('button.save').forEach((b) => { b.onclick = () => onSave(b.dataset.method); });
    const title = () => t('{chart}: loss per unit', { chart: heading });
    div.querySelector('h3').append(...figureButtons(() => charts[m], `locolab-loss-${m}`, title));
    return [m, div];
  });
  for (const [m, div] of panels) {
    const tn = session.trainers[m];
    const series = [{ label: t('images seen') }];
    tn.units.forEach((u, i) => series.push({ label: u, stroke: tn.colours[i], width: 1.5 }));
    if (vsRef(m)) series.push({ label: info(session.ref).title, stroke: info(session.ref).colour, width: 2 });
    const width = Math.max(320, div.getBoundingClientRect().width - 20);
    charts[m] = new uPlot({
      width, height: 260, series, legend: { live: false }, scales: { x: { time: false } },
      axes: [{ label: t('images seen'), values: (u, ticks) => ticks.map((v) => Math.round(v)) }, { label: t('loss') }],
    }, chartData(m), div);
  }
}

export function redrawLosses() {
  for (const [m, c] of Object.entries(charts)) {
    c.setData(chartData(m));
    const tn = session.trainers[m];
    const loss = (v) => (v == null ? '-' : num(v, 3));
    const latest = tn.units.map((u, i) => `${u} ${loss(tn.curve.ys[i].at(-1))}`);
    if (vsRef(m)) latest.push(`${info(session.ref).title} ${loss(session.trainers[session.ref].curve.ys[0].at(-1))}`);
    $(`latest-${m}`).textContent = t('latest loss: {losses}', { losses: latest.join(' · ') });
  }
}
