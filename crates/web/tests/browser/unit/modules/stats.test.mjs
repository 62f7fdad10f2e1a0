import test from 'node:test';
import assert from 'node:assert/strict';
import { refreshStats } from '../../../../assets/modules/stats.js';
import { page, server } from './support.mjs';

const stats = (open, mine) =>
  `<div id="stats"><p><b data-stat="open">${open}</b></p><p><b data-stat="mine">${mine}</b></p></div>`;

test('only the numbers that changed are replaced, and flash', async (t) => {
  const http = await server({ 'GET /tickets/stats': { type: 'text/html', body: stats(5, 1) } });
  t.after(http.close);
  const document = page('<div data-live-stats="/tickets/stats">' + stats(4, 1) + '</div>');
  await refreshStats(document.querySelector('[data-live-stats]'), { fetch: http.fetch });
  const [open, mine] = document.querySelectorAll('[data-stat]');
  assert.equal(open.textContent, '5');
  assert.ok(open.parentNode.classList.contains('flash'));
  assert.ok(!mine.parentNode.classList.contains('flash'));
});
