// Comments anchored to the text (issue 11, part 3), in Chromium: two members, both offline; one
// comments on a passage while the other edits around it; after reconnecting the comment is on the
// same words for both. Replies, resolving and the filters; a comment kept over an offline reload;
// a passage whose words are deleted keeps its quote. An observer reads comments and writes none.
//
// Run from the repo root:  node --test --test-concurrency=1 tests/browser/comments.test.mjs

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

const TEXT = 'Every child in care has a guardian within a week.';
const WORDS = 'guardian within a week';

/** Selects `words` in the text box labelled `label`, as a user drags over them. */
async function select(page, label, words) {
  const box = page.getByLabel(label, { exact: true });
  await box.focus();
  await box.evaluate((element, part) => {
    const at = element.value.indexOf(part);
    element.setSelectionRange(at, at + part.length);
    element.dispatchEvent(new Event('select'));
  }, words);
}

/** The text selected in the text box labelled `label`. */
const selected = (page, label) => page.getByLabel(label, { exact: true })
  .evaluate((element) => element.value.slice(element.selectionStart, element.selectionEnd));

/**
 * Opens a new recommendation as `writer` with `title` and `preamble`, synced, and the same
 * record as `reader` in a page of their own: [writer's page, reader's page].
 */
async function sharedDraft(writer, reader, title, preamble) {
  const a = await writer.newPage();
  await openNewRecommendation(a, server);
  await a.getByLabel('Title').fill(title);
  await a.getByLabel('Preamble', { exact: true }).fill(preamble);
  await a.getByLabel('Preamble', { exact: true }).blur();
  await waitSynced(a);
  const j = await reader.newPage();
  await j.goto(a.url());
  await waitHydrated(j);
  await waitValue(j, '#preamble', preamble);
  return [a, j];
}

const panel = (page) => page.getByRole('region', { name: /^Comments/ });
const thread = (page, passage) => panel(page).getByRole('listitem').filter({ has: page.locator('blockquote', { hasText: passage }) });

test('two members offline: one comments on a passage while the other edits around it; after sync it is on the same words for both', { timeout: 180_000 }, withServerLogs(servers, async () => {
  const anna = await newSignedInContext(browser, server, await createUser(server, { role: 'member', member_state: 'FI', name: 'Anna Berg' }));
  const jonas = await newSignedInContext(browser, server, await createUser(server, { role: 'member', member_state: 'SE', name: 'Jonas Lind' }));
  try {
    const a = await anna.newPage();
    await openNewRecommendation(a, server);
    await a.getByLabel('Title').fill('Guardianship');
    const preamble = a.getByLabel('Preamble', { exact: true });
    await preamble.fill(TEXT);
    await preamble.blur();
    await waitSynced(a);
    await waitSwControl(a);
    const j = await jonas.newPage();
    await j.goto(a.url());
    await waitHydrated(j);
    await waitValue(j, '#preamble', TEXT);
    await panel(j).waitFor();

    await Promise.all([anna.setOffline(true), jonas.setOffline(true)]);
    // Anna selects the words and comments, with the keyboard.
    await select(a, 'Preamble', WORDS);
    await a.getByRole('toolbar', { name: 'Formatting' }).waitFor();
    await a.keyboard.press('Control+Alt+M');
    const form = a.getByRole('form', { name: 'New comment' });
    await form.getByLabel(`Comment on “${WORDS}”`).fill('Within a week of arrival, or of the decision?');
    await form.getByRole('button', { name: 'Comment', exact: true }).click();
    await thread(a, WORDS).waitFor();
    // Kept on the device: it is still there after an offline reload.
    await a.reload();
    await waitHydrated(a);
    await thread(a, WORDS).waitFor({ timeout: 20_000 });
    // Meanwhile Jonas writes before and after the passage.
    const his = j.getByLabel('Preamble', { exact: true });
    await his.focus();
    await j.keyboard.press('Control+Home');
    await j.keyboard.type('As agreed in Riga: ');
    await j.keyboard.press('Control+End');
    await j.keyboard.type(' Review it yearly.');
    await his.blur();

    await Promise.all([anna.setOffline(false), jonas.setOffline(false)]);
    await Promise.all([waitSynced(a), waitSynced(j)]);
    const merged = `As agreed in Riga: ${TEXT} Review it yearly.`;
    for (const page of [a, j]) {
      await waitValue(page, '#preamble', merged);
      const on = thread(page, WORDS);
      await on.waitFor({ timeout: 20_000 });
      assert.match(await on.textContent(), /Anna Berg.*Within a week of arrival, or of the decision\?/s);
      await on.getByRole('button', { name: 'Show in text' }).click();
      assert.equal(await selected(page, 'Preamble'), WORDS);
    }

    // Jonas replies and resolves; Anna sees both, and the filters sort it.
    const his_thread = thread(j, WORDS);
    await his_thread.getByRole('button', { name: 'Reply' }).click();
    await his_thread.getByRole('form', { name: 'Reply' }).getByLabel('Reply').fill('Of the decision, as in the Danish law.');
    await his_thread.getByRole('button', { name: 'Send reply' }).click();
    await his_thread.getByText('Of the decision, as in the Danish law.').waitFor();
    await his_thread.getByRole('button', { name: 'Resolve' }).click();
    await waitSynced(j);
    await panel(a).getByText('No comments to show.').waitFor({ timeout: 20_000 });
    await panel(a).getByRole('button', { name: 'Resolved' }).click();
    const resolved = thread(a, WORDS);
    await resolved.getByText('Resolved by Jonas Lind').waitFor();
    assert.match(await resolved.textContent(), /Jonas Lind.*Of the decision, as in the Danish law\./s);
    await panel(a).getByRole('button', { name: 'Mine' }).click();
    await thread(a, WORDS).waitFor();

    // The passage's words replaced by others: the quote stays, with why.
    await resolved.getByRole('button', { name: 'Reopen' }).click();
    await a.getByLabel('Preamble', { exact: true }).fill('As agreed in Riga: Every child in care has a named person at once. Review it yearly.');
    await a.getByLabel('Preamble', { exact: true }).blur();
    await waitSynced(a);
    await panel(j).getByText('The text this was on was deleted.').waitFor({ timeout: 20_000 });
    assert.match(await panel(j).locator('blockquote').first().textContent(), new RegExp(WORDS));
  } finally {
    await Promise.allSettled([anna.close(), jonas.close()]);
  }
}));

