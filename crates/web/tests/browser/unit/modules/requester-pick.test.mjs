import test from 'node:test';
import assert from 'node:assert/strict';
import { bindRequesterPick, optionText } from '../../../../assets/modules/requester-pick.js';
import { createApi } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { manualTimers, page, server, until } from './support.mjs';

const FORM = `<form><input type="search" class="requester-pick" list="requester-options">
  <datalist id="requester-options"></datalist><input type="hidden" name="requester_id"></form>`;
const ANNA = { id: 12, name: 'Анна Иванова', email: 'anna@demo.local' };

test('people are found as one types, and the chosen one becomes requester_id; an unknown name blocks sending', async (t) => {
  const http = await server({
    'GET /api/v1/users?status=active&per_page=10&q=anna': { body: { items: [ANNA] } },
  });
  t.after(http.close);
  const document = page(FORM);
  const timers = manualTimers();
  const tr = translator({ 'new_ticket.requester_unknown': 'Choose a person from the list' });
  bindRequesterPick(document, { api: createApi({ fetch: http.fetch }), t: tr, ...timers });
  const input = document.querySelector('input.requester-pick');
  const typeIn = (text) => {
    input.value = text;
    input.dispatchEvent(new document.defaultView.Event('input'));
  };
  typeIn('anna');
  assert.equal(input.validationMessage, 'Choose a person from the list');
  timers.run();
  await until('the options', () => document.querySelectorAll('#requester-options option').length === 1);
  typeIn(optionText(ANNA));
  assert.equal(input.form.elements.requester_id.value, '12');
  assert.equal(input.validity.valid, true);
  typeIn('Никто');
  assert.equal(input.form.elements.requester_id.value, '');
  assert.equal(input.validity.valid, false);
});
