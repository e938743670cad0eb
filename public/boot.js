// Tern boot module: starts the WebAssembly app and manages the service worker.
//
// This is a template: scripts/site.mjs fills in the asset URLs and the service-worker switch and
// writes the result to /pkg/boot-<hash>.js, which the page loads with <script type="module">.
// The Content Security Policy forbids inline scripts, so everything that would normally be
// inline lives here.

import init, { hydrate } from "__APP_JS__";

// The colour scheme chosen in Settings (app/src/theme.rs, key THEME_KEY), before anything paints.
try {
  const theme = localStorage.getItem("tern-theme");
  if (theme === "light" || theme === "dark") document.documentElement.dataset.theme = theme;
} catch {
  // Storage can be refused (private modes); the scheme then follows the device.
}

const APP_WASM = "__APP_WASM__";
const SW_ENABLED = __SW_ENABLED__;
const UPDATE_CHECK_INTERVAL_MS = 30 * 60 * 1000;

// Leptos' hydration reads these globals; its own inline <script> would normally create them.
globalThis.__RESOLVED_RESOURCES ??= [];
globalThis.__SERIALIZED_ERRORS ??= [];
globalThis.__INCOMPLETE_CHUNKS ??= [];
globalThis.__PENDING_RESOURCES ??= [];
globalThis.__RESOURCE_RESOLVERS ??= [];

// The release wasm aborts on any panic (-Cpanic=immediate-abort): the trap reaches JavaScript as a
// WebAssembly.RuntimeError, thrown from whatever called into the app (an event handler, a timer, a
// promise of a future). No Rust code runs after that and the app's state cannot be trusted, so this
// script shows the banner the frame rendered hidden (app/src/stopped.rs, whose ids these are).
let stopped = false;

function showStopped(error) {
  if (stopped) return;
  stopped = true;
  console.error("Tern stopped because of an error", error);
  const banner = document.getElementById("stopped-banner");
  if (!banner) return;
  const report = [
    `${error?.name ?? "Error"}: ${error?.message ?? String(error)}`,
    error?.stack ? String(error.stack) : "",
    `build: ${document.querySelector('meta[name="tern-build"]')?.content ?? "unknown"}`,
    `page: ${location.pathname}`,
    `time: ${new Date().toISOString()}`,
    `browser: ${navigator.userAgent}`,
  ].filter(Boolean).join("\n");
  const text = banner.querySelector("#stopped-error");
  text.value = report;
  // Nothing else on the page may be used: its handlers would run in the stopped app.
  for (const element of document.body.children) {
    if (element !== banner) element.inert = true;
  }
  banner.hidden = false;
  const reload = banner.querySelector("#stopped-reload");
  reload.addEventListener("click", () => location.reload());
  const copy = banner.querySelector("#stopped-copy");
  copy.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(report);
      copy.textContent = banner.dataset.copied;
    } catch {
      // No clipboard access: select the text, so Ctrl+C copies it.
      text.focus();
      text.select();
    }
  });
  reload.focus();
}

const isAbort = (error) => error instanceof WebAssembly.RuntimeError;
window.addEventListener("error", (event) => {
  if (isAbort(event.error)) showStopped(event.error);
});
window.addEventListener("unhandledrejection", (event) => {
  if (isAbort(event.reason)) showStopped(event.reason);
});

// The remembered user's saved workspace, read from IndexedDB while the app's code loads (ten
// thousand records take about a third of a second to read); the app's store takes this read
// (app/src/store/browser/startup_read.rs, which describes its shape) or asks for a new one.
globalThis.__ternReadDevice = readDevice;
globalThis.__ternDeviceRead = readDevice(rememberedUser());

function rememberedUser() {
  try {
    const user = JSON.parse(localStorage.getItem("tern.session") ?? "null")?.identity?.user;
    return typeof user === "string" ? user : null;
  } catch {
    return null;
  }
}

