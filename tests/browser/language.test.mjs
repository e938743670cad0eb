// Browser end-to-end test of the interface language: it follows the browser, can be changed in
// Settings, and the choice holds across reloads, in the server-rendered shell too.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  consoleProblems,
  formatConsole,
  launchBrowser,
  rawRequest,
  recordConsole,
  startServer,
  waitHydrated,
  newSignedInContext,
} from './harness.mjs';

let server;
let browser;

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'tern' }), launchBrowser()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const h1 = (page) => page.locator('main h1').textContent();
const firstNavLabel = (page) => page.locator('nav[aria-label] a').first().textContent();

test('a German browser gets the German interface, server shell included', { timeout: 60_000 }, async () => {
  const context = await newSignedInContext(browser, server, undefined, { locale: 'de-DE' });
  const log = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, 'de');
    await page.goto(`${server.url}/projects`);
    await waitHydrated(page);
    assert.equal(await h1(page), 'Projekte');
    assert.equal(await page.title(), 'Projekte · Tern');
    assert.equal(await page.getAttribute('html', 'lang'), 'de');

    const shell = await rawRequest(`${server.url}/projects`, { headers: { 'accept-language': 'de-DE,de;q=0.9' } });
    const html = shell.body.toString('utf8');
    assert.match(html, /<html[^>]* lang="de"/, 'server shell is marked German');
    assert.ok(html.includes('Einstellungen'), 'server shell navigation is German');

    // Shortcuts are written as a German keyboard labels them.
    await page.goto(`${server.url}/recommendations`);
    await waitHydrated(page);
    await page.getByRole('button', { name: 'Neue Empfehlung' }).click();
    await page.getByLabel('Präambel', { exact: true }).focus();
    const bold = page.getByRole('toolbar', { name: 'Formatierung' }).getByRole('button', { name: 'Fett' });
    assert.equal(await bold.getAttribute('title'), 'Fett (Strg+B)');
    assert.deepEqual(consoleProblems(log), [], formatConsole(log));
  } finally {
    await context.close();
  }
});

test('a language chosen in Settings wins over the browser and survives a reload', { timeout: 60_000 }, async () => {
  const context = await newSignedInContext(browser, server, undefined, { locale: 'en-GB' });
  const log = [];
  try {
    const page = await context.newPage();
    recordConsole(page, log, 'settings');
    await page.goto(`${server.url}/settings`);
    await waitHydrated(page);
    assert.equal(await h1(page), 'Settings');

    await page.getByRole('combobox', { name: 'Language' }).selectOption('de');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Einstellungen');
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await firstNavLabel(page), 'Übersicht');
    assert.equal(await page.title(), 'Einstellungen · Tern');

    // The server renders the next page in the chosen language, and it hydrates cleanly.
    await page.reload();
    await waitHydrated(page);
    assert.equal(await h1(page), 'Einstellungen');
    assert.equal(await page.getAttribute('html', 'lang'), 'de');
    assert.equal(await page.locator('#language-select').inputValue(), 'de');

    // Back to English, in Settings' own label now in German.
    await page.getByRole('combobox', { name: 'Sprache' }).selectOption('en');
    await page.waitForFunction(() => document.querySelector('main h1')?.textContent === 'Settings');
    await page.goto(`${server.url}/`);
    await waitHydrated(page);
    assert.equal(await h1(page), 'Overview');
    assert.deepEqual(consoleProblems(log), [], formatConsole(log));
  } finally {
    await context.close();
  }
});
