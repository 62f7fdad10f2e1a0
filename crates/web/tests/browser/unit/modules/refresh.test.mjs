import test from 'node:test';
import assert from 'node:assert/strict';
import { awaitOwnEvents, createRefresher } from '../../../../assets/modules/refresh.js';
import { manualTimers, until } from './support.mjs';

test('a burst of requests for one part is one fetch', async () => {
  const timers = manualTimers();
  const request = createRefresher(timers);
  let fetches = 0;
  const fetchPart = async () => fetches++;
  for (let i = 0; i < 10; i++) request('list0', fetchPart);
  timers.run();
  await until('the fetch', () => fetches === 1);
  assert.equal(timers.pending(), 0);
});

test('a request during a fetch asks for exactly one more afterwards', async () => {
  const timers = manualTimers();
  const request = createRefresher(timers);
  const started = [];
  const fetchPart = () => new Promise((resolve) => started.push(resolve));
  request('fragment0', fetchPart);
  timers.run();
  await until('the first fetch', () => started.length === 1);
  request('fragment0', fetchPart);
  timers.run();
  request('fragment0', fetchPart);
  timers.run();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(started.length, 1, 'one fetch at a time');
  started[0]();
  await until('the one more', () => started.length === 2);
  started[1]();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(started.length, 2);
});

test('an own save refreshes once: by its event, or by itself when no event of theirs comes', () => {
  const timers = manualTimers();
  let refreshes = 0;
  const own = awaitOwnEvents({ userId: 3, refreshAll: () => refreshes++, ...timers });
  own.saved();
  own.heard({ type: 'ticket_updated', data: { actor: { id: 9 } } }); // someone else's
  assert.equal(timers.pending(), 1);
  own.heard({ type: 'ticket_updated', data: { actor: { id: 3 } } }); // the save's event
  timers.run();
  assert.equal(refreshes, 0, 'the event refreshes the page, not the save');
  own.saved(); // an edit that changed nothing: no event
  timers.run();
  assert.equal(refreshes, 1);
});
