// Lighthouse's performance audit of two pages, as a phone and as a laptop:
//   1. the sign-in page of a new device (a fresh profile, storage reset by Lighthouse), and
//   2. a record page (a recommendation of 12 sections) on a signed-in device whose service
//      worker is installed (storage kept), as a returning member opens it.
// "Phone" is Lighthouse's default: a mid-range phone's screen, a slow 4G network and a 4x slower
// CPU, simulated from the trace; "laptop" is its desktop configuration. Each is run RUNS times
// and the median (by LCP) is reported, with its LCP element.
// Goals (issue 17): phone score >= 98, LCP <= 2.0 s, CLS <= 0.02 on both pages; exits 1 if the
// median misses one. Under TERN_LIGHTHOUSE_GATE=steady (scripts/test.sh) the LCP and score are
// gated with a margin for a machine's noise (Lighthouse multiplies the CPU time it observes), CLS
// exactly; under TERN_LIGHTHOUSE_GATE=report nothing fails.
//
// Then both pages' starts are measured on a 4x slowed CPU (`measuredBlocking`): the blocking
// time a phone's user would feel, without Lighthouse's tracing and simulation in the figure.
//
// TERN_LIGHTHOUSE_SAVE=<dir> keeps every report, TERN_LIGHTHOUSE_TRACE=<dir> every trace (for
// bench/long-tasks.mjs); TERN_LIGHTHOUSE_RUNS sets the runs (3);
// TERN_LIGHTHOUSE_ONLY=sign-in (or record) audits one page; TERN_LIGHTHOUSE_THROTTLING=devtools
// has Lighthouse slow the CPU and network for real instead of simulating (its default);
// TERN_LIGHTHOUSE_TASKS=1 prints each measured long task.
//
// Run from the repo root after `cargo build` and a site build:  node bench/lighthouse.mjs
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lighthouse from 'lighthouse';
import desktopConfig from 'lighthouse/core/config/desktop-config.js';
import { chromium } from 'playwright-core';
import {
  ADMIN, CHROMIUM_ARGS, CHROMIUM_PATH, freePort, signInThroughForm, startServer, waitHydrated, waitInPage,
  waitSwControl,
} from '../tests/browser/harness.mjs';

const RUNS = Number(process.env.TERN_LIGHTHOUSE_RUNS || 3);
const STEADY = process.env.TERN_LIGHTHOUSE_GATE === 'steady';
// Prints the figures and fails nothing (scripts/test.sh, while the goals are not yet met).
const REPORT_ONLY = process.env.TERN_LIGHTHOUSE_GATE === 'report';
// blocking: the measured blocking time on a 4x slowed CPU (`measuredBlocking`); 200 ms is where
// Lighthouse's phone scoring stops calling TBT good.
const GOAL = { score: 98, lcp: 2000, cls: 0.02, blocking: 200 };
// What a loaded CI machine may show without a regression (CLS does not depend on load).
// On an idle 2-core machine the phone scores of single runs range 90-100 (Lighthouse multiplies
// the CPU time it observes by four); 80 still fails a page back where the record page was
// before its start was split into tasks (75-85).
// After a warm-up load, a new device's sign-in page measures 40-80 ms of blocking and a record
// page 0-40 ms; counting the browser's first page too, they read 160-230 and up to 290 ms.
const GATE = STEADY ? { score: 80, lcp: 3000, cls: GOAL.cls, blocking: 300 } : GOAL;
const SECTIONS = 12;
// Where to keep each run's whole report (JSON), to see where the time went.
const SAVE_DIR = process.env.TERN_LIGHTHOUSE_SAVE;
// Where to keep each run's trace, with JavaScript and wasm samples: `node bench/long-tasks.mjs
// <trace>` says what each long task ran.
const TRACE_DIR = process.env.TERN_LIGHTHOUSE_TRACE;

