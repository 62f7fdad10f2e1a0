import test from 'node:test';
import assert from 'node:assert/strict';
import { bindInbox, mayConcern } from '../../../../assets/modules/inbox.js';
import { createApi } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, until } from './support.mjs';

const tr = translator({ 'inbox.bell': 'Inbox: {0} unread' });
const BELL = '<a id="inbox-bell" data-unread="2"><span class="count">2</span></a>';
const LIST = (unread) =>
  `<section id="inbox-list" data-fragment="/inbox/list">${unread ? '<button data-inbox-read="9">Read</button>' : '<p class="empty">none</p>'}</section>`;

test('an event concerns the person when it names them on a ticket, or is theirs to count', () => {
  const ticket = (requester_id, assignee_id) => ({
    type: 'ticket_updated',
    data: { ticket: { requester_id, assignee_id } },
  });
  assert.equal(mayConcern(ticket(5, null), 5), true);
  assert.equal(mayConcern(ticket(1, 5), 5), true);
  assert.equal(mayConcern(ticket(1, 2), 5), false);
  assert.equal(
    mayConcern({ type: 'ticket_assigned', data: { ticket: { requester_id: 1 }, new_assignee: { id: 5 } } }, 5),
    true,
  );
  assert.equal(mayConcern({ type: 'system_notification_created', data: {} }, 5), true);
  assert.equal(mayConcern({ type: 'user_updated', data: { ticket: { requester_id: 5 } } }, 5), false);
});

test('the bell asks again on an event that concerns the person, and shows the count', async (t) => {
  const http = await server({ 'GET /api/v1/inbox?unread=1&per_page=5': { body: { unread: 120, items: [] } } });
  t.after(http.close);
  const document = page(BELL);
  bindInbox(document, { api: createApi({ fetch: http.fetch }), fetch: http.fetch, t: tr, userId: 5 });
  const bell = document.getElementById('inbox-bell');
  assert.equal(bell.getAttribute('aria-label'), 'Inbox: 2 unread');
  const fire = (detail) => document.dispatchEvent(new document.defaultView.CustomEvent('ictdesk:event', { detail }));
  fire({ type: 'ticket_updated', data: { ticket: { requester_id: 1, assignee_id: 2 } } });
  fire({ type: 'ticket_updated', data: { ticket: { requester_id: 5, assignee_id: 2 } } });
  await until('the count', () => bell.dataset.unread === '120');
  assert.equal(bell.querySelector('.count').textContent, '99+');
  assert.equal(http.requests.length, 1, 'only the event that names them asks');
  fire({ type: 'inbox_read', data: { user_id: 5, unread: 0 } });
  assert.equal(bell.querySelector('.count').hidden, true);
});

/** The inbox page with a server; `fragments()` counts the list's refreshes. */
async function inboxPage(t) {
  let unread = 1;
  const http = await server({
    'POST /api/v1/inbox/read': () => {
      unread = 0;
      return { body: { unread: 0 } };
    },
    'GET /inbox/list': () => ({ type: 'text/html', body: LIST(unread) }),
  });
  t.after(http.close);
  const document = page(BELL + LIST(1));
  bindInbox(document, { api: createApi({ fetch: http.fetch }), fetch: http.fetch, t: tr, userId: 5 });
  const fragments = () => http.requests.filter((r) => r.key === 'GET /inbox/list').length;
  const fire = (detail) => document.dispatchEvent(new document.defaultView.CustomEvent('ictdesk:event', { detail }));
  return { document, http, fragments, fire };
}

test('marking read on /inbox refreshes the list once, when the answer comes before its event', async (t) => {
  const { document, fragments, fire } = await inboxPage(t);
  document.querySelector('button[data-inbox-read]').click();
  await until('the list refreshed', () => document.querySelector('#inbox-list .empty'));
  fire({ type: 'inbox_read', data: { user_id: 5, unread: 0 } });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fragments(), 1);
});

test('marking read on /inbox refreshes the list once, when its event comes before the answer', async (t) => {
  const { document, http, fragments, fire } = await inboxPage(t);
  document.querySelector('button[data-inbox-read]').click();
  fire({ type: 'inbox_read', data: { user_id: 5, unread: 0 } });
  await until('the list refreshed', () => document.querySelector('#inbox-list .empty'));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fragments(), 1);
  assert.deepEqual(http.requests[0].body, { ids: [9] });
  // Read on another page of theirs: this list follows.
  fire({ type: 'inbox_read', data: { user_id: 5, unread: 0 } });
  await until('the second refresh', () => fragments() === 2);
});
