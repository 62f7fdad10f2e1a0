import test from 'node:test';
import assert from 'node:assert/strict';
import { bindCommentForms } from '../../../../assets/modules/comments.js';
import { bindTicketForm } from '../../../../assets/modules/ticket-form.js';
import { createApi, explain } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, storage, until } from './support.mjs';

const tr = translator({
  'comment.reply_send': 'Send reply',
  'comment.note_send': 'Add note',
  'comment.reply_and_save': 'Save and send reply',
  'comment.note_and_save': 'Save and add note',
  'comment.reply_hint': 'The requester sees it.',
  'comment.note_hint': 'Staff only.',
});

const STAFF_FORM = `<form class="comment-form" data-api="/api/v1/tickets/7/comments" data-ticket="7">
  <fieldset class="comment-mode">
    <label class="mode-reply"><input type="radio" name="internal" value="false" checked>Reply</label>
    <label class="mode-note"><input type="radio" name="internal" value="true">Note</label>
  </fieldset>
  <p class="mode-hint"></p>
  <textarea name="body"></textarea><p class="unsaved-note" hidden></p>
  <ul class="pending-files" hidden></ul><input type="file">
  <p class="form-error" hidden></p><button type="submit">Send</button>
</form>`;

function bind(document, http, store, ticketForm) {
  const api = createApi({ fetch: http.fetch });
  bindCommentForms(document, { api, explain: (e) => explain(e, tr), t: tr, storage: store, ticketForm });
  return document.querySelector('form.comment-form');
}

function type(form, text) {
  form.elements.body.value = text;
  form.dispatchEvent(new form.ownerDocument.defaultView.Event('input', { bubbles: true }));
}

function chooseNote(form) {
  form.querySelector('input[value=true]').checked = true;
  form.dispatchEvent(new form.ownerDocument.defaultView.Event('change', { bubbles: true }));
}

test('the two tabs colour the form and name what its button does', async (t) => {
  const http = await server({});
  t.after(http.close);
  const form = bind(page(STAFF_FORM), http, storage());
  const button = form.querySelector('[type=submit]');
  assert.equal(form.dataset.mode, 'reply');
  assert.equal(button.textContent, 'Send reply');
  assert.equal(form.querySelector('.mode-hint').textContent, 'The requester sees it.');
  chooseNote(form);
  assert.equal(form.dataset.mode, 'note');
  assert.equal(button.textContent, 'Add note');
  assert.equal(form.querySelector('.mode-hint').textContent, 'Staff only.');
});

test('typed text is marked unsaved and survives a reload with its tab', async (t) => {
  const http = await server({});
  t.after(http.close);
  const store = storage();
  const form = bind(page(STAFF_FORM), http, store);
  chooseNote(form);
  type(form, 'Called the vendor');
  assert.equal(form.dataset.dirty, '1');
  assert.equal(form.querySelector('.unsaved-note').hidden, false);
  const again = bind(page(STAFF_FORM), http, store);
  assert.equal(again.elements.body.value, 'Called the vendor');
  assert.equal(again.dataset.mode, 'note');
  assert.equal(again.elements.body.classList.contains('unsaved'), true);
});

test('a note is sent as internal; then the form and its draft are empty', async (t) => {
  const http = await server({ 'POST /api/v1/tickets/7/comments': { status: 201, body: { id: 1 } } });
  t.after(http.close);
  const store = storage();
  const form = bind(page(STAFF_FORM), http, store);
  chooseNote(form);
  type(form, 'Only for us');
  form.requestSubmit();
  await until('the comment', () => http.requests.length === 1);
  await until('the form emptied', () => form.elements.body.value === '');
  const sent = http.requests[0].body;
  assert.match(sent, /name="internal"\r\n\r\ntrue\r\n/);
  assert.match(sent, /name="body"\r\n\r\nOnly for us\r\n/);
  assert.equal(store.getItem('ictdesk:comment-draft:7'), null);
  assert.equal(form.dataset.dirty, undefined);
});

const TICKET_FORM = `<form class="ticket-form" data-api="/api/v1/tickets/7" data-ticket="7">
  <input type="hidden" name="version" value="3">
  <label>Status<select name="status"><option value="in_progress" selected>In progress</option><option value="resolved">Resolved</option></select></label>
  <p class="form-error" hidden></p><p class="form-status" hidden></p><button type="submit">Save</button>
</form>`;

test('a reply with unsaved ticket changes saves them first, in one action; a refused save keeps the reply', async (t) => {
  let refuse = true;
  const http = await server({
    'PATCH /api/v1/tickets/7': (body) =>
      refuse
        ? { status: 422, body: { error: 'invalid', fields: { resolution: 'required' } } }
        : { body: { id: 7, version: 4, status: body.status } },
    'POST /api/v1/tickets/7/comments': { status: 201, body: { id: 1 } },
  });
  t.after(http.close);
  const document = page(TICKET_FORM + STAFF_FORM);
  const store = storage();
  const api = createApi({ fetch: http.fetch });
  const ticketForm = bindTicketForm(document, { api, explain: (e) => explain(e, tr), t: tr, storage: store });
  const form = bind(document, http, store, ticketForm);
  type(form, 'Fixed, closing');
  assert.equal(form.querySelector('[type=submit]').textContent, 'Send reply');
  const status = document.querySelector('form.ticket-form select[name=status]');
  status.value = 'resolved';
  status.dispatchEvent(new document.defaultView.Event('change', { bubbles: true }));
  assert.equal(form.querySelector('[type=submit]').textContent, 'Save and send reply');
  form.requestSubmit();
  await until('the refused save', () => !document.querySelector('form.ticket-form .form-error').hidden);
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    http.requests.map((r) => r.key),
    ['PATCH /api/v1/tickets/7'],
    'no reply without the changes',
  );
  assert.equal(form.elements.body.value, 'Fixed, closing');
  refuse = false;
  form.requestSubmit();
  await until('the reply', () => http.requests.length === 3);
  assert.deepEqual(
    http.requests.map((r) => r.key),
    ['PATCH /api/v1/tickets/7', 'PATCH /api/v1/tickets/7', 'POST /api/v1/tickets/7/comments'],
  );
  assert.match(http.requests[2].body, /name="internal"\r\n\r\nfalse\r\n/);
  await until('the form emptied', () => form.elements.body.value === '');
  assert.equal(form.querySelector('[type=submit]').textContent, 'Send reply');
});

test("a requester's form has no tabs and sends no internal flag", async (t) => {
  const http = await server({ 'POST /api/v1/tickets/7/comments': { status: 201, body: { id: 1 } } });
  t.after(http.close);
  const form = bind(
    page(STAFF_FORM.replace(/<fieldset[\s\S]*<\/fieldset>/, '').replace('<p class="mode-hint"></p>', '')),
    http,
    storage(),
  );
  assert.equal(form.querySelector('[type=submit]').textContent, 'Send');
  type(form, 'Still broken');
  form.requestSubmit();
  await until('the comment', () => http.requests.length === 1);
  assert.doesNotMatch(http.requests[0].body, /internal/);
});