// Reads every store of the user's database in one readonly transaction, the listings apart so a
// list can draw before the rest arrives. Never creates or upgrades the database (the app does, as
// app/src/store/browser/local.rs declares it): resolves to null if it is missing or older.
function readDevice(user) {
  if (!user) return Promise.resolve(null);
  return new Promise((resolve) => {
    let open;
    try {
      open = indexedDB.open(`tern-${user}`, 2);
    } catch {
      resolve(null);
      return;
    }
    open.onupgradeneeded = () => open.transaction.abort();
    open.onerror = () => resolve(null);
    open.onblocked = () => resolve(null);
    open.onsuccess = () => {
      const db = open.result;
      db.onversionchange = () => db.close();
      try {
        const tx = db.transaction(["listing", "records", "outbox", "copies", "meta"], "readonly");
        tx.oncomplete = tx.onabort = () => db.close();
        const ask = (request) => new Promise((ok, fail) => {
          request.onsuccess = () => ok(request.result);
          request.onerror = () => fail(request.error);
        });
        const listing = ask(tx.objectStore("listing").getAll());
        const rest = Promise.all([
          ask(tx.objectStore("records").getAll()),
          ask(tx.objectStore("outbox").getAll()),
          ask(tx.objectStore("copies").getAllKeys()),
          ask(tx.objectStore("copies").getAll()),
          ask(tx.objectStore("meta").get("cursor")),
        ]).then(([records, outbox, copyKeys, copies, cursor]) => ({ records, outbox, copyKeys, copies, cursor }));
        // Not left unhandled when the app reads anew instead.
        listing.catch(() => {});
        rest.catch(() => {});
        resolve({ user, listing, rest });
      } catch {
        db.close();
        resolve(null);
      }
    };
  });
}

// The wasm from the service worker's cache when it has it: in a page the worker controls, fetch()
// costs several times more main-thread time than asking the cache (see fromCacheFirst in
// scripts/site.mjs, which does the same for the page modules).
function fromCacheFirst(url) {
  return Promise.resolve(globalThis.caches && caches.match(url))
    .catch(() => undefined)
    .then((hit) => hit || fetch(url));
}

try {
  await init({ module_or_path: fromCacheFirst(APP_WASM) });
  hydrate();
} catch (err) {
  // The server-rendered page stays readable; say that it is not interactive, and why.
  showStopped(err);
}

// Registered only after the app has started, so installing the worker (which downloads the whole
// shell) never competes with the first page load.
if (SW_ENABLED && "serviceWorker" in navigator) {
  registerServiceWorker();
}

async function registerServiceWorker() {
  const container = navigator.serviceWorker;
  let registration;
  try {
    registration = await container.register("/sw.js", { scope: "/" });
  } catch (err) {
    console.warn("Tern: service worker registration failed; offline use is unavailable", err);
    return;
  }

  // A new version is ready. The app shows a banner; nothing reloads until the user asks.
  const announceUpdate = () => {
    if (globalThis.__ternUpdateWaiting) return;
    globalThis.__ternUpdateWaiting = true;
    window.dispatchEvent(new CustomEvent("tern:update-available"));
  };

  // A worker that reaches "installed" while a controller exists is an update (on the very first
  // install there is no controller yet, and the worker activates straight away).
  const watched = new WeakSet();
  const watch = (worker) => {
    if (!worker || watched.has(worker)) return;
    watched.add(worker);
    let installed = false;
    const check = () => {
      if (worker.state === "installed") {
        installed = true;
        if (container.controller) announceUpdate();
      } else if (worker.state === "redundant" && !installed) {
        // Install failed (precaching a URL failed); the browser only reports it in the worker.
        console.warn("Tern: the service worker failed to install; offline use is unavailable");
      }
    };
    worker.addEventListener("statechange", check);
    check();
  };

  // The first install claims open pages; make sure this one was among them (see sw.js, "CLAIM").
  container.ready.then((ready) => {
    if (!container.controller && ready.active) ready.active.postMessage({ type: "CLAIM" });
  });

  if (registration.waiting) announceUpdate();
  watch(registration.installing);
  registration.addEventListener("updatefound", () => watch(registration.installing));

  // The user clicked "Reload" on the update banner.
  let applyRequested = false;
  window.addEventListener("tern:apply-update", () => {
    applyRequested = true;
    if (registration.waiting) {
      // The new worker activates, claims this page, and "controllerchange" below reloads it.
      registration.waiting.postMessage({ type: "SKIP_WAITING" });
    } else {
      // Another tab already activated the new version; just load it.
      location.reload();
    }
  });

  let reloading = false;
  container.addEventListener("controllerchange", () => {
    // Ignored unless the user asked: the first install also changes the controller (clients.claim).
    if (!applyRequested || reloading) return;
    reloading = true;
    location.reload();
  });

  // Look for new versions now and then. Failures (e.g. offline) are expected and harmless.
  const checkForUpdate = () => {
    if (navigator.onLine === false) return;
    registration.update().catch(() => {});
  };
  setInterval(checkForUpdate, UPDATE_CHECK_INTERVAL_MS);
  window.addEventListener("online", checkForUpdate);
}
