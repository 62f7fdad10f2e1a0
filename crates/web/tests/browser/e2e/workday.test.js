// The working day around a ticket (issue 17), in Chromium against the real binary: the
// login says a wrong password, the agent's ticket form keeps unsaved work as a draft,
// merges a colleague's change of another field and shows one of the same field beside
// it with «Применить мои» / «Отменить мои», and «Взять себе» is one click.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('the working day in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const adminApi = await server.login('admin@demo.local');
  const requesterApi = await server.login('user@demo.local');
  const fileTicket = (title) => requesterApi.request('POST', '/api/v1/tickets', { title, description: 'x' });
  const ticketOf = (id) => adminApi.request('GET', `/api/v1/tickets/${id}`);

  for (const [locale, wrong] of [['ru-RU', 'Неверная эл. почта или пароль'], ['en-US', 'Wrong e-mail or password']]) {
    await t.test(`a wrong password says so (${locale})`, async () => {
      const context = await browser.newContext({ locale });
      const page = await context.newPage();
      await page.goto(server.url + '/login');
      await page.fill('input[name=email]', 'agent@demo.local');
      await page.fill('input[name=password]', 'not the password');
      await page.click('button[type=submit]');
      const box = page.locator('#login-form .form-error');
      await box.waitFor({ state: 'visible', timeout: 10000 });
      assert.match(await box.textContent(), new RegExp('^' + wrong));
      await context.close();
    });
  }

  await t.test('an unsaved change is marked and survives a reload', async () => {
    const ticket = await fileTicket('Черновик переживает перезагрузку');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.selectOption('form.ticket-form select[name=priority]', 'high');
    await agent.locator('form.ticket-form label.unsaved select[name=priority]').waitFor({ timeout: 5000 });
    await agent.reload();
    assert.equal(await agent.inputValue('form.ticket-form select[name=priority]'), 'high');
    await agent.locator('form.ticket-form label.unsaved select[name=priority]').waitFor({ timeout: 5000 });
    assert.match(await agent.textContent('form.ticket-form .form-status'), /Восстановлены несохранённые изменения/);
    // Leaving with unsaved work asks first.
    let asked = false;
    agent.once('dialog', (dialog) => { asked = dialog.type() === 'beforeunload'; dialog.dismiss(); });
    await agent.goto(server.url + '/tickets').catch(() => {});
    assert.ok(asked, 'leaving warned');
    await agent.click('form.ticket-form button[type=submit]');
    await until('saved', async () => (await ticketOf(ticket.id)).priority === 'high');
    // The server has it before the page has read the answer that clears the marks.
    await until('the marks cleared', async () => (await agent.locator('form.ticket-form label.unsaved').count()) === 0);
    await agent.reload();
    assert.equal(await agent.locator('form.ticket-form .form-status').isHidden(), true, 'no draft left');
    await agent.context().close();
  });

  await t.test('a colleague\'s change of another field is kept, and the page says so', async () => {
    const ticket = await fileTicket('Два агента, разные поля');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.selectOption('form.ticket-form select[name=priority]', 'critical');
    await adminApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { status: 'in_progress' });
    await agent.click('form.ticket-form button[type=submit]');
    const said = agent.locator('form.ticket-form .form-status');
    await said.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await said.textContent(), /Сохранено\. Заявку изменила Ольга Смирнова, пока вы её редактировали\./);
    const now = await ticketOf(ticket.id);
    assert.deepEqual([now.status, now.priority], ['in_progress', 'critical']);
    await agent.context().close();
  });

  await t.test('a colleague\'s change of the same field is shown beside it: apply mine, or discard mine', async () => {
    const ticket = await fileTicket('Два агента, одно поле');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.selectOption('form.ticket-form select[name=priority]', 'low');
    await adminApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { priority: 'critical' });
    await agent.click('form.ticket-form button[type=submit]');
    const conflict = agent.locator('form.ticket-form #conflict-priority');
    await conflict.waitFor({ timeout: 10000 });
    assert.match(await conflict.textContent(), /Заявку изменила Ольга Смирнова, пока вы её редактировали\. Сейчас: «Критический»/);
    assert.equal(await agent.getAttribute('form.ticket-form select[name=priority]', 'aria-describedby'), 'conflict-priority');
    await conflict.locator('button', { hasText: 'Применить мои' }).click();
    await until('mine applied', async () => (await ticketOf(ticket.id)).priority === 'low');

    await agent.selectOption('form.ticket-form select[name=priority]', 'high');
    await adminApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { priority: 'medium' });
    await agent.click('form.ticket-form button[type=submit]');
    await conflict.waitFor({ timeout: 10000 });
    await conflict.locator('button', { hasText: 'Отменить мои' }).click();
    assert.equal(await agent.inputValue('form.ticket-form select[name=priority]'), 'medium');
    assert.equal(await conflict.count(), 0);
    assert.equal((await ticketOf(ticket.id)).priority, 'medium');
    // The form now stands on the current version: the next save goes through.
    await agent.selectOption('form.ticket-form select[name=status]', 'waiting');
    await agent.click('form.ticket-form button[type=submit]');
    await until('saved after discarding', async () => (await ticketOf(ticket.id)).status === 'waiting');
    await agent.context().close();
  });

  await t.test('all tickets opens on open work, most urgent then oldest, and every tile opens what it counts', async () => {
    const agent = await signedIn(browser, server, 'agent@demo.local');
    const rows = () => agent.$$eval('table.list tbody tr[data-id]', (trs) => trs.map((tr) => ({
      status: tr.querySelector('[class*="badge status-"]').className.replace(/.*status-/, ''),
      priority: tr.querySelector('[class*="badge priority-"]').className.replace(/.*priority-/, ''),
    })));
    const first = await rows();
    assert.ok(first.length > 0);
    assert.ok(first.every((r) => ['new', 'in_progress', 'waiting'].includes(r.status)), JSON.stringify(first));
    const rank = { critical: 0, high: 1, medium: 2, low: 3 };
    first.slice(1).forEach((r, i) => assert.ok(rank[first[i].priority] <= rank[r.priority], 'most urgent first'));
    const tiles = await agent.$$eval('#stats a.stat', (links) => links.map((a) => ({
      href: a.getAttribute('href'), n: Number(a.querySelector('[data-stat]').textContent),
    })));
    assert.ok(tiles.length >= 10, 'every counter is a link');
    for (const tile of tiles) {
      await agent.goto(server.url + tile.href);
      assert.equal(Number(await agent.getAttribute('nav.pager', 'data-total')), tile.n, tile.href);
    }
    // A filter applies as soon as it changes.
    await agent.goto(server.url + '/tickets');
    await Promise.all([agent.waitForURL(/status=waiting/), agent.selectOption('select[name=status]', 'waiting')]);
    assert.ok((await rows()).every((r) => r.status === 'waiting'));
    await agent.context().close();
  });

  await t.test('a requester\'s reply is marked in the agent\'s list, and counted as awaiting IT', async () => {
    const ticket = await fileTicket('Жду ответа ИТ');
    await adminApi.request('PATCH', `/api/v1/tickets/${ticket.id}`, { status: 'waiting' });
    await requesterApi.request('POST', `/api/v1/tickets/${ticket.id}/comments`, { body: 'Всё ещё не работает' });
    assert.equal((await ticketOf(ticket.id)).status, 'in_progress', 'the reply took it back into work');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(server.url + '/tickets?awaiting=1');
    await agent.locator(`tr[data-id="${ticket.id}"] .badge.reply-unseen`).waitFor({ timeout: 10000 });
    // The tile opens exactly the list it counts.
    const counted = Number(await agent.textContent('[data-stat=awaiting_staff]'));
    const listed = await adminApi.request('GET', '/api/v1/tickets?awaiting_staff=true&per_page=1');
    assert.equal(counted, listed.total);
    assert.equal(await agent.locator('table.list tbody tr[data-id]').count(), Math.min(counted, 20));
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.goto(server.url + '/tickets?awaiting=1');
    await agent.locator(`tr[data-id="${ticket.id}"]`).waitFor({ timeout: 10000 });
    assert.equal(await agent.locator(`tr[data-id="${ticket.id}"] .badge.reply-unseen`).count(), 0, 'seen once opened');
    await agent.context().close();
  });

  await t.test('an agent files a ticket for a caller found by e-mail', async () => {
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(server.url + '/tickets/new');
    const caller = 'Мария Иванова <user@demo.local>';
    await agent.fill('input.requester-pick', 'user@demo');
    await agent.locator(`#requester-options option[value="${caller}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await agent.fill('input.requester-pick', caller);
    await agent.fill('input[name=title]', 'Позвонила: не печатает принтер');
    await agent.fill('textarea[name=description]', 'Звонок в 9:05');
    await Promise.all([agent.waitForURL(/\/tickets\/\d+$/), agent.click('form button[type=submit]')]);
    const filed = await ticketOf(agent.url().split('/').pop());
    assert.equal(filed.requester_name, 'Мария Иванова');
    // A name that matches nobody keeps the form from being sent.
    await agent.goto(server.url + '/tickets/new');
    await agent.fill('input.requester-pick', 'Никто Никакой');
    assert.equal(await agent.evaluate(() => document.querySelector('input.requester-pick').validity.valid), false);
    await agent.context().close();
  });

  await t.test('«Взять себе» assigns the ticket to the agent and starts it in one click', async () => {
    const ticket = await fileTicket('Возьму себе');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.click('button.take-ticket');
    await until('taken', async () => {
      const now = await ticketOf(ticket.id);
      return now.assignee_name === 'Алексей Кузнецов' && now.status === 'in_progress';
    });
    await agent.locator('.ticket-live .badge.status-in_progress').waitFor({ timeout: 10000 });
    await agent.context().close();
  });
});
