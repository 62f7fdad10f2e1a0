import test from 'node:test';
import assert from 'node:assert/strict';
import { bindTicketForm, changedWho } from '../../../../assets/modules/ticket-form.js';
import { createApi, explain } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, storage, until } from './support.mjs';

const tr = translator({
  'ticket.changed_by_she': 'Заявку изменила {0}',
  'ticket.changed_by_he': 'Заявку изменил {0}',
  'ticket.changed_by_someone': 'Заявку изменил(а) {0}',
  'ticket.changed_by_many': 'Заявку изменили {0}',
  'ticket.saved': 'Saved.',
  'ticket.saved_merged': 'Saved. {0}; kept: {1}',
  'ticket.draft_restored': 'Restored.',
  'ticket.conflict_now': 'Now: «{0}».',
  'ticket.apply_mine': 'Apply mine',
  'ticket.drop_mine': 'Discard mine',
});

const FORM = `<button class="take-ticket" data-me="2">Take</button>
<form class="ticket-form" data-api="/api/v1/tickets/7" data-ticket="7">
  <input type="hidden" name="version" value="3">
  <label>Status<select name="status"><option value="new" selected>New</option><option value="in_progress">In progress</option></select></label>
  <label>Priority<select name="priority"><option value="low" selected>Low</option><option value="medium">Medium</option><option value="high">High</option></select></label>
  <label>Assignee<select name="assignee_id"><option value="" selected>nobody</option><option value="2">Ada</option></select></label>
  <label>Resolution<textarea name="resolution"></textarea></label>
  <p class="form-error" hidden></p><p class="form-status" hidden></p><button type="submit">Save</button>
</form>`;

const ticket = (fields) => ({ id: 7, version: 4, status: 'new', priority: 'low', assignee_id: null, ...fields });

function bind(document, http, store) {
  const api = createApi({ fetch: http.fetch });
  return bindTicketForm(document, { api, explain: (e) => explain(e, tr), t: tr, storage: store });
}

const change = (document, name, value) => {
  const input = document.querySelector('form.ticket-form').elements[name];
  input.value = value;
  input.dispatchEvent(new document.defaultView.Event('change', { bubbles: true }));
};

test('the Russian verb agrees with the person who changed the ticket', () => {
  assert.equal(changedWho('Ольга Смирнова', tr), 'Заявку изменила Ольга Смирнова');
  assert.equal(changedWho('Иван Техников', tr), 'Заявку изменил Иван Техников');
  assert.equal(changedWho('Ada Lovelace', tr), 'Заявку изменил(а) Ada Lovelace');
  assert.equal(changedWho('Ada, Bob', tr), 'Заявку изменили Ada, Bob');
});

test('a changed field is marked, kept as a draft against its version, and restored after a reload', async (t) => {
  const http = await server({});
  t.after(http.close);
  const store = storage();
  const first = page(FORM);
  const form = bind(first, http, store);
  assert.equal(form.unsaved(), false);
  change(first, 'priority', 'high');
  assert.equal(form.unsaved(), true);
  assert.equal(first.querySelector('label.unsaved select').name, 'priority');
  assert.deepEqual(JSON.parse(store.getItem('ictdesk:ticket-draft:7')), { version: '3', values: { priority: 'high' } });
  // The page again, drawn at a later version: the draft keeps the version it was made on.
  const again = page(FORM.replace('value="3"', 'value="5"'));
  bind(again, http, store);
  const restored = again.querySelector('form.ticket-form');
  assert.equal(restored.elements.priority.value, 'high');
  assert.equal(restored.elements.version.value, '3');
  assert.equal(restored.querySelector('.form-status').textContent, 'Restored.');
});

test('a save sends the changed fields only, and says what was merged', async (t) => {
  const http = await server({
    'PATCH /api/v1/tickets/7': (body) => ({
      body: ticket({ ...body, version: 5, merged: { changed_by: 'Ольга Смирнова', fields: ['status'] } }),
    }),
  });
  t.after(http.close);
  const store = storage();
  const document = page(FORM);
  const form = bind(document, http, store);
  change(document, 'priority', 'high');
  assert.equal(await form.save(), true);
  assert.deepEqual(http.requests[0].body, { version: 3, priority: 'high' });
  const node = document.querySelector('form.ticket-form');
  assert.equal(node.elements.version.value, '5');
  assert.equal(node.querySelector('.form-status').textContent, 'Saved. Заявку изменила Ольга Смирнова; kept: Status');
  assert.equal(node.querySelector('label.unsaved'), null);
  assert.equal(store.getItem('ictdesk:ticket-draft:7'), null);
});

test('«Take it» assigns the agent and starts a new ticket in one click', async (t) => {
  const http = await server({ 'PATCH /api/v1/tickets/7': (body) => ({ body: ticket({ ...body, version: 4 }) }) });
  t.after(http.close);
  const document = page(FORM);
  bind(document, http, storage());
  document.querySelector('button.take-ticket').click();
  await until('the save', () => http.requests.length === 1);
  assert.deepEqual(http.requests[0].body, { version: 3, status: 'in_progress', assignee_id: 2 });
});

test('an overlapping change shows the colleague value beside the field; «Apply mine» saves on their version', async (t) => {
  let patches = 0;
  const http = await server({
    'PATCH /api/v1/tickets/7': (body) =>
      patches++ === 0
        ? {
            status: 409,
            body: {
              error: 'conflict',
              changed_by: 'Ольга Смирнова',
              fields: { priority: 'changed by Ольга Смирнова' },
            },
          }
        : { body: ticket({ ...body, version: 7 }) },
    'GET /api/v1/tickets/7': { body: ticket({ version: 6, priority: 'medium' }) },
  });
  t.after(http.close);
  const document = page(FORM);
  bind(document, http, storage());
  change(document, 'priority', 'high');
  change(document, 'status', 'in_progress');
  document.querySelector('form.ticket-form').requestSubmit();
  await until('the conflict', () => document.getElementById('conflict-priority'));
  const box = document.getElementById('conflict-priority');
  assert.equal(box.querySelector('p').textContent, 'Заявку изменила Ольга Смирнова Now: «Medium».');
  assert.equal(document.querySelector('select[name=priority]').getAttribute('aria-describedby'), 'conflict-priority');
  box.querySelector('button.apply-mine').click();
  await until('the second save', () => patches === 2);
  assert.deepEqual(http.requests.at(-1).body, { version: 6, status: 'in_progress', priority: 'high' });
});
