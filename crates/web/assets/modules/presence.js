/*
 * Who else has a ticket open (`#presence[data-ticket]`), and this tab's own state —
 * viewing, editing, idle — told to the hub through the live client (docs/protocol.md,
 * "Presence").
 */

/** Activity keeps a viewer from turning idle; the state is re-sent at most this often. */
export const PRESENCE_RESEND_MS = 60000;

/** The line "Viewing: … · Writing: …" from a `presence` message, without oneself. */
export function presenceLine(frame, { userId, t }) {
  const others = (frame.viewers || []).filter((v) => v.user_id !== userId);
  const label = (v) => v.name + (v.state === 'idle' ? ' (' + t('ticket.idle') + ')' : '');
  const writing = unique(others.filter((v) => v.state === 'editing').map(label));
  const viewing = unique(others.filter((v) => v.state !== 'editing').map(label));
  const parts = [];
  if (viewing.length) parts.push(t('ticket.viewing', viewing.join(', ')));
  if (writing.length) parts.push(t('ticket.writing', writing.join(', ')));
  return parts.join(' · ');
}

export function showPresence(node, frame, options) {
  if (!node || String(frame.ticket_id) !== node.dataset.ticket) return;
  node.textContent = presenceLine(frame, options);
  node.hidden = !node.textContent;
}

function unique(list) {
  return list.filter((v, i) => list.indexOf(v) === i);
}

/** Tells the hub this tab's state on the ticket while the page is open. */
export function trackPresence(live, node, { now, setTimeout }) {
  const id = Number(node.dataset.ticket);
  const document = node.ownerDocument;
  live.setPresence('view', id);
  let state = 'view';
  let lastSent = now();
  const announce = (next) => {
    if (next === state && now() - lastSent < PRESENCE_RESEND_MS) return;
    state = next;
    lastSent = now();
    live.setPresence(next, id);
  };
  document.querySelectorAll('form[data-presence]').forEach((form) => {
    form.addEventListener('input', () => announce('editing'));
    form.addEventListener('focusout', () =>
      setTimeout(() => {
        if (!form.contains(document.activeElement)) announce('view');
      }, 0),
    );
  });
  ['pointerdown', 'keydown', 'scroll'].forEach((name) =>
    document.addEventListener(name, () => announce(state), { passive: true }),
  );
  document.defaultView.addEventListener('pagehide', () => live.setPresence('leave', id));
}
