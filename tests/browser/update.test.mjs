// Browser end-to-end test of the service-worker update flow: a new build deployed behind the
// same origin installs in the background, the app offers "Update available / Reload", nothing
// takes over by itself, and "Reload" switches the page to the new version and drops the old cache.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/
// See tests/browser/README.md.

import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';

import {
  SHELL_ROUTES,
  SITE_DIR,
  consoleProblems,
  formatConsole,
  freePort,
  launchBrowser,
  rawRequest,
  recordConsole,
  sleep,
  startServer,
  waitCached,
  waitHydrated,
  waitSwControl,
  newSignedInContext,
} from './harness.mjs';

const CACHE_PREFIX = 'tern-shell-';
/** The build id line scripts/site.mjs writes into sw.js. */
const CACHE_LINE_RE = /const CACHE = CACHE_PREFIX \+ "([^"]+)";/g;
/** How long the waiting version must leave the page alone after the banner appears. */
const HOLD_MS = 2_500;

let browser;

before(async () => {
  browser = await launchBrowser();
}, { timeout: 60_000 });

after(async () => {
  await browser?.close();
});

/**
 * Copies the built site to a temp dir and gives its sw.js a new build id (so the browser sees a
 * byte-different worker with its own cache). The precompressed sw.js.br / sw.js.gz are removed
 * so the server has to fall back to the edited plain file.
 * Returns { dir, oldId, newId, swSource }.
 */
async function makeUpdatedSite() {
  const original = await readFile(path.join(SITE_DIR, 'sw.js'), 'utf8');
  const ids = [...original.matchAll(CACHE_LINE_RE)].map((m) => m[1]);
  assert.equal(ids.length, 1,
    `${path.join(SITE_DIR, 'sw.js')}: expected exactly one line matching ${CACHE_LINE_RE} (the build id), found ${ids.length}`);
  const oldId = ids[0];
  const newId = `${oldId}-e2e-update`;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'tern-e2e-site-v2-'));
  await cp(SITE_DIR, dir, { recursive: true });
  const swSource = original.replace(CACHE_LINE_RE, `const CACHE = CACHE_PREFIX + "${newId}";`);
  assert.notEqual(swSource, original);
  await writeFile(path.join(dir, 'sw.js'), swSource);
  await rm(path.join(dir, 'sw.js.br'), { force: true });
  await rm(path.join(dir, 'sw.js.gz'), { force: true });
  return { dir, oldId, newId, swSource };
}

/** The body of a raw response, decoded according to its content-encoding. */
function decodedBody(res) {
  const enc = String(res.headers['content-encoding'] || 'identity').toLowerCase();
  if (enc === 'identity') return res.body;
  if (enc === 'br') return brotliDecompressSync(res.body);
  if (enc === 'gzip') return gunzipSync(res.body);
  if (enc === 'deflate') return inflateSync(res.body);
  throw new Error(`unexpected content-encoding ${enc}`);
}

/** Asserts that `srv` serves exactly `expected` as /sw.js, whatever encoding the client accepts. */
async function assertServesSw(srv, expected, what) {
  for (const acceptEncoding of ['br, gzip, deflate', 'gzip', 'identity']) {
    const res = await rawRequest(`${srv.url}/sw.js`, { headers: { 'accept-encoding': acceptEncoding } });
    assert.equal(res.status, 200, `${what}: GET /sw.js (accept-encoding: ${acceptEncoding}) status`);
    const body = decodedBody(res).toString('utf8');
    assert.ok(body === expected,
      `${what}: GET /sw.js (accept-encoding: ${acceptEncoding}; content-encoding: ` +
      `${res.headers['content-encoding'] ?? 'none'}) is not the expected sw.js ` +
      `(build id line: ${JSON.stringify((body.match(/const CACHE = [^\n]*/) || ['<none>'])[0])})`);
  }
}

/** Starts a server on a fixed address, retrying a few times while the port is still being released. */
async function startOn(listen, opts) {
  let lastError;
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      return await startServer({ ...opts, listen });
    } catch (e) {
      lastError = e;
      if (!/cannot listen|in use/i.test(e.message)) throw e;
      await sleep(500);
    }
  }
  throw lastError;
}

/**
 * Polls `fn` (run in the page with `arg`; may be async, unlike waitInPage's predicate) until it
 * returns a truthy value, and returns that value. On timeout throws with `describe()`'s result.
 */
