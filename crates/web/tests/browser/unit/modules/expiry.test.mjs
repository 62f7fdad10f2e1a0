import test from 'node:test';
import assert from 'node:assert/strict';
import { LONGEST_WAIT_MS, SHORTEST_WAIT_MS, soonestEnd, watchExpiry } from '../../../../assets/modules/expiry.js';
import { manualTimers, page, until } from './support.mjs';

const NOW = Date.parse('2026-12-01T12:00:00.000Z');

test('the soonest end is the earliest data-expires inside', () => {
  const document = page(
    '<div id="h"><p data-expires="2026-12-01T12:05:00.000Z"></p><p data-expires="2026-12-01T12:01:00.000Z"></p><p data-expires="soon"></p><p></p></div>',
  );
  assert.equal(soonestEnd(document.getElementById('h')), Date.parse('2026-12-01T12:01:00.000Z'));
  assert.equal(soonestEnd(page('<div id="e"></div>').getElementById('e')), null);
});

test('the holder is fetched again when its soonest notice ends, then waits for the next', async () => {
  const document = page('<div id="h"><p data-expires="2026-12-01T12:01:00.000Z"></p></div>');
  const holder = document.getElementById('h');
  const timers = { ...manualTimers() };
  const waits = [];
  const setTimeout = (fn, ms) => {
    waits.push(ms);
    return timers.setTimeout(fn, ms);
  };
  let refreshed = 0;
  const refresh = async () => {
    refreshed += 1;
    holder.innerHTML = '<p data-expires="2026-12-01T12:10:00.000Z"></p>';
  };
  const { MutationObserver } = document.defaultView;
  watchExpiry(holder, { refresh, now: () => NOW, setTimeout, clearTimeout: timers.clearTimeout, MutationObserver });
  assert.deepEqual(waits, [60_000]);
  timers.run();
  await until('the refresh', () => refreshed === 1);
  await until('the next wait', () => waits.length === 2);
  assert.equal(waits[1], 600_000);
  assert.equal(timers.pending(), 1, 'one timer at a time');
});

test('an end already passed waits a little (the server may not agree yet); a far one waits at most the longest', () => {
  const document = page(
    '<div id="a"><p data-expires="2026-12-01T11:00:00.000Z"></p></div><div id="b"><p data-expires="2099-01-01T00:00:00.000Z"></p></div><div id="c"></div>',
  );
  const { MutationObserver } = document.defaultView;
  for (const [id, expected] of [
    ['a', [SHORTEST_WAIT_MS]],
    ['b', [LONGEST_WAIT_MS]],
    ['c', []],
  ]) {
    const waits = [];
    const timers = manualTimers();
    const setTimeout = (fn, ms) => {
      waits.push(ms);
      return timers.setTimeout(fn, ms);
    };
    watchExpiry(document.getElementById(id), {
      refresh: () => {},
      now: () => NOW,
      setTimeout,
      clearTimeout: timers.clearTimeout,
      MutationObserver,
    });
    assert.deepEqual(waits, expected, id);
  }
});
