// The Python `pusher` server SDK (PyPI) against the hub: publish, batches, channel
// information and its subscription signatures, checked by a pusher-js subscriber.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { APP, Hub, backends, freshDatabase, next, subscribed, tempDir } from '../lib/hub.js';

const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), '../python/sdk.py');
// The interpreter with the SDK installed (.ci/run makes a virtualenv and sets it).
const PYTHON = process.env.PUSHER_PYTHON || 'python3';

for (const backend of backends()) {
  describe(`the Python pusher SDK (${backend})`, () => {
    let dir, database, hub, client;
    const python = (...args) =>
      JSON.parse(
        execFileSync(PYTHON, [SCRIPT, ...args], {
          env: { ...process.env, HUB_HOST: hub.host, HUB_PORT: String(hub.port), APP_ID: APP.id, APP_KEY: APP.key, APP_SECRET: APP.secret },
        }).toString(),
      );

    before(async () => {
      dir = tempDir();
      database = freshDatabase(backend, dir);
      hub = await Hub.start(database.url, dir);
      // Private and presence subscriptions signed by the Python SDK itself.
      client = hub.client((socketId, channel) =>
        channel.startsWith('presence-')
          ? python('authenticate', channel, socketId, JSON.stringify({ user_id: 'py-1', user_info: { lang: 'python' } }))
          : python('authenticate', channel, socketId),
      );
    });

    after(async () => {
      client.disconnect();
      await hub.stop();
      database.drop();
    });

    it('triggers single and batched events that subscribers receive', async () => {
      const channel = await subscribed(client, 'private-py');
      const one = next(channel, 'created');
      assert.deepEqual(python('trigger', 'private-py', 'created', JSON.stringify({ id: 1 })), {});
      assert.deepEqual(await one, { id: 1 });
      const two = next(channel, 'batched');
      python('trigger_batch', JSON.stringify([{ channel: 'private-py', name: 'batched', data: { id: 2 } }]));
      assert.deepEqual(await two, { id: 2 });
    });

    it('reads channels, a channel and a presence channel users', async () => {
      const room = await subscribed(client, 'presence-py');
      assert.equal(room.members.me.id, 'py-1');
      assert.ok(python('channels_info').channels['presence-py']);
      assert.deepEqual(python('channel_info', 'presence-py'), { occupied: true, subscription_count: 1 });
      assert.deepEqual(python('users_info', 'presence-py'), { users: [{ id: 'py-1' }] });
    });

    it('is refused with a wrong secret', () => {
      assert.equal(python('wrong_secret').refused, true);
    });
  });
}
