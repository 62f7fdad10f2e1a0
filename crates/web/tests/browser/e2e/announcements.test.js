// Announcements that reach people (issue 17 point 12), in Chromium against the real
// binary: an active warning or critical notice is a banner on every page of its
// audience, live, until it expires or an admin withdraws it («Снять»); the toast carries
// the message and a critical one stays until clicked; the form sets «Действует до» in
// the reader's time; expired and withdrawn notices are greyed in the admins' list; a
// requester reads notices, not a table of recipients.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('announcements in Chromium', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const adminApi = await server.login('admin@demo.local');
  const publish = (body) => adminApi.request('POST', '/api/v1/notifications', { audience: 'everyone', ...body });
  const bannerTitles = (page) => page.locator('#banners .banner strong').allTextContents();

  await t.test('a critical notice: banner on every page, a toast that stays until clicked, gone when withdrawn', async () => {
    const user = await signedIn(browser, server, 'user@demo.local');
    await user.waitForSelector('#connection[data-mode=websocket]', { timeout: 10000 });
    const notice = await publish({ title: 'Почта недоступна', message: 'Восстановим к 14:00', level: 'critical' });
    const banner = user.locator('#banners .banner.level-critical');
    await banner.waitFor({ timeout: 10000 });
    assert.match(await banner.textContent(), /Почта недоступна\s+Восстановим к 14:00/);
    const toast = user.locator('.toast.toast-sticky');
    await toast.waitFor({ timeout: 5000 });
    assert.match(await toast.locator('.toast-detail').textContent(), /Восстановим к 14:00/);
    // Longer than any ordinary toast lives (toasts.js: five seconds): it is still there.
    await user.waitForTimeout(6000);
    assert.equal(await toast.count(), 1, 'a critical toast stays');
    await user.evaluate(() => document.querySelector('.toast.toast-sticky').addEventListener('click', (e) => e.preventDefault()));
    await toast.click();
    await until('the toast gone after the click', async () => (await user.locator('.toast.toast-sticky').count()) === 0);

    for (const path of ['/kb', '/tickets/new', '/preferences']) {
      await user.goto(server.url + path);
      assert.ok((await bannerTitles(user)).includes('Почта недоступна'), path);
    }

    const admin = await signedIn(browser, server, 'admin@demo.local');
    await admin.goto(server.url + '/notifications');
    const row = admin.locator(`table.list tr[data-id="${notice.id}"]`);
    await row.locator('button', { hasText: 'Снять' }).click();
    await until('the banner withdrawn live', async () => !(await bannerTitles(user)).includes('Почта недоступна'));
    await until('the row greyed', async () => (await row.evaluate((tr) => tr.classList.contains('inactive'))));
    assert.match(await row.textContent(), /Снято/);
    await user.context().close();
    await admin.context().close();
  });

  await t.test('a warning leaves the banner by itself when it expires; an info notice is never a banner', async () => {
    const user = await signedIn(browser, server, 'user@demo.local');
    await user.waitForSelector('#connection[data-mode=websocket]', { timeout: 10000 });
    await publish({ title: 'Только для сведения', message: 'Новый принтер на 3 этаже', level: 'info' });
    const soon = new Date(Date.now() + 4000).toISOString();
    await publish({ title: 'VPN перезагружается', message: 'Несколько секунд', level: 'warning', expires_at: soon });
    await until('the warning shown', async () => (await bannerTitles(user)).includes('VPN перезагружается'));
    assert.ok(!(await bannerTitles(user)).includes('Только для сведения'));
    await until('the warning expired', async () => !(await bannerTitles(user)).includes('VPN перезагружается'), 20000);
    await user.context().close();
  });

  await t.test('«Действует до» is the reader\'s local time; expired notices are greyed', async () => {
    const admin = await signedIn(browser, server, 'admin@demo.local', { timezoneId: 'Europe/Moscow' });
    await admin.goto(server.url + '/notifications');
    await admin.click('details.create summary');
    await admin.fill('input[name=title]', 'Плановые работы');
    await admin.fill('textarea[name=message]', 'В субботу почта недоступна');
    await admin.selectOption('select[name=level]', 'warning');
    await admin.fill('input[name=expires_at]', '2099-06-01T10:30');
    await admin.click('details.create button[type=submit]');
    const all = await until('published', async () => {
      const list = await adminApi.request('GET', '/api/v1/notifications?all=true');
      return list.items.find((n) => n.title === 'Плановые работы');
    });
    assert.equal(all.expires_at, '2099-06-01T07:30:00.000Z', 'Moscow is UTC+3');
    const expired = await publish({ title: 'Вчерашний сбой', message: 'Всё починили', level: 'warning', expires_at: '2020-01-01T00:00:00Z' });
    await admin.reload();
    assert.equal(await admin.locator(`tr[data-id="${expired.id}"]`).getAttribute('class'), 'inactive');
    assert.equal(await admin.locator(`tr[data-id="${all.id}"]`).getAttribute('class'), null);
    assert.match(await admin.locator(`tr[data-id="${expired.id}"]`).textContent(), /Истекло/);
    await admin.context().close();
  });

  for (const [locale, heading, empty] of [['ru-RU', /уведомления/i, 'Сейчас уведомлений для вас нет.'], ['en-US', /notifications/i, 'No notices for you right now.']]) {
    await t.test(`a requester reads notices, not a table of recipients (${locale})`, async () => {
      const user = await signedIn(browser, server, 'user@demo.local', { locale });
      await user.goto(server.url + '/notifications');
      assert.match(await user.textContent('h1'), heading);
      assert.equal(await user.locator('main table').count(), 0);
      const cards = user.locator('.notices article.notice');
      assert.ok((await cards.count()) > 0 || (await user.textContent('.notices')).includes(empty));
      const before = await cards.count();
      await publish({ title: 'Новости ' + locale, message: 'Текст', level: 'info' });
      await until('the notice arrived live', async () => (await cards.count()) === before + 1);
      assert.equal(await cards.first().locator('h2').textContent().then((s) => s.includes('Новости ' + locale)), true);
      await user.context().close();
    });
  }
});
