// Helpers for the Tern browser end-to-end tests (node --test + playwright-core + axe-core).
//
// Environment:
//   TERN_BIN          server binary (default ${CARGO_TARGET_DIR:-<root>/target}/debug/tern)
//   TERN_SITE_DIR     built site served by the server (default ${CARGO_TARGET_DIR:-<root>/target}/site)
//   CHROMIUM_PATH     Chromium executable (default /usr/bin/chromium)
//   TERN_E2E_HEADED=1 show the browser window (needs a display)

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const TARGET_DIR = process.env.CARGO_TARGET_DIR
  ? path.resolve(ROOT, process.env.CARGO_TARGET_DIR)
  : path.join(ROOT, 'target');
export const TERN_BIN = process.env.TERN_BIN
  ? path.resolve(process.env.TERN_BIN)
  : path.join(TARGET_DIR, 'debug', 'tern');
export const SITE_DIR = process.env.TERN_SITE_DIR
  ? path.resolve(process.env.TERN_SITE_DIR)
  : path.join(TARGET_DIR, 'site');
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The route-independent shell routes, with the h1 / title each must show. */
export const SECTIONS = [
  { path: '/recommendations', title: 'Recommendations' },
  { path: '/projects', title: 'Projects' },
  { path: '/consultations', title: 'Consultations' },
  { path: '/good-practices', title: 'Good practices' },
  { path: '/people', title: 'People' },
  { path: '/sync', title: 'Sync' },
  { path: '/settings', title: 'Settings' },
];
export const SHELL_ROUTES = [{ path: '/', title: 'Overview' }, ...SECTIONS];
export const TITLE_SUFFIX = ' · Tern';

/** The secretariat account every test server starts with (TERN_ADMIN_EMAIL / _PASSWORD). */
export const ADMIN = { email: 'secretariat@tern.test', password: 'a long test password for the secretariat' };
/** Where the app keeps the last confirmed session (app/src/session.rs). */
export const SESSION_KEY = 'tern.session';

// ---------------------------------------------------------------------------
// Server
// ---------------------------------------------------------------------------

