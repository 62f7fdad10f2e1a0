import test from 'node:test';
import assert from 'node:assert/strict';
import { createLiveList } from '../../../../assets/modules/lists.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, until } from './support.mjs';

const row = (id, version, text) =>
  `<tr data-id="${id}" data-version="${version}"><td><input type="checkbox"></td><td>${text}</td></tr>`;
const list = (rows) =>
  `<button class="new-rows" hidden></button><div class="table-wrap"><table data-live-rows="/tickets/rows" data-live-list="tickets" data-live-insert="top"><tbody>${rows}</tbody></table></div>`;
const rows = (html) => ({ type: 'text/html', body: '<table><tbody>' + html + '</tbody></table>' });
const texts = (table) => Array.from(table.tBodies[0].rows, (r) => r.cells[1].textContent);

function setUp(http, html) {
  const document = page(list(html));
  const table = document.querySelector('table');
  return {
    document,
    table,
    live: createLiveList(table, {
      fetch: http.fetch,
      formatDates: () => {},
      t: translator({ 'common.new_rows': '{0} new' }),
    }),
  };
}

test('a newer row replaces its old self, keeping its selection; an older one does not', async (t) => {
  let answer = row(1, 3, 'changed') + row(2, 1, 'stale');
  const http = await server({ 'GET /tickets/rows': () => rows(answer) });
  t.after(http.close);
  const { table, live } = setUp(http, row(1, 2, 'one') + row(2, 2, 'two'));
  table.querySelector('input').checked = true;
  await live.refresh();
  assert.deepEqual(texts(table), ['changed', 'two']);
  assert.ok(table.querySelector('input').checked);
});

test('new rows go on top, or wait behind the marker while someone works on the list', async (t) => {
  let answer = row(2, 1, 'new') + row(1, 1, 'one');
  const http = await server({ 'GET /tickets/rows': () => rows(answer) });
  t.after(http.close);
  const { document, table, live } = setUp(http, row(1, 1, 'one'));
  await live.refresh();
  assert.deepEqual(texts(table), ['new', 'one']);
  table.querySelector('input').checked = true; // working on the list
  answer = row(3, 1, 'newer') + answer;
  await live.refresh();
  const marker = document.querySelector('.new-rows');
  assert.deepEqual(texts(table), ['new', 'one']);
  assert.equal(marker.hidden, false);
  assert.equal(marker.textContent, '1 new');
  marker.click();
  assert.deepEqual(texts(table), ['newer', 'new', 'one']);
  assert.equal(marker.hidden, true);
});

test('a ticket that left the filtered rows is fetched alone', async (t) => {
  const http = await server({ 'GET /tickets/rows': rows(''), 'GET /tickets/1/row': rows(row(1, 5, 'closed now')) });
  t.after(http.close);
  const { table, live } = setUp(http, row(1, 1, 'one'));
  live.touch(1);
  await live.refresh();
  await until('the row fetched alone', () => texts(table)[0] === 'closed now');
  assert.deepEqual(
    http.requests.map((r) => r.key),
    ['GET /tickets/rows', 'GET /tickets/1/row'],
  );
});
