// Keystroke-to-persisted time in a 50-page recommendation, in headless Chromium.
//
// Builds a recommendation of 50 sections of about 3,000 characters each (about 50 pages), then
// types into the middle of section 25 like a fast typist. Reports:
//   - edit-to-persisted: applying the typed text to the record, queueing the op and committing
//     it to IndexedDB (the app records each in globalThis.__ternPersistMs; typing is applied at
//     most 300 ms after a keystroke, by design, and that wait is not counted);
//   - of that, the synchronous part (applying the text to the document, queueing the op);
//   - input event duration (Event Timing API: handler + rendering of each keystroke), and of it
//     the handlers' processing time.
// Then single keystrokes 700 ms apart: the same path on a quiet page.
// The text carries TERN_KEYSTROKE_COMMENTS open comments (default 200, four per section, made as a
// user makes them: select, Ctrl+Alt+M, type, Ctrl+Enter) and TERN_KEYSTROKE_SUGGESTIONS open
// suggestions (default 50, Ctrl+Alt+J), shown in the comments panel while typing; and the time to open the recommendation again (reload until its last section and
// every comment are on screen) is reported (the goal: <= 500 ms; not gated).
// Goal: keystroke-to-persisted of those single keystrokes <= 16 ms, gated on the median (the
// p95 is printed; on this machine it runs 10-13 ms, too close to gate without flakes); exits 1 over it
// (TERN_KEYSTROKE_GOAL_MS overrides). The burst figures are reported, not gated: under
// Playwright-driven typing, headless software-rendered Chromium on two cores spends about
// 33 ms per keystroke on a static page of the same size with no app at all, and IndexedDB's
// completion callbacks wait behind that.
//
// Run from the repo root after a site build:  node bench/keystroke.mjs

import { launchBrowser, startServer, waitHydrated,
  newSignedInContext,
} from '../tests/browser/harness.mjs';

const GOAL_MS = Number(process.env.TERN_KEYSTROKE_GOAL_MS || 16);
const SECTIONS = 50;
const PAGE_CHARS = 3000;
const COMMENTS = Number(process.env.TERN_KEYSTROKE_COMMENTS ?? 200);
const SUGGESTIONS = Number(process.env.TERN_KEYSTROKE_SUGGESTIONS ?? 50);
const TYPED = 'The best interests of the child are a primary consideration. '.repeat(4);

const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};