async function pollPage(page, what, fn, arg, { timeout = 15_000, describe } = {}) {
  const deadline = Date.now() + timeout;
  let lastError = '';
  for (;;) {
    try {
      const v = await page.evaluate(fn, arg);
      if (v) return v;
    } catch (e) {
      lastError = e.message; // e.g. the page is navigating; try again
    }
    if (Date.now() > deadline) break;
    await sleep(150);
  }
  const actual = describe ? await page.evaluate(describe, arg).catch((e) => `<${e.message}>`) : lastError;
  throw new Error(`${page.url()}: timed out after ${timeout} ms waiting for ${what}; actual: ${JSON.stringify(actual)}`);
}

/** Service-worker state as the page sees it; `__v1Controller` is the controller saved before the update. */
const swState = async () => {
  const reg = await navigator.serviceWorker.getRegistration();
  const controller = navigator.serviceWorker.controller;
  const old = window.__v1Controller;
  const banner = document.querySelector('#update-banner');
  return {
    marker: window.__ternUpdateTestMarker ?? null,
    hasRegistration: !!reg,
    controller: controller ? controller.state : null,
    controllerIsV1: !!old && controller === old,
    activeIsController: !!reg && !!controller && reg.active === controller,
    active: reg && reg.active ? reg.active.state : null,
    waiting: reg && reg.waiting ? reg.waiting.state : null,
    waitingIsController: !!reg && !!reg.waiting && reg.waiting === controller,
    installing: reg && reg.installing ? reg.installing.state : null,
    caches: (await caches.keys()).sort(),
    banner: banner ? banner.innerText.replace(/\s+/g, ' ').trim() : null,
    hydrated: document.documentElement.dataset.hydrated ?? null,
  };
};