const LISTEN_RE = /listening on (http:\/\/[^\s"]+)/;
// eslint-disable-next-line no-control-regex
const ANSI_RE = /\x1b\[[0-9;]*[A-Za-z]/g;
const MAX_LOG_LINES_PRINTED = 400;

// Every server this test file started: when the file's tests are done, the file fails if any
// server's output mentions a panic (the server logs contained panics from clients' bytes as a
// warning without that word, so a panic here is a bug).
const startedServers = [];
const PANIC_RE = /panicked/;
const PANIC_CONTEXT_LINES = 5;

/** The lines around every panic in `lines`, or '' if there is none. */
export function panicsIn(lines) {
  const shown = new Set();
  lines.forEach((line, at) => {
    if (!PANIC_RE.test(line)) return;
    const from = Math.max(0, at - PANIC_CONTEXT_LINES);
    const to = Math.min(lines.length, at + PANIC_CONTEXT_LINES + 1);
    for (let i = from; i < to; i += 1) shown.add(i);
  });
  let out = '';
  let previous = -2;
  for (const i of [...shown].sort((a, b) => a - b)) {
    if (i !== previous + 1 && out) out += '  ...\n';
    out += `  ${lines[i]}\n`;
    previous = i;
  }
  return out;
}

after(async () => {
  // Stopped first (the file's own hooks may run later), so shutdown's output is read too.
  await Promise.allSettled(startedServers.map((server) => server.stop()));
  const reports = startedServers
    .map((server) => panicsIn(server.lines))
    .filter(Boolean);
  if (reports.length) {
    throw new Error(`server output contains "panicked":\n${reports.join('  ---\n')}`);
  }
});

/**
 * Starts `tern --listen <listen> --data-dir <fresh tmp> --site-dir <siteDir>`, waits for the
 * "listening on http://..." line (60 s) and for GET /healthz == 200.
 * `listen` defaults to 127.0.0.1:0 (a free port); pass e.g. `127.0.0.1:${await freePort()}` to
 * keep one origin across server restarts. `siteDir` defaults to SITE_DIR; `dataDir` reuses a
 * stopped server's data directory (stop it with removeDataDir: false); `env` adds variables.
 * Returns { url, proc, dataDir, mark(), logsSince(mark), dump(mark, why), stop() }.
 */
export async function startServer({
  name = 'tern',
  startupTimeoutMs = 60_000,
  listen = '127.0.0.1:0',
  siteDir = SITE_DIR,
  env = {},
  dataDir: reuseDataDir = null,
} = {}) {
  if (!existsSync(TERN_BIN)) {
    throw new Error(
      `server binary not found: ${TERN_BIN}\n` +
        '  build it (cargo build --bin tern) or point TERN_BIN at it',
    );
  }
  if (!existsSync(siteDir)) {
    throw new Error(
      `built site not found: ${siteDir}\n` +
        '  build it (scripts/build-site.sh) or point TERN_SITE_DIR at it',
    );
  }
  // A restarted server may reuse its predecessor's data (accounts, sessions, records).
  const dataDir = reuseDataDir ?? (await mkdtemp(path.join(os.tmpdir(), 'tern-e2e-data-')));
  const lines = [];
  const proc = spawn(
    TERN_BIN,
    ['--listen', listen, '--data-dir', dataDir, '--site-dir', siteDir],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        RUST_LOG: 'info',
        NO_COLOR: '1',
        TERN_ADMIN_EMAIL: ADMIN.email,
        TERN_ADMIN_PASSWORD: ADMIN.password,
        // Every test signs in several users from 127.0.0.1; the per-IP limit is tested natively.
        TERN_SIGN_IN_PER_IP_PER_MINUTE: '10000',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exited = { code, signal };
      lines.push(`[${name}] <process exited: code=${code} signal=${signal}>`);
      resolve(exited);
    });
  });

  let resolveUrl;
  const urlPromise = new Promise((r) => (resolveUrl = r));
  for (const [stream, label] of [
    [proc.stdout, 'out'],
    [proc.stderr, 'err'],
  ]) {
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      buf += chunk;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl).replace(ANSI_RE, '');
        buf = buf.slice(nl + 1);
        lines.push(`[${name} ${label}] ${line}`);
        const m = LISTEN_RE.exec(line);
        if (m) resolveUrl(m[1].replace(/\/+$/, ''));
      }
    });
  }
  proc.on('error', (e) => lines.push(`[${name}] <spawn error: ${e.message}>`));

  const server = {
    name,
    proc,
    dataDir,
    url: null,
    lines,
    get exited() {
      return exited;
    },
    mark: () => lines.length,
    logsSince: (mark = 0) => lines.slice(mark),
    dump(mark = 0, why = 'test failed') {
      const all = lines.slice(mark);
      const shown = all.slice(-MAX_LOG_LINES_PRINTED);
      const skipped = all.length - shown.length;
      process.stderr.write(
        `\n----- ${name} server output (${why}; ${all.length} lines` +
          (skipped ? `, first ${skipped} omitted` : '') +
          `) -----\n${shown.join('\n')}\n----- end of ${name} server output -----\n`,
      );
    },
    /** SIGTERM, wait for exit (falls back to SIGKILL after timeoutMs). Returns {code, signal, killed}. */
    async stop({ timeoutMs = 15_000, removeDataDir = true } = {}) {
      let killed = false;
      if (!exited) {
        proc.kill('SIGTERM');
        const timer = new Promise((r) => setTimeout(() => r('timeout'), timeoutMs).unref());
        if ((await Promise.race([exitPromise, timer])) === 'timeout') {
          killed = true;
          lines.push(`[${name}] <did not exit ${timeoutMs} ms after SIGTERM; sending SIGKILL>`);
          proc.kill('SIGKILL');
          await exitPromise;
        }
      }
      if (removeDataDir) await rm(dataDir, { recursive: true, force: true });
      return { ...exited, killed };
    },
  };

  startedServers.push(server);

  const fail = async (msg) => {
    await server.stop({ timeoutMs: 5_000 });
    throw new Error(`${msg}\n--- ${name} server output ---\n${lines.join('\n')}\n--- end ---`);
  };

  const timeout = new Promise((r) => setTimeout(() => r('timeout'), startupTimeoutMs).unref());
  const first = await Promise.race([urlPromise, exitPromise.then(() => 'exited'), timeout]);
  if (first === 'timeout') await fail(`server did not log "listening on http://..." within ${startupTimeoutMs} ms`);
  if (first === 'exited') await fail(`server exited during startup (${JSON.stringify(exited)})`);
  server.url = first;

  const deadline = Date.now() + startupTimeoutMs;
  let last = 'no response';
  for (;;) {
    if (exited) await fail(`server exited before /healthz answered (${JSON.stringify(exited)})`);
    try {
      const res = await rawRequest(`${server.url}/healthz`, { timeoutMs: 2_000 });
      if (res.status === 200) break;
      last = `status ${res.status}`;
    } catch (e) {
      last = e.message;
    }
    if (Date.now() > deadline) await fail(`GET /healthz did not return 200 in time (last: ${last})`);
    await sleep(200);
  }
  return server;
}

