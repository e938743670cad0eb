// Browser end-to-end tests of the Tern shell: routing + hydration, accessibility (axe-core),
// service worker + offline, web app manifest, security/caching headers, update banner.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/
// See tests/browser/README.md.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { brotliDecompressSync } from 'node:zlib';

import {
  ADMIN,
  SECTIONS,
  SHELL_ROUTES,
  SITE_DIR,
  TITLE_SUFFIX,
  axeSource,
  consoleProblems,
  formatConsole,
  launchBrowser,
  launchPersistentContext,
  newSignedInContext,
  openSignedIn,
  loadedPkgAssets,
  missingFromCaches,
  parseCsp,
  pngSize,
  rawRequest,
  recordConsole,
  sitePkgAssets,
  startServer,
  waitCached,
  waitH1,
  waitHydrated,
  waitInPage,
  waitSwControl,
  withServerLogs,
} from './harness.mjs';

let server; // shared server for all tests but the "server stopped" offline test
let browser;
const servers = () => [server];

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'tern' }), launchBrowser()]);
}, { timeout: 90_000 });

after(async () => {
  await Promise.allSettled([browser?.close(), server?.stop()]);
});

// ---------------------------------------------------------------------------
// Route table
// ---------------------------------------------------------------------------

const recommendationId = randomUUID();
const projectId = randomUUID();
const NOT_FOUND_PATH = '/does-not-exist/deeper';

/** path, expected h1 (title is "<h1> · Tern"), HTTP status, nav link that must be current, record id. */
const ROUTES = [
  ...SHELL_ROUTES.map((r) => ({ path: r.path, h1: r.title, status: 200, nav: r.path })),
  { path: `/recommendations/${recommendationId}`, h1: 'Recommendation', status: 200, nav: '/recommendations', recordId: recommendationId },
  { path: `/projects/${projectId}`, h1: 'Project', status: 200, nav: '/projects', recordId: projectId },
  { path: NOT_FOUND_PATH, h1: 'Page not found', status: 404, nav: null },
];

/** Chromium logs "Failed to load resource: ... 404" for the 404 document itself: expected there. */
const allowOwn404 = (pageUrl) => (e) =>
  e.kind === 'console' && e.type === 'error' && e.url === pageUrl &&
  /Failed to load resource: the server responded with a status of 404/.test(e.text);

/**
 * Checks the hydrated shell on the current page: h1, document.title, landmarks, skip link,
 * main nav (six section links, aria-current), connection status, [data-record-id].
 * Throws on the first failed check.
 */
