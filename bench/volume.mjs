// A busy secretariat's device: 10,000 records of every kind, synced into a fresh browser.
//
// Starts the real server on its own database, seeds it through the sync API
// (target/debug/seed-records: people, organisations, projects, consultations, good practices and
// recommendations with every field filled, one op per record), then in headless Chromium with
// a fresh profile:
//   1. initial sync: from opening the filtered people list (/people?country=PL) until every
//      person is on the device and the header says synced;
//   2. the renderer's memory (process RSS, which includes the wasm memory that holds the
//      records, not only the JS heap) after that sync, and after opening one record;
//   3. a keystroke in the open record (edit-to-persisted, as bench/keystroke.mjs measures it);
//   4. reload to the filtered list: from reload until the list shows its rows from the device;
//   5. the renderer's memory after the reload.
// Goals: initial sync <= 10 s, reload to list <= 1 s, renderer <= 200 MB, keystroke <= 16 ms.
// Exits 1 over any of them. TERN_VOLUME_RECORDS changes the number of records.
//
// Run from the repo root after `cargo build` and a site build:  node bench/volume.mjs

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  ADMIN, CHROMIUM_ARGS, CHROMIUM_PATH, ROOT, newSignedInContext, startServer, waitHydrated, waitInPage,
} from '../tests/browser/harness.mjs';

const RECORDS = Number(process.env.TERN_VOLUME_RECORDS || 10_000);
// Of every 100 seeded records, 40 are people (see tests/src/bin/seed-records.rs).
const PEOPLE = Math.floor(RECORDS / 100) * 40 + Math.min(RECORDS % 100, 55) - Math.min(RECORDS % 100, 15);
const GOALS = { syncMs: 10_000, reloadMs: 1_000, rssMb: 200, keystrokeMs: 16 };
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const SEEDER = path.join(TARGET, 'debug', 'seed-records');
const MARKER = `--tern-volume-bench=${process.pid}`;

if (!existsSync(SEEDER)) {
  console.error(`${SEEDER} not found: build it with  cargo build -p tern-tests --bin seed-records`);
  process.exit(1);
}

/** Resident memory (MB) of every renderer process of the browser started with MARKER. */
function rendererRss() {
  const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map((pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      // Zygote-forked processes rewrite their command line as one space-separated string.
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
      const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      return { pid: Number(pid), parent, cmdline, rssMb: rss ? Number(rss[1]) / 1024 : 0 };
    } catch {
      return null;
    }
  }).filter(Boolean);
  const root = processes.find((p) => p.cmdline.includes(MARKER) && !p.cmdline.includes('--type='));
  if (!root) throw new Error('the benchmark browser process was not found');
  const ours = new Set([root.pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const p of processes) {
      if (!ours.has(p.pid) && ours.has(p.parent)) { ours.add(p.pid); grew = true; }
    }
  }
  // The page's renderer, not the browser's own UI (--top-chrome-webui).
  const renderers = processes.filter((p) => ours.has(p.pid) && p.cmdline.includes('--type=renderer')
    && !p.cmdline.includes('--top-chrome-webui'));
  return {
    max: Math.max(0, ...renderers.map((p) => p.rssMb)),
    sum: renderers.reduce((n, p) => n + p.rssMb, 0),
    count: renderers.length,
  };
}

const countShown = (page) => page.evaluate(() => {
  const text = document.querySelector('#list-count')?.textContent ?? '';
  const numbers = text.match(/\d[\d\s,.]*/g)?.map((n) => Number(n.replace(/\D/g, ''))) ?? [];
  return { shown: numbers[0] ?? -1, all: numbers[1] ?? -1, rows: document.querySelectorAll('tr.record-row').length };
});

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
};