// ---------------------------------------------------------------------------
// Accounts
// ---------------------------------------------------------------------------

/**
 * One JSON call to the server's API from Node, as a browser on the server's origin would make
 * it. `cookie` is a `name=value` session cookie. Returns { status, body, cookie } where `cookie`
 * is the session cookie the answer set, if any.
 */
export async function api(server, path, { method = 'GET', body, cookie } = {}) {
  const headers = { origin: server.url };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (cookie) headers.cookie = cookie;
  const res = await fetch(server.url + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  const set = (res.headers.getSetCookie?.() ?? []).find((c) => /tern_session=/.test(c));
  const setCookie = set ? set.split(';')[0] : null;
  return { status: res.status, body: parsed, cookie: setCookie };
}

/** Signs in from Node; returns the session cookie (throws unless 200). */
export async function apiSignIn(server, { email, password } = ADMIN) {
  const res = await api(server, '/api/auth/v1/sign-in', { method: 'POST', body: { email, password } });
  if (res.status !== 200 || !res.cookie) {
    throw new Error(`sign-in of ${email} failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.cookie;
}

let userCounter = 0;
/**
 * Creates a user through the secretariat's API and accepts the invitation with a password.
 * Returns { id, email, password, name, role, member_state }.
 */
export async function createUser(server, { role = 'member', member_state = null, name } = {}) {
  userCounter += 1;
  const email = `${role}${userCounter}.${Date.now()}@tern.test`;
  const password = `password of ${email}`;
  const admin = await apiSignIn(server);
  const created = await api(server, '/api/admin/v1/users', {
    method: 'POST',
    cookie: admin,
    body: { name: name ?? `${role} ${userCounter}`, email, role, member_state, organisation: 'Test ministry' },
  });
  if (created.status < 200 || created.status > 299) throw new Error(`creating ${email}: ${created.status} ${JSON.stringify(created.body)}`);
  const token = created.body.link.split('#')[1];
  const accepted = await api(server, '/api/auth/v1/invitation', { method: 'POST', body: { token, password } });
  if (accepted.status < 200 || accepted.status > 299) throw new Error(`accepting ${email}: ${accepted.status} ${JSON.stringify(accepted.body)}`);
  return { id: created.body.user, email, password, name: name ?? `${role} ${userCounter}`, role, member_state };
}

/** Secretariat API call with a fresh admin session; throws unless 2xx. Returns the body. */
export async function adminApi(server, path, options = {}) {
  const cookie = await apiSignIn(server);
  const res = await api(server, path, { ...options, cookie });
  if (res.status < 200 || res.status >= 300) {
    throw new Error(`${options.method ?? 'GET'} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return res.body;
}

/**
 * Signs `page` in as `user` through the sign-in form (the page must show it) and waits for
 * the identity in the header.
 */
export async function signInThroughForm(page, { email, password } = ADMIN) {
  await page.waitForSelector('#sign-in-email', { timeout: 20_000 });
  await page.fill('#sign-in-email', email);
  await page.fill('#sign-in-password', password);
  await page.click('#sign-in');
  await page.waitForSelector('#identity', { timeout: 20_000 });
}

/** Opens the server's start page in `page` and signs in through the form. */
export async function openSignedIn(page, server, user = ADMIN) {
  await page.goto(server.url + '/');
  await waitHydrated(page);
  await signInThroughForm(page, user);
}

/**
 * A browser context already signed in as `user` (default: the secretariat), as if through the
 * form: the browser itself posts the sign-in (so it keeps the session cookie) and the app's
 * saved session goes into localStorage. `options` go to browser.newContext.
 */
export async function newSignedInContext(browser, server, user = ADMIN, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  try {
    // A page of the app: its CSP lets it call the API (the health JSON's does not).
    await page.goto(`${server.url}/settings`);
    await page.evaluate(async ([email, password, key]) => {
      const res = await fetch('/api/auth/v1/sign-in', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`sign-in of ${email} failed: ${res.status} ${text}`);
      localStorage.setItem(key, text);
    }, [user.email, user.password, SESSION_KEY]);
    // This page registered the service worker; let it finish installing, so the test's first
    // page starts controlled (as a returning user's does) instead of racing the install.
    await page.evaluate(() => Promise.race([
      navigator.serviceWorker.ready,
      new Promise((resolve) => setTimeout(resolve, 10_000)),
    ]));
  } finally {
    await page.close();
  }
  return context;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (bind port 0, read it, close). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Wraps a test body so that, if it throws, the output the given servers produced during the
 * test is printed to stderr. `servers` is a function returning the servers (they may be
 * created in a `before` hook).
 */
export function withServerLogs(servers, fn) {
  return async (t) => {
    const marks = servers()
      .filter(Boolean)
      .map((s) => [s, s.mark()]);
    try {
      return await fn(t);
    } catch (e) {
      for (const [s, m] of marks) s.dump(m, `test "${t.name}" failed`);
      throw e;
    }
  };
}

// ---------------------------------------------------------------------------
// Raw HTTP (no transparent decompression, real headers)
// ---------------------------------------------------------------------------

/** GET with node:http. Resolves { status, headers, body: Buffer }. */
export function rawRequest(url, { headers = {}, method = 'GET', timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }),
      );
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new Error(`${method} ${url}: ${e.message}${e.code ? ` (${e.code})` : ''}`)));
    req.end();
  });
}

