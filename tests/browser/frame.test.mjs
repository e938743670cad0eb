// The frame on a phone and on a laptop: the header's height, the Menu and the
// sync indicator by touch and by keyboard, no sideways scroll at 320 px, touch
// targets, the work area beside its links on a wide screen, dark mode, axe in
// both sizes and both colour schemes, and a long list that renders only what is
// on screen, keeps its place when coming back from a record and finds a record
// by typing.
//
// Run from the repo root:  node --test tests/browser/frame.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';

import {
  ADMIN, ROOT, axeSource, launchBrowser, newSignedInContext, startServer, waitH1, waitHydrated,
  waitInPage, withServerLogs,
} from './harness.mjs';

const PHONE = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const NARROWEST = { viewport: { width: 320, height: 640 }, isMobile: true, hasTouch: true };
const LAPTOP = { viewport: { width: 1280, height: 900 } };
/** Records seeded for the long list (40 of every 100 are people). */
const SEEDED = 1_000;
const PEOPLE = 400;

let server;
let browser;
let recordPath;
const servers = () => [server];

before(async () => {
  [server, browser] = await Promise.all([startServer({ name: 'frame' }), launchBrowser()]);
  const target = process.env.CARGO_TARGET_DIR ? path.resolve(process.env.CARGO_TARGET_DIR) : path.join(ROOT, 'target');
  const seeder = path.join(target, 'debug', 'seed-records');
  if (!existsSync(seeder)) throw new Error(`${seeder} not found: cargo build -p tern-tests --bin seed-records`);
  execFileSync(seeder, [server.url, ADMIN.email, ADMIN.password, String(SEEDED)], { stdio: 'inherit' });
}, { timeout: 180_000 });

after(async () => {
  await Promise.allSettled([browser?.close(), server?.stop()]);
});

/** A signed-in context of `options` whose device holds every seeded record. */
async function syncedContext(options) {
  const context = await newSignedInContext(browser, server, ADMIN, options);
  const page = await context.newPage();
  await page.goto(`${server.url}/people`);
  await waitHydrated(page);
  await waitInPage(page, 'every person on the device', (people) => {
    const numbers = (document.querySelector('#list-count')?.textContent ?? '').match(/\d+/g) ?? [];
    return Number(numbers[1]) === people && document.querySelector('#sync-status')?.dataset.state === 'synced';
  }, PEOPLE, { timeout: 60_000, describe: () => document.querySelector('#list-count')?.textContent });
  if (!recordPath) {
    recordPath = new URL(await page.locator('tr.record-row th a').first().getAttribute('href'), server.url).pathname;
  }
  return { context, page };
}

const routes = () => [
  { path: '/', h1: 'Overview' },
  { path: '/recommendations', h1: 'Recommendations' },
  { path: '/projects', h1: 'Projects' },
  { path: '/people', h1: 'People' },
  { path: recordPath, h1: 'Person' },
  { path: '/sync', h1: 'Sync' },
  { path: '/settings', h1: 'Settings' },
  { path: '/users', h1: 'Users' },
];

async function open(page, route) {
  await page.goto(server.url + route.path);
  await waitHydrated(page);
  await waitH1(page, route.h1);
  // Lists and the record fill in from the device after the heading.
  await page.waitForTimeout(300);
}

/** The page's sideways overflow and the header's height, as the user sees them. */
// On a phone (isMobile) Chromium widens the layout viewport to fit content wider than the screen,
// so the screen's width is the one the test set, not innerWidth.
const measureFrame = (page) => page.evaluate((screenWidth) => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: screenWidth,
  header: document.querySelector('header.app-header').getBoundingClientRect().height,
  innerHeight: window.innerHeight,
}), page.viewportSize().width);

const visible = (page, selector) => page.locator(selector).isVisible();

test('on a phone the header is one row of at most 15 % of the screen, and nothing scrolls sideways', { timeout: 180_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(PHONE);
  try {
    for (const route of routes()) {
      await open(page, route);
      const frame = await measureFrame(page);
      assert.ok(frame.header <= 0.15 * frame.innerHeight,
        `${route.path}: the header is ${frame.header} px of ${frame.innerHeight} (over 15 %)`);
      assert.ok(frame.scrollWidth <= frame.innerWidth, `${route.path}: the page is ${frame.scrollWidth} px wide on a ${frame.innerWidth} px screen`);
      assert.equal(await visible(page, 'nav[aria-label="Main"]'), false, `${route.path}: the navigation shows before Menu is opened`);
      assert.equal(await visible(page, '#status-toggle'), true, `${route.path}: no sync indicator`);
    }
  } finally {
    await context.close();
  }
  // The narrowest phones in use.
  const narrow = await syncedContext(NARROWEST);
  try {
    for (const route of routes()) {
      await open(narrow.page, route);
      const frame = await measureFrame(narrow.page);
      assert.ok(frame.scrollWidth <= frame.innerWidth, `${route.path} at 320 px: the page is ${frame.scrollWidth} px wide`);
    }
  } finally {
    await narrow.context.close();
  }
}));