async function checkShell(page, route, { connection = 'online' } = {}) {
  await waitHydrated(page);
  await waitH1(page, route.h1);
  const title = `${route.h1}${TITLE_SUFFIX}`;
  await waitInPage(page, `document.title "${title}"`, (t) => document.title === t, title, {
    describe: () => document.title,
  });

  // Landmarks, by computed ARIA role (a <header> nested in <main>/<section> is not a banner).
  const roles = [
    ['banner', page.getByRole('banner')],
    ['navigation "Main"', page.getByRole('navigation', { name: 'Main', exact: true })],
    ['main', page.getByRole('main')],
    ['contentinfo (footer)', page.getByRole('contentinfo')],
  ];
  for (const [name, loc] of roles) {
    const n = await loc.count();
    assert.equal(n, 1, `${route.path}: expected exactly one ${name} landmark, found ${n}`);
  }
  const shell = await page.evaluate(() => {
    const header = document.querySelector('header');
    const skip = document.querySelector('a[href="#main"]');
    const nav = document.querySelector('nav[aria-label="Main"]');
    const links = nav ? [...nav.querySelectorAll('a[href]')] : [];
    const status = document.querySelector('#connection-status');
    const rec = document.querySelector('main [data-record-id]');
    return {
      headerText: header ? header.textContent : null,
      mainId: document.querySelector('main') ? document.querySelector('main').id : null,
      skipText: skip ? skip.textContent.trim() : null,
      navPaths: links.map((a) => new URL(a.href).pathname),
      current: links.filter((a) => a.getAttribute('aria-current') === 'page').map((a) => new URL(a.href).pathname),
      otherCurrent: links
        .filter((a) => a.hasAttribute('aria-current') && a.getAttribute('aria-current') !== 'page')
        .map((a) => `${new URL(a.href).pathname}=${a.getAttribute('aria-current')}`),
      statusState: status ? status.dataset.state : null,
      statusText: status ? status.textContent.trim() : null,
      statusInHeader: !!(status && status.closest('header')),
      recordId: rec ? rec.getAttribute('data-record-id') : null,
    };
  });
  assert.ok(shell.headerText && /Tern/.test(shell.headerText), `${route.path}: <header> does not show the app name "Tern" (text: ${JSON.stringify(shell.headerText)})`);
  assert.equal(shell.mainId, 'main', `${route.path}: <main> must have id="main"`);
  assert.equal(shell.skipText, 'Skip to content', `${route.path}: skip link a[href="#main"] "Skip to content" missing or wrong`);
  for (const s of SECTIONS) {
    assert.ok(shell.navPaths.includes(s.path), `${route.path}: main nav has no link to ${s.path} (links: ${shell.navPaths.join(', ')})`);
  }
  // The Overview link ("/") is only required to be current on "/" if the nav has one.
  const expectedCurrent = route.nav && shell.navPaths.includes(route.nav) ? [route.nav] : [];
  assert.deepEqual(shell.current, expectedCurrent, `${route.path}: nav links with aria-current="page" should be ${JSON.stringify(expectedCurrent)}, are ${JSON.stringify(shell.current)}`);
  assert.deepEqual(shell.otherCurrent, [], `${route.path}: nav links with an aria-current other than "page"`);

  assert.ok(shell.statusInHeader, `${route.path}: #connection-status missing or not inside <header>`);
  assert.equal(shell.statusState, connection, `${route.path}: #connection-status data-state`);
  const label = connection === 'online' ? 'Online' : 'Offline';
  assert.ok(shell.statusText.includes(label), `${route.path}: #connection-status text should say "${label}", is ${JSON.stringify(shell.statusText)}`);
  if (route.recordId) {
    assert.equal(shell.recordId, route.recordId, `${route.path}: main [data-record-id] should carry the id from the URL`);
  }
}

// eslint-disable-next-line no-control-regex
const stripAnsi = (text) => String(text).replace(/\x1b\[[0-9;]*m/g, '');

function failIf(problems, what) {
  if (problems.length) assert.fail(stripAnsi(`${problems.length} ${what}:\n${problems.join('\n')}`));
}

// ---------------------------------------------------------------------------
// 1. Routes render and hydrate cleanly
// ---------------------------------------------------------------------------

test('every route renders, hydrates, has the right h1/title/aria-current and a clean console', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const problems = [];
  const log = [];
  const allowed = [];
  try {
    for (const route of ROUTES) {
      const page = await context.newPage();
      recordConsole(page, log, route.path);
      const url = server.url + route.path;
      if (route.status === 404) allowed.push(allowOwn404(url));
      try {
        const res = await page.goto(url);
        assert.ok(res, `${route.path}: no response`);
        assert.equal(res.status(), route.status, `${route.path}: HTTP status`);
        await checkShell(page, route);
        await page.waitForTimeout(300); // late console messages (effects after hydration)
      } catch (e) {
        problems.push(`- ${e.message}`);
      } finally {
        await page.close();
      }
    }
  } finally {
    await context.close();
  }
  const bad = consoleProblems(log, (e) => allowed.some((a) => a(e)));
  if (bad.length) problems.push(`- console errors / hydration messages:\n${formatConsole(bad)}`);
  failIf(problems, 'route problem(s)');
}));

test('client-side navigation through the main nav updates h1, title and aria-current', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const log = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, 'nav');
    await page.goto(`${server.url}/`);
    await checkShell(page, ROUTES[0]);
    // Marker survives client-side navigation but not a full page load.
    await page.evaluate(() => { window.__ternNoReload = true; });
    const nav = page.getByRole('navigation', { name: 'Main', exact: true });
    for (const s of [SECTIONS[1], SECTIONS[6], SECTIONS[0]]) { // Projects, Settings, Recommendations
      await nav.locator(`a[href="${s.path}"]`).first().click();
      await waitInPage(page, `location.pathname "${s.path}" after clicking its nav link`,
        (p) => location.pathname === p, s.path,
        { describe: () => ({ pathname: location.pathname, h1: document.querySelector('main h1')?.textContent.trim() }) });
      await checkShell(page, { path: s.path, h1: s.title, nav: s.path });
      assert.equal(await page.evaluate(() => window.__ternNoReload === true), true,
        `clicking the ${s.path} nav link did a full page load instead of client-side routing`);
    }
    await page.waitForTimeout(300);
  } finally {
    await context.close();
  }
  const bad = consoleProblems(log);
  assert.equal(bad.length, 0, `console errors / hydration messages:\n${formatConsole(bad)}`);
}));

