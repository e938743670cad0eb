// The kinds of record beyond recommendations and projects, end to end in Chromium as the
// secretariat and a member use them: people, a consultation made offline with participants
// and linked to a recommendation, links both ways, a filtered list exported as CSV, and
// erasing a person.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/records.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';

import {
  axeSource,
  createUser,
  launchBrowser,
  newSignedInContext,
  recordConsole,
  startServer,
  waitHydrated,
  waitInPage,
  waitSynced,
  waitSwControl,
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

async function open(page, url) {
  await page.goto(url);
  await waitHydrated(page);
}

/** Creates a record of the list at `path` and returns its page's URL. */
async function create(page, path, button) {
  await open(page, `${server.url}${path}`);
  await page.getByRole('button', { name: button }).click();
  await page.waitForURL(new RegExp(`${path}/[0-9a-f-]{36}$`));
  return page.url();
}

/** Chooses a record in a picker (a select that lists records once it has focus). */
async function pick(select, label) {
  await select.focus();
  await select.selectOption({ label });
}

/** WCAG 2.1 A/AA violations axe-core finds on the page, one line each. */
async function violations(page) {
  await page.addScriptTag({ content: axeSource() });
  return page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const result = await axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => `${v.id}: ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  });
}

async function listedTitles(page) {
  return page.locator('.record-row th a').allTextContents();
}

test('a consultation made offline with participants links both ways, lists filter and export, and an erased person vanishes', { timeout: 240_000 }, withServerLogs(servers, async () => {
  const colleagueUser = await createUser(server, { role: 'member', member_state: 'PL', name: 'Piotr' });
  const secretariat = await newSignedInContext(browser, server);
  // bypassCSP: axe-core is injected into the colleague's pages (this context only).
  const colleague = await newSignedInContext(browser, server, colleagueUser, { bypassCSP: true });
  try {
    const page = await secretariat.newPage();
    recordConsole(page, [], 'secretariat');
    // Two people and a recommendation, online.
    const people = [['Anna Berg', 'Estonia'], ['Piotr Nowak', 'Poland']];
    const personUrls = {};
    for (const [name, country] of people) {
      personUrls[name] = await create(page, '/people', 'New person');
      await page.getByLabel('Name', { exact: true }).fill(name);
      await page.getByLabel('Name', { exact: true }).blur();
      await page.getByLabel('Country', { exact: true }).selectOption({ label: country });
      await waitSynced(page);
    }
    const recommendationUrl = await create(page, '/recommendations', 'New recommendation');
    await page.getByLabel('Title', { exact: true }).fill('Child-friendly justice');
    await page.getByLabel('Title', { exact: true }).blur();
    await waitSynced(page);

    // Offline: a consultation with both as participants, informing the recommendation.
    await open(page, `${server.url}/consultations`);
    await waitSwControl(page);
    await secretariat.setOffline(true);
    await page.getByRole('button', { name: 'New consultation' }).click();
    await page.waitForURL(/\/consultations\/[0-9a-f-]{36}$/);
    const consultationUrl = page.url();
    await page.getByLabel('Title', { exact: true }).fill('Riga expert consultation');
    await page.getByLabel('Title', { exact: true }).blur();
    for (const [index, [name], role] of [[0, people[0], 'Speaker'], [1, people[1], 'Expert']]) {
      await page.getByRole('button', { name: 'Add participant' }).click();
      await pick(page.getByRole('combobox', { name: 'Person' }).nth(index), name);
      await page.getByRole('combobox', { name: 'Role at the meeting' }).nth(index).selectOption({ label: role });
    }
    await pick(page.getByRole('combobox', { name: 'Add a link' }), 'Child-friendly justice');
    await waitInPage(page, 'the recommendation linked',
      () => [...document.querySelectorAll('.ref-list a')].some((a) => a.textContent === 'Child-friendly justice'));
    // A reload offline keeps all of it.
    await page.reload();
    await waitHydrated(page);
    await waitInPage(page, 'the participants after the reload',
      () => document.querySelectorAll('[data-list="participants"] .item').length === 2);
    assert.equal(await page.getByLabel('Title', { exact: true }).inputValue(), 'Riga expert consultation');
    assert.equal(await page.getByRole('combobox', { name: 'Role at the meeting' }).nth(1).inputValue(), 'expert');
    assert.equal(await page.locator('.record-state').getAttribute('data-state'), 'saved-locally');
    await secretariat.setOffline(false);
    await waitSynced(page, 30_000);

    // The colleague sees the consultation, its participants and the links both ways.
    const other = await colleague.newPage();
    recordConsole(other, [], 'colleague');
    await open(other, `${server.url}/consultations`);
    await waitInPage(other, 'the consultation listed',
      () => [...document.querySelectorAll('.record-row a')].some((a) => a.textContent === 'Riga expert consultation'), null, { timeout: 20_000 });
    await open(other, consultationUrl);
    await waitInPage(other, 'both participants named', () => {
      const names = [...document.querySelectorAll('[data-list="participants"] .ref-target a')].map((a) => a.textContent);
      return names.includes('Anna Berg') && names.includes('Piotr Nowak');
    });
    assert.deepEqual(await violations(other), [], 'the consultation\'s form');
    await open(other, personUrls['Anna Berg']);
    const backlinks = other.locator('#links');
    await waitInPage(other, 'the person\'s consultations', () => /Consultations they took part in/.test(document.querySelector('#links')?.textContent ?? ''));
    assert.equal(await backlinks.getByRole('link', { name: 'Riga expert consultation' }).count(), 1);
    assert.deepEqual(await violations(other), [], 'a person with backlinks');
    await open(other, recommendationUrl);
    await waitInPage(other, 'the traceability panel', () => /Consultations that informed it/.test(document.querySelector('#links')?.textContent ?? ''));
    assert.equal(await other.getByRole('heading', { name: 'Traceability' }).count(), 1);
    assert.equal(await other.locator('#links').getByRole('link', { name: 'Riga expert consultation' }).count(), 1);

    // The people list, filtered by country and exported as CSV.
    await open(other, `${server.url}/people`);
    await waitInPage(other, 'two people listed', () => document.querySelectorAll('.record-row').length === 2);
    await other.getByRole('combobox', { name: 'Country' }).selectOption({ label: 'Poland' });
    await waitInPage(other, 'one person in Poland', () => document.querySelectorAll('.record-row').length === 1);
    assert.deepEqual(await listedTitles(other), ['Piotr Nowak']);
    assert.deepEqual(await violations(other), [], 'the filtered people list');
    assert.match(await other.getByRole('status').filter({ hasText: ' of ' }).first().textContent(), /^1 of 2$/);
    const [download] = await Promise.all([
      other.waitForEvent('download'),
      other.getByRole('button', { name: 'Export as CSV' }).click(),
    ]);
    const csv = fs.readFileSync(await download.path(), 'utf8');
    const lines = csv.replace(/^\uFEFF/, '').trim().split(/\r\n/);
    assert.match(lines[0], /^Name,Position,Organisation,Country,/);
    assert.equal(lines.length, 2, csv);
    assert.match(lines[1], /^Piotr Nowak,,,Poland,/);
    // A link to a filtered list that matches nobody, opened first on a new device: once
    // synced, it says how many there are in all.
    const laptop = await newSignedInContext(browser, server, colleagueUser);
    try {
      const fresh = await laptop.newPage();
      await open(fresh, `${server.url}/people?country=DK`);
      await waitInPage(fresh, 'none of two people', () => document.querySelector('#list-count')?.textContent === '0 of 2',
        null, { timeout: 20_000, describe: () => document.querySelector('#list-count')?.textContent });
    } finally {
      await laptop.close();
    }
    // The filter is in the address: a reload shows the same list.
    await other.reload();
    await waitHydrated(other);
    await waitInPage(other, 'the filter after a reload', () => document.querySelectorAll('.record-row').length === 1);
    // A device whose saved listings are gone (its records saved by an older build, or under
    // another projection version) lists its records all the same, and saves their listings
    // again for the next start.
    const stores = () => other.evaluate(async () => {
      const [{ name }] = (await indexedDB.databases()).filter((db) => db.name.startsWith('tern-'));
      const db = await new Promise((resolve, reject) => {
        const request = indexedDB.open(name);
        request.onsuccess = () => resolve(request.result);
        request.onerror = () => reject(request.error);
      });
      const count = (store) => new Promise((resolve) => {
        const request = db.transaction(store).objectStore(store).count();
        request.onsuccess = () => resolve(request.result);
      });
      const counts = { records: await count('records'), listing: await count('listing') };
      db.close();
      return counts;
    });
    await other.evaluate(async () => {
      const [{ name }] = (await indexedDB.databases()).filter((db) => db.name.startsWith('tern-'));
      const request = indexedDB.open(name);
      await new Promise((resolve) => { request.onsuccess = resolve; });
      const tx = request.result.transaction('listing', 'readwrite');
      tx.objectStore('listing').clear();
      await new Promise((resolve) => { tx.oncomplete = resolve; });
      request.result.close();
    });
    assert.equal((await stores()).listing, 0);
    await other.reload();
    await waitHydrated(other);
    await waitInPage(other, 'the filtered list with no saved listings', () => document.querySelectorAll('.record-row').length === 1
      && document.querySelector('#sync-status')?.dataset.state === 'synced');
    assert.deepEqual(await listedTitles(other), ['Piotr Nowak']);
    const counts = await stores();
    assert.ok(counts.records > 0 && counts.listing === counts.records, JSON.stringify(counts));

    // The secretariat erases Piotr; he vanishes from the colleague's device.
    await open(page, personUrls['Piotr Nowak']);
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Erase this person' }).click();
    await waitInPage(page, 'the erasure confirmed', () => /Erased/.test(document.querySelector('#record-message')?.textContent ?? ''),
      null, { describe: () => document.querySelector('#record-message')?.textContent ?? '<no message>' });
    await open(other, `${server.url}/people`);
    // Waited for until the device has synced: an empty list before the records load is no answer.
    await waitInPage(other, 'Piotr gone from the list, Anna left', () => {
      const names = [...document.querySelectorAll('.record-row a')].map((a) => a.textContent);
      return names.length === 1 && names[0] === 'Anna Berg'
        && document.querySelector('#sync-status')?.dataset.state === 'synced';
    }, null, {
      timeout: 30_000,
      describe: () => `${[...document.querySelectorAll('.record-row a')].map((a) => a.textContent)}; ${document.querySelector('#list-count')?.textContent}; ${document.querySelector('#sync-status')?.textContent}`,
    });
    assert.equal(await other.locator('#list-count').textContent(), '1 of 1');
    await open(other, personUrls['Piotr Nowak']);
    await waitInPage(other, 'his page says he is not here', () => /not on this device, or was erased/.test(document.querySelector('main')?.textContent ?? ''));
    await open(other, consultationUrl);
    await waitInPage(other, 'the participant no longer named', () => {
      const text = document.querySelector('[data-list="participants"]')?.textContent ?? '';
      return !text.includes('Piotr Nowak') && text.includes('Anna Berg') && text.includes('A record you do not have access to');
    });
  } finally {
    await Promise.allSettled([secretariat.close(), colleague.close()]);
  }
}));
