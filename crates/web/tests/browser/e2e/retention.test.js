// A page whose missed events were pruned from the event log (retention) is told to
// reset, and re-fetches what it shows: over WebSocket, and over polling. The change it
// missed is on a ticket page that the one event still in the log does not concern, so
// without the reset the page would stay stale. Conditions are waited on; nothing is timed.
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { Server, demoDesk, signedIn, until, chromiumMissing } = require('../lib/harness');

const skip = chromiumMissing();

test('a page from before the log\'s horizon re-fetches what it shows', { skip, timeout: 240000 }, async (t) => {
  const { server, browser } = await demoDesk(t);
  const agent = await signedIn(browser, server, 'agent@demo.local');
  const requesterApi = await server.login('user@demo.local');
  const mine = await requesterApi.request('GET', '/api/v1/tickets?per_page=1');
  const ticketId = mine.items[0].id;
  const mode = () => agent.getAttribute('#connection', 'data-mode');
  const priority = () => agent.getAttribute('.ticket-live', 'data-priority');

  await agent.goto(`${server.url}/tickets/${ticketId}`);
  await agent.evaluate(() => {
    window.resets = 0;
    const live = window.ictdeskLive;
    const original = live.onReset;
    live.onReset = (lastId) => { window.resets += 1; original(lastId); };
  });

  const rounds = [
    { transport: 'websocket', env: {}, priority: 'critical' },
    { transport: 'polling', env: { WEBSOCKET_ENABLED: 'false' }, priority: 'low' },
  ];
  for (const [index, round] of rounds.entries()) {
    await t.test(`over ${round.transport}`, async () => {
      await until(`the page on ${rounds[Math.max(index - 1, 0)].transport}`, async () => (await mode()) !== 'offline');
      await server.stop();
      // Another process changes the ticket and files two more while the page is cut
      // off; then the desk comes back keeping only the newest event.
      const other = new Server();
      other.database = server.database;
      await other.start();
      const agentApi = await other.login('agent@demo.local');
      const requester = await other.login('user@demo.local');
      await agentApi.request('PATCH', `/api/v1/tickets/${ticketId}`, { priority: round.priority });
      for (const n of [1, 2]) {
        await requester.request('POST', '/api/v1/tickets', { title: `Пока страница спала ${index}.${n}`, description: 'retention' });
      }
      await other.stop();
      other.cleanup();
      await server.start(Object.assign({ ICTDESK_RETAIN_EVENTS: '1' }, round.env));

      await until('the missed change on the page', async () => (await priority()) === round.priority, 90000);
      assert.equal(await agent.evaluate(() => window.resets), index + 1, 'one reset per round');
      await until(`${round.transport} mode`, async () => (await mode()) === round.transport, 60000);
    });
  }
});
