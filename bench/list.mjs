// A list of 10,000 records in Chromium: how long it takes to show once its page module is
// loaded, to jump to its end, and to filter it by typing.
//
// Starts the real server on its own database, seeds 10,000 projects (target/debug/seed-records
// with a kind), syncs them into a fresh headless Chromium (1280 x 900), then, with the page
// module already loaded (the list was shown once):
//   1. render: from a click on "Projects" in the navigation (coming from the Overview) until
//      the list's count says all 10,000 and its rows are painted; the median of 7;
//   2. end: from a jump to the bottom of the page until the last row is painted;
//   3. filter: from typing a word in the "Find" box until the filtered rows are painted.
// Goal: render <= 300 ms (issue 17); exits 1 over it. The rows in the page are printed too:
// only those on screen (and a few beyond) are rendered. TERN_LIST_RECORDS changes the count.
//
// Run from the repo root after `cargo build` and a site build:  node bench/list.mjs
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import {
  ADMIN, CHROMIUM_ARGS, CHROMIUM_PATH, ROOT, newSignedInContext, startServer, waitHydrated, waitInPage,
} from '../tests/browser/harness.mjs';

const RECORDS = Number(process.env.TERN_LIST_RECORDS || 10_000);
const GOAL_MS = 300;
const RUNS = 7;
const TARGET = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
const SEEDER = path.join(TARGET, 'debug', 'seed-records');
if (!existsSync(SEEDER)) {
  console.error(`${SEEDER} not found: build it with  cargo build -p tern-tests --bin seed-records`);
  process.exit(1);
}

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** In the page: runs `act`, then waits (frame by frame) until `done`, and one more frame for the paint. */
const timeInPage = (page, act, done, arg) => page.evaluate(async ([actSource, doneSource, value]) => {
  // eslint-disable-next-line no-new-func
  const actFn = new Function('value', actSource);
  // eslint-disable-next-line no-new-func
  const doneFn = new Function('value', doneSource);
  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
  const started = performance.now();
  actFn(value);
  const deadline = started + 30_000;
  while (!doneFn(value)) {
    if (performance.now() > deadline) throw new Error(`not done after 30 s: ${doneSource}`);
    await frame();
  }
  await frame();
  return performance.now() - started;
}, [act, done, arg]);

const ALL_LISTED = `const n = (document.querySelector('#list-count')?.textContent ?? '').match(/\\d+/g) ?? [];
  return Number(n[0]) === value && Number(n[1]) === value && document.querySelectorAll('tr.record-row').length > 0
    && location.pathname === '/projects';`;

const server = await startServer({ name: 'list-bench' });
const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
let failed = false;
try {
  const seeding = Date.now();
  const seeded = execFileSync(SEEDER, [server.url, ADMIN.email, ADMIN.password, String(RECORDS), 'project'], { encoding: 'utf8' });
  console.log(`${seeded.trim()} in ${((Date.now() - seeding) / 1000).toFixed(1)} s`);
  const context = await newSignedInContext(browser, server, ADMIN, { viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.goto(`${server.url}/projects`);
  await waitHydrated(page);
  await waitInPage(page, 'every project synced', (count) => {
    const n = (document.querySelector('#list-count')?.textContent ?? '').match(/\d+/g) ?? [];
    return Number(n[1]) === count && document.querySelector('#sync-status')?.dataset.state === 'synced';
  }, RECORDS, { timeout: 120_000, describe: () => document.querySelector('#list-count')?.textContent });

  const renders = [];
  for (let run = 0; run < RUNS; run++) {
    await page.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Overview' }).click();
    await page.waitForFunction(() => location.pathname === '/' && !document.querySelector('#list-count'));
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(300);
    renders.push(await timeInPage(page,
      "document.querySelector('nav[aria-label=\"Main\"] a[href=\"/projects\"]').click();",
      ALL_LISTED, RECORDS));
  }
  const rows = await page.locator('tr.record-row').count();
  console.log(`render after a click, ${RUNS} runs: ${renders.map((ms) => ms.toFixed(0)).join(' ')} ms; ${rows} of ${RECORDS} rows in the page`);

  const end = await timeInPage(page,
    'window.scrollTo(0, document.documentElement.scrollHeight);',
    `const rows = document.querySelectorAll('tr.record-row');
     return rows.length > 0 && Number(rows[rows.length - 1].getAttribute('aria-rowindex')) === value + 1;`,
    RECORDS);
  console.log(`jump to the end: last row painted in ${end.toFixed(0)} ms; ${await page.locator('tr.record-row').count()} rows in the page`);

  await page.evaluate(() => window.scrollTo(0, 0));
  const filter = await timeInPage(page,
    `const box = document.querySelector('#list-search');
     box.value = 'guardianship';
     box.dispatchEvent(new Event('input', { bubbles: true }));`,
    `const n = (document.querySelector('#list-count')?.textContent ?? '').match(/\\d+/g) ?? [];
     return Number(n[0]) < value;`,
    RECORDS);
  console.log(`filter by a typed word: ${filter.toFixed(0)} ms (${await page.locator('#list-count').textContent()})`);

  const rendered = median(renders);
  const over = rendered > GOAL_MS;
  if (over) failed = true;
  console.log(`list of ${RECORDS.toLocaleString('en')} records shown after a click (median of ${RUNS}): ${rendered.toFixed(0)} ms (goal <= ${GOAL_MS} ms)${over ? '  OVER' : ''}`);
  await context.close();
} finally {
  await Promise.allSettled([browser.close(), server.stop()]);
}
process.exit(failed ? 1 : 0);
