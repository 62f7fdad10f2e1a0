// laravel-echo (with pusher-js) as a Laravel front end uses it — in Node, and in real
// Chromium — against `ictdesk hub`; and presence across two nodes on PostgreSQL.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import Echo from 'laravel-echo';
import PusherClient from 'pusher-js';
import { APP, Hub, backends, defaultAuthorizer, freshDatabase, tempDir, until } from '../lib/hub.js';

const require = createRequire(import.meta.url);
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** Echo options as a Laravel app's bootstrap.js sets them, pointed at the hub. */
function echoOptions(hub, authorize) {
  return {
    broadcaster: 'pusher',
    key: APP.key,
    cluster: 'local',
    wsHost: hub.host,
    wsPort: hub.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    Pusher: PusherClient,
    channelAuthorization: { customHandler: ({ socketId, channelName }, callback) => callback(null, authorize(socketId, channelName)) },
  };
}

for (const backend of backends()) {
  describe(`laravel-echo in Node (${backend})`, () => {
    let dir, database, hub, server;
    const echos = [];
    const echo = (user) => {
      const made = new Echo(echoOptions(hub, defaultAuthorizer(server, user)));
      echos.push(made);
      return made;
    };

    before(async () => {
      dir = tempDir();
      database = freshDatabase(backend, dir);
      hub = await Hub.start(database.url, dir);
      server = hub.server();
    });

    after(async () => {
      for (const made of echos) made.disconnect();
      await hub.stop();
      database.drop();
    });

    it('hears a Laravel event by class name on a public and a private channel', async () => {
      const ann = echo({ user_id: 1, user_info: { name: 'Ann' } });
      const heard = [];
      ann.channel('orders').listen('OrderShipped', (event) => heard.push(['public', event]));
      ann.private('orders.1').listen('.order.paid', (event) => heard.push(['private', event]));
      await until('both subscriptions', () => ann.connector.pusher.channel('orders')?.subscribed && ann.connector.pusher.channel('private-orders.1')?.subscribed);
      // What Laravel's pusher broadcaster sends: the class name, the public properties.
      await server.trigger('orders', 'App\\Events\\OrderShipped', { order: { id: 7 } });
      await server.trigger('private-orders.1', 'order.paid', { amount: 12 });
      await until('both events', () => heard.length === 2);
      assert.deepEqual(heard, [
        ['public', { order: { id: 7 } }],
        ['private', { amount: 12 }],
      ]);
    });

    it('joins a presence channel: here, joining, leaving and whispers', async () => {
      const ann = echo({ user_id: 1, user_info: { name: 'Ann' } });
      const seen = { here: null, joining: [], leaving: [], whispers: [] };
      ann
        .join('ticket.5')
        .here((users) => (seen.here = users))
        .joining((user) => seen.joining.push(user))
        .leaving((user) => seen.leaving.push(user))
        .listenForWhisper('typing', (event) => seen.whispers.push(event));
      await until('here', () => seen.here);
      assert.deepEqual(seen.here, [{ name: 'Ann' }]);

      const bob = echo({ user_id: 2, user_info: { name: 'Bob' } });
      let bobsHere = null;
      const bobsRoom = bob.join('ticket.5').here((users) => (bobsHere = users));
      await until('bob here', () => bobsHere);
      assert.deepEqual(bobsHere.map((user) => user.name).sort(), ['Ann', 'Bob']);
      await until('ann hears bob', () => seen.joining.length === 1);
      assert.deepEqual(seen.joining, [{ name: 'Bob' }]);

      bobsRoom.whisper('typing', { who: 'Bob' });
      await until('the whisper', () => seen.whispers.length === 1);
      assert.deepEqual(seen.whispers, [{ who: 'Bob' }]);

      bob.leave('ticket.5');
      await until('ann hears bob leave', () => seen.leaving.length === 1);
      assert.deepEqual(seen.leaving, [{ name: 'Bob' }]);
    });
  });
}