test('an observer reads the comments of a record given to them and writes none', { timeout: 120_000 }, withServerLogs(servers, async () => {
  const member = await newSignedInContext(browser, server, await createUser(server, { role: 'member', member_state: 'DK', name: 'Mette Holm' }));
  const observerUser = await createUser(server, { role: 'observer', name: 'Olga Observer' });
  try {
    const m = await member.newPage();
    await openNewRecommendation(m, server);
    await m.getByLabel('Title').fill('Barnahus');
    await m.getByLabel('Title').blur();
    await panel(m).getByRole('button', { name: 'Comment on the record' }).click();
    await m.getByRole('form', { name: 'New comment' }).getByLabel('Comment on the record').fill('Ready for the meeting.');
    await m.getByRole('form', { name: 'New comment' }).getByRole('button', { name: 'Comment', exact: true }).click();
    await waitSynced(m);
    const id = m.url().split('/').pop();
    await adminApi(server, '/api/admin/v1/grants', { method: 'POST', body: { record: id, user: observerUser.id, granted: true } });
    const observer = await newSignedInContext(browser, server, observerUser);
    try {
      const o = await observer.newPage();
      await o.goto(m.url());
      await waitHydrated(o);
      await panel(o).getByText('Ready for the meeting.').waitFor({ timeout: 20_000 });
      await waitInPage(o, 'the panel drawn', () => document.querySelector('.comments .thread') !== null);
      assert.equal(await panel(o).getByRole('button', { name: /^(Reply|Resolve|Comment on the record)$/ }).count(), 0);
    } finally {
      await observer.close();
    }
  } finally {
    await member.close();
  }
}));