/** Width/height from a PNG's IHDR chunk. */
export function pngSize(buf) {
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  if (buf.length < 24 || !buf.subarray(0, 8).equals(sig)) throw new Error('not a PNG (bad signature)');
  if (buf.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG (first chunk is not IHDR)');
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

/** Parses a CSP header into Map(directive -> [sources]). */
export function parseCsp(header) {
  const map = new Map();
  for (const part of String(header).split(';')) {
    const [name, ...values] = part.trim().split(/\s+/).filter(Boolean);
    if (name && !map.has(name.toLowerCase())) map.set(name.toLowerCase(), values);
  }
  return map;
}

/** Files the built site has under pkg/ (hashed assets), as URL paths. Excludes precompressed variants. */
export function sitePkgAssets() {
  const dir = path.join(SITE_DIR, 'pkg');
  if (!existsSync(dir)) return [];
  const out = [];
  const walk = (d, prefix) => {
    for (const ent of readdirSync(d, { withFileTypes: true })) {
      if (ent.isDirectory()) walk(path.join(d, ent.name), `${prefix}${ent.name}/`);
      else if (!/\.(br|gz|zst|map)$/.test(ent.name)) out.push(`/pkg/${prefix}${ent.name}`);
    }
  };
  walk(dir, '');
  return out.sort();
}

export const axeSource = () =>
  readFileSync(path.join(ROOT, 'node_modules', 'axe-core', 'axe.min.js'), 'utf8');

// ---------------------------------------------------------------------------
// Browser
// ---------------------------------------------------------------------------

export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchBrowser() {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);
  const headed = process.env.TERN_E2E_HEADED === '1';
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    headless: !headed,
    args: headed ? CHROMIUM_ARGS.filter((a) => a !== '--headless') : CHROMIUM_ARGS,
  });
}