describe('presence across two nodes (PostgreSQL)', { skip: !process.env.ICTDESK_TEST_POSTGRES_URL && 'ICTDESK_TEST_POSTGRES_URL is not set' }, () => {
  let dir, database, a, b;
  const clients = [];

  before(async () => {
    dir = tempDir();
    database = freshDatabase('postgres', dir);
    a = await Hub.start(database.url, dir, 'node-a');
    b = await Hub.start(database.url, dir, 'node-b');
  });

  after(async () => {
    for (const client of clients) client.disconnect();
    await a.stop();
    b.kill();
    database.drop();
  });

  it('lists members, relays joins, leaves and client events between nodes, and drops a killed node', async () => {
    const server = a.server();
    const connect = (hub, user) => {
      const client = new PusherClient(APP.key, { ...echoOptions(hub, defaultAuthorizer(server, user)), Pusher: undefined });
      clients.push(client);
      return client;
    };
    const ann = connect(a, { user_id: '1', user_info: { name: 'Ann' } });
    const annsRoom = ann.subscribe('presence-hall');
    const events = [];
    annsRoom.bind('pusher:member_added', (member) => events.push(['added', member.id]));
    annsRoom.bind('pusher:member_removed', (member) => events.push(['removed', member.id]));
    annsRoom.bind('client-wave', (data, metadata) => events.push(['wave', metadata.user_id]));
    await until('ann subscribed', () => annsRoom.subscribed);

    const bob = connect(b, { user_id: '2', user_info: { name: 'Bob' } });
    const bobsRoom = bob.subscribe('presence-hall');
    await until('bob subscribed', () => bobsRoom.subscribed);
    assert.deepEqual(Object.keys(bobsRoom.members.members).sort(), ['1', '2'], 'bob sees ann, who is on the other node');
    await until('ann hears bob join', () => events.some(([kind]) => kind === 'added'));

    bobsRoom.trigger('client-wave', {});
    await until('the wave crosses nodes', () => events.some(([kind]) => kind === 'wave'));
    const users = await (await server.get({ path: '/channels/presence-hall/users' })).json();
    assert.deepEqual(users.users.map((user) => user.id).sort(), ['1', '2']);

    b.kill(); // kill -9: node-b never says goodbye
    await until('bob removed after node-b stops reporting', () => events.some(([kind]) => kind === 'removed'), 60000);
    assert.deepEqual(events, [
      ['added', '2'],
      ['wave', '2'],
      ['removed', '2'],
    ]);
    assert.equal(annsRoom.members.count, 1);
  });
});

describe('pusher-js and laravel-echo in Chromium', () => {
  let dir, database, hub, browser;

  before(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      if (process.env.CI === 'true') throw new Error(`Chromium not found at ${CHROMIUM} (CI=true: failing, not skipping)`);
      return;
    }
    dir = tempDir();
    database = freshDatabase('sqlite', dir);
    hub = await Hub.start(database.url, dir);
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });

  after(async () => {
    if (browser) await browser.close();
    if (hub) await hub.stop();
  });

  it('receives a private event and a presence list in the browser build', async (t) => {
    if (!browser) return t.skip(`Chromium not found at ${CHROMIUM}`);
    const server = hub.server();
    const page = await browser.newPage();
    // The app's auth endpoint, played by the Node SDK.
    await page.exposeFunction('authorize', (socketId, channel) => defaultAuthorizer(server, { user_id: 9, user_info: { name: 'Browser' } })(socketId, channel));
    await page.addScriptTag({ path: require.resolve('pusher-js/dist/web/pusher.min.js') });
    await page.addScriptTag({ path: fileURLToPath(new URL('../node_modules/laravel-echo/dist/echo.iife.js', import.meta.url)) });
    await page.evaluate(({ key, host, port }) => {
      window.received = [];
      window.echo = new window.Echo.default({
        broadcaster: 'pusher',
        key,
        cluster: 'local',
        wsHost: host,
        wsPort: port,
        forceTLS: false,
        enabledTransports: ['ws'],
        channelAuthorization: { customHandler: ({ socketId, channelName }, callback) => window.authorize(socketId, channelName).then((auth) => callback(null, auth)) },
      });
      window.echo.private('inbox.9').listen('.message', (event) => window.received.push(event));
      window.echo.join('lobby').here((users) => (window.here = users));
    }, { key: APP.key, host: hub.host, port: hub.port });
    await until('the browser subscribed', () => page.evaluate(() => Boolean(window.here && window.echo.connector.pusher.channel('private-inbox.9').subscribed)));
    assert.deepEqual(await page.evaluate(() => window.here), [{ name: 'Browser' }]);
    await server.trigger('private-inbox.9', 'message', { text: 'hello browser' });
    await until('the event in the page', () => page.evaluate(() => window.received.length === 1));
    assert.deepEqual(await page.evaluate(() => window.received), [{ text: 'hello browser' }]);
  });
});