test('the Menu and the sync indicator open and close by touch and by keyboard', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(PHONE);
  try {
    await open(page, { path: '/', h1: 'Overview' });
    const menu = page.getByRole('button', { name: 'Menu' });
    const nav = page.getByRole('navigation', { name: 'Main', exact: true });
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');
    await menu.tap();
    assert.equal(await menu.getAttribute('aria-expanded'), 'true');
    await nav.getByRole('link', { name: 'Projects' }).tap();
    await waitH1(page, 'Projects');
    assert.equal(await nav.isVisible(), false, 'the menu closes once a place is chosen');
    assert.equal(await menu.getAttribute('aria-expanded'), 'false');

    // Keyboard: Enter opens, Escape closes and gives focus back to the button.
    await menu.focus();
    await page.keyboard.press('Enter');
    assert.equal(await nav.isVisible(), true, 'Enter on Menu shows the navigation');
    await page.keyboard.press('Escape');
    assert.equal(await nav.isVisible(), false, 'Escape closes the menu');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'menu-toggle');

    // The sync indicator says the state in a word and opens the details.
    const indicator = page.getByRole('button', { name: /^Status: Synced/ });
    await indicator.tap();
    assert.equal(await indicator.getAttribute('aria-expanded'), 'true');
    for (const id of ['#connection-status', '#sync-status', '#identity']) {
      assert.equal(await visible(page, id), true, `${id} shows in the opened details`);
    }
    assert.match(await page.locator('#sync-status').textContent(), /Synced at/);
    // A tap outside closes it.
    await page.touchscreen.tap(200, 700);
    assert.equal(await visible(page, '#sync-status'), false, 'a tap outside closes the details');
    // Offline, the indicator says so without opening anything.
    await context.setOffline(true);
    await waitInPage(page, 'the indicator says offline', () => /Offline/.test(document.querySelector('#status-toggle')?.textContent ?? ''));
    await context.setOffline(false);
  } finally {
    await context.close();
  }
}));

