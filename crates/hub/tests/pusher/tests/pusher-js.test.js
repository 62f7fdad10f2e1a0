// pusher-js (Node) and the Node `pusher` server SDK against `ictdesk hub`, on each database.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { APP, Hub, backends, connected, defaultAuthorizer, freshDatabase, next, subscribed, tempDir, until } from '../lib/hub.js';

for (const backend of backends()) {
  describe(`pusher-js and the Node SDK (${backend})`, () => {
    let dir, database, hub, server;
    const clients = [];
    const client = (...args) => {
      const made = hub.client(...args);
      clients.push(made);
      return made;
    };

    before(async () => {
      dir = tempDir();
      database = freshDatabase(backend, dir);
      hub = await Hub.start(database.url, dir);
      server = hub.server();
    });

    after(async () => {
      for (const made of clients) made.disconnect();
      await hub.stop();
      database.drop();
    });

    it('delivers an HTTP API event on a public channel, data decoded', async () => {
      const alice = client();
      const orders = await subscribed(alice, 'orders');
      const received = next(orders, 'order-shipped');
      await server.trigger('orders', 'order-shipped', { order: 42, items: ['a', 'b'] });
      assert.deepEqual(await received, { order: 42, items: ['a', 'b'] });
    });

    it('publishes to several channels at once and in batches', async () => {
      const alice = client();
      const [a, b] = await Promise.all([subscribed(alice, 'multi-a'), subscribed(alice, 'multi-b')]);
      const both = Promise.all([next(a, 'hello'), next(b, 'hello')]);
      await server.trigger(['multi-a', 'multi-b'], 'hello', 'plain text');
      assert.deepEqual(await both, ['plain text', 'plain text']);
      const batch = Promise.all([next(a, 'one'), next(b, 'two')]);
      await server.triggerBatch([
        { channel: 'multi-a', name: 'one', data: { n: 1 } },
        { channel: 'multi-b', name: 'two', data: { n: 2 } },
      ]);
      assert.deepEqual(await batch, [{ n: 1 }, { n: 2 }]);
    });

    it('leaves out the publisher named by socket_id', async () => {
      const [alice, bob] = [client(), client()];
      const [fromAlice, fromBob] = await Promise.all([subscribed(alice, 'excluding'), subscribed(bob, 'excluding')]);
      const seenByAlice = [];
      fromAlice.bind('note', (data) => seenByAlice.push(data));
      const bobGets = next(fromBob, 'note');
      await server.trigger('excluding', 'note', 'first', { socket_id: alice.connection.socket_id });
      assert.equal(await bobGets, 'first');
      const aliceGets = next(fromAlice, 'note');
      await server.trigger('excluding', 'note', 'second');
      assert.equal(await aliceGets, 'second');
      assert.deepEqual(seenByAlice, ['second'], 'alice never saw the event that excluded her');
    });

    it('signs private channels, and refuses a bad signature', async () => {
      const alice = client();
      const secret = await subscribed(alice, 'private-ledger');
      const got = next(secret, 'entry');
      await server.trigger('private-ledger', 'entry', { amount: 5 });
      assert.deepEqual(await got, { amount: 5 });

      const forger = client((socketId, channel) => ({ auth: `${APP.key}:${crypto.createHmac('sha256', 'wrong').update(`${socketId}:${channel}`).digest('hex')}` }));
      const errors = [];
      forger.connection.bind('error', (error) => errors.push(error));
      await assert.rejects(subscribed(forger, 'private-ledger'), (error) => error.detail.status === 401);
      await until('the pusher:error 4009', () => errors.some((error) => error.data && error.data.code === 4009));
    });

    it('keeps presence members, tells others who comes and goes, and relays client events', async () => {
      const ann = client(defaultAuthorizer(server, { user_id: '1', user_info: { name: 'Ann' } }));
      const room = await subscribed(ann, 'presence-room');
      assert.equal(room.members.count, 1);
      assert.equal(room.members.me.info.name, 'Ann');

      const joined = next(room, 'pusher:member_added');
      const bob = client(defaultAuthorizer(server, { user_id: 2, user_info: { name: 'Bob' } }));
      const bobsRoom = await subscribed(bob, 'presence-room');
      assert.deepEqual(await joined, { id: '2', info: { name: 'Bob' } });
      assert.equal(bobsRoom.members.count, 2);
      assert.deepEqual(Object.keys(bobsRoom.members.members).sort(), ['1', '2']);

      const { users } = await (await server.get({ path: '/channels/presence-room/users' })).json();
      assert.deepEqual(users.map((user) => user.id).sort(), ['1', '2']);
      const info = await (await server.get({ path: '/channels/presence-room', params: { info: 'user_count,subscription_count' } })).json();
      assert.deepEqual(info, { occupied: true, subscription_count: 2, user_count: 2 });

      const echoed = [];
      room.bind('client-typing', (data) => echoed.push(data));
      const typing = new Promise((resolve) => bobsRoom.bind('client-typing', (data, metadata) => resolve({ data, metadata })));
      assert.ok(room.trigger('client-typing', { text: 'hi' }));
      const { data, metadata } = await typing;
      assert.deepEqual(data, { text: 'hi' });
      assert.equal(metadata.user_id, '1');

      const left = next(room, 'pusher:member_removed');
      bob.disconnect();
      assert.deepEqual(await left, { id: '2', info: { name: 'Bob' } });
      assert.equal(room.members.count, 1);
      assert.deepEqual(echoed, [], 'a client event is never echoed to its sender');
    });

    it('refuses client events on public channels and beyond the rate limit', async () => {
      const alice = client();
      const errors = [];
      alice.connection.bind('error', (error) => errors.push(error.data));
      const open = await subscribed(alice, 'public-chat');
      open.trigger('client-hi', {});
      await until('a refusal of the public client event', () => errors.some((error) => error && /private- and presence-/.test(error.message)));
      const secret = await subscribed(alice, 'private-burst');
      for (let i = 0; i < 25; i++) secret.trigger('client-burst', { i });
      await until('the rate limit (4301)', () => errors.some((error) => error && error.code === 4301));
    });

    it('lists occupied channels over the signed API', async () => {
      const alice = client();
      await subscribed(alice, 'presence-listed');
      await subscribed(alice, 'listed-public');
      const all = await (await server.get({ path: '/channels' })).json();
      assert.ok(all.channels['listed-public'] && all.channels['presence-listed'], JSON.stringify(all));
      const presence = await (await server.get({ path: '/channels', params: { filter_by_prefix: 'presence-', info: 'user_count' } })).json();
      assert.equal(presence.channels['presence-listed'].user_count, 1);
      assert.equal(presence.channels['listed-public'], undefined);
    });

    it('refuses a wrong key at connection with 4001, and pusher-js gives up', async () => {
      const wrong = hub.client(undefined, {});
      wrong.disconnect();
      const stranger = new wrong.constructor('not-a-key', { cluster: 'local', wsHost: hub.host, wsPort: hub.port, forceTLS: false, enabledTransports: ['ws'] });
      clients.push(stranger);
      const errors = [];
      stranger.connection.bind('error', (error) => errors.push(error));
      await until('4001', () => errors.some((error) => error.error && error.error.data && error.error.data.code === 4001));
      await until('pusher-js to give up', () => stranger.connection.state === 'disconnected');
    });

    it('refuses unsigned, badly signed and expired HTTP API requests', async () => {
      const base = `http://${hub.host}:${hub.port}/apps/${APP.id}/events`;
      const body = JSON.stringify({ name: 'x', channels: ['orders'], data: '{}' });
      const md5 = crypto.createHash('md5').update(body).digest('hex');
      const signed = (timestamp, secret = APP.secret) => {
        const query = `auth_key=${APP.key}&auth_timestamp=${timestamp}&auth_version=1.0&body_md5=${md5}`;
        const signature = crypto.createHmac('sha256', secret).update(`POST\n/apps/${APP.id}/events\n${query}`).digest('hex');
        return `${base}?${query}&auth_signature=${signature}`;
      };
      const now = Math.floor(Date.now() / 1000);
      const post = (url) => fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
      assert.equal((await post(signed(now))).status, 200);
      const expired = await post(signed(now - 601));
      assert.equal(expired.status, 401);
      assert.match((await expired.json()).error, /auth_timestamp/);
      const forged = await post(signed(now, 'wrong-secret'));
      assert.equal(forged.status, 401);
      assert.match((await forged.json()).error, /auth_signature/);
      assert.equal((await post(base)).status, 401);
      const wrongServer = hub.server({ secret: 'not-the-secret' });
      await assert.rejects(wrongServer.trigger('orders', 'x', {}), (error) => error.status === 401);
    });
  });
}
