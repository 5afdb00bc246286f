// LoCo Lab's service worker: cross-origin isolation on a host that sends no COOP/COEP headers
// (GitHub Pages, a university web server, an LMS), so the page can share memory with its
// threads and train on every core. It re-serves every response of this site with
//   Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp
// (the page loads nothing from other origins). Registered by www/isolate.js, which reloads the
// page once when this worker first takes control. Our own few lines rather than the npm
// package coi-serviceworker: the page needs only this, and its reload rule lives with the page's
// own note of why it runs on one thread (www/isolate.js). It lives at the site's root so that
// its scope is the whole site, whatever sub-path the site is served from.
//
// Offline: every file of the site it fetched is kept in a cache, and served from there when the
// network fails (network first, so a new version of the site is picked up when online), so a
// classroom that loaded the page once keeps working without a connection.
const CACHE = 'locolab-site-v1';

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

function isolated(response) {
  // Opaque responses (status 0) cannot be rewritten; the page makes none.
  if (response.status === 0) return response;
  const headers = new Headers(response.headers);
  headers.set('Cross-Origin-Opener-Policy', 'same-origin');
  headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
  headers.set('Cross-Origin-Resource-Policy', 'same-origin');
  return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  // A request the browser may only answer from its cache (devtools, some prefetches).
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  const sameOrigin = new URL(request.url).origin === self.location.origin;
  const keep = request.method === 'GET' && sameOrigin;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (keep && response.ok) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)).catch(() => {}));
        }
        return isolated(response);
      })
      .catch(async (error) => {
        // Offline: the copy kept from an earlier GET (a HEAD, which the page uses to ask whether
        // a build is there, gets its headers).
        const cached = sameOrigin && ['GET', 'HEAD'].includes(request.method) ? await caches.match(request.url, { ignoreVary: true }) : undefined;
        if (!cached) throw error;
        return isolated(request.method === 'HEAD' ? new Response(null, { status: cached.status, statusText: cached.statusText, headers: cached.headers }) : cached);
      }),
  );
});
