// Drafting a recommendation together (issue 11), in Chromium as its drafters do it: a preamble,
// numbered sections of numbered paragraphs that Tern numbers from their order, moves that
// renumber, and what a second member sees after sync.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/drafting.test.mjs

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import {
  adminApi,
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

/** Opens a new recommendation from the list, as a drafter does. */
const newRecommendation = (page) => openNewRecommendation(page, server);

/** The numbers and texts of a section's paragraphs in the form, as the user reads them. */
const paragraphsOf = (page, section) => page.locator(`#sections-${section}-paragraphs-heading`).locator('..')
  .locator('li.item').evaluateAll((items) => items.map((item) => [
    item.querySelector('.item-number')?.textContent,
    item.querySelector('textarea')?.value,
  ]));

test('a recommendation has a preamble and numbered sections of numbered paragraphs; moves renumber; a colleague reads the same', { timeout: 150_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  try {
    await newRecommendation(page);
    await page.getByLabel('Title').fill('Guardianship for unaccompanied children');
    await page.getByLabel('Preamble').fill('Recalling the Council\'s priority on children at risk,');

    for (const [section, heading] of [[1, 'Appointment'], [2, 'Training']]) {
      await page.getByRole('button', { name: 'Add section' }).click();
      await page.fill(`#sections-${section}-heading`, heading);
      for (const n of [1, 2]) {
        await page.locator(`#add-sections-${section}-paragraphs`).click();
        await page.fill(`#sections-${section}-paragraphs-${n}-text`, `${heading}, paragraph ${n}.`);
      }
    }
    // Tern numbers them; nobody typed a number.
    assert.deepEqual(await page.locator('li.item > .item-number').allTextContents(), ['1.', '1.1', '1.2', '2.', '2.1', '2.2']);
    assert.deepEqual(await paragraphsOf(page, 2), [['2.1', 'Training, paragraph 1.'], ['2.2', 'Training, paragraph 2.']]);

    // Moving a paragraph up renumbers both; moving a section renumbers its paragraphs.
    const second = page.locator('#sections-2-paragraphs-2-text').locator('xpath=ancestor::li[1]');
    await second.getByRole('button', { name: 'Move up' }).click();
    await waitInPage(page, 'the paragraphs renumbered', () => document.querySelector('#sections-2-paragraphs-1-text')?.value === 'Training, paragraph 2.');
    assert.deepEqual(await paragraphsOf(page, 2), [['2.1', 'Training, paragraph 2.'], ['2.2', 'Training, paragraph 1.']]);
    const training = page.locator('#sections-2-heading').locator('xpath=ancestor::li[1]');
    await training.getByRole('button', { name: 'Move up' }).last().click();
    await waitInPage(page, 'the sections swapped', () => document.querySelector('#sections-1-heading')?.value === 'Training');
    assert.deepEqual(await paragraphsOf(page, 1), [['1.1', 'Training, paragraph 2.'], ['1.2', 'Training, paragraph 1.']]);
    assert.deepEqual(await paragraphsOf(page, 2), [['2.1', 'Appointment, paragraph 1.'], ['2.2', 'Appointment, paragraph 2.']]);

    // A reload keeps it all.
    await page.locator('#sections-2-paragraphs-2-text').blur();
    await waitSynced(page);
    const url = page.url();
    await page.reload();
    await waitHydrated(page);
    await page.locator('#sections-2-paragraphs-2-text').waitFor();
    assert.equal(await page.getByLabel('Preamble').inputValue(), 'Recalling the Council\'s priority on children at risk,');
    assert.deepEqual(await paragraphsOf(page, 1), [['1.1', 'Training, paragraph 2.'], ['1.2', 'Training, paragraph 1.']]);

    // An observer it is shared with reads it with the same numbers.
    const observer = await createUser(server, { role: 'observer', name: 'Olga Observer' });
    await adminApi(server, '/api/admin/v1/grants', { method: 'POST', body: { record: url.split('/').pop(), user: observer.id, granted: true } });
    const reader = await newSignedInContext(browser, server, observer);
    try {
      const other = await reader.newPage();
      await other.goto(url);
      await waitHydrated(other);
      const reading = other.locator('#reading');
      await waitInPage(other, 'the text rendered', () => document.querySelectorAll('#reading .reading-paragraph').length === 4
        && document.querySelectorAll('#reading .markdown.plain').length === 0, null,
        { timeout: 30_000, describe: () => (document.querySelector('#reading') ?? document.querySelector('main'))?.innerText.slice(0, 300) });
      assert.deepEqual(await reading.locator('h2 .reading-number').allTextContents(), ['1.', '2.']);
      const numbered = await reading.locator('.reading-paragraph').evaluateAll((items) => items.map((item) =>
        [item.querySelector('.reading-number').textContent, item.querySelector('.markdown').textContent.trim()]));
      assert.deepEqual(numbered, [
        ['1.1', 'Training, paragraph 2.'], ['1.2', 'Training, paragraph 1.'],
        ['2.1', 'Appointment, paragraph 1.'], ['2.2', 'Appointment, paragraph 2.'],
      ]);
      assert.match(await reading.textContent(), /Recalling the Council's priority on children at risk,/);
    } finally {
      await reader.close();
    }
  } finally {
    await context.close();
  }
}));

test('a paragraph splits in two at the cursor, by Ctrl+Enter or the button, and merges back by Backspace at its start or the button; numbered, with the focus', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const context = await newSignedInContext(browser, server);
  const page = await context.newPage();
  try {
    await newRecommendation(page);
    await page.getByRole('button', { name: 'Add section' }).click();
    await page.fill('#sections-1-heading', 'Hearing the child');
    await page.locator('#add-sections-1-paragraphs').click();
    const first = page.locator('#sections-1-paragraphs-1-text');
    await first.fill('Every child is heard. Their views are given due weight. Records are kept.');
    // The keyboard: the cursor after the first sentence.
    await first.focus();
    await first.evaluate((area) => area.setSelectionRange(22, 22));
    await page.keyboard.press('Control+Enter');
    await waitInPage(page, 'two paragraphs', () => document.querySelector('#sections-1-paragraphs-2-text') !== null);
    assert.deepEqual(await paragraphsOf(page, 1), [
      ['1.1', 'Every child is heard. '],
      ['1.2', 'Their views are given due weight. Records are kept.'],
    ]);
    await waitInPage(page, 'the focus in the new paragraph', () => document.activeElement?.id === 'sections-1-paragraphs-2-text');
    // The button, at the cursor the text area kept.
    const second = page.locator('#sections-1-paragraphs-2-text');
    await second.evaluate((area) => area.setSelectionRange(34, 34));
    await second.locator('xpath=ancestor::li[1]').getByRole('button', { name: 'Split at cursor' }).click();
    await waitInPage(page, 'three paragraphs', () => document.querySelector('#sections-1-paragraphs-3-text') !== null);
    assert.deepEqual(await paragraphsOf(page, 1), [
      ['1.1', 'Every child is heard. '],
      ['1.2', 'Their views are given due weight. '],
      ['1.3', 'Records are kept.'],
    ]);
    // Typed, split and synced: a reload shows the same.
    await page.locator('#sections-1-paragraphs-3-text').blur();
    await waitSynced(page);
    await page.reload();
    await waitHydrated(page);
    await page.locator('#sections-1-paragraphs-3-text').waitFor();
    assert.deepEqual((await paragraphsOf(page, 1)).map(([n]) => n), ['1.1', '1.2', '1.3']);

    // Backspace at the start of 1.3 joins it to 1.2, the cursor where they meet; typing goes on there.
    const third = page.locator('#sections-1-paragraphs-3-text');
    await third.focus();
    await third.evaluate((area) => area.setSelectionRange(0, 0));
    await page.keyboard.press('Backspace');
    await waitInPage(page, 'two paragraphs again', () => document.querySelector('#sections-1-paragraphs-3-text') === null);
    assert.deepEqual(await paragraphsOf(page, 1), [
      ['1.1', 'Every child is heard. '],
      ['1.2', 'Their views are given due weight. Records are kept.'],
    ]);
    await waitInPage(page, 'the cursor where the two met', () => {
      const area = document.activeElement;
      return area?.id === 'sections-1-paragraphs-2-text' && area.selectionStart === 34;
    });
    // The button joins 1.2 to 1.1.
    await page.locator('#sections-1-paragraphs-2-text').locator('xpath=ancestor::li[1]')
      .getByRole('button', { name: 'Merge with the one before' }).click();
    await waitInPage(page, 'one paragraph', () => document.querySelector('#sections-1-paragraphs-2-text') === null);
    assert.deepEqual(await paragraphsOf(page, 1), [
      ['1.1', 'Every child is heard. Their views are given due weight. Records are kept.'],
    ]);
    assert.equal(await page.locator('#sections-1-paragraphs-1-text').locator('xpath=ancestor::li[1]')
      .getByRole('button', { name: 'Merge with the one before' }).count(), 0, 'the first paragraph has none before it');
    await waitSynced(page);
    await page.reload();
    await waitHydrated(page);
    await page.locator('#sections-1-paragraphs-1-text').waitFor();
    assert.deepEqual(await paragraphsOf(page, 1), [
      ['1.1', 'Every child is heard. Their views are given due weight. Records are kept.'],
    ]);
  } finally {
    await context.close();
  }
}));

