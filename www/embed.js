// The Embed / share builder: pick the methods, the panels to hide, autostart, the language and the backend;
// the page shows the link, an <iframe> snippet with the attributes threads need, and a preview
// of what the embed shows. The link carries the page's current training settings (queryFor), the
// choices come from the tables of keys.js and the core's methods.
import { $, session } from './session.js';
import { BACKENDS, PANELS } from './keys.js';
import { queryFor } from './settings.js';
import { t, LANGS } from './i18n.js';


export function buildEmbed() {
  const box = $('embed-form');
  const methods = session.methods.map((m) => `<label><input type="checkbox" name="embed-method" value="${m.kind}" checked> ${m.title}</label>`).join(' ');
  const panels = PANELS.map((p) => `<label title="${t(p.what)}"><input type="checkbox" name="embed-hide" value="${p.id}"${['header', 'controls'].includes(p.id) ? ' checked' : ''}> <code translate="no">${p.id}</code></label>`).join(' ');
  const langs = [['', t("the reader's browser")], ...Object.entries(LANGS).map(([k, l]) => [k, l.name])];
  box.innerHTML = `<p>${t('Methods:')} ${methods}</p>
    <p>${t('Hide:')} ${panels}</p>
    <p><label><input type="checkbox" id="embed-autostart"> ${t('start training when it opens')}</label>
      <label>${t('Language')} <select id="embed-lang">${langs.map(([k, name]) => `<option value="${k}"${k ? ' translate="no"' : ''}${k === (session.state.lang ?? '') ? ' selected' : ''}>${name}</option>`).join('')}</select></label>
      <label>${t('Backend')} <select id="embed-backend">${BACKENDS.map((b) => `<option translate="no">${b}</option>`).join('')}</select></label>
      <label>${t('Height')} <input id="embed-height" type="number" min="200" max="4000" step="50" value="900"> ${t('px')}</label></p>`;
  box.querySelectorAll('input, select').forEach((el) => el.addEventListener('change', update));
  $('embed').addEventListener('toggle', update);
  // The page's own settings go into the link too.
  $('controls').addEventListener('change', () => setTimeout(update));
  $('embed-preview-button').onclick = () => { $('embed-preview').src = link(false); $('embed-preview').hidden = false; };
  update();
}

// The embed's URL: this page's address and settings with the builder's choices.
function link(autostart = $('embed-autostart').checked) {
  const checked = (name) => [...document.querySelectorAll(`input[name=${name}]:checked`)].map((c) => c.value);
  const q = queryFor({
    methods: checked('embed-method').join(',') || null,
    hide: checked('embed-hide').join(','),
    embed: '1',
    autostart: autostart ? '1' : '',
    backend: $('embed-backend').value === 'auto' ? '' : $('embed-backend').value,
    lang: $('embed-lang').value,
  });
  return `${location.origin}${location.pathname}?${q}`;
}

function update() {
  if (!$('embed').open) return;
  const url = link();
  const height = Math.max(200, Number($('embed-height').value) || 900);
  $('embed-link').value = url;
  // `cross-origin-isolated`: an isolated embedding page may lend the frame its isolation (threads).
  $('embed-snippet').value = `<iframe src="${url.replace(/&/g, '&amp;')}" width="100%" height="${height}" style="border:0" `
    + `allow="cross-origin-isolated; fullscreen" loading="lazy" title="${t('LoCo Lab: SimCLR vs GIM vs LoCo')}"></iframe>`;
}