test('touch targets are at least 24 px, and the main actions 44 px', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(PHONE);
  try {
    for (const route of routes()) {
      await open(page, route);
      await page.getByRole('button', { name: 'Menu' }).tap();
      const small = await page.evaluate(() => {
        const targets = [...document.querySelectorAll('button, select, input, summary, nav a, .record-actions a')]
          .filter((element) => element.getClientRects().length > 0 && getComputedStyle(element).visibility !== 'hidden');
        const under = (element, min) => {
          const box = element.getBoundingClientRect();
          return box.width < min || box.height < min;
        };
        const name = (element) => `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''} "${(element.textContent || element.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
        const main = [...document.querySelectorAll('button.primary, #menu-toggle, #status-toggle, nav[aria-label="Main"] a')]
          .filter((element) => element.getClientRects().length > 0);
        return {
          any: targets.filter((element) => under(element, 24)).map(name),
          main: main.filter((element) => element.getBoundingClientRect().height < 44).map(name),
        };
      });
      assert.deepEqual(small.any, [], `${route.path}: targets under 24 px`);
      assert.deepEqual(small.main, [], `${route.path}: main actions under 44 px high`);
    }
  } finally {
    await context.close();
  }
}));

test('on a laptop the header shows its status, the navigation is open, and a record has its links beside it', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(LAPTOP);
  try {
    await open(page, routes()[4]);
    assert.equal(await visible(page, '#status-toggle'), false);
    assert.equal(await visible(page, '#menu-toggle'), false);
    for (const id of ['#connection-status', '#sync-status', '#identity', 'nav[aria-label="Main"]']) {
      assert.equal(await visible(page, id), true, `${id} shows on a wide screen`);
    }
    const boxes = await page.evaluate(() => {
      const box = (selector) => document.querySelector(selector).getBoundingClientRect();
      return { main: box('.record-main'), side: box('.record-side'), header: box('header.app-header') };
    });
    assert.ok(boxes.side.left >= boxes.main.right, `the links panel sits beside the form (form ends at ${boxes.main.right}, panel starts at ${boxes.side.left})`);
    assert.ok(boxes.main.width + boxes.side.width > 1000, 'the work area uses the width');
    const frame = await measureFrame(page);
    assert.ok(frame.header <= 0.1 * frame.innerHeight, `the header is ${frame.header} px`);
    assert.ok(frame.scrollWidth <= frame.innerWidth);
  } finally {
    await context.close();
  }
}));

test('dark mode follows the device, and a choice in Settings wins and survives a reload', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const background = (page) => page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const { context, page } = await syncedContext({ ...LAPTOP, colorScheme: 'dark' });
  try {
    await open(page, { path: '/settings', h1: 'Settings' });
    assert.equal(await background(page), 'rgb(21, 25, 30)', 'a dark device gets the dark scheme');
    const colours = page.getByLabel('Colours');
    await colours.selectOption({ label: 'Light' });
    assert.equal(await background(page), 'rgb(255, 255, 255)', 'Light wins over the device');
    await page.reload();
    await waitHydrated(page);
    assert.equal(await background(page), 'rgb(255, 255, 255)', 'the choice survives a reload');
    assert.equal(await page.getByLabel('Colours').inputValue(), 'light');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.getByLabel('Colours').selectOption({ label: 'Dark' });
    assert.equal(await background(page), 'rgb(21, 25, 30)', 'Dark wins over a light device');
    await page.getByLabel('Colours').selectOption({ label: 'As on this device' });
    assert.equal(await background(page), 'rgb(255, 255, 255)', 'back to the device\'s scheme');
  } finally {
    await context.close();
  }
}));

test('axe finds no WCAG 2.1 A/AA violations on a phone and a laptop, light and dark', { timeout: 300_000 }, withServerLogs(servers, async () => {
  const source = axeSource();
  const problems = [];
  for (const [size, options] of [['phone', PHONE], ['laptop', LAPTOP]]) {
    for (const colorScheme of ['light', 'dark']) {
      const { context, page } = await syncedContext({ ...options, colorScheme, bypassCSP: true });
      try {
        for (const route of routes()) {
          await open(page, route);
          if (size === 'phone') await page.getByRole('button', { name: 'Menu' }).tap();
          await page.addScriptTag({ content: source });
          const violations = await page.evaluate(async () => {
            // eslint-disable-next-line no-undef
            const result = await axe.run(document, {
              runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
              resultTypes: ['violations'],
            });
            return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 4).join('; ')})`);
          });
          for (const violation of violations) problems.push(`${size}, ${colorScheme}, ${route.path}: ${violation}`);
        }
      } finally {
        await context.close();
      }
    }
  }
  assert.deepEqual(problems, []);
}));

test('a long list renders what is on screen, finds a record by typing, and keeps its place when coming back', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(PHONE);
  try {
    const rendered = () => page.locator('tr.record-row').count();
    assert.ok(await rendered() < 120, `${await rendered()} of ${PEOPLE} rows are in the page`);
    // Scroll far down: the rows there are rendered, and one is opened.
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight * 0.6));
    await page.waitForTimeout(300);
    const target = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('tr.record-row')];
      const onScreen = rows.find((row) => row.getBoundingClientRect().top > window.innerHeight / 3);
      return { name: onScreen.querySelector('th a').textContent, index: Number(onScreen.getAttribute('aria-rowindex')), scrollY: window.scrollY };
    });
    assert.ok(target.index > 150, `a row far down the list is on screen (row ${target.index})`);
    assert.ok(await rendered() < 120, 'still only the rows around the screen');
    await page.getByRole('link', { name: target.name, exact: true }).first().click();
    await page.waitForURL(/\/people\/[0-9a-f-]{36}$/);
    await page.goBack();
    await waitInPage(page, 'the list back where it was', (name) => {
      const link = [...document.querySelectorAll('tr.record-row th a')].find((a) => a.textContent === name);
      if (!link) return false;
      const top = link.getBoundingClientRect().top;
      return top > 0 && top < window.innerHeight;
    }, target.name, { describe: () => `scrollY ${window.scrollY}` });
    // Coming back through the navigation (a new visit of the list, not the browser's history) too.
    await page.getByRole('link', { name: target.name, exact: true }).first().click();
    await page.waitForURL(/\/people\/[0-9a-f-]{36}$/);
    await page.getByRole('button', { name: 'Menu' }).tap();
    await page.getByRole('navigation', { name: 'Main', exact: true }).getByRole('link', { name: 'Network' }).tap();
    await waitInPage(page, 'the list back where it was after the navigation', (name) => {
      const link = [...document.querySelectorAll('tr.record-row th a')].find((a) => a.textContent === name);
      const top = link?.getBoundingClientRect().top ?? -1;
      return top > 0 && top < window.innerHeight;
    }, target.name, { describe: () => `scrollY ${window.scrollY}` });

    // Typing part of a name finds it.
    await page.evaluate(() => window.scrollTo(0, 0));
    const words = target.name.split(' ');
    await page.getByRole('searchbox', { name: 'Find' }).fill(words[words.length - 1].toLowerCase());
    await waitInPage(page, 'the typed name found', (name) => [...document.querySelectorAll('tr.record-row th a')].some((a) => a.textContent === name), target.name);
    const count = await page.locator('#list-count').textContent();
    assert.ok(Number(count.match(/\d+/)[0]) < PEOPLE, `the list is filtered: ${count}`);
    assert.match(new URL(page.url()).search, /q=/, 'the filter is in the address');
  } finally {
    await context.close();
  }
}));

