import test from 'node:test';
import assert from 'node:assert/strict';
import { presenceLine, showPresence, trackPresence } from '../../../../assets/modules/presence.js';
import { translator } from '../../../../assets/modules/strings.js';
import { manualTimers, page } from './support.mjs';

const t = translator({ 'ticket.viewing': 'Viewing: {0}', 'ticket.writing': 'Writing: {0}', 'ticket.idle': 'idle' });

test('the line names the others once each, writers apart, idle ones marked', () => {
  const frame = {
    type: 'presence',
    ticket_id: 7,
    viewers: [
      { user_id: 3, name: 'Me', state: 'view' },
      { user_id: 4, name: 'Ada', state: 'view' },
      { user_id: 4, name: 'Ada', state: 'view' },
      { user_id: 5, name: 'Gleb', state: 'idle' },
      { user_id: 6, name: 'Ivan', state: 'editing' },
    ],
  };
  assert.equal(presenceLine(frame, { userId: 3, t }), 'Viewing: Ada, Gleb (idle) · Writing: Ivan');
  const document = page('<p id="presence" data-ticket="7" hidden></p>');
  const node = document.getElementById('presence');
  showPresence(node, { ...frame, ticket_id: 8 }, { userId: 3, t });
  assert.equal(node.hidden, true, 'another ticket');
  showPresence(node, frame, { userId: 3, t });
  assert.equal(node.hidden, false);
  showPresence(node, { ...frame, viewers: [frame.viewers[0]] }, { userId: 3, t });
  assert.equal(node.hidden, true, 'alone');
});

test('the tab says viewing, then editing while typing, and leaving', () => {
  const document = page('<p id="presence" data-ticket="7"></p><form data-presence><textarea></textarea></form>');
  const sent = [];
  let now = 0;
  trackPresence({ setPresence: (state, id) => sent.push(state + ' ' + id) }, document.getElementById('presence'), {
    now: () => now,
    ...manualTimers(),
  });
  const { Event } = document.defaultView;
  document.querySelector('form').dispatchEvent(new Event('input'));
  document.querySelector('form').dispatchEvent(new Event('input'));
  now = 61000;
  document.dispatchEvent(new Event('keydown'));
  document.defaultView.dispatchEvent(new Event('pagehide'));
  assert.deepEqual(sent, ['view 7', 'editing 7', 'editing 7', 'leave 7']);
});
