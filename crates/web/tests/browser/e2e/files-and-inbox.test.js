// Attachments and the inbox in real Chromium (issue 11): a screenshot dropped on a
// ticket and one pasted into a comment show as thumbnails on every open page of the
// ticket; the bell's count goes up live when something concerns the person and down
// when they read it, in every tab of theirs. Conditions are waited on; nothing is timed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

// A real 1×1 PNG, so that the thumbnail has a size once the browser decoded it.
const PNG = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/** A DataTransfer in the page holding one PNG file, as a drop or a paste carries it. */
function transferWithPng(page, name) {
  return page.evaluateHandle(({ base64, name }) => {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([bytes], name, { type: 'image/png' }));
    return transfer;
  }, { base64: PNG, name });
}

/** Whether an image in the page has been loaded and decoded. */
function loaded(page, selector) {
  return page.evaluate((selector) => {
    const img = document.querySelector(selector);
    return Boolean(img && img.complete && img.naturalWidth > 0);
  }, selector);
}

test('files and the inbox in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const live = (page) => until('the page to be live', async () => (await page.getAttribute('#connection', 'data-mode')) === 'websocket');
  const requesterApi = await server.login('user@demo.local');
  const adminApi = await server.login('admin@demo.local');
  const agentApi = await server.login('agent@demo.local');
  const ticket = await requesterApi.request('POST', '/api/v1/tickets', { title: 'Синий экран после обновления', description: 'Снимок прилагаю' });

  await t.test('a screenshot dropped on the ticket shows as a thumbnail on both open pages', async () => {
    const requester = await signedIn(browser, server, 'user@demo.local');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await requester.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await Promise.all([live(requester), live(agent)]);

    const transfer = await transferWithPng(requester, 'bsod.png');
    await requester.dispatchEvent('[data-upload]', 'dragenter', { dataTransfer: transfer });
    await requester.dispatchEvent('[data-upload]', 'drop', { dataTransfer: transfer });

    for (const page of [requester, agent]) {
      await page.waitForSelector('.ticket-live img.thumb[alt="bsod.png"]', { timeout: 10000 });
      await until('the thumbnail to load', () => loaded(page, '.ticket-live img.thumb[alt="bsod.png"]'));
    }
    const href = await agent.getAttribute('.ticket-live a.thumb-link', 'href');
    const full = await agent.request.get(server.url + href);
    assert.equal(full.headers()['content-type'], 'image/png', 'it opens full size as an image');
    await requester.context().close();
    await agent.context().close();
  });

  await t.test('a screenshot pasted into the comment box goes with the comment', async () => {
    const requester = await signedIn(browser, server, 'user@demo.local');
    await requester.goto(`${server.url}/tickets/${ticket.id}`);
    await live(requester);
    await requester.fill('form.comment-form textarea[name=body]', 'Вот что на экране сейчас');
    // What Ctrl+V of a screenshot delivers: a ClipboardEvent whose data holds the image.
    const transfer = await transferWithPng(requester, 'image.png');
    await requester.evaluate((clipboardData) => {
      const box = document.querySelector('form.comment-form textarea[name=body]');
      box.dispatchEvent(new ClipboardEvent('paste', { clipboardData, bubbles: true, cancelable: true }));
    }, transfer);
    const chip = requester.locator('form.comment-form .pending-files .chip');
    await chip.waitFor({ timeout: 5000 });
    assert.match(await chip.textContent(), /^screenshot-.*\.png/, 'a pasted screenshot gets a name of its own');
    await requester.click('form.comment-form button[type=submit]');

    const comment = requester.locator('article.comment', { hasText: 'Вот что на экране сейчас' });
    await comment.locator('img.thumb').waitFor({ timeout: 10000 });
    await until('the pending list to empty', async () => (await requester.locator('form.comment-form .pending-files .chip').count()) === 0);
    assert.equal(await requester.inputValue('form.comment-form textarea[name=body]'), '');
    await requester.context().close();
  });

  await t.test('the bell counts up live and down on read, in every tab', async () => {
    const agent = await signedIn(browser, server, 'agent@demo.local');
    const otherTab = await agent.context().newPage();
    await agent.goto(`${server.url}/tickets`);
    await otherTab.goto(`${server.url}/kb`);
    await Promise.all([live(agent), live(otherTab)]);
    const count = async (page) => Number(await page.getAttribute('#inbox-bell', 'data-unread'));
    const before = await count(agent);

    // The admin assigns the ticket to the agent: the agent's bell goes up, unasked.
    await adminApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { assignee_id: agentApi.user.id });
    await until('the bell to count the assignment', async () => (await count(agent)) === before + 1);
    await until('the other tab too', async () => (await count(otherTab)) === before + 1);
    assert.equal(await agent.textContent('#inbox-bell .count'), before + 1 > 99 ? '99+' : String(before + 1));

    // The inbox lists it; clicking it opens the ticket and marks it read.
    await agent.goto(`${server.url}/inbox?unread=1`);
    const entry = agent.locator(`#inbox-list a[data-ticket="${ticket.id}"]`).first();
    await entry.waitFor({ timeout: 5000 });
    assert.match(await entry.textContent(), /Назначена вам/);
    await Promise.all([agent.waitForURL(new RegExp(`/tickets/${ticket.id}$`)), entry.click()]);
    await until('the other tab to count it read', async () => (await count(otherTab)) === before);

    // Mark all read from the page: every tab's bell shows nothing unread.
    await agent.goto(`${server.url}/inbox`);
    await live(agent);
    await agent.click('#inbox-read-all');
    await until('the bell to empty', async () => (await count(agent)) === 0);
    await until('the other tab to empty', async () => (await count(otherTab)) === 0);
    assert.equal(await agent.isHidden('#inbox-bell .count'), true);
    await agent.context().close();
  });
});
