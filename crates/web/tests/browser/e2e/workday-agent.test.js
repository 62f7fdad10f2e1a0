// The agent's side of the working day (issue 17, points 3, 5 and 13), in Chromium
// against the real binary: a reply and an internal note are two tabs that look and read
// differently, a typed comment survives a reload, and a reply goes with the form's other
// changes in one click; the requester's name opens their card, the ticket's equipment is
// chosen from their devices or found by holder, and the device lists the ticket; on a
// phone the first screen of the list shows tickets, with their number and assignee.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test("the agent's working day in Chromium", { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const adminApi = await server.login('admin@demo.local');
  const requesterApi = await server.login('user@demo.local');
  const fileTicket = (title) => requesterApi.request('POST', '/api/v1/tickets', { title, description: 'x' });
  const ticketOf = (id) => adminApi.request('GET', `/api/v1/tickets/${id}`);

  await t.test('a reply and an internal note are two tabs that look and read differently', async () => {
    const ticket = await fileTicket('Ответ или заметка');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    const form = agent.locator('form.comment-form');
    const button = form.locator('button[type=submit]');
    const look = () => form.evaluate((node) => ({
      mode: node.dataset.mode,
      button: getComputedStyle(node.querySelector('button[type=submit]')).backgroundColor,
      text: getComputedStyle(node.querySelector('textarea')).backgroundColor,
    }));
    assert.equal(await button.textContent(), 'Отправить ответ заявителю');
    const reply = await look();
    await form.getByText('Внутренняя заметка', { exact: true }).click();
    assert.equal(await button.textContent(), 'Добавить внутреннюю заметку');
    assert.match(await form.locator('.mode-hint').textContent(), /только сотрудники ИТ/);
    const note = await look();
    assert.equal(note.mode, 'note');
    assert.notEqual(note.button, reply.button, 'the button changes colour');
    assert.notEqual(note.text, reply.text, 'the text box changes colour');
    // The tabs are radio buttons: keyboard and screen readers know them.
    assert.equal(await agent.getByRole('radio', { name: 'Внутренняя заметка' }).isChecked(), true);

    await form.locator('textarea').fill('Позвонил поставщику, ждём замену');
    await button.click();
    await until('the note stored', async () => {
      const now = await ticketOf(ticket.id);
      return (now.comments || []).some((c) => c.internal && /поставщику/.test(c.body));
    });
    const seenByRequester = await requesterApi.request('GET', `/api/v1/tickets/${ticket.id}`);
    assert.ok(!(seenByRequester.comments || []).some((c) => /поставщику/.test(c.body)), 'never the requester’s');
    await agent.context().close();
  });

  await t.test('a typed comment survives a reload, marked unsaved', async () => {
    const ticket = await fileTicket('Черновик комментария');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.locator('form.comment-form').getByText('Внутренняя заметка', { exact: true }).click();
    await agent.fill('form.comment-form textarea', 'Проверить журнал шлюза');
    await agent.locator('form.comment-form .unsaved-note').waitFor({ state: 'visible', timeout: 5000 });
    await agent.reload();
    assert.equal(await agent.inputValue('form.comment-form textarea'), 'Проверить журнал шлюза');
    assert.equal(await agent.getAttribute('form.comment-form', 'data-mode'), 'note', 'the tab comes back too');
    assert.equal(await agent.locator('form.comment-form .unsaved-note').isVisible(), true);
    await agent.context().close();
  });

  await t.test('a reply goes with the form’s other changes in one click', async () => {
    const ticket = await fileTicket('Ответ и статус одним действием');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await agent.selectOption('form.ticket-form select[name=status]', 'waiting');
    await agent.fill('form.comment-form textarea', 'Пришлите, пожалуйста, снимок экрана с ошибкой');
    const button = agent.locator('form.comment-form button[type=submit]');
    assert.equal(await button.textContent(), 'Сохранить изменения и отправить ответ');
    await button.click();
    await until('both saved', async () => {
      const now = await ticketOf(ticket.id);
      return now.status === 'waiting' && (now.comments || []).some((c) => /снимок экрана/.test(c.body) && !c.internal);
    });
    await until('the form emptied', async () => (await agent.inputValue('form.comment-form textarea')) === '');
    assert.equal(await agent.locator('form.ticket-form label.unsaved').count(), 0);
    assert.equal(await button.textContent(), 'Отправить ответ заявителю');
    await agent.context().close();
  });

  await t.test('the requester’s card, the ticket’s equipment, and the device’s tickets', async () => {
    const requester = requesterApi.user;
    const place = await adminApi.request('POST', '/api/v1/locations', { name: 'Пристройка', building: 'Б', room: '214' });
    const laptop = await adminApi.request('POST', '/api/v1/equipment', {
      inventory_number: 'E2E-101', name: 'Ноутбук заявителя', kind: 'laptop',
      assigned_user_id: requester.id, location_id: place.id,
    });
    const spare = await adminApi.request('POST', '/api/v1/equipment', {
      inventory_number: 'E2E-202', name: 'Подменный ноутбук', kind: 'laptop', location_id: place.id,
    });
    const ticket = await fileTicket('Не включается ноутбук');
    const agent = await signedIn(browser, server, 'agent@demo.local');
    await agent.goto(`${server.url}/tickets/${ticket.id}`);

    // The requester's devices come first in the ticket's equipment.
    const select = 'form.ticket-form select[name=equipment_id]';
    const theirs = await agent.$$eval(`${select} optgroup:first-of-type option`, (os) => os.map((o) => o.textContent));
    assert.ok(theirs.some((text) => text.startsWith('E2E-101')), JSON.stringify(theirs));
    await agent.selectOption(select, String(laptop.id));
    await agent.click('form.ticket-form button[type=submit]');
    await until('the equipment saved', async () => (await ticketOf(ticket.id)).equipment_id === laptop.id);

    // Changed later to a piece found by where it stands.
    await agent.fill('input.equipment-search', 'Пристройка');
    await agent.locator(`${select} optgroup.equipment-found option[value="${spare.id}"]`).waitFor({ state: 'attached', timeout: 10000 });
    await agent.selectOption(select, String(spare.id));
    await agent.click('form.ticket-form button[type=submit]');
    await until('the equipment changed', async () => (await ticketOf(ticket.id)).equipment_id === spare.id);

    // The device's card lists the ticket.
    await agent.goto(`${server.url}/equipment/${spare.id}`);
    await agent.locator('table.device-tickets', { hasText: 'Не включается ноутбук' }).waitFor({ timeout: 5000 });

    // The requester's name opens their card: open tickets, equipment, where it stands.
    await agent.goto(`${server.url}/tickets/${ticket.id}`);
    await Promise.all([agent.waitForURL(/\/users\/\d+$/), agent.click('a.requester-card')]);
    assert.equal(await agent.textContent('h1'), requester.name);
    await agent.locator('table.person-tickets', { hasText: 'Не включается ноутбук' }).waitFor({ timeout: 5000 });
    assert.match(await agent.textContent('main'), /E2E-101/);
    assert.match(await agent.textContent('.facts'), /214/);
    await agent.context().close();

    // The requester has no card link, and no card.
    const own = await signedIn(browser, server, 'user@demo.local');
    await own.goto(`${server.url}/tickets/${ticket.id}`);
    assert.equal(await own.locator('a.requester-card').count(), 0);
    const answer = await own.goto(`${server.url}/users/${requester.id}`);
    assert.equal(answer.status(), 404);
    await own.context().close();
  });

  for (const locale of ['ru-RU', 'en-US']) {
    await t.test(`on a phone the first screen shows tickets, their number and assignee (${locale})`, async () => {
      const phone = { width: 390, height: 844 };
      const agent = await signedIn(browser, server, 'agent@demo.local', { viewport: phone, locale });
      await agent.goto(`${server.url}/tickets?status=all&order=recent`);
      const first = agent.locator('table.list tbody tr[data-id]').first();
      const box = await first.boundingBox();
      assert.ok(box && box.y + box.height <= phone.height, `the first ticket is on the first screen: ${JSON.stringify(box)}`);
      assert.equal(await agent.locator('#stats').isVisible(), false, 'the counters fold');
      assert.equal(await agent.locator('form.filters').isVisible(), false, 'the filters fold');
      assert.equal(await first.locator('td.num').isVisible(), true, 'the number shows');
      assert.equal(await first.locator('td.assignee').isVisible(), true, 'the assignee shows');
      assert.ok(box.width <= phone.width, 'no sideways scrolling');
      const toggle = agent.locator('button.fold-toggle');
      await toggle.click();
      assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
      assert.equal(await agent.locator('#stats').isVisible(), true);
      assert.equal(await agent.locator('form.filters').isVisible(), true);
      await agent.setViewportSize({ width: 1366, height: 900 });
      assert.equal(await toggle.isVisible(), false, 'a wide screen shows everything, with no button');
      await agent.context().close();
    });
  }
});