test('a member suggests changes offline; the secretariat accepts one, and a second, stale one on the same words is refused with both versions', { timeout: 180_000 }, withServerLogs(servers, async () => {
  const anna = await newSignedInContext(browser, server, await createUser(server, { role: 'secretariat', name: 'Anna Sekretariat' }));
  const jonas = await newSignedInContext(browser, server, await createUser(server, { role: 'member', member_state: 'LV', name: 'Jānis Bērziņš' }));
  const text = 'A guardian is appointed within a month.';
  try {
    const [a, j] = await sharedDraft(anna, jonas, 'Guardianship', text);

    await jonas.setOffline(true);
    const suggestions = (page) => page.getByRole('region', { name: /^Suggestions/ });
    for (const words of ['a week', 'three days']) {
      await select(j, 'Preamble', 'a month');
      await j.getByRole('toolbar', { name: 'Formatting' }).getByRole('button', { name: 'Suggest a change' }).click();
      const form = j.getByRole('form', { name: 'New suggestion' });
      await form.getByLabel('Suggest instead of “a month”').fill(words);
      await form.getByRole('button', { name: 'Suggest', exact: true }).click();
      await suggestions(j).getByRole('listitem').filter({ hasText: words }).waitFor();
    }
    // Suggesting changed nothing in the text.
    assert.equal(await j.getByLabel('Preamble', { exact: true }).inputValue(), text);
    await jonas.setOffline(false);
    await waitSynced(j);

    const week = suggestions(a).getByRole('listitem').filter({ hasText: 'a week' });
    await week.waitFor({ timeout: 20_000 });
    assert.match(await week.textContent(), /Jānis Bērziņš.*a month.*a week/s);
    await week.getByRole('button', { name: 'Accept' }).click();
    await waitValue(a, '#preamble', 'A guardian is appointed within a week.');
    const days = suggestions(a).getByRole('listitem').filter({ hasText: 'three days' });
    await days.getByRole('button', { name: 'Accept' }).click();
    const refusal = days.getByRole('alert');
    await refusal.getByText('The passage has changed since this was suggested.', { exact: false }).waitFor();
    assert.match(await refusal.textContent(), /It was suggested for: “a month”\. It now reads: “.*within a week\.”/);
    assert.equal(await a.getByLabel('Preamble', { exact: true }).inputValue(), 'A guardian is appointed within a week.');

    await waitSynced(a);
    await waitValue(j, '#preamble', 'A guardian is appointed within a week.');
    await j.getByRole('region', { name: /^Comments/ }).getByRole('button', { name: 'Resolved' }).click();
    await suggestions(j).getByText('Accepted by Anna Sekretariat').waitFor({ timeout: 20_000 });
  } finally {
    await Promise.allSettled([anna.close(), jonas.close()]);
  }
}));

test('suggesting: a member switches to Suggest changes, types, and proposes; the text stays as it was until the secretariat accepts', { timeout: 180_000 }, withServerLogs(servers, async () => {
  const anna = await newSignedInContext(browser, server, await createUser(server, { role: 'secretariat', name: 'Anna Sekretariat' }));
  const jonas = await newSignedInContext(browser, server, await createUser(server, { role: 'member', member_state: 'EE', name: 'Jaan Tamm' }));
  const text = 'Children are heard in every case.';
  try {
    const [a, j] = await sharedDraft(anna, jonas, 'Hearing', text);

    await j.getByRole('button', { name: 'Suggest changes' }).click();
    await j.getByRole('button', { name: 'Suggest changes', pressed: true }).waitFor();
    await select(j, 'Preamble', 'every');
    await j.keyboard.type('each');
    await j.keyboard.press('Control+End');
    await j.keyboard.type(' Always.');
    const preamble = j.getByLabel('Preamble', { exact: true });
    await preamble.blur();
    assert.equal(await preamble.inputValue(), 'Children are heard in each case. Always.');
    await j.getByRole('button', { name: 'Propose changes' }).click();
    // Proposed, not made: the field reads the record's text again, for both.
    await waitValue(j, '#preamble', text);
    const suggestions = (page) => page.getByRole('region', { name: /^Suggestions/ });
    for (const page of [j, a]) {
      await suggestions(page).getByRole('listitem').filter({ hasText: 'each' }).waitFor({ timeout: 20_000 });
      await suggestions(page).getByRole('listitem').filter({ hasText: 'Always' }).waitFor({ timeout: 20_000 });
    }
    assert.equal(await a.getByLabel('Preamble', { exact: true }).inputValue(), text);
    assert.match(await suggestions(a).getByRole('listitem').filter({ hasText: 'each' }).textContent(), /Jaan Tamm.*every.*each/s);

    for (const words of ['each', 'Always']) {
      await suggestions(a).getByRole('listitem').filter({ hasText: words }).getByRole('button', { name: 'Accept' }).click();
    }
    await waitValue(a, '#preamble', 'Children are heard in each case. Always.');
    await waitSynced(a);
    await waitValue(j, '#preamble', 'Children are heard in each case. Always.');
  } finally {
    await Promise.allSettled([anna.close(), jonas.close()]);
  }
}));
