// A requester's home (issue 17 point 8), in Chromium against the real binary: open
// tickets first; three tiles in their words («Открытые», «Ждут вашего ответа»,
// «Решённые»), each opening exactly the list it counts; «Ожидание» reads «Ждём вашего
// ответа»; a ticket with an IT reply they have not seen is marked, live.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('a requester\'s home in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const agentApi = await server.login('agent@demo.local');

  for (const [locale, tiles, waitingWords, mark] of [
    ['ru-RU', ['Открытые', 'Ждут вашего ответа', 'Решённые'], 'Ждём вашего ответа', 'ответ ИТ'],
    ['en-US', ['Open', 'Awaiting your reply', 'Resolved'], 'Awaiting your reply', 'reply from IT'],
  ]) {
    await t.test(`tiles, words and order (${locale})`, async () => {
      const user = await signedIn(browser, server, 'user@demo.local', { locale });
      const labels = await user.locator('#stats .stat span:not(.n)').allTextContents();
      assert.deepEqual(labels, tiles);
      // Open tickets come first: no resolved or closed row above an open one.
      const statuses = await user.locator('table.list tbody tr td:nth-child(4) .badge').evaluateAll((badges) =>
        badges.map((b) => Array.from(b.classList).find((c) => c.startsWith('status-')).slice(7)),
      );
      const firstDone = statuses.findIndex((s) => s === 'resolved' || s === 'closed');
      assert.ok(firstDone > 0, 'the demo requester has open and finished tickets');
      assert.ok(statuses.slice(firstDone).every((s) => s === 'resolved' || s === 'closed'), statuses.join());
      if (statuses.includes('waiting')) {
        assert.equal(await user.locator('table.list .badge.status-waiting').first().textContent(), waitingWords);
      }
      // Each tile opens exactly the list it counts.
      for (let i = 0; i < tiles.length; i++) {
        await user.goto(server.url + '/tickets');
        const tile = user.locator('#stats .stat').nth(i);
        const count = Number(await tile.locator('.n').textContent());
        await Promise.all([user.waitForURL(/status=/), tile.click()]);
        const rows = await user.locator('table.list tbody tr').count();
        const pager = user.locator('.pager');
        const total = (await pager.count()) ? Number(await pager.getAttribute('data-total')) : rows;
        assert.equal(total, count, tiles[i]);
      }
      await user.context().close();
    });

    await t.test(`an IT reply they have not seen is marked, live (${locale})`, async () => {
      const user = await signedIn(browser, server, 'user@demo.local', { locale });
      await user.waitForSelector('#connection[data-mode=websocket]', { timeout: 10000 });
      const api = await server.login('user@demo.local');
      const ticket = await api.request('POST', '/api/v1/tickets', { title: 'Монитор мерцает ' + locale, description: 'x' });
      const row = user.locator(`table.list tr[data-id="${ticket.id}"]`);
      await row.waitFor({ timeout: 10000 });
      assert.equal(await row.locator('.badge.reply-unseen').count(), 0);
      await agentApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { status: 'waiting' });
      await agentApi.request('POST', `/api/v1/tickets/${ticket.id}/comments`, { body: 'Какая модель монитора?' });
      await until('the reply marked', async () => (await row.locator('.badge.reply-unseen').count()) === 1);
      assert.equal(await row.locator('.badge.reply-unseen').textContent(), mark);
      assert.equal(await row.locator('.badge.status-waiting').textContent(), waitingWords);
      await user.goto(`${server.url}/tickets/${ticket.id}`);
      await user.goto(server.url + '/tickets');
      assert.equal(await user.locator(`table.list tr[data-id="${ticket.id}"] .badge.reply-unseen`).count(), 0, 'seen once opened');
      await user.context().close();
    });
  }
});
