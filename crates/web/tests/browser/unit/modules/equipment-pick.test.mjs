import test from 'node:test';
import assert from 'node:assert/strict';
import { bindEquipmentPick, deviceLabel } from '../../../../assets/modules/equipment-pick.js';
import { createApi } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { manualTimers, page, server, until } from './support.mjs';

const FORM = `<form class="ticket-form">
  <select name="equipment_id"><option value="">none</option>
    <optgroup label="Theirs"><option value="3" selected>INV-3 — Laptop</option></optgroup></select>
  <input type="search" class="equipment-search"><p id="equipment-found-count" hidden></p></form>`;
const piece = (id, name, holder, room) => ({
  id,
  inventory_number: 'INV-' + id,
  name,
  assigned_user_name: holder,
  location_name: 'HQ',
  location_building: 'A',
  location_room: room,
});

test('a found piece reads with its holder and place', () => {
  assert.equal(deviceLabel(piece(7, 'Printer', 'Анна Иванова', '101')), 'INV-7 — Printer · Анна Иванова · HQ, A, 101');
  assert.equal(deviceLabel({ id: 8, inventory_number: 'INV-8', name: 'Spare' }), 'INV-8 — Spare');
});

test('the search adds what it finds to the select, beside the requester devices, and keeps a chosen one', async (t) => {
  const http = await server({
    'GET /api/v1/equipment?per_page=10&q=101': {
      body: { items: [piece(3, 'Laptop', 'Ann', '101'), piece(7, 'Printer', null, '101')] },
    },
    'GET /api/v1/equipment?per_page=10&q=%D0%90%D0%BD%D0%BD%D0%B0': {
      body: { items: [piece(9, 'Phone', 'Анна', '2')] },
    },
  });
  t.after(http.close);
  const document = page(FORM);
  const timers = manualTimers();
  const tr = translator({ 'ticket.found_devices': 'Found', 'ticket.found_count': 'Found: {0}' });
  bindEquipmentPick(document, { api: createApi({ fetch: http.fetch }), t: tr, ...timers });
  const search = document.querySelector('input.equipment-search');
  const select = document.querySelector('select');
  const type = (text) => {
    search.value = text;
    search.dispatchEvent(new document.defaultView.Event('input'));
    timers.run();
  };
  type('101');
  await until('the found group', () => select.querySelector('optgroup.equipment-found option'));
  const found = () => Array.from(select.querySelectorAll('optgroup.equipment-found option'), (o) => o.value);
  assert.deepEqual(found(), ['7'], 'the requester device is not offered twice');
  assert.equal(document.getElementById('equipment-found-count').textContent, 'Found: 2');
  select.value = '7';
  type('Анна');
  await until('the second search', () => found().length === 2);
  assert.deepEqual(found(), ['7', '9']);
  assert.equal(select.value, '7');
});
