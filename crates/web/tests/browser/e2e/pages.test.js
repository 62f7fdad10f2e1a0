// The pages beyond the live core: the language, the "N new — show" marker that keeps a
// selection in place, users management, and sanitised knowledge articles.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('pages in Chromium', { skip, timeout: 180000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const requesterApi = await server.login('user@demo.local');
  const live = (page) => until('live', async () => (await page.getAttribute('#connection', 'data-mode')) === 'websocket');

  await t.test('the language follows the browser and can be switched', async () => {
    const page = await signedIn(browser, server, 'agent@demo.local', { locale: 'en-US' });
    assert.equal(await page.textContent('h1'), 'All tickets');
    await Promise.all([page.waitForURL(/\/tickets/), page.click('.langs a[href="/lang/ru"]')]);
    assert.equal(await page.textContent('h1'), 'Все заявки');
    await page.context().close();
  });

  await t.test('while a row is selected, new rows wait behind the marker', async () => {
    const agent = await signedIn(browser, server, 'agent@demo.local', { next: '/tickets?order=recent' });
    await live(agent);
    const first = agent.locator('table.list tbody tr').first();
    await first.locator('input[type=checkbox]').check();
    const filed = await requesterApi.request('POST', '/api/v1/tickets', { title: 'Ждёт за маркером', description: 'x' });
    const marker = agent.locator('.new-rows');
    await marker.waitFor({ state: 'visible', timeout: 10000 });
    assert.match(await marker.textContent(), /1/);
    assert.equal(await agent.locator(`tr[data-id="${filed.id}"]`).count(), 0);
    await marker.click();
    await agent.waitForSelector(`tr[data-id="${filed.id}"]`);
    assert.equal(await agent.locator('tbody input[type=checkbox]:checked').count(), 1, 'the selection stays');
    await agent.context().close();
  });

  await t.test('an admin creates and blocks a user; another admin tab sees it live', async () => {
    const admin = await signedIn(browser, server, 'admin@demo.local');
    await admin.goto(server.url + '/users');
    const watcher = await admin.context().newPage();
    await watcher.goto(server.url + '/users');
    await live(admin);
    await live(watcher);
    await admin.click('details.create summary');
    await admin.fill('form.api-form input[name=name]', 'Пётр Новиков');
    await admin.fill('form.api-form input[name=email]', 'novikov@demo.local');
    await admin.fill('form.api-form input[name=password]', 'secret-password-1');
    await admin.click('form.api-form button[type=submit]');
    const row = watcher.locator('tr', { hasText: 'novikov@demo.local' });
    await row.waitFor({ timeout: 10000 });
    await admin.locator('tr', { hasText: 'novikov@demo.local' }).locator('button.danger').click();
    await row.locator('.badge.ustatus-blocked').waitFor({ timeout: 10000 });
    await admin.context().close();
  });

  await t.test('the ticket page shows who else is viewing and who is writing', async () => {
    const agent = await signedIn(browser, server, 'agent@demo.local');
    const admin = await signedIn(browser, server, 'admin@demo.local');
    await agent.goto(server.url + '/tickets/2');
    await admin.goto(server.url + '/tickets/2');
    const adminName = (await server.login('admin@demo.local')).user.name;
    const presence = agent.locator('#presence');
    await until('admin shown as viewing', async () => (await presence.textContent()).includes('Также просматривают: ' + adminName));
    await admin.fill('textarea[name=body]', 'Сейчас посмотрю');
    await until('admin shown as writing', async () => (await presence.textContent()).includes('Пишут: ' + adminName));
    await admin.context().close();
    await until('admin gone', async () => !(await presence.textContent()).includes(adminName));
    await agent.context().close();
  });

  await t.test('an article\'s Markdown is rendered and its HTML sanitised', async () => {
    const agentApi = await server.login('agent@demo.local');
    const article = await agentApi.request('POST', '/api/v1/articles', {
      title: 'Настройка VPN', body: '# Шаг 1\n\n<script>window.pwned = true</script>\n\n<img src=x onerror="window.pwned = true">\n\n**Важно**',
    });
    const page = await signedIn(browser, server, 'user@demo.local');
    await page.goto(`${server.url}/kb/${article.id}`);
    assert.equal(await page.textContent('.prose h1'), 'Шаг 1');
    assert.equal(await page.textContent('.prose strong'), 'Важно');
    assert.equal(await page.locator('.prose script').count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
    await page.context().close();
  });
});