/** A new recommendation with `count` titled sections, made through the form; returns its path. */
async function recommendationWithSections(page, count) {
  await open(page, { path: '/recommendations', h1: 'Recommendations' });
  await page.getByRole('button', { name: 'New recommendation' }).click();
  await page.waitForURL(/\/recommendations\/[0-9a-f-]{36}$/);
  await page.getByLabel('Title').fill('Guardianship for unaccompanied children');
  for (let n = 1; n <= count; n++) {
    await page.getByRole('button', { name: 'Add section' }).click();
    await page.fill(`#sections-${n}-heading`, `Heading ${n}`);
  }
  await page.locator(`#sections-${count}-heading`).blur();
  return new URL(page.url()).pathname;
}

/** The outline's entries as the user reads them, and the one marked as in view. */
/** The outline's entries as read (number and name, without the not-synced mark) and the current one. */
const outlineState = (page) => page.evaluate(() => {
  const links = [...document.querySelectorAll('nav#outline a')];
  const name = (a) => {
    const copy = a.cloneNode(true);
    copy.querySelector('.outline-mark')?.remove();
    return copy.textContent.replace(/\s+/g, ' ').trim();
  };
  return {
    entries: links.map(name),
    current: links.filter((a) => a.getAttribute('aria-current') === 'location').map(name)[0],
  };
});