/** A Chromium with its own profile that Lighthouse can drive through a debugging port. */
async function browserWithPort() {
  const profile = await mkdtemp(path.join(os.tmpdir(), 'tern-lighthouse-'));
  const port = await freePort();
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: [...CHROMIUM_ARGS, `--remote-debugging-port=${port}`],
  });
  return {
    context,
    port,
    close: async () => {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}

/** One Lighthouse run of `url`: the figures a user feels, in ms (CLS unitless). */
async function audit(url, port, { desktop, keepStorage }) {
  const flags = {
    port,
    logLevel: 'error',
    onlyCategories: ['performance'],
    // JavaScript and wasm samples in the trace, for bench/long-tasks.mjs.
    ...(TRACE_DIR ? { additionalTraceCategories: 'disabled-by-default-v8.cpu_profiler' } : {}),
    disableStorageReset: keepStorage,
    ...(process.env.TERN_LIGHTHOUSE_THROTTLING ? { throttlingMethod: process.env.TERN_LIGHTHOUSE_THROTTLING } : {}),
  };
  const { lhr, artifacts } = await lighthouse(url, flags, desktop ? desktopConfig : undefined);
  if (TRACE_DIR) {
    await mkdir(TRACE_DIR, { recursive: true });
    const name = `${new URL(url).pathname.split('/')[1] || 'sign-in'}-${desktop ? 'laptop' : 'phone'}-${Date.now()}.trace.json`;
    await writeFile(path.join(TRACE_DIR, name), JSON.stringify(artifacts.Trace.traceEvents));
  }
  if (SAVE_DIR) {
    await mkdir(SAVE_DIR, { recursive: true });
    const name = `${new URL(url).pathname.split('/')[1] || 'sign-in'}-${desktop ? 'laptop' : 'phone'}-${Date.now()}.json`;
    await writeFile(path.join(SAVE_DIR, name), JSON.stringify(lhr));
  }
  if (lhr.runtimeError) throw new Error(`Lighthouse: ${lhr.runtimeError.code} ${lhr.runtimeError.message}`);
  const value = (id) => lhr.audits[id]?.numericValue;
  const element = lhr.audits['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node;
  return {
    score: Math.round((lhr.categories.performance.score ?? 0) * 100),
    fcp: value('first-contentful-paint'),
    lcp: value('largest-contentful-paint'),
    cls: value('cumulative-layout-shift'),
    tbt: value('total-blocking-time'),
    element: element ? `${element.snippet}`.slice(0, 90) : '<none>',
  };
}

/** Runs `audit` RUNS times; the run with the median LCP. */
async function median(url, port, options) {
  const runs = [];
  // The laptop's figures are reported, not gated: in a gated run (CI) one run of each is enough.
  const count = STEADY && options.desktop ? 1 : RUNS;
  for (let i = 0; i < count; i++) runs.push(await audit(url, port, options));
  runs.sort((a, b) => a.lcp - b.lcp);
  return { ...runs[Math.floor(runs.length / 2)], scores: runs.map((run) => run.score) };
}

/** Signs the profile in and writes a recommendation; its page's address, once synced and cached. */
async function signedInRecord(context, server) {
  const page = await context.newPage();
  await page.goto(`${server.url}/recommendations`);
  await waitHydrated(page);
  await signInThroughForm(page, ADMIN);
  await page.click('#new-record');
  await page.waitForURL(/\/recommendations\/[0-9a-f-]{36}$/);
  await page.fill('#title', 'Guardianship for unaccompanied and separated children in the Baltic Sea region');
  for (let n = 1; n <= SECTIONS; n++) {
    await page.click('#add-sections');
    await page.waitForSelector(`#sections-${n}-body`);
    await page.fill(`#sections-${n}-heading`, `Section ${n}: the child's right to be heard`);
    await page.fill(`#sections-${n}-body`, 'Member states ensure that every child is heard in decisions on their care. '.repeat(6));
  }
  await page.locator(`#sections-${SECTIONS}-body`).blur();
  await waitInPage(page, 'the recommendation synced', () => document.querySelector('.record-state')?.dataset.state === 'synced',
    null, { timeout: 30_000 });
  await waitSwControl(page, 30_000);
  const url = page.url();
  await page.close();
  return url;
}

/**
 * The page's start as a phone's CPU runs it, measured rather than simulated: Chromium slows its
 * CPU four times (as Lighthouse's phone assumes) and the page's Long Tasks API reports each task
 * over 50 ms; blocking time is what they add over 50 ms each (TBT's sum, from the first task on).
 * Lighthouse's own figure multiplies the durations it observes while tracing, and on a 2-core
 * machine that runs Lighthouse, Chromium and the server those include the tracing's cost and
 * their contention: its phone TBT reads 150-400 ms where this reads 0-40 ms.
 * `open(i)` gives the page of run i, ready to be loaded; the median of RUNS loads is returned.
 */
async function measuredBlocking(open, url, ready) {
  const runs = [];
  // Load 0 warms the browser up (its first page in a context compiles more) and is not counted.
  for (let i = 0; i <= RUNS; i++) {
    const page = await open(i);
    await page.addInitScript(() => {
      window.__ternLongTasks = [];
      new PerformanceObserver((list) => {
        for (const task of list.getEntries()) window.__ternLongTasks.push(task.duration);
      }).observe({ type: 'longtask', buffered: true });
    });
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 4 });
    await page.goto(url);
    await waitHydrated(page, 30_000);
    await page.waitForSelector(ready, { timeout: 30_000 });
    // The first sync and the steps of drawing that follow the first view.
    await page.waitForTimeout(3_000);
    const tasks = await page.evaluate(() => window.__ternLongTasks);
    if (process.env.TERN_LIGHTHOUSE_TASKS) console.log(`  ${url}: ${tasks.map(Math.round).join(" ")}`);
    if (i > 0) runs.push(Math.round(tasks.reduce((sum, duration) => sum + Math.max(0, duration - 50), 0)));
    await page.close();
  }
  const sorted = [...runs].sort((a, b) => a - b);
  return { blocking: sorted[Math.floor(sorted.length / 2)], runs };
}