test('undo takes back only my own words, as an edit that syncs; a colleague\'s words stay; redo brings mine back', { timeout: 150_000 }, withServerLogs(servers, async () => {
  const anna = await newSignedInContext(browser, server);
  const jonasUser = await createUser(server, { role: 'member', member_state: 'SE', name: 'Jonas Member' });
  const jonas = await newSignedInContext(browser, server, jonasUser);
  try {
    const a = await anna.newPage();
    await newRecommendation(a);
    await a.getByLabel('Title').fill('Hearing the child');
    await a.getByLabel('Title').blur();
    await waitSynced(a);
    const summary = '#summary';
    assert.equal(await a.locator('#undo').isDisabled(), false, 'the title typed can be undone');
    await a.fill(summary, 'Anna drafts this.');
    await a.locator(summary).blur();
    await waitSynced(a);

    // Jonas adds his sentence; it reaches Anna.
    const j = await jonas.newPage();
    await j.goto(a.url());
    await waitHydrated(j);
    await waitInPage(j, 'Anna\'s summary', () => document.querySelector('#summary')?.value === 'Anna drafts this.', null, { timeout: 30_000 });
    await j.fill(summary, 'Anna drafts this. Jonas adds this.');
    await j.locator(summary).blur();
    await waitSynced(j);
    await waitInPage(a, 'Jonas\'s words at Anna\'s', () => document.querySelector('#summary')?.value === 'Anna drafts this. Jonas adds this.', null, { timeout: 30_000 });

    // Anna's Ctrl+Z in the text takes back her words only.
    await a.locator(summary).focus();
    await a.keyboard.press('Control+z');
    await waitInPage(a, 'Anna\'s words undone', () => document.querySelector('#summary')?.value === ' Jonas adds this.');
    assert.equal(await a.getByLabel('Title').inputValue(), 'Hearing the child', 'one step at a time: the title stays');
    await waitSynced(a);
    await waitInPage(j, 'the undo at Jonas\'s', () => document.querySelector('#summary')?.value === ' Jonas adds this.', null, { timeout: 30_000 });

    // Redo, by the button, brings them back for both.
    await a.getByRole('button', { name: 'Redo' }).click();
    await waitInPage(a, 'Anna\'s words back', () => document.querySelector('#summary')?.value === 'Anna drafts this. Jonas adds this.');
    await waitSynced(a);
    await waitInPage(j, 'the redo at Jonas\'s', () => document.querySelector('#summary')?.value === 'Anna drafts this. Jonas adds this.', null, { timeout: 30_000 });
    // Jonas's own undo takes back his sentence, not Anna's.
    await j.getByRole('button', { name: 'Undo my edit' }).click();
    await waitInPage(j, 'Jonas\'s words undone', () => document.querySelector('#summary')?.value === 'Anna drafts this.');
  } finally {
    await Promise.allSettled([anna.close(), jonas.close()]);
  }
}));