test('a long recommendation has an outline beside it that jumps and follows the reading; on a phone it is a sheet', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const { context, page } = await syncedContext(LAPTOP);
  let path;
  try {
    path = await recommendationWithSections(page, 8);
    const outline = page.getByRole('navigation', { name: 'Sections' });
    await waitInPage(page, 'eight entries in the outline', () => document.querySelectorAll('nav#outline li').length === 8);
    assert.equal(await outline.isVisible(), true);
    const state = await outlineState(page);
    assert.deepEqual(state.entries, Array.from({ length: 8 }, (_, i) => `${i + 1}. Heading ${i + 1}`));
    const beside = await page.evaluate(() => document.querySelector('nav#outline').getBoundingClientRect().left
      >= document.querySelector('.record-main').getBoundingClientRect().right);
    assert.ok(beside, 'the outline sits beside the text');

    await outline.getByRole('link', { name: '6. Heading 6' }).click();
    await waitInPage(page, 'section 6 at the top and marked', () => {
      const top = document.querySelector('#sections-6-heading').closest('li.item').getBoundingClientRect().top;
      const current = document.querySelector('nav#outline a[aria-current="location"]')?.textContent ?? '';
      return Math.abs(top) < 40 && /Heading 6/.test(current);
    }, null, { describe: () => document.querySelector('nav#outline a[aria-current="location"]')?.textContent });
    assert.equal(await page.evaluate(() => document.activeElement?.closest('li.item')?.querySelector('input')?.id), 'sections-6-heading',
      'focus moves to the section jumped to');
    // Scrolling on marks the section that comes into view.
    await page.evaluate(() => document.querySelector('#sections-3-heading').closest('li.item').scrollIntoView());
    await waitInPage(page, 'section 3 marked after scrolling', () => /Heading 3/.test(document.querySelector('nav#outline a[aria-current="location"]')?.textContent ?? ''));
    // A renamed section is renamed in the outline, and marked while its change waits for the
    // server (here the server cannot be reached for pushes); a reload keeps the mark.
    await waitInPage(page, 'the sections synced', () => document.querySelector('.record-state')?.dataset.state === 'synced', null, { timeout: 20_000 });
    const marked = () => page.evaluate(() => [...document.querySelectorAll('nav#outline a')]
      .filter((a) => a.querySelector('.outline-mark.unsynced')).map((a) => a.querySelector('.outline-number').textContent));
    assert.deepEqual(await marked(), [], 'no section is marked while everything is synced');
    await context.route('**/api/sync/v1/push', (route) => route.abort());
    await page.fill('#sections-3-heading', 'Who appoints a guardian');
    await waitInPage(page, 'the outline follows the heading', () => [...document.querySelectorAll('nav#outline a')].some((a) => /3\. Who appoints a guardian/.test(a.textContent)));
    await page.locator('#sections-3-heading').blur();
    await outline.getByRole('link', { name: '3. Who appoints a guardian Changes not synced yet' }).waitFor({ timeout: 10_000 });
    assert.deepEqual(await marked(), ['3.'], 'only the changed section is marked');
    await page.reload();
    await waitHydrated(page);
    await waitInPage(page, 'the mark after a reload', () => document.querySelectorAll('nav#outline .outline-mark.unsynced').length === 1,
      null, { describe: () => document.querySelector('nav#outline')?.textContent ?? '<no outline>' });
    assert.deepEqual(await marked(), ['3.']);
    await context.unroute('**/api/sync/v1/push');
    // The device syncs as soon as the network comes back.
    await context.setOffline(true);
    await context.setOffline(false);
    await waitInPage(page, 'the recommendation synced', () => document.querySelector('#sync-status')?.dataset.state === 'synced', null, { timeout: 30_000 });
    await waitInPage(page, 'no mark once synced', () => document.querySelectorAll('nav#outline .outline-mark').length === 0);
  } finally {
    await context.close();
  }

  const phone = await syncedContext(PHONE);
  try {
    await phone.page.goto(server.url + path);
    await waitHydrated(phone.page);
    const contents = phone.page.getByRole('button', { name: 'Contents' });
    await contents.waitFor({ timeout: 10_000 }).catch(async (error) => {
      const seen = await phone.page.evaluate(() => ({
        toggle: document.querySelector('#outline-toggle') && getComputedStyle(document.querySelector('#outline-toggle')).display,
        items: document.querySelectorAll('li.item').length,
        h1: document.querySelector('h1')?.textContent,
        main: document.querySelector('main')?.textContent.slice(0, 200),
      }));
      throw new Error(`${error.message}: ${JSON.stringify(seen)}`);
    });
    const outline = phone.page.getByRole('navigation', { name: 'Sections' });
    assert.equal(await outline.isVisible(), false, 'on a phone the outline waits behind Contents');
    await contents.tap();
    assert.equal(await contents.getAttribute('aria-expanded'), 'true');
    await outline.getByRole('link', { name: '7. Heading 7' }).tap();
    assert.equal(await outline.isVisible(), false, 'the sheet closes on a jump');
    await waitInPage(phone.page, 'section 7 at the top', () =>
      Math.abs(document.querySelector('#sections-7-heading').closest('li.item').getBoundingClientRect().top) < 40);
    const frame = await measureFrame(phone.page);
    assert.ok(frame.scrollWidth <= frame.innerWidth, `the page is ${frame.scrollWidth} px wide`);

    // A long title wraps and its box grows to show all of it; Enter does not break it.
    const title = phone.page.getByLabel('Title');
    const long = 'Recommendation on guardianship for unaccompanied and separated children in the Baltic Sea region';
    await title.fill(long);
    await title.press('Enter');
    const box = await title.evaluate((area) => ({
      height: area.getBoundingClientRect().height,
      line: parseFloat(getComputedStyle(area).lineHeight),
      hidden: area.scrollHeight - area.clientHeight,
      value: area.value,
    }));
    assert.equal(box.value, long, 'the title keeps one line of text');
    assert.ok(box.height > 2 * box.line, `the title's box grew to its lines (${box.height} px, lines of ${box.line} px)`);
    assert.ok(box.hidden <= 1, `none of the title is hidden (${box.hidden} px)`);
  } finally {
    await phone.context.close();
  }
}));
