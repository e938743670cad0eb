// Tern service worker: keeps the app shell available offline.
//
// This is a template. scripts/site.mjs fills in the build id and the precache list and writes the
// result to /sw.js. Every build gets its own cache; the browser sees a byte-different sw.js,
// installs it in the background, and boot.js offers the user a reload once it is waiting.

"use strict";

const CACHE_PREFIX = "tern-shell-";
const CACHE = CACHE_PREFIX + "__BUILD_ID__";
// Page routes, every /pkg/ asset of this build, the web app manifest and the icons.
const PRECACHE = __PRECACHE__;

const OFFLINE_HTML =
  '<!doctype html><html lang="en"><meta charset="utf-8">' +
  '<meta name="viewport" content="width=device-width, initial-scale=1">' +
  "<title>Tern — offline</title><h1>You are offline</h1>" +
  "<p>This page has not been saved on this device yet. Reconnect and try again.</p></html>";

self.addEventListener("install", (event) => {
  // No skipWaiting() here: an update waits until the user accepts it (see the message handler).
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(
        PRECACHE.map((url) =>
          // Bypass the HTTP cache for unhashed URLs so we never pin a stale page or manifest.
          // /pkg/ names change with their content, so an HTTP-cached copy is always right.
          new Request(url, { cache: url.startsWith("/pkg/") ? "default" : "reload" }),
        ),
      ),
    ),
  );
});

self.addEventListener("message", (event) => {
  const type = event.data && event.data.type;
  if (type === "SKIP_WAITING") self.skipWaiting();
  // A page that is ready but not controlled asks again: the claim in "activate" can miss a page
  // (seen once in many runs on a busy machine), which would then stay online-only until reloaded.
  if (type === "CLAIM") event.waitUntil(self.clients.claim().catch(() => {}));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      await Promise.all(
        names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== CACHE).map((name) => caches.delete(name)),
      );
      // Control already-open pages, so the very first visit works offline without a reload.
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  // Live data, health checks and the worker script itself always go to the network untouched.
  if (url.pathname.startsWith("/api/") || url.pathname === "/healthz" || url.pathname === "/sw.js") return;

  if (request.mode === "navigate") {
    event.respondWith(navigate(event, url));
  } else {
    event.respondWith(cacheFirst(event, url));
  }
});

// Pages: network first so users see fresh server-rendered content; the cache is the fallback.
// A network that answers slowly (hotel wifi, a train) must not hold the page hostage: after
// NAVIGATION_TIMEOUT_MS the cached shell is served, and the network answer still refreshes it.
const NAVIGATION_TIMEOUT_MS = 3000;

async function navigate(event, url) {
  const key = url.origin + url.pathname; // the search string does not change the shell
  const cache = await caches.open(CACHE);
  const network = fetch(event.request).then((response) => {
    if (response.ok) cache.put(key, response.clone()).catch(() => {});
    return response;
  });
  event.waitUntil(network.catch(() => {}));
  try {
    return await Promise.race([network, rejectAfter(NAVIGATION_TIMEOUT_MS)]);
  } catch {
    // Every route renders the same shell and the client fills in the page after hydration, so the
    // cached "/" is a correct answer for any route this device has not visited yet.
    const cached = (await cache.match(key)) || (await cache.match("/"));
    if (cached) return unredirected(cached);
    try {
      return await network; // nothing cached: a slow answer beats none
    } catch {
      return new Response(OFFLINE_HTML, {
        status: 503,
        headers: { "Content-Type": "text/html; charset=utf-8" },
      });
    }
  }
}

function rejectAfter(ms) {
  return new Promise((_, reject) => setTimeout(() => reject(new Error("timeout")), ms));
}

// Assets: /pkg/ files are content-hashed and never change, so the cache is always right. Runtime
// misses under /pkg/ are cached; other files (manifest, icons) are precached or left alone.
async function cacheFirst(event, url) {
  const cached = await caches.match(event.request);
  if (cached) return cached;
  const response = await fetch(event.request);
  if (response.ok && url.pathname.startsWith("/pkg/")) {
    const copy = response.clone();
    event.waitUntil(caches.open(CACHE).then((cache) => cache.put(event.request, copy)));
  }
  return response;
}

// Browsers refuse a redirected response as the answer to a navigation; serve its body as-is.
function unredirected(response) {
  if (!response.redirected) return response;
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}