// ---------------------------------------------------------------------------
// 2. Accessibility
// ---------------------------------------------------------------------------

function formatViolations(path, violations) {
  return violations.map((v) =>
    `- ${path}: [${v.impact}] ${v.id}: ${v.help}\n    ${v.helpUrl}\n` +
    v.nodes.map((n) => `    at ${n.target.join(' ')}\n      ${(n.failureSummary || '').replace(/\n/g, '\n      ')}`).join('\n'),
  ).join('\n');
}

test('axe-core finds no WCAG 2.1 A/AA violations on any route', { timeout: 150_000 }, withServerLogs(servers, async () => {
  // The CSP forbids inline scripts; bypassCSP lets us inject axe (this context only).
  const context = await newSignedInContext(browser, server, undefined, { bypassCSP: true });
  const source = axeSource();
  const problems = [];
  try {
    for (const route of ROUTES) {
      const page = await context.newPage();
      try {
        await page.goto(server.url + route.path);
        await waitHydrated(page);
        await waitH1(page, route.h1);
        await page.addScriptTag({ content: source });
        const violations = await page.evaluate(async () => {
          // eslint-disable-next-line no-undef
          const r = await axe.run(document, {
            runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
            resultTypes: ['violations'],
          });
          return r.violations.map((v) => ({
            id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
            nodes: v.nodes.map((n) => ({ target: n.target.map(String), failureSummary: n.failureSummary })),
          }));
        });
        if (violations.length) problems.push(formatViolations(route.path, violations));
      } catch (e) {
        problems.push(`- ${route.path}: ${e.message}`);
      } finally {
        await page.close();
      }
    }
  } finally {
    await context.close();
  }
  failIf(problems, 'route(s) with accessibility violations');
}));

// ---------------------------------------------------------------------------
// 3. Service worker
// ---------------------------------------------------------------------------

const SHELL_PATHS = SHELL_ROUTES.map((r) => r.path);

test('service worker registers, controls the page and precaches the shell routes and assets', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const log = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, '/');
    await page.goto(`${server.url}/`);
    await waitHydrated(page);
    const sw = await waitSwControl(page, 15_000);
    assert.equal(sw.scope, `${server.url}/`, 'service worker scope');
    assert.equal(sw.script, `${server.url}/sw.js`, 'service worker script URL');
    const controller = await page.evaluate(() => navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL);
    assert.equal(controller, `${server.url}/sw.js`, 'navigator.serviceWorker.controller');

    await waitCached(page, SHELL_PATHS, 15_000);
    const assets = await loadedPkgAssets(page);
    assert.ok(assets.length > 0, 'the page loaded nothing from /pkg/ (expected the hashed JS/wasm/CSS)');
    const missing = await missingFromCaches(page, assets);
    assert.deepEqual(missing, [], `/pkg/ assets the page loaded but the service worker did not cache (all: ${assets.join(', ')})`);
  } finally {
    await context.close();
  }
  const bad = consoleProblems(log);
  assert.equal(bad.length, 0, `console errors / hydration messages:\n${formatConsole(bad)}`);
}));

// ---------------------------------------------------------------------------
// 4. Offline
// ---------------------------------------------------------------------------

/**
 * Visits "/" (waits for SW control + complete precache) and two more routes, calls
 * `goOffline`, then reloads each visited route, opens precached never-visited sections (one of
 * them in a page module this page never fetched) and a never-visited record route, all of which
 * must render, hydrate and keep the console clean.
 */
