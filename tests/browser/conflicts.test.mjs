// Field conflicts (issue 11, part 7), in Chromium: two of the secretariat set one recommendation's
// status offline to different values; after sync both pages name both choices and who made them,
// and keeping one settles it on both.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/conflicts.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  createUser,
  launchBrowser,
  newSignedInContext,
  openNewRecommendation,
  startServer,
  waitHydrated,
  waitInPage,
  waitSynced,
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

test('two people set a status offline to different values: both see both, with names, and keeping one settles it for both', { timeout: 150_000 }, withServerLogs(servers, async () => {
  const anna = await newSignedInContext(browser, server, await createUser(server, { role: 'secretariat', name: 'Anna Berg' }));
  const jonas = await newSignedInContext(browser, server, await createUser(server, { role: 'secretariat', name: 'Jonas Lind' }));
  try {
    const a = await anna.newPage();
    await openNewRecommendation(a, server);
    await a.getByLabel('Title').fill('Guardianship');
    await a.getByLabel('Title').blur();
    await waitSynced(a);
    const j = await jonas.newPage();
    await j.goto(a.url());
    await waitHydrated(j);
    await waitInPage(j, 'the record', () => document.querySelector('#title')?.value === 'Guardianship');

    await Promise.all([anna.setOffline(true), jonas.setOffline(true)]);
    await a.getByLabel('Status', { exact: true }).selectOption('adopted');
    await j.getByLabel('Status', { exact: true }).selectOption('withdrawn');
    await Promise.all([anna.setOffline(false), jonas.setOffline(false)]);
    await Promise.all([waitSynced(a), waitSynced(j)]);

    for (const page of [a, j]) {
      const panel = page.getByRole('region', { name: 'Choices made at the same time' });
      await panel.waitFor({ timeout: 20_000 });
      const text = await panel.textContent();
      assert.match(text, /Anna Berg: “Adopted”/);
      assert.match(text, /Jonas Lind: “Withdrawn”/);
    }
    // Anna keeps Jonas's choice: settled for both, and the status reads it.
    await a.getByRole('button', { name: 'Keep “Withdrawn”' }).click();
    for (const page of [a, j]) {
      await page.getByRole('region', { name: 'Choices made at the same time' }).waitFor({ state: 'detached', timeout: 20_000 });
      assert.equal(await page.getByLabel('Status', { exact: true }).inputValue(), 'withdrawn');
    }
  } finally {
    await Promise.allSettled([anna.close(), jonas.close()]);
  }
}));
