// Cross-origin isolation without server headers: on a page that is not isolated, register the
// site's service worker (sw.js, at the site's root: it adds COOP/COEP to every response) and
// reload once when it takes control. Where it cannot (a file:// page, a browser that blocks
// service workers, a private window), the page trains on one thread, and `isolation.why` says
// why (the worker's thread note shows it). `?sw=0` skips the worker (tests, or a host that sends
// the headers itself, as scripts/serve.py does).
export const isolation = { isolated: globalThis.crossOriginIsolated === true, why: '' };

const RELOADED = 'locolab-isolation-reload';

export async function isolate() {
  if (isolation.isolated) return isolation;
  const skip = new URLSearchParams(location.search).get('sw') === '0';
  if (skip) return note('the service worker is off (sw=0)');
  if (!('serviceWorker' in navigator) || !window.isSecureContext) {
    return note(location.protocol === 'file:' ? 'opened as a file: serve the folder over http(s) for every core' : 'this browser offers no service worker here');
  }
  let registration;
  try {
    registration = await navigator.serviceWorker.register(new URL('../sw.js', import.meta.url), { scope: new URL('../', import.meta.url).pathname });
  } catch (e) {
    return note(`the service worker could not register (${String(e?.message ?? e).slice(0, 100)})`);
  }
  // A browser (or a test harness) that blocks service workers may answer with no registration.
  if (!registration) return note('the service worker could not register (blocked by the browser)');
  if (navigator.serviceWorker.controller) {
    // Controlled and still not isolated: reloading again would not help.
    sessionStorage.removeItem(RELOADED);
    return note('the service worker runs but the browser did not isolate the page');
  }
  if (sessionStorage.getItem(RELOADED)) return note('the service worker did not take control of the page');
  await new Promise((resolve) => {
    if (registration.active) resolve();
    navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
    setTimeout(resolve, 4000);
  });
  sessionStorage.setItem(RELOADED, '1');
  location.reload();
  return new Promise(() => {}); // the page is reloading
}

function note(why) {
  isolation.why = why;
  return isolation;
}
