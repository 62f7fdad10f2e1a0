// Screenshots of every page at desktop and phone width, for looking at them:
// `node tools/screenshots.js [OUT_DIR]` (default: ./screenshots).
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { Server, launch, signedIn } = require('../lib/harness');

const PAGES = [
  ['agent@demo.local', 'tickets', '/tickets'],
  ['agent@demo.local', 'ticket', '/tickets/1'],
  ['agent@demo.local', 'new-ticket', '/tickets/new'],
  ['agent@demo.local', 'equipment', '/equipment'],
  ['agent@demo.local', 'equipment-page-2', '/equipment?page=2'],
  ['agent@demo.local', 'equipment-item', '/equipment/1'],
  ['agent@demo.local', 'kb', '/kb'],
  ['agent@demo.local', 'article', '/kb/1'],
  ['agent@demo.local', 'article-edit', '/kb/1/edit'],
  ['admin@demo.local', 'users', '/users'],
  ['admin@demo.local', 'notifications', '/notifications'],
  ['agent@demo.local', 'inbox', '/inbox'],
  ['user@demo.local', 'requester-tickets', '/tickets'],
  ['user@demo.local', 'requester-inbox', '/inbox'],
  ['agent@demo.local', 'preferences', '/preferences'],
  ['user@demo.local', 'requester-preferences', '/preferences'],
];
const SIZES = { desktop: { width: 1366, height: 900 }, phone: { width: 390, height: 844 } };

(async () => {
  const out = path.resolve(process.argv[2] || 'screenshots');
  fs.mkdirSync(out, { recursive: true });
  const server = await new Server().start();
  const browser = await launch();
  try {
    for (const [size, viewport] of Object.entries(SIZES)) {
      const login = await browser.newPage({ viewport, locale: 'ru-RU' });
      await login.goto(server.url + '/login');
      await login.screenshot({ path: path.join(out, `login-${size}.png`) });
      await login.close();
      const pages = {};
      for (const [email, name, url] of PAGES) {
        pages[email] = pages[email] || (await signedIn(browser, server, email, { viewport }));
        const page = pages[email];
        await page.goto(server.url + url);
        await page.waitForSelector('#connection[data-mode=websocket]', { timeout: 10000 });
        if (name === 'tickets' && size === 'desktop') {
          // A toast from someone else's change, as people see them.
          const api = await server.login('user@demo.local');
          await api.request('POST', '/api/v1/tickets', { title: 'Не работает VPN из дома', description: 'Ошибка 809' });
          await page.waitForSelector('.toast', { timeout: 5000 });
        }
        await page.screenshot({ path: path.join(out, `${name}-${size}.png`), fullPage: size === 'phone' ? false : true });
      }
      for (const page of Object.values(pages)) await page.context().close();
    }
    console.log('screenshots in ' + out);
  } finally {
    await browser.close();
    await server.stop();
    server.cleanup();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