const server = await startServer({ name: 'bench' });
const browser = await launchBrowser();
let failed = false;
try {
  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  await page.goto(`${server.url}/recommendations`);
  await waitHydrated(page);
  await page.click('#new-record');
  await page.waitForURL(/\/recommendations\/[0-9a-f-]{36}$/);
  await page.fill('#title', 'Fifty pages');
  const paragraph = 'Member states ensure that every child in care is heard. ';
  const pageText = paragraph.repeat(Math.ceil(PAGE_CHARS / paragraph.length)).slice(0, PAGE_CHARS);
  for (let n = 1; n <= SECTIONS; n++) {
    await page.click('#add-sections');
    await page.waitForSelector(`#sections-${n}-body`);
    await page.fill(`#sections-${n}-heading`, `Section ${n}`);
    await page.fill(`#sections-${n}-body`, pageText);
  }
  await page.locator(`#sections-${SECTIONS}-body`).blur();
  await page.waitForTimeout(1000);
  const perSection = Math.ceil(COMMENTS / SECTIONS);
  const commentsStarted = Date.now();
  for (let n = 0; n < COMMENTS; n++) {
    const section = (n % SECTIONS) + 1;
    const at = 100 + Math.floor(n / SECTIONS) * Math.floor((PAGE_CHARS - 200) / perSection);
    const box = page.locator(`#sections-${section}-body`);
    await box.focus();
    await box.evaluate((area, from) => area.setSelectionRange(from, from + 40), at);
    await page.keyboard.press('Control+Alt+M');
    await page.fill('#new-comment-text', `Comment ${n + 1}: is this the wording the group agreed in Riga?`);
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#new-comment-text', { state: 'detached' });
  }
  for (let n = 0; n < SUGGESTIONS; n++) {
    const section = (n % SECTIONS) + 1;
    const box = page.locator(`#sections-${section}-body`);
    await box.focus();
    await box.evaluate((area) => area.setSelectionRange(60, 75));
    await page.keyboard.press('Control+Alt+J');
    await page.fill('#new-suggestion-text', `the child's own words (${n + 1})`);
    await page.keyboard.press('Control+Enter');
    await page.waitForSelector('#new-suggestion-text', { state: 'detached' });
  }
  if (COMMENTS) {
    await page.waitForFunction((n) => document.querySelectorAll('.comments .thread').length === n, COMMENTS, { timeout: 30_000 });
  }
  if (SUGGESTIONS) {
    await page.waitForFunction((n) => document.querySelectorAll('.suggestions .thread').length === n, SUGGESTIONS, { timeout: 30_000 });
  }
  const commentingMs = Date.now() - commentsStarted;
  const chars = await page.evaluate(() =>
    [...document.querySelectorAll('textarea, input[type=text]')].reduce((n, el) => n + el.value.length, 0));

  await page.evaluate(() => {
    globalThis.__ternPersistMs = [];
    globalThis.__ternApplyMs = [];
    globalThis.__ternEventMs = [];
    globalThis.__ternProcessingMs = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) {
        if (entry.name === 'keydown' || entry.name === 'keypress' || entry.name === 'input' || entry.name === 'keyup') {
          globalThis.__ternEventMs.push(entry.duration);
          globalThis.__ternProcessingMs.push(entry.processingEnd - entry.processingStart);
        }
      }
    }).observe({ type: 'event', durationThreshold: 16, buffered: false });
  });
  const target = page.locator('#sections-25-body');
  await target.click();
  await page.evaluate(() => {
    const area = document.querySelector('#sections-25-body');
    area.setSelectionRange(area.value.length / 2, area.value.length / 2);
  });
  const started = Date.now();
  await page.keyboard.type(TYPED, { delay: 25 });
  await target.blur();
  await page.waitForTimeout(800);
  const typingMs = Date.now() - started;
  const persist = await page.evaluate(() => globalThis.__ternPersistMs);
  const apply = await page.evaluate(() => globalThis.__ternApplyMs);
  const slowEvents = await page.evaluate(() => globalThis.__ternEventMs);
  const processing = await page.evaluate(() => globalThis.__ternProcessingMs);

  if (process.env.TERN_BENCH_VERBOSE) console.log(persist.map((v) => v.toFixed(0)).join(' '));
  // Single keystrokes on an otherwise quiet page: the same path without a saturated main thread.
  await target.click();
  await page.evaluate(() => { globalThis.__ternPersistMs = []; });
  for (let i = 0; i < 30; i++) {
    await page.keyboard.type('x');
    await page.waitForTimeout(700);
  }
  const quiet = await page.evaluate(() => globalThis.__ternPersistMs);
  // Opening the recommendation again: from the navigation's start until the last section and
  // every comment are drawn.
  await page.waitForTimeout(1000);
  await page.reload();
  await page.waitForFunction((n) => document.querySelector(`#sections-${n}-body`) !== null, SECTIONS, { timeout: 30_000 });
  const textMs = await page.evaluate(() => performance.now());
  await page.waitForFunction((n) => document.querySelectorAll('.comments .thread').length >= n, COMMENTS, { timeout: 30_000 });
  const openMs = await page.evaluate(() => performance.now());
  // Opening it from the list, as a user does in the app: from the click until the last section
  // and every comment are drawn.
  await page.goto(`${server.url}/recommendations`);
  await page.waitForSelector('a[href^="/recommendations/0"]');
  const fromList = await page.evaluate(async ([sections, comments]) => {
    const started = performance.now();
    document.querySelector('a[href^="/recommendations/0"]').click();
    const drawn = (test) => new Promise((resolve) => {
      const check = () => (test() ? resolve(performance.now() - started) : requestAnimationFrame(check));
      check();
    });
    const text = await drawn(() => document.querySelector(`#sections-${sections}-body`) !== null);
    const all = await drawn(() => document.querySelectorAll('.comments .thread').length >= comments);
    return [text, all];
  }, [SECTIONS, COMMENTS]);
  const p50 = percentile(persist, 50);
  const p95 = percentile(persist, 95);
  const max = Math.max(...persist);
  console.log(`document: ${SECTIONS} sections, ${chars.toLocaleString('en')} characters, ${COMMENTS} open comments and ${SUGGESTIONS} suggestions (made in ${commentingMs} ms)`);
  console.log(`opening it again (reload): every section drawn at ${textMs.toFixed(0)} ms, and every comment at ${openMs.toFixed(0)} ms after the navigation started`);
  console.log(`opening it from the list: every section drawn ${fromList[0].toFixed(0)} ms after the click, and every comment ${fromList[1].toFixed(0)} ms`);
  console.log(`typed ${TYPED.length} characters in ${typingMs} ms (25 ms between keys)`);
  console.log(`edit-to-persisted over ${persist.length} saves: p50 ${p50.toFixed(1)} ms, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms`);
  console.log(`of which applying the text and queueing the op (synchronous): p50 ${percentile(apply, 50).toFixed(1)} ms, p95 ${percentile(apply, 95).toFixed(1)} ms, max ${Math.max(...apply).toFixed(1)} ms`);
  console.log(`single keystrokes on a quiet page, keystroke-applied-to-persisted over ${quiet.length}: p50 ${percentile(quiet, 50).toFixed(1)} ms, p95 ${percentile(quiet, 95).toFixed(1)} ms`);
  console.log(`input events over 16 ms: ${slowEvents.length} of ~${TYPED.length * 3}` +
    (slowEvents.length ? ` (max ${Math.max(...slowEvents)} ms)` : ''));
  // The API reports only events of 16 ms or more; the rest took less, processing included, so
  // these percentiles over the reported ones are an upper bound of those over all events.
  if (processing.length) {
    console.log(`their handlers' processing time (processingEnd - processingStart): p50 ${percentile(processing, 50).toFixed(1)} ms,` +
      ` p95 ${percentile(processing, 95).toFixed(1)} ms, max ${Math.max(...processing).toFixed(1)} ms`);
  }
  const quietP50 = percentile(quiet, 50);
  if (persist.length === 0 || quiet.length === 0) {
    console.error('no saves were measured: is the app recording __ternPersistMs?');
    failed = true;
  } else if (quietP50 > GOAL_MS) {
    console.error(`median keystroke-to-persisted ${quietP50.toFixed(1)} ms is over the goal of ${GOAL_MS} ms`);
    failed = true;
  } else {
    console.log(`median keystroke-to-persisted ${quietP50.toFixed(1)} ms is within the goal of ${GOAL_MS} ms`);
  }
  await context.close();
} finally {
  await Promise.allSettled([browser.close(), server.stop()]);
}
process.exit(failed ? 1 : 0);
