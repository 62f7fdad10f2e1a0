import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { PAGE_UPDATES, concerns, pageUpdate, toastFor } from '../../../../assets/modules/page-updates.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page } from './support.mjs';

const schema = JSON.parse(readFileSync(new URL('../../../../../../docs/events.schema.json', import.meta.url)));
const deskTypes = schema.oneOf.map((one) => one.properties.type.const);

test('the table names every desk event type a page shows, and no other', () => {
  const shown = deskTypes.filter((type) => !['inbox_read', 'user_session_ended'].includes(type));
  assert.deepEqual(Object.keys(PAGE_UPDATES).sort(), shown.sort());
});

test('ticket events change the ticket list, the ticket page and the statistics', () => {
  for (const type of deskTypes.filter((type) => type.startsWith('ticket_'))) {
    assert.deepEqual(
      { ...pageUpdate({ type }), toast: undefined },
      { list: 'tickets', fragment: 'ticket', stats: true, toast: undefined },
    );
  }
  assert.deepEqual(pageUpdate({ type: 'inbox_read' }), {});
  assert.deepEqual(pageUpdate({ type: 'toString' }), {});
});

test('an event concerns the page part of its own object only', () => {
  const document = page(
    '<div data-live-key="ticket" data-live-id="7"></div><div data-live-key="equipment" data-live-id="7"></div>',
  );
  const [ticket, equipment] = document.querySelectorAll('div');
  const event = { type: 'ticket_updated', data: { ticket: { id: 7 } } };
  assert.ok(concerns(ticket, event));
  assert.ok(!concerns(equipment, event));
  assert.ok(!concerns(ticket, { type: 'ticket_updated', data: { ticket: { id: 8 } } }));
  assert.ok(!concerns(ticket, { type: 'inbox_read', data: { ticket: { id: 7 } } }));
});

test('toasts say what happened and link to it', () => {
  const t = translator({
    'toast.ticket_status_changed': '#{0}: {1}',
    'status.resolved': 'resolved',
    'toast.ticket_unassigned': '#{0} unassigned',
  });
  const ticket = { id: 7, title: 'Printer' };
  assert.deepEqual(toastFor({ type: 'ticket_status_changed', data: { ticket, new_status: 'resolved' } }, t), {
    text: '#7: resolved',
    href: '/tickets/7',
  });
  assert.equal(toastFor({ type: 'ticket_assigned', data: { ticket, new_assignee: null } }, t).text, '#7 unassigned');
  const notice = toastFor(
    { type: 'system_notification_created', data: { notification: { title: 'Sat', level: 'warning' } } },
    t,
  );
  assert.equal(notice.level, 'warning');
  assert.equal(toastFor({ type: 'inbox_read', data: {} }, t), null);
});

test('notices change every page part of the notices section, and their toast says the message', () => {
  const document = page(
    '<div id="banners" data-live-fragment="/b" data-live-section="notices"></div><div data-live-key="ticket" data-live-id="1"></div>',
  );
  const [banners, ticket] = document.querySelectorAll('div');
  for (const type of ['system_notification_created', 'system_notification_withdrawn']) {
    const event = { type, data: { notification: { id: 3, title: 'Mail', message: 'Down', level: 'info' } } };
    assert.ok(concerns(banners, event), type);
    assert.ok(!concerns(ticket, event), type);
  }
  const t = translator({ 'toast.system_notification_created': '{0}' });
  const critical = toastFor(
    {
      type: 'system_notification_created',
      data: { notification: { title: 'Mail', message: 'Down till noon', level: 'critical' } },
    },
    t,
  );
  assert.deepEqual(critical, {
    text: 'Mail',
    detail: 'Down till noon',
    href: '/notifications',
    level: 'critical',
    sticky: true,
  });
  assert.equal(toastFor({ type: 'system_notification_withdrawn', data: { notification: { title: 'Mail' } } }, t), null);
});
