// Browser end-to-end test of a stopped app: the release wasm aborts on any panic, and the boot
// script then shows "Tern stopped because of an error" in the user's language, with the error
// text to copy and Reload, while the rest of the page can no longer be used. The work saved on
// the device is there after reloading.
//
// The panic is real: a test-only event (enabled by an init script setting
// globalThis.__ternTestHooks) panics inside the app after it has started.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  ADMIN,
  axeSource,
  launchBrowser,
  newSignedInContext,
  startServer,
  waitHydrated,
  waitInPage,
  withServerLogs,
} from './harness.mjs';

let server;
let browser;
const servers = () => [server];

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'tern' }), launchBrowser()]);
}, { timeout: 90_000 });

after(async () => {
  await Promise.allSettled([browser?.close(), server?.stop()]);
});

const STOPPED = 'Tern wurde wegen eines Fehlers angehalten. Ihre gespeicherte Arbeit ist auf diesem Gerät.';

test('a panic after start-up shows the stopped banner in German; Reload brings back the work saved offline', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server, ADMIN, { locale: 'de-DE' });
  await context.addInitScript(() => { globalThis.__ternTestHooks = true; });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/projects`);
    await waitHydrated(page);
    const banner = page.getByRole('alert').filter({ hasText: STOPPED });
    assert.equal(await banner.count(), 0, 'no banner while the app runs');

    // A project made offline: it is only on this device.
    await context.setOffline(true);
    await page.click('#new-record');
    await page.waitForURL(/\/projects\/[0-9a-f-]{36}$/);
    const projectUrl = page.url();
    await page.getByLabel('Titel').fill('Kinderschutz im Ostseeraum');
    await page.getByLabel('Titel').blur();
    await waitInPage(page, 'the project saved on this device',
      () => document.querySelector('.record-state')?.dataset.state === 'saved-locally');

    const nav = page.getByRole('navigation').getByRole('link', { name: 'Projekte' });
    assert.equal(await nav.count(), 1, 'the navigation is there to click while the app runs');

    await page.evaluate(() => window.dispatchEvent(new CustomEvent('tern:test-panic')));

    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    const reload = banner.getByRole('button', { name: 'Neu laden' });
    assert.ok(await reload.evaluate((button) => button === document.activeElement),
      'focus moves to Reload');
    // The stopped app's page cannot be used: Tab reaches nothing outside the banner (past its
    // last control, focus leaves the page).
    for (let i = 0; i < 4; i += 1) {
      await page.keyboard.press('Tab');
      const outside = await banner.evaluate((b) => {
        const at = document.activeElement;
        return at && at !== document.body && !b.contains(at) ? at.outerHTML.slice(0, 120) : null;
      });
      assert.equal(outside, null, `Tab ${i + 1} reached the stopped page`);
    }
    await assert.rejects(nav.click({ timeout: 1_000 }), 'the navigation cannot be clicked');

    // The error text, for a report: shown and copied.
    await banner.getByText('Fehlerangaben für eine Meldung').click();
    const report = await banner.getByLabel('Fehlertext').inputValue();
    assert.match(report, /RuntimeError/, report);
    assert.match(report, /page: \/projects\//, report);
    await banner.getByRole('button', { name: 'Fehlertext kopieren' }).click();
    await banner.getByRole('button', { name: 'Kopiert' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), report);

    // Reload, still offline: the app runs again and the project is there.
    await reload.click();
    await page.waitForURL(projectUrl);
    await waitHydrated(page);
    await waitInPage(page, 'the saved title after the reload',
      () => document.querySelector('#title')?.value === 'Kinderschutz im Ostseeraum');
    assert.equal(await banner.isVisible(), false, 'the banner is gone after the reload');
  } finally {
    await context.close();
  }
}));

test('the trigger is test-only, and the shown banner passes axe-core (WCAG 2.1 A/AA)', { timeout: 90_000 }, withServerLogs(servers, async () => {
  // Without the init script's flag, the event is nobody's business.
  const plain = await newSignedInContext(browser, server, ADMIN);
  try {
    const page = await plain.newPage();
    await page.goto(`${server.url}/`);
    await waitHydrated(page);
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('tern:test-panic')));
    await page.getByRole('navigation').getByRole('link', { name: 'Projects' }).click();
    await page.waitForURL(`${server.url}/projects`);
    await waitInPage(page, 'the Projects page', () => document.querySelector('main h1')?.textContent === 'Projects');
    assert.equal(await page.getByRole('alert').filter({ hasText: 'Tern stopped' }).count(), 0);
  } finally {
    await plain.close();
  }

  // bypassCSP lets axe be injected (this context only).
  const context = await newSignedInContext(browser, server, ADMIN, { bypassCSP: true });
  await context.addInitScript(() => { globalThis.__ternTestHooks = true; });
  try {
    const page = await context.newPage();
    await page.goto(`${server.url}/`);
    await waitHydrated(page);
    await page.evaluate(() => window.dispatchEvent(new CustomEvent('tern:test-panic')));
    const banner = page.getByRole('alert').filter({ hasText: 'Tern stopped because of an error.' });
    await banner.waitFor({ state: 'visible', timeout: 10_000 });
    await banner.getByText('Error details for a report').click();
    await page.addScriptTag({ content: axeSource() });
    const violations = await page.evaluate(async () => {
      // eslint-disable-next-line no-undef
      const result = await axe.run('#stopped-banner', {
        runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
        resultTypes: ['violations'],
      });
      return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target).join(', ')})`);
    });
    assert.deepEqual(violations, []);
  } finally {
    await context.close();
  }
}));
