// Formatting without Markdown (issue 11, part 2), in Chromium as a drafter does it with the
// keyboard alone: shortcuts and the toolbar write the Markdown, the toolbar says what is on,
// a preview shows the text as readers will, and all of it works offline after a reload.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/formatting.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  launchBrowser,
  newSignedInContext,
  openNewRecommendation,
  startServer,
  waitHydrated,
  waitInPage,
  waitSwControl,
  waitSynced,
  waitValue,
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

const MOD = process.platform === 'darwin' ? 'Meta' : 'Control';

/** Presses `key` `times` times. */
async function press(page, key, times = 1) {
  for (let n = 0; n < times; n += 1) await page.keyboard.press(key);
}

/** The name of the element with the focus, as a screen reader would say it. */
const focused = (page) => page.evaluate(() => {
  const element = document.activeElement;
  return element?.getAttribute('aria-label') ?? element?.labels?.[0]?.textContent ?? element?.outerHTML.slice(0, 120);
});

test('keyboard-only formatting: shortcuts and toolbar write the Markdown, say what is on, preview it, and work offline after a reload', { timeout: 150_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  try {
    await openNewRecommendation(page, server);
    const preamble = page.getByLabel('Preamble', { exact: true });
    await preamble.focus();
    const toolbar = page.getByRole('toolbar', { name: 'Formatting' });
    await toolbar.waitFor();
    await page.keyboard.type('Children have rights');

    // Shift+← six times selects "rights"; Ctrl+B makes it bold, and says so.
    await press(page, 'Shift+ArrowLeft', 6);
    await press(page, `${MOD}+b`);
    await waitValue(page, '#preamble', 'Children have **rights**', 5_000);
    await toolbar.getByRole('button', { name: 'Bold', pressed: true }).waitFor();
    assert.equal(await page.getByRole('status').filter({ hasText: 'Bold' }).textContent(), 'Bold: on');
    // The formatting is one step of the user's history: undo takes back the bold only.
    await press(page, `${MOD}+z`);
    await waitValue(page, '#preamble', 'Children have rights', 5_000);
    await press(page, `${MOD}+Shift+z`);
    await waitValue(page, '#preamble', 'Children have **rights**', 5_000);

    // Shift+Tab reaches the toolbar (one tab stop); the arrow keys move in it.
    await press(page, 'End');
    await page.keyboard.type(' and needs.');
    await press(page, 'Shift+Tab');
    assert.equal(await focused(page), 'Bold');
    await press(page, 'ArrowLeft');
    assert.equal(await focused(page), 'Suggest a change', 'the arrow keys wrap around');
    await press(page, 'ArrowLeft', 2);
    assert.equal(await focused(page), 'Preview');
    await press(page, 'Enter');
    await toolbar.getByRole('button', { name: 'Preview', pressed: true }).waitFor();
    const preview = page.getByRole('region', { name: 'Preview – Preamble' });
    await waitInPage(page, 'the preview showing the bold word',
      () => document.querySelector('#preamble-preview strong')?.textContent === 'rights', null,
      { describe: () => document.querySelector('#preamble-preview')?.innerHTML ?? '<no preview>' });

    // Ctrl+K on a selection asks for the address, refuses one that is not, and links the words.
    await press(page, 'Tab');
    assert.equal(await focused(page), 'Preamble', 'Tab goes from the toolbar back to the text');
    await press(page, 'End');
    await press(page, 'ArrowLeft');
    await press(page, 'Shift+ArrowLeft', 5);
    await press(page, `${MOD}+k`);
    assert.equal(await focused(page), 'Link address');
    await page.keyboard.type('the report');
    await press(page, 'Enter');
    await page.getByRole('alert').filter({ hasText: 'Enter a web address' }).waitFor();
    await page.getByLabel('Link address').fill('cbss.org');
    await press(page, 'Enter');
    await waitValue(page, '#preamble', 'Children have **rights** and [needs](https://cbss.org).', 5_000);
    assert.equal(await focused(page), 'Preamble', 'the focus is back in the text');

    // Two new lines become a bulleted list, then a numbered one, with the shortcuts.
    await press(page, `${MOD}+End`);
    await page.keyboard.type('\nTrain staff\nFund barnahus');
    await press(page, 'Shift+ArrowUp');
    await press(page, 'Shift+Home');
    await press(page, `${MOD}+Shift+Digit8`);
    await waitValue(page, '#preamble', 'Children have **rights** and [needs](https://cbss.org).\n- Train staff\n- Fund barnahus', 5_000);
    await toolbar.getByRole('button', { name: 'Bulleted list', pressed: true }).waitFor();
    await press(page, `${MOD}+Shift+Digit7`);
    await waitValue(page, '#preamble', 'Children have **rights** and [needs](https://cbss.org).\n1. Train staff\n2. Fund barnahus', 5_000);

    // A footnote: its mark where the cursor is, its text typed at the end.
    await press(page, `${MOD}+End`);
    await press(page, `${MOD}+Alt+KeyF`);
    await page.keyboard.type('Article 3 of the UN Convention.');
    await waitValue(page, '#preamble', 'Children have **rights** and [needs](https://cbss.org).\n1. Train staff\n2. Fund barnahus[^1]\n\n[^1]: Article 3 of the UN Convention.', 5_000);
    await waitInPage(page, 'the preview showing list, link and footnote', () => {
      const shown = document.querySelector('#preamble-preview');
      return shown?.querySelectorAll('ol li').length === 2
        && shown.querySelector('a[href="https://cbss.org"]')?.textContent === 'needs'
        && shown.querySelector('.footnote-definition')?.textContent.includes('Article 3');
    }, null, { describe: () => document.querySelector('#preamble-preview')?.innerHTML });
    assert.equal(await preview.locator('a[href="https://cbss.org"]').getAttribute('rel'), 'noopener noreferrer nofollow');

    // Offline, after a reload, the text is as formatted and the preview still renders it.
    await preamble.blur();
    await waitSynced(page);
    await waitSwControl(page);
    await context.setOffline(true);
    await page.reload();
    await waitHydrated(page);
    await page.getByLabel('Preamble', { exact: true }).focus();
    await waitValue(page, '#preamble', 'Children have **rights** and [needs](https://cbss.org).\n1. Train staff\n2. Fund barnahus[^1]\n\n[^1]: Article 3 of the UN Convention.', 5_000);
    await toolbar.getByRole('button', { name: 'Preview' }).click();
    await waitInPage(page, 'the preview rendered offline',
      () => document.querySelector('#preamble-preview strong')?.textContent === 'rights', null,
      { describe: () => document.querySelector('#preamble-preview')?.innerHTML ?? '<no preview>' });
  } finally {
    await context.close();
  }
}));