const line = (label, r) =>
  `${label.padEnd(28)} score ${String(r.score).padStart(3)} (runs ${r.scores.join('/')})  FCP ${(r.fcp / 1000).toFixed(2)} s  ` +
  `LCP ${(r.lcp / 1000).toFixed(2)} s  CLS ${r.cls.toFixed(3)}  TBT ${Math.round(r.tbt)} ms\n${''.padEnd(30)}LCP element: ${r.element}`;

const server = await startServer({ name: 'lighthouse-bench' });
const failures = [];
try {
  const fresh = await browserWithPort();
  const signed = await browserWithPort();
  const after = [];
  try {
    const recordUrl = await signedInRecord(signed.context, server);
    const pages = [
      { label: 'sign-in, new device', url: `${server.url}/`, browser: fresh, keepStorage: false },
      { label: 'record page, signed in', url: recordUrl, browser: signed, keepStorage: true },
    ];
    const only = process.env.TERN_LIGHTHOUSE_ONLY;
    for (const { label, url, browser, keepStorage } of pages.filter((p) => !only || p.label.startsWith(only))) {
      for (const desktop of [false, true]) {
        const result = await median(url, browser.port, { desktop, keepStorage });
        const name = `${label}, ${desktop ? 'laptop' : 'phone'}`;
        console.log(line(name, result));
        if (desktop) continue;
        if (result.score < GATE.score) failures.push(`${name}: score ${result.score} < ${GATE.score}`);
        if (result.lcp > GATE.lcp) failures.push(`${name}: LCP ${Math.round(result.lcp)} ms > ${GATE.lcp} ms`);
        if (result.cls > GATE.cls) failures.push(`${name}: CLS ${result.cls.toFixed(3)} > ${GATE.cls}`);
      }
    }
    // Measured on a slowed CPU: each sign-in run is a new device (a new context), each record
    // page run a reload on the signed-in one.
    const devices = await chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
    after.push(() => devices.close());
    const measured = [
      {
        label: 'sign-in, new device',
        url: `${server.url}/`,
        open: async () => (await devices.newContext()).newPage(),
        ready: '#sign-in-email',
      },
      { label: 'record page, signed in', url: recordUrl, open: () => signed.context.newPage(), ready: '[id$="-body"]' },
    ];
    for (const { label, url, open, ready } of measured.filter((p) => !only || p.label.startsWith(only))) {
      const result = await measuredBlocking(open, url, ready);
      const name = `${label}, phone CPU`;
      console.log(`${name.padEnd(28)} blocking ${result.blocking} ms (runs ${result.runs.join('/')}; measured, CPU 4x slower)`);
      if (result.blocking > GATE.blocking) failures.push(`${name}: blocking ${result.blocking} ms > ${GATE.blocking} ms`);
    }
  } finally {
    await Promise.allSettled([fresh.close(), signed.close(), ...after.map((close) => close())]);
  }
} finally {
  await server.stop();
}
console.log(`goals (phone): score >= ${GOAL.score}, LCP <= ${GOAL.lcp} ms, CLS <= ${GOAL.cls}, measured blocking <= ${GOAL.blocking} ms` +
  (STEADY ? `; gated at score >= ${GATE.score}, LCP <= ${GATE.lcp} ms, blocking <= ${GATE.blocking} ms (TERN_LIGHTHOUSE_GATE=steady)` : ''));
if (failures.length && REPORT_ONLY) {
  console.log(`over the goals (reported, not gated: TERN_LIGHTHOUSE_GATE=report):\n  ${failures.join('\n  ')}`);
} else if (failures.length) {
  console.error(`Lighthouse bench over its gate:\n  ${failures.join('\n  ')}`);
  process.exit(1);
}