/** A browser with its own on-disk profile (not incognito), for checks that need one. */
export async function launchPersistentContext(userDataDir) {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`Chromium not found at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`);
  return chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
  });
}

/**
 * Records every console message and uncaught page error of `page` (tagged with `label`) into
 * the `log` array. Each entry: { label, kind: 'console'|'pageerror', type, text, url }.
 */
export function recordConsole(page, log, label) {
  const tag = typeof label === 'function' ? label : () => label;
  page.on('console', (msg) => {
    const loc = msg.location() || {};
    log.push({ label: tag(), kind: 'console', type: msg.type(), text: msg.text(), url: loc.url || '' });
  });
  page.on('pageerror', (err) => {
    log.push({
      label: tag(),
      kind: 'pageerror',
      type: 'error',
      text: `${err.name || 'Error'}: ${err.message}${err.stack ? `\n${err.stack}` : ''}`,
      url: '',
    });
  });
  return log;
}

/**
 * Returns the messages that violate the "clean console" rule: console errors, uncaught page
 * errors, and any message at any level mentioning "hydration".
 * `allow(entry)` may exempt specific, expected messages.
 */
export function consoleProblems(log, allow = () => false) {
  return log.filter(
    (e) => (e.type === 'error' || e.kind === 'pageerror' || /hydration/i.test(e.text)) && !allow(e),
  );
}

export function formatConsole(entries) {
  return entries
    .map((e) => `  [${e.label}] ${e.kind === 'pageerror' ? 'pageerror' : `console.${e.type}`}: ${e.text}` +
      (e.url ? `  (at ${e.url})` : ''))
    .join('\n');
}

/** Waits for html[data-hydrated="true"]. */
export async function waitHydrated(page, timeout = 20_000) {
  try {
    await page.waitForFunction(() => document.documentElement.dataset.hydrated === 'true', null, {
      timeout,
      polling: 100,
    });
  } catch (e) {
    const state = await page
      .evaluate(() => `data-hydrated=${JSON.stringify(document.documentElement.dataset.hydrated ?? null)}`)
      .catch(() => 'page not evaluable');
    throw new Error(`page ${page.url()} did not hydrate within ${timeout} ms (${state})`);
  }
}

/**
 * Polls `fn` (run in the page with `arg`) until it returns a truthy value; on timeout throws
 * with `describe()`'s result (also run in the page) to show what was there instead.
 */
export async function waitInPage(page, what, fn, arg, { timeout = 10_000, describe } = {}) {
  try {
    const handle = await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    return await handle.jsonValue();
  } catch (e) {
    let actual = '';
    if (describe) actual = await page.evaluate(describe, arg).catch((err) => `<${err.message}>`);
    throw new Error(`${page.url()}: timed out after ${timeout} ms waiting for ${what}` +
      (describe ? `; actual: ${JSON.stringify(actual)}` : ''));
  }
}

/** Waits until the form control `selector` holds `expected`. */
export async function waitValue(page, selector, expected, timeout = 20_000) {
  await waitInPage(page, `${selector} to read ${JSON.stringify(expected)}`,
    ([sel, exp]) => document.querySelector(sel)?.value === exp, [selector, expected],
    { timeout, describe: ([sel]) => document.querySelector(sel)?.value ?? '<missing>' });
}