test('a text too long for its field is not saved, says so, stays in the field, and can be downloaded', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  try {
    await openNewRecommendation(page, server);
    const preamble = page.getByLabel('Preamble', { exact: true });
    await preamble.fill('Short preamble.');
    await preamble.blur();
    await waitSynced(page);

    const tooLong = 'Recalling. '.repeat(9_091); // 100,001 characters
    await preamble.fill(tooLong);
    const alert = page.getByRole('alert').filter({ hasText: 'too long' });
    await alert.waitFor();
    assert.match(await alert.textContent(), /100001 \/ 100000/);
    assert.equal(await preamble.inputValue(), tooLong, 'the field keeps what was typed');

    // Nothing of it was saved: the record (in another tab) still has the text that fit.
    const other = await context.newPage();
    await other.goto(page.url());
    await waitHydrated(other);
    await waitValue(other, '#preamble', 'Short preamble.', 5_000);

    // The download holds all of it.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      alert.getByRole('button', { name: 'Download this text' }).click(),
    ]);
    const chunks = [];
    for await (const chunk of await download.createReadStream()) chunks.push(chunk);
    assert.equal(Buffer.concat(chunks).toString('utf8'), tooLong);

    // Shortened to fit, it is saved, and the message goes.
    await preamble.fill(tooLong.slice(0, 100_000));
    await alert.waitFor({ state: 'detached' });
    await preamble.blur();
    await waitSynced(page);
    await waitInPage(other, 'the other tab showing the text that fits',
      () => document.querySelector('#preamble')?.value.length === 100_000, null, { timeout: 10_000 });
  } finally {
    await context.close();
  }
}));
