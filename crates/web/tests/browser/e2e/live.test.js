// Two people in two real browsers against the real binary: live lists, statistics,
// toasts, the ticket page, the fallback to polling and back, exactly-once delivery
// across those switches, and a requester's privacy. Conditions are waited on with
// bounded timeouts; nothing is timed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('live pages in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);

  // Newest first: the list where a new ticket arrives at the top (staff start on triage).
  const agent = await signedIn(browser, server, 'agent@demo.local', { next: '/tickets?order=recent' });
  const requester = await signedIn(browser, server, 'user@demo.local');
  const requesterApi = await server.login('user@demo.local');
  const agentApi = await server.login('agent@demo.local');
  const mode = (page) => page.getAttribute('#connection', 'data-mode');
  const stat = (page, name) => page.textContent(`[data-stat="${name}"]`).then(Number);

  // Every event the agent's page applies, in order, from here on.
  await agent.evaluate(() => {
    window.applied = [];
    const live = window.ictdeskLive;
    const original = live.onEvent;
    live.onEvent = (event) => { window.applied.push(event.id); original(event); };
  });
  const startId = await agent.evaluate(() => window.ictdeskLive.lastId);

  await t.test('the console says the WebSocket is connected', async () => {
    await until('WebSocket mode', async () => (await mode(agent)) === 'websocket');
    assert.ok(agent.consoleLines.includes('WebSocket: Подключение установлено'), agent.consoleLines.join('\n'));
  });

  let ticketId;
  await t.test('a ticket filed by the requester appears live for the agent, with statistics and a toast', async () => {
    const before = await stat(agent, 'new');
    await requester.goto(server.url + '/tickets/new');
    await requester.fill('input[name=title]', 'Не печатает принтер на 3 этаже');
    await requester.fill('textarea[name=description]', 'Замятие бумаги, горит красный индикатор.');
    await Promise.all([requester.waitForURL(/\/tickets\/\d+$/), requester.click('button[type=submit]')]);
    ticketId = Number(requester.url().split('/').pop());
    await agent.waitForSelector(`table.list tr[data-id="${ticketId}"]`, { timeout: 10000 });
    await until('the statistics to count it', async () => (await stat(agent, 'new')) === before + 1);
    const toast = agent.locator('.toast', { hasText: 'Не печатает принтер' });
    await toast.waitFor({ timeout: 5000 });
    assert.equal(await agent.getAttribute('#toasts', 'aria-live'), 'polite');
    assert.match(await toast.getAttribute('href'), new RegExp(`/tickets/${ticketId}$`));
    // Fades out by itself (after about 5 s); bounded, not timed.
    await toast.waitFor({ state: 'detached', timeout: 12000 });
    assert.equal(await requester.locator('.toast').count(), 0, 'no toast for one\'s own ticket');
  });

  await t.test('the agent\'s status change appears live on the requester\'s ticket page', async () => {
    await until('the requester page live', async () => (await mode(requester)) === 'websocket');
    const ticketPage = await agent.context().newPage();
    await ticketPage.goto(`${server.url}/tickets/${ticketId}`);
    await ticketPage.selectOption('select[name=status]', 'in_progress');
    await ticketPage.click('form[data-api$="/tickets/' + ticketId + '"] button[type=submit]');
    await requester.waitForSelector('.ticket-live .badge.status-in_progress', { timeout: 10000 });
    await requester.locator('.toast', { hasText: 'В работе' }).waitFor({ timeout: 5000 });
    await ticketPage.close();
  });

  await t.test('a stale save is answered with who changed it', async () => {
    const page = await agent.context().newPage();
    await page.goto(`${server.url}/tickets/${ticketId}`);
    await page.selectOption('select[name=priority]', 'high'); // the form is now being edited
    await agentApi.request('PATCH', `/api/v1/tickets/${ticketId}`, { priority: 'critical' });
    await page.waitForSelector('.ticket-live .badge.priority-critical', { timeout: 10000 });
    await page.click('form[data-versioned] button[type=submit]');
    // Shown beside the field both changed (ticket-form.js; more in workday.test.js).
    const conflict = page.locator('form[data-versioned] #conflict-priority');
    await conflict.waitFor({ timeout: 5000 });
    assert.match(await conflict.textContent(), /Алексей Кузнецов/);
    await page.close();
  });

  await t.test('a requester never sees another requester\'s ticket', async () => {
    const admin = await server.login('admin@demo.local');
    const others = await admin.request('GET', '/api/v1/users?role=requester&per_page=50');
    const other = others.items.find((u) => u.email !== 'user@demo.local' && u.status === 'active');
    const otherTicket = await admin.request('POST', '/api/v1/tickets', {
      title: 'Чужая заявка: пароль от почты', description: 'секрет', requester_id: other.id,
    });
    // The agent sees it arrive; the requester's list, stats and toasts never mention it.
    await agent.waitForSelector(`table.list tr[data-id="${otherTicket.id}"]`, { timeout: 10000 });
    await requester.goto(server.url + '/tickets');
    await until('the requester page live', async () => (await mode(requester)) === 'websocket');
    await requesterApi.request('POST', `/api/v1/tickets/${ticketId}/comments`, { body: 'маркер' });
    await agent.locator('.toast', { hasText: String(ticketId) }).first().waitFor({ timeout: 5000 });
    assert.equal(await requester.locator(`tr[data-id="${otherTicket.id}"]`).count(), 0);
    assert.ok(!(await requester.content()).includes('Чужая заявка'));
    const direct = await requester.goto(`${server.url}/tickets/${otherTicket.id}`);
    assert.ok([403, 404].includes(direct.status()), 'refused: ' + direct.status());
    assert.ok(!(await requester.content()).includes('Чужая заявка'));
  });

  const comment = (i) => requesterApi.request('POST', `/api/v1/tickets/${ticketId}/comments`, { body: 'событие ' + i });

  await t.test('WebSocket refused: the page falls back to polling, says so, and still updates', async () => {
    for (let i = 0; i < 20; i++) await comment(i);
    await server.restart({ WEBSOCKET_ENABLED: 'false' });
    await until('polling mode', async () => (await mode(agent)) === 'polling', 30000);
    assert.ok(agent.consoleLines.includes('LiveUpdates: WebSocket отключен'));
    assert.ok(agent.consoleLines.includes('LiveUpdates: Используем HTTP polling'));
    const filed = await requesterApi.request('POST', '/api/v1/tickets', { title: 'Заявка во время опроса', description: 'polling' });
    await agent.waitForSelector(`table.list tr[data-id="${filed.id}"]`, { timeout: 10000 });
    for (let i = 20; i < 35; i++) await comment(i);
  });

  await t.test('when WebSocket returns, the page switches back', async () => {
    const connects = agent.consoleLines.filter((l) => l === 'WebSocket: Подключение установлено').length;
    // A page opened while WebSocket was off starts with polling, and moves too.
    const late = await agent.context().newPage();
    await late.goto(server.url + '/tickets');
    await until('the late page polling', async () => (await mode(late)) === 'polling');
    await server.restart({});
    await until('WebSocket mode again', async () => (await mode(agent)) === 'websocket', 60000);
    await until('the late page on WebSocket', async () => (await mode(late)) === 'websocket', 60000);
    await late.close();
    assert.ok(agent.consoleLines.filter((l) => l === 'WebSocket: Подключение установлено').length > connects);
    for (let i = 35; i < 50; i++) await comment(i);
  });

  await t.test('across the switches every event arrived exactly once, in order', async () => {
    // The server's own list of what the agent may see since the page started.
    const expected = await agent.evaluate(async (since) => {
      const ids = [];
      for (;;) {
        const body = await (await fetch(`/messages?since=${since}&limit=500`)).json();
        body.messages.forEach((m) => ids.push(m.id));
        since = body.last_id;
        if (!body.has_more) return ids;
      }
    }, startId);
    await until('all events applied', async () => (await agent.evaluate(() => window.applied.length)) >= expected.length, 30000);
    const applied = await agent.evaluate(() => window.applied);
    assert.deepEqual(applied, expected);
    assert.ok(expected.length >= 50 + 4, `the burst of 50 and more: ${expected.length}`);
  });
});