/** Opens a new recommendation from the list, as a drafter does. */
export async function openNewRecommendation(page, server) {
  await page.goto(`${server.url}/recommendations`);
  await waitHydrated(page);
  await page.getByRole('button', { name: 'New recommendation' }).click();
  await page.waitForURL(/\/recommendations\/[0-9a-f-]{36}$/);
}

/** Waits until the record on the page is saved and acknowledged by the server. */
export async function waitSynced(page, timeout = 20_000) {
  await waitInPage(page, 'the record synced', () => document.querySelector('.record-state')?.dataset.state === 'synced',
    null, { timeout, describe: () => document.querySelector('.record-state')?.textContent.trim() ?? '<no state>' });
}

/** Waits until `main h1` is the only h1 in main and has text `expected`. */
export async function waitH1(page, expected, timeout = 10_000) {
  await waitInPage(
    page,
    `a single <main> h1 "${expected}"`,
    (exp) => {
      const hs = document.querySelectorAll('main h1');
      return hs.length === 1 && hs[0].textContent.trim() === exp;
    },
    expected,
    {
      timeout,
      describe: () => [...document.querySelectorAll('main h1')].map((h) => h.textContent.trim()),
    },
  );
}

/** Waits for the page to be controlled by a service worker (returns the worker's script URL). */
export async function waitSwControl(page, timeout = 15_000) {
  const sw = await page
    .evaluate(
      (t) =>
        Promise.race([
          navigator.serviceWorker.ready.then((r) => ({ scope: r.scope, script: r.active && r.active.scriptURL })),
          new Promise((_, rej) => setTimeout(() => rej(new Error(`navigator.serviceWorker.ready not resolved in ${t} ms`)), t)),
        ]),
      timeout,
    )
    .catch(async (e) => {
      const state = await page
        .evaluate(async () => ({
          registrations: (await navigator.serviceWorker.getRegistrations()).map((r) => ({
            scope: r.scope,
            installing: !!r.installing,
            waiting: !!r.waiting,
            active: !!r.active,
          })),
          caches: await caches.keys(),
        }))
        .catch(() => null);
      const msg = String(e.message).split('\n')[0].replace(/^page\.evaluate: (Error: )?/, '');
      throw new Error(`${page.url()}: ${msg}; state: ${JSON.stringify(state)}` +
        (state && state.registrations.length === 0
          ? ' (no registration left: registration or the install step failed, e.g. a precache request was refused)'
          : ''));
    });
  await waitInPage(page, 'navigator.serviceWorker.controller', () => !!navigator.serviceWorker.controller, null, {
    timeout,
    describe: () => ({ controller: null }),
  });
  return sw;
}

/** Returns the subset of `paths` that is NOT in any Cache Storage cache of the page's origin. */
export async function missingFromCaches(page, paths) {
  return page.evaluate(async (ps) => {
    const missing = [];
    for (const p of ps) {
      const hit = await caches.match(new URL(p, location.origin).href);
      if (!hit) missing.push(p);
    }
    return missing;
  }, paths);
}

/** Polls until all `paths` are in Cache Storage (the SW precache is complete). */
export async function waitCached(page, paths, timeout = 15_000) {
  const deadline = Date.now() + timeout;
  let missing = paths;
  while (Date.now() < deadline) {
    missing = await missingFromCaches(page, paths);
    if (missing.length === 0) return;
    await sleep(200);
  }
  const keys = await page.evaluate(() => caches.keys()).catch(() => []);
  throw new Error(`${page.url()}: not in Cache Storage after ${timeout} ms: ${missing.join(', ')} (caches: ${JSON.stringify(keys)})`);
}

/** Same-origin /pkg/ resources the page loaded (from the Resource Timing API). */
export async function loadedPkgAssets(page) {
  return page.evaluate(() =>
    [...new Set(performance.getEntriesByType('resource')
      .map((e) => new URL(e.name))
      .filter((u) => u.origin === location.origin && u.pathname.startsWith('/pkg/'))
      .map((u) => u.pathname + u.search))],
  );
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
