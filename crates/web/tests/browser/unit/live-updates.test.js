// The mode-switching state machine of live-updates.js, with fake sockets, fetch and
// timers: `node --test crates/web/tests/browser/unit`. What the fakes deliver are the
// hub's real answers, captured from a running server (fixtures/answers.json, by
// tools/capture-answers.js; e2e/answers.test.js keeps it true).
'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { LiveUpdates } = require('../../../assets/live-updates.js');
const recorded = require('./fixtures/answers.json');

/** A recorded answer with some fields replaced. */
const like = (answer, fields) => Object.assign(JSON.parse(JSON.stringify(answer)), fields);

/** A fake world: sockets the test opens and closes, polls it answers, timers it runs. */
function world() {
  const w = { sockets: [], polls: [], timers: [], logs: [], now: 0, nextTimer: 1 };
  class FakeSocket {
    constructor(url) {
      this.url = url;
      this.sent = [];
      this.closed = false;
      w.sockets.push(this);
    }
    send(text) { this.sent.push(JSON.parse(text)); }
    close() { this.closed = true; }
    receive(frame) { this.onmessage({ data: JSON.stringify(frame) }); }
    welcome(lastId) { this.receive(like(recorded.welcome, { last_id: lastId })); }
    event(id) { this.receive(like(recorded.event, { id })); }
    fail() { this.onclose && this.onclose({ code: 1006 }); }
    closeWith({ code, reason }) { this.onclose && this.onclose({ code, reason }); }
  }
  w.env = {
    WebSocket: FakeSocket,
    fetch(url, init) {
      return new Promise((resolve, reject) => {
        const poll = { url, init, resolve, reject, answered: false };
        w.polls.push(poll);
        if (init.signal) init.signal.addEventListener('abort', () => { poll.answered = true; reject(new Error('aborted')); });
      });
    },
    setTimeout(fn, ms) { const id = w.nextTimer++; w.timers.push({ id, at: w.now + ms, fn }); return id; },
    clearTimeout(id) { w.timers = w.timers.filter((t) => t.id !== id); },
    random: () => 0.5,
    now: () => w.now,
    console: { log: (line) => w.logs.push(line) },
    AbortController,
    document: { hidden: false, listeners: {}, addEventListener(n, f) { this.listeners[n] = f; }, removeEventListener() {} },
    window: { location: { protocol: 'http:', host: 'desk' }, addEventListener() {}, removeEventListener() {} },
  };
  /** Runs the timers due within `ms`, in order. */
  w.advance = async (ms) => {
    const until = w.now + ms;
    for (;;) {
      w.timers.sort((a, b) => a.at - b.at);
      const next = w.timers[0];
      if (!next || next.at > until) break;
      w.timers.shift();
      w.now = next.at;
      next.fn();
      await settle();
    }
    w.now = until;
  };
  /** Answers the oldest open poll. */
  w.answer = async (messages, lastId, extra) => {
    const poll = w.polls.find((p) => !p.answered);
    assert.ok(poll, 'a poll is waiting');
    poll.answered = true;
    const body = like(recorded.poll, { messages: messages.map((id) => like(recorded.event, { id })), last_id: lastId });
    poll.resolve({ ok: true, status: 200, json: async () => Object.assign(body, extra) });
    await settle();
    return poll;
  };
  w.openPolls = () => w.polls.filter((p) => !p.answered);
  return w;
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

function client(w, options) {
  const seen = [];
  const modes = [];
  const live = new LiveUpdates(Object.assign({
    apiEndpoint: '/messages', websocketUrl: 'ws://desk/ws', lastId: 10, timeout: 5000,
    onEvent: (e) => seen.push(e.id), onModeChange: (m) => modes.push(m),
  }, options), w.env);
  return { live, seen, modes };
}

test('connects by WebSocket from the page\'s last id and logs the original line', async () => {
  const w = world();
  const { live, seen, modes } = client(w);
  live.start();
  assert.equal(w.sockets[0].url, 'ws://desk/ws?since=10');
  w.sockets[0].welcome(12);
  w.sockets[0].event(11);
  w.sockets[0].event(12);
  assert.deepEqual(seen, [11, 12]);
  assert.deepEqual(w.logs, ['WebSocket: Подключение установлено']);
  assert.deepEqual(modes, ['connecting', 'websocket']);
  assert.equal(w.polls.length, 0);
});

test('a refused socket falls back to long polling with the original lines', async () => {
  const w = world();
  const { live, modes } = client(w);
  live.start();
  w.sockets[0].fail();
  await settle();
  assert.deepEqual(w.logs, ['LiveUpdates: WebSocket отключен', 'LiveUpdates: Используем HTTP polling']);
  assert.equal(live.mode, 'polling');
  assert.equal(w.polls[0].url, '/messages?since=10&wait=25');
  assert.deepEqual(modes, ['connecting', 'polling']);
});

test('a socket that does not answer within the timeout counts as refused', async () => {
  const w = world();
  const { live } = client(w);
  live.start();
  await w.advance(4999);
  assert.equal(live.mode, 'connecting');
  await w.advance(1);
  assert.equal(live.mode, 'polling');
  assert.ok(w.sockets[0].closed);
});

test('retries WebSocket with capped, growing backoff and switches back without loss or repeat', async () => {
  const w = world();
  const { live, seen, modes } = client(w, { backoffBase: 1000, backoffCap: 8000 });
  live.start();
  w.sockets[0].fail();
  await settle();
  await w.answer([11, 12], 12);
  // Retries at 750, then 1500, 3000, 6000, 6000 ms (random 0.5 → 3/4 of the ceiling).
  const gaps = [];
  for (let i = 1; i <= 5; i++) {
    const before = w.now;
    while (w.sockets.length === i) await w.advance(50);
    gaps.push(w.now - before);
    w.sockets[i].fail();
    await settle();
  }
  assert.deepEqual(gaps, [750, 1500, 3000, 6000, 6000]);
  assert.equal(w.logs.filter((l) => l === 'LiveUpdates: Используем HTTP polling').length, 1, 'polling kept, not restarted');
  while (w.sockets.length === 6) await w.advance(50);
  const socket = w.sockets[6];
  assert.equal(socket.url, 'ws://desk/ws?since=12');
  socket.welcome(14);
  assert.equal(live.mode, 'websocket');
  assert.equal(w.openPolls().length, 0, 'the long poll is aborted');
  socket.event(12); // replayed by the server after a racing poll: dropped
  socket.event(13);
  socket.event(14);
  assert.deepEqual(seen, [11, 12, 13, 14]);
  assert.deepEqual(modes, ['connecting', 'polling', 'websocket']);
});

test('an answer to a poll aborted by the switch back is ignored', async () => {
  const w = world();
  const { live, seen } = client(w);
  live.start();
  w.sockets[0].fail();
  await settle();
  const pending = w.polls[0];
  while (w.sockets.length === 1) await w.advance(100);
  w.sockets[1].welcome(10);
  pending.resolve({ ok: true, json: async () => ({ messages: [{ id: 11 }], last_id: 11, has_more: false }) });
  await settle();
  assert.deepEqual(seen, []);
  assert.equal(live.lastId, 10);
});

test('a lost socket falls back to polling from where it stopped, then reconnects with since', async () => {
  const w = world();
  const { live, seen } = client(w);
  live.start();
  w.sockets[0].welcome(10);
  w.sockets[0].event(11);
  w.sockets[0].fail();
  await settle();
  assert.equal(w.polls[0].url, '/messages?since=11&wait=25');
  await w.answer([12], 12);
  while (w.sockets.length === 1) await w.advance(100);
  assert.equal(w.sockets[1].url, 'ws://desk/ws?since=12');
  assert.deepEqual(seen, [11, 12]);
  assert.equal(live.mode, 'polling');
});

test('useWebSocket false polls every refreshInterval and never opens a socket', async () => {
  const w = world();
  const { live, seen } = client(w, { useWebSocket: false, longPolling: false, refreshInterval: 5000 });
  live.start();
  assert.equal(w.sockets.length, 0);
  assert.equal(w.polls[0].url, '/messages?since=10');
  await w.answer([11], 11);
  await w.advance(4999);
  assert.equal(w.polls.length, 1);
  await w.advance(1);
  assert.equal(w.polls[1].url, '/messages?since=11');
  assert.deepEqual(seen, [11]);
  assert.deepEqual(w.logs, ['LiveUpdates: Используем HTTP polling']);
});

test('a page that polls because WebSocket was off switches to it once the hub says it is on', async () => {
  const w = world();
  const { live, seen, modes } = client(w, { websocketEnabled: false });
  live.start();
  await w.answer([11], 11, { websocket: false });
  assert.equal(w.sockets.length, 0);
  await w.advance(0);
  await w.answer([12], 12, { websocket: true });
  assert.equal(w.sockets.length, 1);
  assert.equal(w.sockets[0].url, 'ws://desk/ws?since=12');
  w.sockets[0].welcome(12);
  assert.equal(w.openPolls().length, 0, 'polling stops at the welcome');
  w.sockets[0].event(13);
  assert.deepEqual(seen, [11, 12, 13]);
  assert.equal(modes.at(-1), 'websocket');
});

test('a client polling while the hub says WebSocket is off stops retrying it', async () => {
  const w = world();
  const { live } = client(w);
  live.start();
  w.sockets[0].fail();
  await w.answer([], 10, { websocket: false });
  await w.advance(120000);
  assert.equal(w.sockets.length, 1, 'no retry while the hub says it is off');
});

test('a failing poll shows offline and comes back', async () => {
  const w = world();
  const { live, modes } = client(w, { websocketEnabled: false });
  live.start();
  w.polls[0].answered = true;
  w.polls[0].reject(new Error('network'));
  await settle();
  assert.equal(live.mode, 'offline');
  await w.advance(60000);
  await w.answer([], 10);
  assert.equal(live.mode, 'polling');
  assert.deepEqual(modes, ['connecting', 'polling', 'offline', 'polling']);
});

test('becoming visible again reconnects at once instead of waiting for the backoff', async () => {
  const w = world();
  const { live } = client(w, { backoffBase: 20000, backoffCap: 60000 });
  live.start();
  w.sockets[0].fail();
  await settle();
  w.env.document.listeners.visibilitychange();
  assert.equal(w.sockets.length, 2);
  assert.equal(w.openPolls().length, 1, 'one poll at a time');
  w.sockets[1].welcome(10);
  assert.equal(live.mode, 'websocket');
});

test('a live socket is pinged on wake, and presence is re-announced on reconnect', async () => {
  const w = world();
  const { live } = client(w);
  live.start();
  w.sockets[0].welcome(10);
  live.setPresence('view', 7);
  w.env.document.listeners.visibilitychange();
  assert.deepEqual(w.sockets[0].sent, [{ type: 'view', ticket_id: 7 }, { type: 'ping' }]);
  w.sockets[0].fail();
  await settle();
  while (w.sockets.length === 1) await w.advance(100);
  w.sockets[1].welcome(10);
  assert.deepEqual(w.sockets[1].sent, [{ type: 'view', ticket_id: 7 }]);
});

test('frames without an id (presence, pong) go to onMessage, never onEvent', async () => {
  const w = world();
  const other = [];
  const { live, seen } = client(w, { onMessage: (f) => other.push(f.type) });
  live.start();
  w.sockets[0].welcome(10);
  w.sockets[0].onmessage({ data: '{"type":"presence","ticket_id":1,"viewers":[]}' });
  w.sockets[0].onmessage({ data: 'not json' });
  assert.deepEqual(other, ['presence']);
  assert.deepEqual(seen, []);
});

test('start is idempotent: one connection per client', () => {
  const w = world();
  const { live } = client(w);
  live.start();
  live.start();
  assert.equal(w.sockets.length, 1);
  live.stop();
  assert.equal(live.mode, 'stopped');
  assert.ok(w.sockets[0].closed);
});

// The hub's own answers when the events after the page's id were pruned from its log
// (crates/hub/tests/hub/retention.rs checks that it sends exactly these).
const RESET_FRAME = { type: 'reset', last_id: 40 };
const RESET_POLL = { reset: true, messages: [], last_id: 40, has_more: false, websocket: true };

test('a reset over WebSocket re-fetches the page once and continues from its id', async () => {
  const w = world();
  const resets = [];
  const { live, seen } = client(w, { onReset: (lastId) => resets.push(lastId) });
  live.start();
  w.sockets[0].welcome(12);
  w.sockets[0].onmessage({ data: JSON.stringify(RESET_FRAME) });
  assert.deepEqual(resets, [40]);
  assert.equal(live.lastId, 40);
  w.sockets[0].event(40);
  w.sockets[0].event(41);
  assert.deepEqual(seen, [41]);
  w.sockets[0].fail();
  await w.advance(60000);
  assert.ok(w.sockets[1].url.endsWith('since=41'), w.sockets[1].url);
});

test('a reset in a poll re-fetches the page once and polls on from its id', async () => {
  const w = world();
  const resets = [];
  const { live, seen } = client(w, { useWebSocket: false, onReset: (lastId) => resets.push(lastId) });
  live.start();
  const poll = w.polls[0];
  poll.answered = true;
  poll.resolve({ ok: true, json: async () => RESET_POLL });
  await settle();
  assert.deepEqual(resets, [40]);
  assert.deepEqual(seen, []);
  await w.advance(1000);
  assert.equal(w.openPolls()[0].url, '/messages?since=40&wait=25');
});

test('useWebSocket false stays on polling for good, whatever the hub says', async () => {
  const w = world();
  const { live, seen } = client(w, { useWebSocket: false });
  live.start();
  await w.answer([11], 11, { websocket: true });
  await w.advance(120000);
  await w.answer([12], 12, { websocket: true });
  assert.equal(w.sockets.length, 0);
  assert.equal(live.mode, 'polling');
  assert.deepEqual(seen, [11, 12]);
});

test('a websocketUrl without a path, as the original documented, means /ws', () => {
  for (const [given, opened] of [
    ['ws://desk:8080', 'ws://desk:8080/ws?since=10'],
    ['wss://desk.example/', 'wss://desk.example/ws?since=10'],
    ['ws://desk:8080/ws', 'ws://desk:8080/ws?since=10'],
    ['ws://desk/live/ws', 'ws://desk/live/ws?since=10'],
  ]) {
    const w = world();
    client(w, { websocketUrl: given }).live.start();
    assert.equal(w.sockets[0].url, opened, given);
  }
});

test('onSuccess receives the original {tickets, stats, last_updated}, again after ticket events', async () => {
  const w = world();
  const successes = [];
  const { live } = client(w, { onSuccess: (data) => successes.push(data) });
  live.start();
  const socket = w.sockets[0];
  socket.welcome(10);
  assert.deepEqual(socket.sent, [{ type: 'get_tickets' }]);
  socket.receive(recorded.tickets);
  assert.equal(successes.length, 1);
  for (const key of ['tickets', 'stats', 'last_updated']) assert.ok(key in successes[0], key);
  socket.event(11);
  socket.event(12);
  // One request at a time: asked once more after the answer.
  assert.deepEqual(socket.sent.slice(1), [{ type: 'get_tickets' }]);
  socket.receive(recorded.tickets);
  assert.deepEqual(socket.sent.slice(2), [{ type: 'get_tickets' }]);
  socket.receive(recorded.tickets);
  assert.equal(successes.length, 3);
});

test('onSuccess while polling gets the same answer over HTTP', async () => {
  const w = world();
  const successes = [];
  const { live } = client(w, { useWebSocket: false, onSuccess: (data) => successes.push(data) });
  live.start();
  await w.answer([], 10);
  const request = w.openPolls()[0];
  assert.equal(request.url, '/get_tickets');
  request.answered = true;
  request.resolve({ ok: true, status: 200, json: async () => recorded.ticketsOverHttp });
  await settle();
  assert.deepEqual(Object.keys(successes[0]).sort(), Object.keys(recorded.tickets).sort());
});

test('a role change reopens at once from the last id, with the new rights', async () => {
  const w = world();
  const changes = [];
  const { live, seen } = client(w, { onRightsChanged: (reason) => changes.push(reason) });
  live.start();
  w.sockets[0].welcome(10);
  w.sockets[0].event(11);
  w.sockets[0].closeWith(recorded.closes.roleChanged);
  assert.deepEqual(changes, ['role changed']);
  assert.equal(w.sockets.length, 2, 'no backoff');
  assert.equal(w.sockets[1].url, 'ws://desk/ws?since=11');
  assert.equal(w.polls.length, 0);
  w.sockets[1].welcome(11);
  w.sockets[1].event(12);
  assert.deepEqual(seen, [11, 12]);
});

test('an ended session stops the client and lets the page sign in again', async () => {
  const w = world();
  const ended = [];
  const { live } = client(w, { onSessionEnded: (reason) => ended.push(reason) });
  live.start();
  w.sockets[0].welcome(10);
  w.sockets[0].closeWith(recorded.closes.sessionEnded);
  assert.deepEqual(ended, ['session ended']);
  assert.equal(live.mode, 'stopped');
  await w.advance(120000);
  assert.equal(w.sockets.length, 1);
  assert.equal(w.polls.length, 0);
});

test('a poll answered 401 (the session ended elsewhere) ends the session too', async () => {
  const w = world();
  const ended = [];
  const { live } = client(w, { useWebSocket: false, onSessionEnded: (reason) => ended.push(reason) });
  live.start();
  const poll = w.polls[0];
  poll.answered = true;
  const { status, body } = recorded.pollAfterSessionEnded;
  poll.resolve({ ok: false, status, json: async () => body });
  await settle();
  assert.deepEqual(ended, ['session ended']);
  assert.equal(live.mode, 'stopped');
});

/** An unsigned JWT-shaped token ending at `exp` (the client only reads `exp`). */
const jwt = (exp) => ['e30', Buffer.from(JSON.stringify({ sub: '17', exp })).toString('base64url'), 'sig'].join('.');

test('a hub token goes in the first message, not the URL, and the replay follows it', async () => {
  const w = world();
  const token = jwt(3600);
  const { live } = client(w, { token });
  live.start();
  const socket = w.sockets[0];
  assert.equal(socket.url, 'ws://desk/ws');
  socket.welcome(12);
  assert.deepEqual(socket.sent, [{ type: 'auth', token }]);
  socket.receive({ type: 'auth_ok' });
  assert.deepEqual(socket.sent.slice(1), [{ type: 'resume', since: 10 }]);
  socket.fail();
  await settle();
  assert.equal(w.polls[0].init.headers.Authorization, 'Bearer ' + token);
  assert.ok(!w.polls[0].url.includes(token));
});

test('a token is refreshed before its exp, and an expired one is replaced', async () => {
  const w = world();
  let issued = 0;
  const getToken = () => jwt(600 + 600 * issued++);
  const { live } = client(w, { getToken });
  live.start();
  await settle();
  const socket = w.sockets[0];
  socket.welcome(10);
  assert.deepEqual(socket.sent, [{ type: 'auth', token: jwt(600) }]);
  socket.receive({ type: 'auth_ok' });
  await w.advance(300000);
  assert.deepEqual(socket.sent.at(-1), { type: 'auth', token: jwt(1200) });
  socket.closeWith({ code: 1008, reason: 'token expired' });
  await settle();
  assert.equal(w.sockets.length, 2);
  w.sockets[1].welcome(10);
  assert.deepEqual(w.sockets[1].sent, [{ type: 'auth', token: jwt(1800) }]);
});