async function offlineScenario(srv, { goOffline, connection }) {
  const context = await newSignedInContext(browser, srv);
  const log = [];
  let label = 'online /';
  const problems = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, () => label);
    await page.goto(`${srv.url}/`);
    await checkShell(page, ROUTES[0]);
    await waitSwControl(page, 15_000);
    await waitCached(page, SHELL_PATHS, 15_000);

    const visited = [ROUTES[0], ROUTES.find((r) => r.path === '/projects'), ROUTES.find((r) => r.path === '/settings')];
    for (const route of visited.slice(1)) {
      label = `online ${route.path}`;
      await page.goto(srv.url + route.path);
      await checkShell(page, route);
    }

    label = 'going offline';
    await goOffline(context, page);
    if (connection === 'offline') {
      // The already-open page must follow the window "offline" event without a reload.
      await waitInPage(page, '#connection-status[data-state="offline"] after going offline',
        () => { const s = document.querySelector('#connection-status'); return !!s && s.dataset.state === 'offline' && /Offline/.test(s.textContent); },
        null, { describe: () => { const s = document.querySelector('#connection-status'); return s && { state: s.dataset.state, text: s.textContent.trim() }; } });
    }

    const newId = randomUUID();
    const offlineRoutes = [
      ...visited,
      { path: '/organisations', h1: 'Organisations', nav: '/people' }, // precached, never visited
      ROUTES.find((r) => r.path === '/sync'), // its page module was never fetched: precached too
      { path: `/recommendations/${newId}`, h1: 'Recommendation', nav: '/recommendations', recordId: newId },
    ];
    for (const route of offlineRoutes) {
      label = `offline ${route.path}`;
      try {
        const res = await page.goto(srv.url + route.path);
        assert.ok(res, `${route.path} (offline): no response`);
        assert.equal(res.status(), 200, `${route.path} (offline): HTTP status`);
        assert.ok(res.fromServiceWorker(), `${route.path} (offline): response did not come from the service worker`);
        await checkShell(page, route, { connection });
      } catch (e) {
        problems.push(`- offline ${route.path}: ${e.message}`);
      }
    }
    // And a plain reload of the current (record) page.
    label = 'offline reload';
    try {
      await page.reload();
      await checkShell(page, offlineRoutes.at(-1), { connection });
    } catch (e) {
      problems.push(`- offline reload of ${offlineRoutes.at(-1).path}: ${e.message}`);
    }
    await page.waitForTimeout(300);

    if (connection === 'offline') {
      label = 'back online';
      await context.setOffline(false);
      try {
        await waitInPage(page, '#connection-status[data-state="online"] after going back online',
          () => { const s = document.querySelector('#connection-status'); return !!s && s.dataset.state === 'online' && /Online/.test(s.textContent); },
          null, { describe: () => { const s = document.querySelector('#connection-status'); return s && { state: s.dataset.state, text: s.textContent.trim() }; } });
      } catch (e) {
        problems.push(`- ${e.message}`);
      }
    }
  } finally {
    await context.close();
  }
  const bad = consoleProblems(log, allowSyncUnreachable);
  if (bad.length) problems.push(`- console errors / hydration messages:\n${formatConsole(bad)}`);
  return problems;
}

/**
 * With the server gone, the app keeps trying to reach its API (sync, the session check, the
 * secretariat's panels), and Chromium logs each refused request.
 */
const allowSyncUnreachable = (e) =>
  e.kind === 'console' && /Failed to load resource: net::ERR_/.test(e.text) &&
  /\/api\//.test(e.url);

test('offline (browser offline): visited, precached and new record routes load from the service worker', { timeout: 90_000 }, withServerLogs(servers, async () => {
  const problems = await offlineScenario(server, {
    connection: 'offline',
    goOffline: async (context, page) => {
      await context.setOffline(true);
      await waitInPage(page, 'navigator.onLine === false', () => navigator.onLine === false, null);
    },
  });
  failIf(problems, 'offline problem(s)');
}));

test('offline (server stopped): visited, precached and new record routes load from the service worker', { timeout: 120_000 }, async (t) => {
  const own = await startServer({ name: 'tern-stopped' });
  let stopped = null;
  try {
    const problems = await offlineScenario(own, {
      connection: 'online', // navigator.onLine stays true when only the server is gone
      goOffline: async () => {
        stopped = await own.stop({ timeoutMs: 15_000 });
      },
    });
    assert.ok(stopped, 'server was not stopped');
    if (stopped.killed) problems.push('- server did not exit within 15 s of SIGTERM (had to SIGKILL it)');
    else if (stopped.code !== 0) problems.push(`- server did not shut down cleanly on SIGTERM: ${JSON.stringify(stopped)}`);
    failIf(problems, 'offline problem(s)');
  } catch (e) {
    own.dump(0, `test "${t.name}" failed`);
    throw e;
  } finally {
    await own.stop();
  }
});