const server = await startServer({ name: 'volume' });
const browser = await chromium.launch({
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [...CHROMIUM_ARGS, MARKER],
});
let failed = false;
const report = (what, value, goal, unit) => {
  const over = value > goal;
  if (over) failed = true;
  console.log(`${what}: ${value.toFixed(unit === 'MB' ? 0 : 1)} ${unit} (goal <= ${goal} ${unit})${over ? '  OVER' : ''}`);
};
try {
  const seeding = Date.now();
  const seeded = execFileSync(SEEDER, [server.url, ADMIN.email, ADMIN.password, String(RECORDS)], { encoding: 'utf8' });
  console.log(`${seeded.trim()} in ${((Date.now() - seeding) / 1000).toFixed(1)} s; ${PEOPLE} people`);

  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  const list = `${server.url}/people?country=PL`;
  const started = Date.now();
  await page.goto(list);
  await page.waitForFunction((people) => {
    const text = document.querySelector('#list-count')?.textContent ?? '';
    const all = Number((text.match(/\d+/g) ?? [])[1]);
    return all === people && document.querySelector('#sync-status')?.dataset.state === 'synced';
  }, PEOPLE, { timeout: 120_000, polling: 50 });
  const syncMs = Date.now() - started;
  console.log(`initial sync done in ${syncMs} ms`);
  const afterSync = rendererRss();
  const { shown } = await countShown(page);

  // Open one record and type in it.
  await page.locator('tr.record-row a').first().click();
  await page.waitForURL(/\/people\/[0-9a-f-]{36}$/);
  await page.waitForSelector('#name');
  const field = page.locator('#position');
  await field.click();
  await page.evaluate(() => { globalThis.__ternPersistMs = []; });
  for (let i = 0; i < 20; i++) {
    await page.keyboard.type('x');
    await page.waitForTimeout(600);
  }
  const keystrokes = await page.evaluate(() => globalThis.__ternPersistMs);
  console.log(`typed; keystrokes ${keystrokes.map((k) => k.toFixed(1)).join(' ')}`);
  const afterOpen = rendererRss();

  // Give the device its lazy writes (the checkpoint runs within 3 s), then reload to the list.
  const back = Date.now();
  await page.goto(list);
  await waitInPage(page, 'the list synced again', () => document.querySelector('#sync-status')?.dataset.state === 'synced',
    null, { timeout: 60_000, describe: () => `${document.querySelector('#sync-status')?.textContent} / ${document.querySelector('#list-count')?.textContent}` });
  console.log(`back on the list and synced in ${Date.now() - back} ms`);
  await page.waitForTimeout(4_000);
  const reloading = Date.now();
  await page.reload();
  // The list's first page of rows (it shows more on request), with the count of all.
  await waitInPage(page, 'the filtered list from the device', ([people, shownBefore]) => {
    const text = document.querySelector('#list-count')?.textContent ?? '';
    const [shown, all] = (text.match(/\d+/g) ?? []).map(Number);
    return all === people && shown === shownBefore && document.querySelectorAll('tr.record-row').length > 0;
  }, [PEOPLE, shown], {
    timeout: 30_000,
    describe: () => `${document.querySelector('#list-count')?.textContent}, ${document.querySelectorAll('tr.record-row').length} rows`,
  });
  const reloadMs = Date.now() - reloading;
  await waitHydrated(page);
  await page.waitForTimeout(2_000);
  const afterReload = rendererRss();

  console.log(`records: ${RECORDS.toLocaleString('en')}; the filtered list shows ${shown} people in Poland`);
  report('initial sync', syncMs, GOALS.syncMs, 'ms');
  report('reload to the filtered list', reloadMs, GOALS.reloadMs, 'ms');
  report('renderer RSS after the initial sync', afterSync.max, GOALS.rssMb, 'MB');
  report('renderer RSS after opening a record and typing', afterOpen.max, GOALS.rssMb, 'MB');
  report('renderer RSS after the reload', afterReload.max, GOALS.rssMb, 'MB');
  if (keystrokes.length === 0) {
    console.error('no keystrokes were measured: is the app recording __ternPersistMs?');
    failed = true;
  } else {
    report(`keystroke-to-persisted in the open record (median of ${keystrokes.length})`, median(keystrokes), GOALS.keystrokeMs, 'ms');
  }
  console.log(`(renderer processes: ${afterReload.count}, together ${afterReload.sum.toFixed(0)} MB)`);
  await context.close();
} finally {
  await Promise.allSettled([browser.close(), server.stop()]);
}
process.exit(failed ? 1 : 0);
