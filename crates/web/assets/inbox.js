/*
 * The notification inbox in every page: the bell's unread count, kept live, and — for
 * a hidden tab, when the person opted in — a browser notification for each new entry.
 * On /inbox: mark read (one, all) and open an entry's ticket.
 *
 * Which events add entries is the server's decision (crates/desk/src/inbox.rs); an
 * event here only says when to ask again: one that names this person on a ticket, a
 * system notification, or `inbox_read` from another of their pages.
 */
(function () {
  'use strict';

  const bell = document.getElementById('inbox-bell');
  const configNode = document.getElementById('ictdesk-config');
  const stringsNode = document.getElementById('ictdesk-strings');
  if (!bell || !configNode) return;
  const config = JSON.parse(configNode.textContent || 'null') || {};
  const strings = JSON.parse((stringsNode && stringsNode.textContent) || '{}') || {};
  const OPT_IN = 'ictdesk.inbox.notify';

  function t(key) {
    const args = Array.prototype.slice.call(arguments, 1);
    return (strings[key] || key).replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? '' : String(args[i])));
  }

  function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (config.csrfToken) headers['X-CSRF-Token'] = config.csrfToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((response) => {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.json();
    });
  }

  // ---- The bell ------------------------------------------------------------------

  let shown = Number(bell.dataset.unread || 0);
  let newestSeen = Number(bell.dataset.newest || 0);

  function show(unread) {
    shown = unread;
    bell.dataset.unread = String(unread);
    const count = bell.querySelector('.count');
    count.textContent = unread > 99 ? '99+' : String(unread);
    count.hidden = unread === 0;
    bell.setAttribute('aria-label', t('inbox.bell', unread));
    bell.title = t('inbox.bell', unread);
  }

  let asking = null;
  let askAgain = false;
  /** Asks for the count (one request at a time; a burst of events asks once more). */
  function refresh() {
    if (asking) {
      askAgain = true;
      return asking;
    }
    asking = api('GET', '/api/v1/inbox?unread=1&per_page=5')
      .then((page) => {
        show(page.unread);
        announce(page.items || []);
        if (onInboxPage) refreshList();
      })
      .catch(() => {})
      .then(() => {
        asking = null;
        if (askAgain) {
          askAgain = false;
          refresh();
        }
      });
    return asking;
  }

  /** Browser notifications for entries newer than any seen, while the tab is hidden. */
  function announce(items) {
    const fresh = items.filter((item) => item.id > newestSeen);
    items.forEach((item) => { newestSeen = Math.max(newestSeen, item.id); });
    if (!document.hidden || !wantsNotifications()) return;
    fresh.slice(0, 3).forEach((item) => {
      const note = new Notification(t('inbox.type.' + item.type), {
        body: (item.ticket_id ? '#' + item.ticket_id + ' ' : '') + item.title,
        tag: 'ictdesk-inbox-' + item.id, // one per entry, however many tabs are open
      });
      note.onclick = () => {
        window.focus();
        openEntry(item.id, item.ticket_id);
      };
    });
  }

  function wantsNotifications() {
    return 'Notification' in window && Notification.permission === 'granted' && localStorage.getItem(OPT_IN) === '1';
  }

  /** Whether an event may have written an entry for this person. */
  function mayConcernMe(event) {
    const d = event.data || {};
    const me = config.userId;
    if (event.type === 'inbox_read' || event.type === 'system_notification_created') return true;
    if (!d.ticket || event.type.indexOf('ticket_') !== 0) return false;
    return d.ticket.requester_id === me || d.ticket.assignee_id === me ||
      Boolean(d.new_assignee && d.new_assignee.id === me);
  }

  document.addEventListener('ictdesk:event', (e) => {
    const event = e.detail;
    if (event.type === 'inbox_read' && event.data && typeof event.data.unread === 'number') {
      show(event.data.unread);
      if (onInboxPage) refreshList();
      return;
    }
    if (mayConcernMe(event)) refresh();
  });
  document.addEventListener('ictdesk:reset', refresh);

  // ---- The /inbox page -----------------------------------------------------------

  const list = document.getElementById('inbox-list');
  const onInboxPage = Boolean(list);

  function refreshList() {
    return fetch(list.dataset.fragment, { credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then((response) => (response.ok ? response.text() : Promise.reject(new Error('HTTP ' + response.status))))
      .then((html) => {
        const doc = new DOMParser().parseFromString(html, 'text/html');
        const fresh = doc.getElementById('inbox-list');
        if (fresh) list.replaceChildren.apply(list, Array.prototype.slice.call(fresh.childNodes));
      })
      .catch(() => {});
  }

  function markRead(body) {
    return api('POST', '/api/v1/inbox/read', body).then((answer) => {
      show(answer.unread);
      return refreshList();
    });
  }

  function openEntry(id, ticketId) {
    const go = () => { location.href = ticketId ? '/tickets/' + ticketId : '/notifications'; };
    markRead({ ids: [Number(id)] }).then(go, go);
  }

  document.addEventListener('click', (event) => {
    const open = event.target.closest('a[data-inbox-open]');
    if (open) {
      event.preventDefault();
      openEntry(open.dataset.inboxOpen, open.dataset.ticket ? Number(open.dataset.ticket) : null);
      return;
    }
    const one = event.target.closest('button[data-inbox-read]');
    if (one) {
      one.disabled = true;
      markRead({ ids: [Number(one.dataset.inboxRead)] }).catch(() => { one.disabled = false; });
      return;
    }
    if (event.target.closest('#inbox-read-all')) markRead({ all: true }).catch(() => {});
  });

  const notifyToggle = document.getElementById('inbox-notify');
  if (notifyToggle) {
    if (!('Notification' in window)) {
      notifyToggle.closest('.inbox-notify').hidden = true;
    } else {
      notifyToggle.checked = wantsNotifications();
      notifyToggle.addEventListener('change', () => {
        if (!notifyToggle.checked) {
          localStorage.removeItem(OPT_IN);
          return;
        }
        Notification.requestPermission().then((permission) => {
          if (permission === 'granted') localStorage.setItem(OPT_IN, '1');
          notifyToggle.checked = permission === 'granted';
          const hint = document.getElementById('inbox-notify-hint');
          if (hint) hint.hidden = permission !== 'denied';
        });
      });
    }
  }

  show(shown);
})();