// ---------------------------------------------------------------------------
// 5. Web app manifest
// ---------------------------------------------------------------------------

function parseAttrs(tag) {
  const attrs = {};
  for (const m of tag.matchAll(/([^\s=<>"'/]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/g)) {
    attrs[m[1].toLowerCase()] = m[2] ?? m[3] ?? m[4];
  }
  return attrs;
}

test('web app manifest is linked, complete, and its icons are real PNGs of the declared size', { timeout: 30_000 }, withServerLogs(servers, async () => {
  // The <link rel="manifest"> check is reported together with, not instead of, the manifest checks.
  let linkProblem = null;
  try {
    const home = await rawRequest(`${server.url}/`, { headers: { accept: 'text/html' } });
    assert.equal(home.status, 200, 'GET /');
    const head = home.body.toString('utf8').split(/<\/head>/i)[0];
    const manifestLinks = [...head.matchAll(/<link\b[^>]*>/gi)].map((m) => parseAttrs(m[0]))
      .filter((a) => (a.rel || '').toLowerCase().split(/\s+/).includes('manifest'));
    assert.equal(manifestLinks.length, 1, 'expected exactly one <link rel="manifest"> in the <head> of /');
    assert.equal(new URL(manifestLinks[0].href, `${server.url}/`).pathname, '/manifest.webmanifest', 'manifest link href');
  } catch (e) {
    linkProblem = e;
  }
  const manifestUrl = new URL('/manifest.webmanifest', `${server.url}/`);
  try {
    await checkManifest(manifestUrl);
  } catch (e) {
    if (linkProblem) e.message = `${e.message}\n(also: ${linkProblem.message})`;
    throw e;
  }
  if (linkProblem) throw linkProblem;
}));

test('Chromium reports the app installable (manifest, icons, service worker)', { timeout: 60_000 }, withServerLogs(servers, async () => {
  // A persistent profile: Chromium never offers installation in an incognito-like context.
  const profile = await mkdtemp(path.join(os.tmpdir(), 'tern-e2e-profile-'));
  const context = await launchPersistentContext(profile);
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await waitHydrated(page);
    await waitSwControl(page);
    const cdp = await context.newCDPSession(page);
    // Chrome's own installability check, the one behind its "Install app" prompt.
    const { installabilityErrors } = await cdp.send('Page.getInstallabilityErrors');
    assert.deepEqual(
      installabilityErrors.map((e) => `${e.errorId} ${JSON.stringify(e.errorArguments)}`),
      [],
      'Chromium installability errors',
    );
  } finally {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  }
}));

async function checkManifest(manifestUrl) {
  const res = await rawRequest(manifestUrl.href);
  assert.equal(res.status, 200, 'GET /manifest.webmanifest');
  assert.match(String(res.headers['content-type']), /^application\/(manifest\+)?json/, 'manifest content-type');
  const manifest = JSON.parse(res.body.toString('utf8'));

  for (const key of ['name', 'short_name', 'start_url', 'scope', 'theme_color']) {
    assert.equal(typeof manifest[key], 'string', `manifest.${key} must be a string`);
    assert.ok(manifest[key].trim().length > 0, `manifest.${key} must not be empty`);
  }
  assert.match(manifest.name, /Tern/, 'manifest.name');
  assert.equal(manifest.display, 'standalone', 'manifest.display');
  assert.match(manifest.theme_color, /^(#[0-9a-f]{3,8}|[a-z]+|(rgb|hsl)a?\(.+\))$/i, 'manifest.theme_color is a colour');
  const scope = new URL(manifest.scope, manifestUrl);
  const start = new URL(manifest.start_url, manifestUrl);
  assert.equal(scope.href, `${server.url}/`, 'manifest.scope resolves to the origin root');
  assert.equal(start.origin, server.url, 'manifest.start_url is same-origin');
  assert.ok(start.pathname.startsWith(scope.pathname), 'manifest.start_url is within scope');

  assert.ok(Array.isArray(manifest.icons), 'manifest.icons must be an array');
  const expected = ['/icons/icon-192.png', '/icons/icon-512.png', '/icons/icon-maskable-512.png'];
  const bySrc = new Map(manifest.icons.map((i) => [new URL(i.src, manifestUrl).pathname, i]));
  for (const src of expected) assert.ok(bySrc.has(src), `manifest.icons lacks ${src} (has ${[...bySrc.keys()].join(', ')})`);

  let maskable = 0;
  for (const [src, icon] of bySrc) {
    const purposes = String(icon.purpose || 'any').toLowerCase().split(/\s+/);
    if (purposes.includes('maskable')) maskable++;
    if (icon.type !== undefined) assert.equal(icon.type, 'image/png', `${src}: declared type`);
    const r = await rawRequest(new URL(icon.src, manifestUrl).href);
    assert.equal(r.status, 200, `GET ${src}`);
    assert.match(String(r.headers['content-type']), /^image\/png\b/, `${src}: content-type`);
    const { width, height } = pngSize(r.body);
    const sizes = String(icon.sizes || '').split(/\s+/).filter(Boolean);
    assert.ok(sizes.length > 0, `${src}: no "sizes"`);
    assert.ok(sizes.includes(`${width}x${height}`), `${src}: real size ${width}x${height} is not among declared sizes ${JSON.stringify(icon.sizes)}`);
    const m = /-(\d+)\.png$/.exec(src);
    if (m) assert.equal(`${width}x${height}`, `${m[1]}x${m[1]}`, `${src}: pixel size does not match its name`);
  }
  assert.ok(bySrc.get('/icons/icon-maskable-512.png').purpose?.split(/\s+/).includes('maskable'), 'icon-maskable-512.png must have purpose "maskable"');
  assert.ok(maskable >= 1, 'no icon has purpose "maskable"');
  assert.ok([...bySrc.values()].some((i) => String(i.purpose || 'any').split(/\s+/).includes('any')), 'no icon with purpose "any" (or no purpose)');
}

// ---------------------------------------------------------------------------
// 6. Security and caching headers
// ---------------------------------------------------------------------------

test('HTML pages carry a strict CSP and security headers; hashed /pkg/ assets are immutable and brotli-encoded', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const problems = [];
  let html = '';
  for (const [p, status] of [['/', 200], ['/settings', 200], [`/recommendations/${recommendationId}`, 200], [NOT_FOUND_PATH, 404]]) {
    let res;
    try {
      res = await rawRequest(server.url + p, { headers: { accept: 'text/html' } });
    } catch (e) {
      problems.push(`- ${p}: ${e.message}`);
      continue;
    }
    if (p === '/') html = res.body.toString('utf8');
    const h = res.headers;
    if (res.status !== status) problems.push(`- ${p}: status ${res.status}, expected ${status}`);
    if (!/^text\/html\b/.test(String(h['content-type']))) problems.push(`- ${p}: content-type ${h['content-type']}`);
    const cspHeader = h['content-security-policy'];
    if (!cspHeader) {
      problems.push(`- ${p}: no content-security-policy header`);
    } else {
      const csp = parseCsp(cspHeader);
      const scriptSrc = csp.get('script-src') ?? csp.get('default-src');
      if (!scriptSrc) problems.push(`- ${p}: CSP has neither script-src nor default-src: ${cspHeader}`);
      else {
        if (!scriptSrc.includes("'wasm-unsafe-eval'")) problems.push(`- ${p}: script-src lacks 'wasm-unsafe-eval': ${cspHeader}`);
        if (scriptSrc.includes("'unsafe-inline'")) problems.push(`- ${p}: script-src allows 'unsafe-inline': ${cspHeader}`);
        if (scriptSrc.includes("'unsafe-eval'")) problems.push(`- ${p}: script-src allows 'unsafe-eval': ${cspHeader}`);
      }
      const fa = csp.get('frame-ancestors');
      if (!fa || fa.length !== 1 || fa[0] !== "'none'") problems.push(`- ${p}: CSP frame-ancestors is not 'none': ${cspHeader}`);
    }
    if (String(h['x-content-type-options']).toLowerCase() !== 'nosniff') problems.push(`- ${p}: x-content-type-options is ${h['x-content-type-options']}`);
    if (!h['referrer-policy']) problems.push(`- ${p}: no referrer-policy header`);
  }

  const fromHtml = [...html.matchAll(/["'(](\/pkg\/[^"'()\s?#]+)/g)].map((m) => m[1]);
  const assets = [...new Set([...sitePkgAssets(), ...fromHtml])].sort();
  assert.ok(assets.length > 0, `no /pkg/ assets found (neither in ${path.join(SITE_DIR, 'pkg')} nor referenced from /)`);
  for (const a of assets) {
    let br, plain;
    try {
      br = await rawRequest(server.url + a, { headers: { 'accept-encoding': 'br' } });
      plain = await rawRequest(server.url + a, { headers: { 'accept-encoding': 'identity' } });
    } catch (e) {
      problems.push(`- ${a}: ${e.message}`);
      continue;
    }
    if (br.status !== 200) { problems.push(`- ${a}: status ${br.status}`); continue; }
    if (!/\bimmutable\b/.test(String(br.headers['cache-control']))) problems.push(`- ${a}: cache-control ${JSON.stringify(br.headers['cache-control'])} lacks immutable`);
    if (br.headers['content-encoding'] !== 'br') problems.push(`- ${a} (accept-encoding: br): content-encoding ${JSON.stringify(br.headers['content-encoding'])}`);
    else {
      const onDisk = path.join(SITE_DIR, a.replace(/^\//, ''));
      try {
        const body = brotliDecompressSync(br.body);
        if (existsSync(onDisk) && !body.equals(readFileSync(onDisk))) problems.push(`- ${a}: brotli body does not decompress to the file on disk (stale .br?)`);
      } catch (e) {
        problems.push(`- ${a}: brotli body does not decompress: ${e.message}`);
      }
    }
    if (a.endsWith('.wasm') && !/^application\/wasm\b/.test(String(br.headers['content-type']))) problems.push(`- ${a}: content-type ${br.headers['content-type']} (needs application/wasm)`);
    if (/\.m?js$/.test(a) && !/^(text|application)\/javascript\b/.test(String(br.headers['content-type']))) problems.push(`- ${a}: content-type ${br.headers['content-type']}`);
    if (!String(br.headers.vary || '').toLowerCase().includes('accept-encoding')) problems.push(`- ${a}: no "vary: accept-encoding" on an encoded response`);

    if (plain.headers['content-encoding'] && plain.headers['content-encoding'] !== 'identity') problems.push(`- ${a} (accept-encoding: identity): got content-encoding ${plain.headers['content-encoding']}`);
  }
  failIf(problems, 'header problem(s)');
}));

// ---------------------------------------------------------------------------
// 7. Update banner
// ---------------------------------------------------------------------------

test('update banner appears on tern:update-available with a Reload button', { timeout: 30_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const log = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, '/');
    await page.goto(`${server.url}/`);
    await checkShell(page, ROUTES[0]);
    const banner = page.locator('#update-banner');
    assert.equal(await banner.isVisible(), false, '#update-banner is visible before any update is available');
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('tern:update-available')));
    await banner.waitFor({ state: 'visible', timeout: 5_000 }).catch(() => {
      throw new Error('#update-banner did not become visible after tern:update-available');
    });
    assert.equal(await banner.getAttribute('role'), 'status', '#update-banner role');
    assert.match(await banner.innerText(), /Update available/, '#update-banner text');
    const reload = banner.getByRole('button', { name: 'Reload', exact: true });
    assert.equal(await reload.count(), 1, 'a "Reload" button inside #update-banner');
    assert.ok(await reload.isVisible(), 'the Reload button is visible');
    await page.waitForTimeout(200);
  } finally {
    await context.close();
  }
  const bad = consoleProblems(log);
  assert.equal(bad.length, 0, `console errors / hydration messages:\n${formatConsole(bad)}`);
}));

// ---------------------------------------------------------------------------
// Page modules
// ---------------------------------------------------------------------------

test('a page whose module cannot be fetched says so, keeps the frame working, and "Try again" loads it', { timeout: 60_000 }, withServerLogs(servers, async () => {
  // Without a service worker the page fetches its modules from the network, where the test can
  // fail them (as on a first visit that goes offline before the worker has saved them).
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    let failUsersModule = true;
    let refused = 0;
    // Users shares its module with the other pages seldom opened (app/src/pages.rs).
    await page.route(/\/pkg\/split_account-[\w]+\.wasm$/, (route) => {
      if (!failUsersModule) return route.continue();
      refused += 1;
      return route.abort('internetdisconnected');
    });
    await openSignedIn(page, server);
    await page.click('nav a[href="/users"]');

    const unavailable = page.locator('main .page-unavailable[role="alert"]');
    await unavailable.waitFor({ timeout: 20_000 }).catch(() => {
      throw new Error('no "could not be loaded" message after the users module failed to load');
    });
    assert.ok(refused >= 1, 'the users page module was requested (and refused)');
    assert.equal(await unavailable.locator('h1').innerText(), 'This page could not be loaded');
    assert.match(await unavailable.innerText(), /Your work is safe on this device/);

    // The rest of the app still works: a page of another module opens.
    await page.click('nav a[href="/recommendations"]');
    await waitH1(page, 'Recommendations');

    await page.click('nav a[href="/users"]');
    await unavailable.waitFor({ timeout: 20_000 });
    failUsersModule = false;
    await page.click('#page-retry');
    await waitH1(page, 'Users');
    assert.equal(await unavailable.count(), 0, 'the message is gone once the page loaded');
  } finally {
    await context.close();
  }
}));

test('the sign-in screen of a new device fetches no page module; signing in fetches the page\'s', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    const modules = [];
    page.on('request', (request) => {
      const name = new URL(request.url()).pathname.match(/^\/pkg\/((?:split|chunk)_\w+)-\w+\.wasm$/);
      if (name) modules.push(name[1]);
    });
    await page.goto(`${server.url}/recommendations`);
    await waitHydrated(page);
    await page.waitForSelector('#sign-in-email', { timeout: 20_000 });
    await page.waitForTimeout(500);
    assert.deepEqual(modules, [], 'page modules fetched for the sign-in screen (bench/size.sh counts it without them)');

    await page.fill('#sign-in-email', ADMIN.email);
    await page.fill('#sign-in-password', ADMIN.password);
    await page.click('#sign-in');
    await waitH1(page, 'Recommendations');
    assert.ok(modules.includes('split_lists'), `the lists module was fetched after signing in (fetched: ${modules.join(', ')})`);
    assert.ok(modules.includes('split_engine'), `the sync engine's module was fetched after signing in (fetched: ${modules.join(', ')})`);
  } finally {
    await context.close();
  }
}));

