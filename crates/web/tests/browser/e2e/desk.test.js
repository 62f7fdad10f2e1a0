// The rest of the desk in real browsers: equipment, system notifications, the
// knowledge base, the toast stack, and the connection indicator when the server goes
// away and comes back. Conditions are waited on with bounded timeouts; nothing is timed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('desk pages in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const mode = (page) => page.getAttribute('#connection', 'data-mode');
  const live = (page) => until('the page to be live', async () => (await mode(page)) === 'websocket');

  const agent = await signedIn(browser, server, 'agent@demo.local');
  const admin = await signedIn(browser, server, 'admin@demo.local');
  const requester = await signedIn(browser, server, 'user@demo.local');
  const adminApi = await server.login('admin@demo.local');

  await t.test('an equipment change saved on its page shows live in another agent\'s list and page', async () => {
    const stock = await adminApi.request('GET', '/api/v1/equipment?status=in_stock&per_page=50');
    const item = stock.items.find((e) => e.assigned_user_id === null);
    assert.ok(item, 'an unassigned item in stock');
    await admin.goto(`${server.url}/equipment?q=${item.inventory_number}`);
    const adminItem = await admin.context().newPage();
    await adminItem.goto(`${server.url}/equipment/${item.id}`);
    await Promise.all([live(admin), live(adminItem)]);

    await agent.goto(`${server.url}/equipment/${item.id}`);
    await agent.selectOption('select[name=status]', 'in_repair');
    await agent.click('form[data-api$="/equipment/' + item.id + '"] button[type=submit]');

    await admin.waitForSelector(`tr[data-id="${item.id}"] .badge.estatus-in_repair`, { timeout: 10000 });
    await adminItem.waitForSelector('.badge.estatus-in_repair', { timeout: 10000 });
    await admin.locator('.toast', { hasText: item.inventory_number }).first().waitFor({ timeout: 5000 });
    assert.match(await adminItem.textContent('.history'), /Алексей Кузнецов/, 'the history names who changed it');
    await adminItem.close();
  });

  await t.test('a system notification from the admin\'s form reaches a requester as a toast', async () => {
    await requester.goto(server.url + '/tickets');
    await admin.goto(server.url + '/notifications');
    await Promise.all([live(requester), live(admin)]);
    await admin.click('details.create summary');
    await admin.fill('form[data-api="/api/v1/notifications"] input[name=title]', 'Плановые работы в субботу');
    await admin.fill('form[data-api="/api/v1/notifications"] textarea[name=message]', 'Почта будет недоступна с 10:00 до 12:00.');
    await admin.selectOption('form[data-api="/api/v1/notifications"] select[name=level]', 'warning');
    await admin.click('form[data-api="/api/v1/notifications"] button[type=submit]');

    const toast = requester.locator('.toast.toast-warning', { hasText: 'Плановые работы в субботу' });
    await toast.waitFor({ timeout: 10000 });
    await admin.locator('table.list tbody tr', { hasText: 'Плановые работы в субботу' }).waitFor({ timeout: 10000 });
    assert.equal(
      await admin.inputValue('form[data-api="/api/v1/notifications"] input[name=title]'), '',
      'the form is empty again for the next one');
  });

  await t.test('an article edited by an agent changes live on its reader\'s page', async () => {
    const articles = await adminApi.request('GET', '/api/v1/articles?per_page=50');
    const article = articles.items.find((a) => a.visibility === 'everyone');
    await requester.goto(`${server.url}/kb/${article.id}`);
    await live(requester);
    await agent.goto(`${server.url}/kb/${article.id}/edit`);
    await agent.fill('input[name=title]', 'Как подключиться к Wi-Fi (обновлено)');
    await Promise.all([
      agent.waitForURL(new RegExp(`/kb/${article.id}$`)),
      agent.click('form[data-versioned] button[type=submit]'),
    ]);
    await until('the reader to see the new title', async () =>
      (await requester.textContent('article h1')) === 'Как подключиться к Wi-Fi (обновлено)');
  });

  await t.test('at most five toasts stay on screen', async () => {
    const tickets = await adminApi.request('GET', '/api/v1/tickets?per_page=1');
    const ticketId = tickets.items[0].id;
    await agent.goto(server.url + '/tickets');
    await live(agent);
    let last;
    for (let i = 1; i <= 7; i++) {
      last = await adminApi.request('POST', `/api/v1/tickets/${ticketId}/comments`, { body: 'комментарий ' + i });
    }
    // Seven comments, seven toasts asked for; the page applies the last comment's event.
    await until('the last comment applied', async () => {
      const { last_id: head } = await adminApi.request('GET', '/status');
      return (await agent.evaluate(() => window.ictdeskLive.lastId)) >= head;
    });
    await agent.locator('.toast', { hasText: String(ticketId) }).first().waitFor({ timeout: 5000 });
    assert.equal(await agent.locator('#toasts > .toast').count(), 5);
    assert.ok(last.id, 'the comments were created');
  });

  await t.test('the indicator says offline while the server is away, and live when it is back', async () => {
    await agent.goto(server.url + '/tickets');
    await live(agent);
    await server.stop();
    await until('offline', async () => (await mode(agent)) === 'offline', 30000);
    await server.start();
    await until('live again', async () => (await mode(agent)) === 'websocket', 60000);
  });
});
