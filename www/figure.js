// Figures for slides: any chart of the page (a uPlot instance) saved as PNG or SVG, with its
// title, axis labels and legend, from the data the chart shows (not a screenshot of the page).
// `figureButtons(getChart, name, title)` gives the two buttons a panel shows.
import { t } from './i18n.js';

const W = 800;
const H = 480;
const M = { left: 70, right: 20, top: 44, bottom: 56 };

// About five round tick values between lo and hi.
function ticks(lo, hi) {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((f) => f * mag).find((s) => s >= raw);
  const out = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

const label = (v) => (Math.abs(v) >= 1e4 ? `${Math.round(v / 1000)}k` : String(Number(v.toPrecision(4))));
const escape = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

// What a figure draws: the series with data, their colours, the ranges and the axis labels.
function describe(u, title) {
  const xs = u.data[0];
  const series = u.series.slice(1).map((s, i) => ({ label: s.label, stroke: typeof s.stroke === 'function' ? s.stroke(u, i + 1) : s.stroke || '#333', ys: u.data[i + 1] }))
    .filter((s) => s.ys && s.ys.some((v) => v != null));
  const ysAll = series.flatMap((s) => s.ys.filter((v) => v != null && Number.isFinite(v)));
  const finite = xs.filter(Number.isFinite);
  const [x0, x1] = [Math.min(...finite), Math.max(...finite)];
  let [y0, y1] = [Math.min(...ysAll), Math.max(...ysAll)];
  if (y0 === y1) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  return {
    title, xs, series, x0, x1: x1 > x0 ? x1 : x0 + 1, y0: y0 - pad, y1: y1 + pad,
    xLabel: u.axes[0]?.label ?? '', yLabel: u.axes[1]?.label ?? '',
  };
}

// The figure as SVG text.
export function svgOf(u, title) {
  const f = describe(u, title);
  const px = (x) => M.left + ((x - f.x0) / (f.x1 - f.x0)) * (W - M.left - M.right);
  const py = (y) => H - M.bottom - ((y - f.y0) / (f.y1 - f.y0)) * (H - M.top - M.bottom);
  const parts = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="#fff"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escape(f.title)}</text>`];
  for (const t of ticks(f.x0, f.x1)) parts.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#eee"/><text x="${px(t)}" y="${H - M.bottom + 16}" text-anchor="middle">${label(t)}</text>`);
  for (const t of ticks(f.y0, f.y1)) parts.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#eee"/><text x="${M.left - 6}" y="${py(t) + 4}" text-anchor="end">${label(t)}</text>`);
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#999"/>`);
  parts.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 14}" text-anchor="middle">${escape(f.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">${escape(f.yLabel)}</text>`);
  for (const s of f.series) {
    // A gap (null) ends one polyline and starts the next.
    let run = [];
    const flush = () => { if (run.length) parts.push(`<polyline fill="none" stroke="${escape(s.stroke)}" stroke-width="1.5" points="${run.join(' ')}"><title>${escape(s.label)}</title></polyline>`); run = []; };
    s.ys.forEach((y, i) => { if (y == null || !Number.isFinite(y) || !Number.isFinite(f.xs[i])) flush(); else run.push(`${px(f.xs[i]).toFixed(1)},${py(y).toFixed(1)}`); });
    flush();
  }
  f.series.forEach((s, i) => {
    const y = M.top + 10 + 16 * i;
    parts.push(`<line x1="${W - M.right - 150}" x2="${W - M.right - 130}" y1="${y}" y2="${y}" stroke="${escape(s.stroke)}" stroke-width="2"/><text x="${W - M.right - 125}" y="${y + 4}">${escape(s.label)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n');
}

// The figure as a PNG blob: the SVG drawn at twice its size (sharp on a projector).
export function pngOf(u, title) {
  const img = new Image();
  const url = URL.createObjectURL(new Blob([svgOf(u, title)], { type: 'image/svg+xml' }));
  return new Promise((resolve, reject) => {
    img.onload = () => {
      const c = document.createElement('canvas');
      [c.width, c.height] = [2 * W, 2 * H];
      c.getContext('2d').drawImage(img, 0, 0, 2 * W, 2 * H);
      URL.revokeObjectURL(url);
      c.toBlob((b) => (b ? resolve(b) : reject(new Error(t('the browser could not encode a PNG')))), 'image/png');
    };
    img.onerror = () => { URL.revokeObjectURL(url); reject(new Error(t('the figure could not be drawn'))); };
    img.src = url;
  });
}

function download(blob, file) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = file;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 1000);
}

// Two buttons that save the chart `getChart()` returns as `name.png` / `name.svg`.
export function figureButtons(getChart, name, title) {
  const make = (kind) => {
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'figure';
    b.dataset.figure = kind;
    b.textContent = kind.toUpperCase();
    b.title = t('Save this chart as {kind} (for slides)', { kind: kind.toUpperCase() });
    b.onclick = async () => {
      const u = getChart();
      if (!u) return;
      const heading = typeof title === 'function' ? title() : title;
      download(kind === 'svg' ? new Blob([svgOf(u, heading)], { type: 'image/svg+xml' }) : await pngOf(u, heading), `${name}.${kind}`);
    };
    return b;
  };
  return [make('png'), make('svg')];
}