test('when the sync engine\'s module cannot be fetched, the header says so and sync starts once it can', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const context = await browser.newContext({ serviceWorkers: 'block' });
  try {
    const page = await context.newPage();
    let failEngine = true;
    let refused = 0;
    await page.route(/\/pkg\/split_engine-[\w]+\.wasm$/, (route) => {
      if (!failEngine) return route.continue();
      refused += 1;
      return route.abort('internetdisconnected');
    });
    await page.goto(`${server.url}/sync`);
    await waitHydrated(page);
    await page.fill('#sign-in-email', ADMIN.email);
    await page.fill('#sign-in-password', ADMIN.password);
    await page.click('#sign-in');
    const status = page.locator('#sync-status');
    await page.waitForFunction(
      () => /Sync could not start/.test(document.querySelector('#sync-status')?.textContent ?? ''),
      null, { timeout: 20_000 },
    ).catch(async () => {
      throw new Error(`the header did not say sync could not start; it says "${await status.textContent().catch(() => '')}"`);
    });
    assert.ok(refused >= 1, 'the engine module was requested (and refused)');
    assert.equal(await status.getAttribute('data-state'), 'error');

    failEngine = false;
    await page.waitForFunction(
      () => document.querySelector('#sync-status')?.getAttribute('data-state') === 'synced',
      null, { timeout: 30_000 },
    ).catch(async () => {
      throw new Error(`sync did not start once the engine could be fetched; the header says "${await status.textContent().catch(() => '')}"`);
    });
  } finally {
    await context.close();
  }
}));

// ---------------------------------------------------------------------------
// Record pages
// ---------------------------------------------------------------------------

test('a record page shows no raw id, and "Copy link" puts its address on the clipboard', { timeout: 60_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server, ADMIN, { permissions: ['clipboard-read', 'clipboard-write'] });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/recommendations`);
    await waitHydrated(page);
    await page.getByRole('button', { name: 'New recommendation' }).click();
    await page.waitForURL(/\/recommendations\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').pop();
    await page.getByLabel('Title', { exact: true }).waitFor();
    assert.ok(!(await page.locator('main').innerText()).includes(id), 'the record page shows its raw id');

    await page.getByRole('button', { name: 'Copy link' }).click();
    await page.getByRole('status').filter({ hasText: 'Link copied.' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), page.url(), 'the clipboard holds the record\'s address');
  } finally {
    await context.close();
  }
}));