test('a new service worker waits behind "Update available" and takes over only on "Reload"', { timeout: 180_000 }, async (t) => {
  const site2 = await makeUpdatedSite();
  const oldCache = CACHE_PREFIX + site2.oldId;
  const newCache = CACHE_PREFIX + site2.newId;
  const servers = [];
  let context;
  const log = [];
  let label = 'v1 /';
  try {
    // --- Version 1 -------------------------------------------------------------------------
    let v1;
    for (let attempt = 0; ; attempt++) {
      const port = await freePort();
      try {
        v1 = await startServer({ name: 'tern-v1', listen: `127.0.0.1:${port}` });
        break;
      } catch (e) {
        if (attempt >= 3 || !/cannot listen|in use/i.test(e.message)) throw e;
      }
    }
    servers.push(v1);
    const listen = new URL(v1.url).host;
    await assertServesSw(v1, await readFile(path.join(SITE_DIR, 'sw.js'), 'utf8'), 'original site');

    context = await newSignedInContext(browser, v1);
    const page = await context.newPage();
    recordConsole(page, log, () => label);
    let loads = 0;
    page.on('load', () => loads++);
    await page.goto(`${v1.url}/`);
    await waitHydrated(page);
    await waitSwControl(page, 15_000);
    await waitCached(page, SHELL_ROUTES.map((r) => r.path), 15_000);
    await pollPage(page, `Cache Storage to hold only ${oldCache}`,
      async (c) => { const k = await caches.keys(); return k.length === 1 && k[0] === c; }, oldCache,
      { timeout: 10_000, describe: () => caches.keys() });
    const before1 = await page.evaluate(swState);
    assert.equal(before1.waiting, null, `a worker is already waiting before any update: ${JSON.stringify(before1)}`);
    assert.equal(before1.banner, null, `#update-banner is shown before any update: ${JSON.stringify(before1)}`);
    await page.evaluate(() => {
      window.__ternUpdateTestMarker = 1; // gone after any full page load
      window.__v1Controller = navigator.serviceWorker.controller;
    });
    const loadsBeforeUpdate = loads;

    // --- Deploy version 2 on the same origin ---------------------------------------------
    label = 'v1 page, server restarting';
    const stopped = await v1.stop({ timeoutMs: 15_000, removeDataDir: false });
    assert.ok(!stopped.killed, 'version 1 server did not exit within 15 s of SIGTERM');
    // Same data: the user's session survives the deploy, as it would in production.
    const v2 = await startOn(listen, { name: 'tern-v2', siteDir: site2.dir, dataDir: v1.dataDir });
    servers.push(v2);
    assert.equal(v2.url, v1.url, 'the second server must listen on the same origin');
    // The precompressed sw.js.br/.gz are gone from the copy: the edited plain file must be served.
    await assertServesSw(v2, site2.swSource, 'updated site');

    label = 'v1 page, update check';
    await page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      await reg.update();
    });

    // --- Banner, and nothing takes over by itself ----------------------------------------
    label = 'v1 page, update waiting';
    const banner = page.locator('#update-banner');
    await banner.waitFor({ state: 'visible', timeout: 30_000 }).catch(async () => {
      const state = await page.evaluate(swState).catch((e) => `<${e.message}>`);
      throw new Error(`#update-banner did not appear within 30 s of registration.update(); state: ${JSON.stringify(state)}`);
    });
    const bannerAt = Date.now();
    assert.equal(await banner.getAttribute('role'), 'status', '#update-banner role');
    assert.match(await banner.innerText(), /Update available/, '#update-banner text');
    const reload = banner.getByRole('button', { name: 'Reload', exact: true });
    assert.equal(await reload.count(), 1, 'a "Reload" button inside #update-banner');
    assert.ok(await reload.isVisible(), 'the Reload button is visible');

    const holdUntil = bannerAt + HOLD_MS;
    let samples = 0;
    for (;;) {
      let s;
      try {
        s = await page.evaluate(swState);
      } catch (e) {
        assert.fail(`the page was navigated/reloaded while the update was waiting (no click on Reload): ${e.message}`);
      }
      samples++;
      const why = [];
      if (s.marker !== 1 || loads !== loadsBeforeUpdate) why.push('the page reloaded by itself');
      if (!s.controllerIsV1) why.push('the page is no longer controlled by the version 1 worker');
      if (!s.activeIsController) why.push('registration.active is not the page\'s controller');
      if (s.waiting !== 'installed') why.push('registration.waiting is not an installed worker');
      if (s.waitingIsController) why.push('the waiting worker controls the page');
      if (!s.caches.includes(oldCache)) why.push(`the old cache ${oldCache} was deleted`);
      if (!s.caches.includes(newCache)) why.push(`the new version did not precache into ${newCache}`);
      if (!s.banner || !/Update available/.test(s.banner)) why.push('#update-banner went away');
      assert.deepEqual(why, [],
        `a new version must never take over by itself; ${Date.now() - bannerAt} ms ` +
        `after the banner appeared (sample ${samples}): ${why.join('; ')}; state: ${JSON.stringify(s)}`);
      if (Date.now() >= holdUntil) break;
      await sleep(100);
    }

    // --- Reload switches to version 2 -----------------------------------------------------
    label = 'v2 page (after Reload)';
    const loaded = page.waitForEvent('load', { timeout: 30_000 });
    await reload.click();
    await loaded.catch(async () => {
      const state = await page.evaluate(swState).catch((e) => `<${e.message}>`);
      throw new Error(`clicking Reload did not reload the page within 30 s; state: ${JSON.stringify(state)}`);
    });
    await waitHydrated(page);
    await waitSwControl(page, 15_000);
    await pollPage(page, `the new worker to control the page with only ${newCache} left`,
      async (c) => {
        const reg = await navigator.serviceWorker.getRegistration();
        const ctl = navigator.serviceWorker.controller;
        const k = await caches.keys();
        return !!reg && !!ctl && reg.active === ctl && ctl.state === 'activated' && !reg.waiting &&
          !reg.installing && k.length === 1 && k[0] === c;
      }, newCache,
      { timeout: 15_000, describe: swState });
    const after2 = await page.evaluate(swState);
    assert.equal(after2.marker, null, `the page was not reloaded: ${JSON.stringify(after2)}`);
    assert.deepEqual(after2.caches, [newCache], 'Cache Storage after the update');
    assert.equal(after2.banner, null, `#update-banner is still shown after switching to the new version: ${JSON.stringify(after2)}`);
    await page.waitForTimeout(300); // late console messages
  } catch (e) {
    for (const srv of servers) srv.dump(0, `test "${t.name}" failed`);
    throw e;
  } finally {
    await context?.close();
    await Promise.allSettled(servers.map((srv) => srv.stop()));
    await rm(site2.dir, { recursive: true, force: true });
  }
  // The server is stopped on purpose for the deploy: a sync request it cut off
  // then is expected (the app tries again); nothing else is.
  const cutOffByTheRestart = (e) => e.label === 'v1 page, server restarting'
    && /Failed to load resource: net::ERR_CONNECTION_(RESET|REFUSED)/.test(e.text)
    && /\/api\/sync\//.test(e.url);
  const bad = consoleProblems(log, cutOffByTheRestart);
  assert.equal(bad.length, 0, `console errors / hydration messages:\n${formatConsole(bad)}`);
});
