// The first claim: one bar per method, the measured peak of its latest step (the counting
// allocator in the module), its saving against the end-to-end reference, and the paper's.
import { $, session, info, colour, onGpu } from './session.js';
import { t, num } from './i18n.js';

export function bytes(n) {
  return n >= 2 ** 30 ? t('{n} GiB', { n: num(n / 2 ** 30, 2) }) : n >= 2 ** 20 ? t('{n} MiB', { n: num(n / 2 ** 20, 1) }) : t('{n} KiB', { n: num(n / 1024, 0) });
}

// A step's report into its trainer: the first step also creates the optimizer's state, so
// later steps show the steady peak.
export function recordMemory(tn, r) {
  if (r.peak_bytes != null && (r.step >= 2 || !tn.mem)) tn.mem = { peak: r.peak_bytes, units: r.phases.map((p) => p.peak_bytes), step: r.step };
}

export function drawMemory() {
  const rows = session.state.methods.filter((m) => session.trainers[m]?.mem);
  const box = $('memory-bars');
  box.innerHTML = '';
  if (!rows.length) {
    $('memory-note').textContent = onGpu()
      ? t('Measured on the CPU path only: on WebGPU the tensors live in GPU buffers, which burn 0.22.1 does not report. Choose the CPU backend to see the bars.')
      : t("Press Start or Single step: each method's peak appears after its first step.");
    return;
  }
  const max = Math.max(...rows.map((m) => session.trainers[m].mem.peak));
  const ref = session.trainers[session.ref]?.mem?.peak;
  const refTitle = info(session.ref)?.title;
  for (const m of rows) {
    const { peak, units, step } = session.trainers[m].mem;
    const names = session.trainers[m].units;
    const top = units.indexOf(Math.max(...units));
    const row = document.createElement('div');
    row.className = 'bar-row';
    row.id = `mem-${m}`;
    row.title = t('step {step}, peak per unit:', { step }) + '\n' + names.map((u, i) => `${u}: ${bytes(units[i])}${i === top ? t(' (sets the peak)') : ''}`).join('\n');
    let text = bytes(peak);
    const paper = info(m).paper_saving_presnet50;
    if (ref && m !== session.ref) text += ref >= peak ? t(' · {x}x less than {ref}', { x: num(ref / peak, 2), ref: refTitle }) : t(' · {x}x more than {ref}', { x: num(peak / ref, 2), ref: refTitle });
    if (paper) text += t(' (paper, PResNet-50: {x}x)', { x: num(paper, 2) });
    row.innerHTML = `<b>${info(m).title}</b><div class="bar-track"><div class="bar" style="width:${(100 * peak) / max}%;background:${colour(m)}">&nbsp;<span></span></div></div>`;
    row.querySelector('span').textContent = text;
    box.appendChild(row);
  }
  $('memory-note').textContent = t('Peak bytes a training step allocates in the wasm module on top of what was live before it '
    + "(hover a bar for each unit's peak). The paper saves more on PResNet-50 at 224 pixels, where activations dwarf everything "
    + 'else; on this small network at 32 pixels the weights, optimizer state, input views and decoders are a larger share of a '
    + 'step, so local learning saves less here (natively, presnet-tiny at batch 32: 1.85x GIM, 1.51x LoCo).');
}
