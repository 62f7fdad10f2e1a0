/*
 * The notification inbox in every page: the bell's unread count, kept live, and — for
 * a hidden tab, when the person opted in — a browser notification for each new entry.
 * On /inbox: mark read (one, all) and open an entry's ticket.
 *
 * Which events add entries is the server's decision (crates/desk/src/inbox.rs); an
 * event here only says when to ask again: one that names this person on a ticket, a
 * system notification, or `inbox_read` from another of their pages.
 */

import { fetchHtml } from './html.js';

const OPT_IN = 'ictdesk.inbox.notify';

/** Whether an event may have written an entry for this person. */
export function mayConcern(event, userId) {
  const data = event.data || {};
  if (event.type === 'inbox_read' || event.type === 'system_notification_created') return true;
  if (!data.ticket || !event.type.startsWith('ticket_')) return false;
  const ticket = data.ticket;
  return (
    ticket.requester_id === userId ||
    ticket.assignee_id === userId ||
    Boolean(data.new_assignee && data.new_assignee.id === userId)
  );
}

/** The bell: `show(unread)` writes the count, its label and its title. */
export function createBell(bell, t) {
  return function show(unread) {
    bell.dataset.unread = String(unread);
    const count = bell.querySelector('.count');
    count.textContent = unread > 99 ? '99+' : String(unread);
    count.hidden = unread === 0;
    bell.setAttribute('aria-label', t('inbox.bell', unread));
    bell.title = t('inbox.bell', unread);
  };
}

/** Whether this browser shows the person's entries as notifications (they opted in). */
export function wantsNotifications(window) {
  return (
    'Notification' in window &&
    window.Notification.permission === 'granted' &&
    window.localStorage.getItem(OPT_IN) === '1'
  );
}

/**
 * The bell and, on /inbox, the list. `document` fires `ictdesk:event` for each event
 * (app.js) and `ictdesk:reset` when the live connection lost track.
 */
export function bindInbox(document, { api, fetch, t, userId }) {
  const bell = document.getElementById('inbox-bell');
  if (!bell) return null;
  const window = document.defaultView;
  const show = createBell(bell, t);
  const list = document.getElementById('inbox-list');
  const page = list ? inboxPage(list, { api, fetch, show, window }) : null;
  let newestSeen = Number(bell.dataset.newest || 0);
  const markRead = async (body) => show((await api('POST', '/api/v1/inbox/read', body)).unread);

  /** Browser notifications for entries newer than any seen, while the tab is hidden. */
  function announce(items) {
    const fresh = items.filter((item) => item.id > newestSeen);
    items.forEach((item) => (newestSeen = Math.max(newestSeen, item.id)));
    if (!document.hidden || !wantsNotifications(window)) return;
    fresh.slice(0, 3).forEach((item) => {
      const note = new window.Notification(t('inbox.type.' + item.type), {
        body: (item.ticket_id ? '#' + item.ticket_id + ' ' : '') + item.title,
        tag: 'ictdesk-inbox-' + item.id, // one per entry, however many tabs are open
      });
      note.onclick = () => {
        window.focus();
        openEntry(page ? page.markRead : markRead, window.location, item.id, item.ticket_id);
      };
    });
  }

  const refresh = oneAtATime(async () => {
    const answer = await api('GET', '/api/v1/inbox?unread=1&per_page=5');
    show(answer.unread);
    announce(answer.items || []);
    if (page) await page.refreshList();
  });

  document.addEventListener('ictdesk:event', ({ detail: event }) => {
    if (event.type === 'inbox_read' && event.data && typeof event.data.unread === 'number') {
      show(event.data.unread);
      if (page) page.readElsewhere();
      return;
    }
    if (mayConcern(event, userId)) refresh();
  });
  document.addEventListener('ictdesk:reset', refresh);
  bindNotifyToggle(document, window);
  show(Number(bell.dataset.unread || 0));
  return { refresh };
}

/** `run()` calls `work` once at a time; calls meanwhile make one more run afterwards. */
function oneAtATime(work) {
  let running = null;
  let again = false;
  return function run() {
    if (running) {
      again = true;
      return running;
    }
    running = Promise.resolve()
      .then(work)
      .catch(() => {})
      .then(() => {
        running = null;
        if (again) {
          again = false;
          run();
        }
      });
    return running;
  };
}

/**
 * The /inbox list. Marking read here refreshes the list once: by the answer, and the
 * `inbox_read` event that the same marking sends to all the reader's pages is then
 * only counted (`readElsewhere`), whichever of the two arrives first.
 */
function inboxPage(list, { api, fetch, show, window }) {
  let ownReadsPending = 0;

  async function refreshList() {
    const fresh = (await fetchHtml(fetch, list.dataset.fragment)).getElementById('inbox-list');
    if (fresh) list.replaceChildren(...fresh.childNodes);
  }

  async function markRead(body) {
    ownReadsPending += 1;
    let answer;
    try {
      answer = await api('POST', '/api/v1/inbox/read', body);
    } catch (error) {
      ownReadsPending -= 1; // refused: no event follows
      throw error;
    }
    show(answer.unread);
    await refreshList().catch(() => {});
  }

  function readElsewhere() {
    if (ownReadsPending > 0) ownReadsPending -= 1;
    else refreshList().catch(() => {});
  }

  list.ownerDocument.addEventListener('click', (event) => {
    const open = event.target.closest('a[data-inbox-open]');
    if (open) {
      event.preventDefault();
      const ticket = open.dataset.ticket ? Number(open.dataset.ticket) : null;
      openEntry(markRead, window.location, open.dataset.inboxOpen, ticket);
      return;
    }
    const one = event.target.closest('button[data-inbox-read]');
    if (one) {
      one.disabled = true;
      markRead({ ids: [Number(one.dataset.inboxRead)] }).catch(() => (one.disabled = false));
      return;
    }
    if (event.target.closest('#inbox-read-all')) markRead({ all: true }).catch(() => {});
  });
  return { refreshList, readElsewhere, markRead };
}

/** Marks an entry read and opens what it is about (its ticket, or the notifications). */
function openEntry(markRead, location, id, ticketId) {
  const go = () => (location.href = ticketId ? '/tickets/' + ticketId : '/notifications');
  return markRead({ ids: [Number(id)] }).then(go, go);
}

/** The opt-in for browser notifications on /inbox (hidden where the browser has none). */
function bindNotifyToggle(document, window) {
  const toggle = document.getElementById('inbox-notify');
  if (!toggle) return;
  if (!('Notification' in window)) {
    toggle.closest('.inbox-notify').hidden = true;
    return;
  }
  toggle.checked = wantsNotifications(window);
  toggle.addEventListener('change', async () => {
    if (!toggle.checked) {
      window.localStorage.removeItem(OPT_IN);
      return;
    }
    const permission = await window.Notification.requestPermission();
    if (permission === 'granted') window.localStorage.setItem(OPT_IN, '1');
    toggle.checked = permission === 'granted';
    const hint = document.getElementById('inbox-notify-hint');
    if (hint) hint.hidden = permission !== 'denied';
  });
}
