// LoCo Lab's service worker: cross-origin isolation on a host that sends no COOP/COEP headers
// (GitHub Pages, a university web server, an LMS), so the page can share memory with its
// threads and train on every core. It re-serves every response of this site with
//   Cross-Origin-Opener-Policy: same-origin, Cross-Origin-Embedder-Policy: require-corp
// (the page loads nothing from other origins). Registered by www/isolate.js, which reloads the
// page once when this worker first takes control. Our own few lines rather than the npm
// package coi-serviceworker: the page needs only this, and its reload rule lives with the page's
// own note of why it runs on one thread (www/isolate.js). It lives at the site's root so that
// its scope is the whole site, whatever sub-path the site is served from.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));
self.addEventListener('fetch', (event) => {
  const request = event.request;
  // A request the browser may only answer from its cache (devtools, some prefetches).
  if (request.cache === 'only-if-cached' && request.mode !== 'same-origin') return;
  event.respondWith(
    fetch(request).then((response) => {
      // Opaque responses (status 0) cannot be rewritten; the page makes none.
      if (response.status === 0) return response;
      const headers = new Headers(response.headers);
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      headers.set('Cross-Origin-Resource-Policy', 'same-origin');
      return new Response(response.body, { status: response.status, statusText: response.statusText, headers });
    }),
  );
});
