/*
 * The pages' behaviour: starts one LiveUpdates per tab, shows the connection mode and
 * toasts, re-fetches the server-rendered fragments that an event concerns, sends
 * forms to the JSON API, and formats dates in the reader's locale.
 */
(function () {
  'use strict';

  const config = readJson('ictdesk-config');
  const strings = readJson('ictdesk-strings') || {};
  const lang = document.documentElement.lang || 'ru';

  function readJson(id) {
    const node = document.getElementById(id);
    try {
      return node ? JSON.parse(node.textContent) : null;
    } catch (error) {
      return null;
    }
  }

  /** A catalog string with {0}, {1}… filled in. */
  function t(key) {
    const args = Array.prototype.slice.call(arguments, 1);
    return (strings[key] || key).replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? '' : String(args[i])));
  }

  // ---- Dates ---------------------------------------------------------------------

  const dateFormat = new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
  function formatDates(root) {
    root.querySelectorAll('time[datetime]').forEach((node) => {
      const at = new Date(node.getAttribute('datetime'));
      if (!isNaN(at)) {
        node.textContent = dateFormat.format(at);
        node.title = at.toISOString();
      }
    });
  }

  // ---- Requests ------------------------------------------------------------------

  function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (config && config.csrfToken) headers['X-CSRF-Token'] = config.csrfToken;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((response) =>
      response.text().then((text) => {
        let data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (error) {
          data = null;
        }
        if (!response.ok) {
          const error = new Error((data && data.error) || 'HTTP ' + response.status);
          error.status = response.status;
          error.fields = data && data.fields;
          error.changedBy = data && data.changed_by;
          throw error;
        }
        return data;
      }));
  }

  function fetchHtml(url) {
    return fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } }).then((response) => {
      if (!response.ok) throw new Error('HTTP ' + response.status);
      return response.text();
    });
  }

  function parseHtml(html) {
    return new DOMParser().parseFromString(html, 'text/html');
  }

  /** An API error in the page's language where the API gives its parts. */
  function explain(error) {
    if (error.status === 409 && error.changedBy) return t('common.conflict', error.changedBy);
    if (error.fields) {
      return Object.keys(error.fields).map((field) => field + ': ' + error.fields[field]).join('; ');
    }
    return error.message || t('common.error');
  }

  // ---- Forms to the API ----------------------------------------------------------

  /** The form's fields as the API wants them (`data-type="int"`, `data-nullable`, …). */
  function formBody(form) {
    const body = {};
    Array.prototype.forEach.call(form.elements, (field) => {
      if (!field.name || field.disabled) return;
      if (field.type === 'checkbox') {
        body[field.name] = field.checked;
        return;
      }
      let value = field.value.trim();
      if (field.hasAttribute('data-skip-unchanged') && field.value === initialValue(field)) return;
      if (value === '') {
        if (field.hasAttribute('data-nullable')) body[field.name] = null;
        else if (!field.hasAttribute('data-skip-empty') && field.type !== 'hidden') body[field.name] = '';
        return;
      }
      if (field.dataset.type === 'int') value = parseInt(value, 10);
      body[field.name] = value;
    });
    return body;
  }

  function initialValue(field) {
    if (field.tagName === 'SELECT') {
      const selected = Array.prototype.find.call(field.options, (option) => option.defaultSelected);
      return selected ? selected.value : field.options.length ? field.options[0].value : '';
    }
    return field.defaultValue;
  }

  function showError(form, message) {
    const box = form.querySelector('.form-error');
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
  }

  function bindForms(root) {
    root.querySelectorAll('form.api-form').forEach((form) => {
      form.addEventListener('input', () => { form.dataset.dirty = '1'; });
      form.addEventListener('submit', (event) => {
        event.preventDefault();
        showError(form, '');
        const button = form.querySelector('[type=submit]');
        if (button) button.disabled = true;
        api(form.dataset.method || 'POST', form.dataset.api, formBody(form))
          .then((result) => {
            delete form.dataset.dirty;
            const after = form.dataset.after || 'refresh';
            if (after.indexOf('open:') === 0) {
              location.href = after.slice(5) + result.id;
              return;
            }
            form.reset();
            if (after === 'refresh') acceptCurrent(form, result);
            refreshAll();
          })
          .catch((error) => showError(form, explain(error)))
          .then(() => { if (button) button.disabled = false; });
      });
    });
  }

  /** After our own save, the form's values and version are the current ones. */
  function acceptCurrent(form, saved) {
    Array.prototype.forEach.call(form.elements, (field) => {
      if (!field.name || !(field.name in saved)) return;
      const value = saved[field.name] === null ? '' : String(saved[field.name]);
      setDefault(field, value);
    });
    if (form.elements.resolution) setDefault(form.elements.resolution, '');
  }

  function setDefault(field, value) {
    if (field.tagName === 'SELECT') {
      Array.prototype.forEach.call(field.options, (option) => {
        option.defaultSelected = option.value === value;
      });
    } else {
      field.defaultValue = value;
    }
    field.value = value;
  }

  // Buttons that post a fixed body (block / unblock).
  document.addEventListener('click', (event) => {
    const button = event.target.closest('button[data-api]');
    if (!button) return;
    button.disabled = true;
    let body;
    try {
      body = JSON.parse(button.dataset.body || '{}');
    } catch (error) {
      body = {};
    }
    api(button.dataset.method || 'POST', button.dataset.api, body)
      .then(refreshAll)
      .catch((error) => toast({ text: explain(error), level: 'error' }))
      .then(() => { button.disabled = false; });
  });

  // ---- Toasts --------------------------------------------------------------------

  const MAX_TOASTS = 5;
  const TOAST_MS = 5000;

  function toast(options) {
    const box = document.getElementById('toasts');
    if (!box) return;
    const node = document.createElement(options.href ? 'a' : 'div');
    node.className = 'toast' + (options.level ? ' toast-' + options.level : '');
    if (options.href) node.href = options.href;
    node.setAttribute('role', 'status');
    const text = document.createElement('span');
    text.className = 'toast-text';
    text.textContent = options.text;
    node.appendChild(text);
    if (options.by) {
      const by = document.createElement('small');
      by.textContent = t('toast.by', options.by);
      node.appendChild(by);
    }
    box.appendChild(node);
    while (box.children.length > MAX_TOASTS) box.removeChild(box.firstElementChild);
    // The timer restarts from the full time when the pointer leaves: time to read.
    let timer = null;
    const arm = () => { timer = setTimeout(() => dismiss(node), TOAST_MS); };
    node.addEventListener('mouseenter', () => clearTimeout(timer));
    node.addEventListener('mouseleave', arm);
    arm();
  }

  function dismiss(node) {
    node.classList.add('leaving');
    setTimeout(() => node.remove(), 300);
  }

  /** What an event says to a person, and where clicking takes them. */
  function describe(event) {
    const d = event.data || {};
    const ticket = d.ticket;
    switch (event.type) {
      case 'ticket_created':
        return { text: t('toast.ticket_created', ticket.id, ticket.title), href: '/tickets/' + ticket.id };
      case 'ticket_status_changed':
        return { text: t('toast.ticket_status_changed', ticket.id, t('status.' + d.new_status)), href: '/tickets/' + ticket.id };
      case 'ticket_updated':
        return { text: t('toast.ticket_updated', ticket.id, d.actor ? d.actor.name : ''), href: '/tickets/' + ticket.id };
      case 'ticket_assigned':
        return d.new_assignee
          ? { text: t('toast.ticket_assigned', ticket.id, d.new_assignee.name), href: '/tickets/' + ticket.id }
          : { text: t('toast.ticket_unassigned', ticket.id), href: '/tickets/' + ticket.id };
      case 'ticket_comment_created':
        return { text: t('toast.ticket_comment_created', ticket.id, d.comment ? d.comment.author_name : ''), href: '/tickets/' + ticket.id };
      case 'user_created':
        return { text: t('toast.user_created', d.user.name), href: '/users' };
      case 'user_status_changed':
        return { text: t('toast.user_status_changed', d.user.name, t('ustatus.' + d.user.status)), href: '/users' };
      case 'equipment_status_changed':
        return { text: t('toast.equipment_status_changed', d.equipment.inventory_number, t('estatus.' + d.new_status)), href: '/equipment/' + d.equipment.id };
      case 'equipment_location_changed':
        return { text: t('toast.equipment_location_changed', d.equipment.inventory_number, d.location || '—'), href: '/equipment/' + d.equipment.id };
      case 'knowledge_article_created':
        return { text: t('toast.knowledge_article_created', d.article.title), href: '/kb/' + d.article.id };
      case 'knowledge_article_updated':
        return { text: t('toast.knowledge_article_updated', d.article.title), href: '/kb/' + d.article.id };
      case 'system_notification_created':
        return { text: t('toast.system_notification_created', d.notification.title), href: '/notifications', level: d.notification.level };
      default:
        return null;
    }
  }

  // ---- Live lists ----------------------------------------------------------------

  const lists = Array.prototype.slice.call(document.querySelectorAll('table[data-live-rows]'));
  const pending = new Map(); // list → rows waiting behind the "N new — show" marker

  /** Someone working on the list: a row selected, a field focused, or scrolled away. */
  function interacting(table) {
    if (table.querySelector('tbody input[type=checkbox]:checked')) return true;
    const active = document.activeElement;
    if (active && active !== document.body && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return true;
    if (document.querySelector('form.api-form[data-dirty]')) return true;
    return window.scrollY > 150 || table.matches(':hover');
  }

  // Tickets named by events since the list was last refreshed.
  const touched = new Map();

  function refreshList(table) {
    const ids = touched.get(table) || new Set();
    touched.delete(table);
    return fetchHtml(table.dataset.liveRows).then((html) => {
      const fresh = parseHtml(html).querySelectorAll('tbody > tr[data-id]');
      const body = table.tBodies[0];
      const incoming = [];
      const seen = new Set();
      fresh.forEach((row) => {
        seen.add(row.dataset.id);
        const current = body.querySelector('tr[data-id="' + row.dataset.id + '"]');
        if (current) patchRow(current, row);
        else incoming.push(row);
      });
      // A changed ticket that left this page's filter still shows the truth: fetched alone.
      ids.forEach((id) => {
        const row = body.querySelector('tr[data-id="' + id + '"]');
        if (!row || seen.has(String(id))) return;
        fetchHtml('/tickets/' + id + '/row')
          .then((one) => {
            const fresher = parseHtml(one).querySelector('tr[data-id]');
            if (fresher) patchRow(row, fresher);
          })
          .catch(() => {});
      });
      if (!table.dataset.liveInsert || !incoming.length) return;
      const waiting = pending.get(table) || [];
      incoming.forEach((row) => {
        if (!waiting.some((w) => w.dataset.id === row.dataset.id)) waiting.push(row);
      });
      pending.set(table, waiting);
      if (interacting(table)) showMarker(table);
      else showPending(table);
    });
  }

  /** Replaces a row only when it changed, keeping its selection. */
  function patchRow(current, row) {
    // Only forward: an answer that raced a newer one must not undo it.
    if (Number(row.dataset.version) <= Number(current.dataset.version)) return;
    const box = current.querySelector('input[type=checkbox]');
    const checked = box && box.checked;
    formatDates(row);
    current.replaceWith(row);
    if (checked) row.querySelector('input[type=checkbox]').checked = true;
    flash(row);
  }

  function showPending(table) {
    const rows = pending.get(table) || [];
    pending.delete(table);
    const body = table.tBodies[0];
    rows.slice().reverse().forEach((row) => {
      if (body.querySelector('tr[data-id="' + row.dataset.id + '"]')) return;
      formatDates(row);
      body.insertBefore(row, body.firstChild);
      flash(row);
    });
    const marker = markerFor(table);
    if (marker) marker.hidden = true;
    const empty = table.parentNode.querySelector('.empty');
    if (empty && rows.length) empty.hidden = true;
  }

  function markerFor(table) {
    return table.closest('.table-wrap').previousElementSibling;
  }

  function showMarker(table) {
    const marker = markerFor(table);
    if (!marker || !marker.classList.contains('new-rows')) return;
    marker.textContent = t('common.new_rows', (pending.get(table) || []).length);
    marker.hidden = false;
    marker.onclick = () => showPending(table);
  }

  function flash(node) {
    node.classList.remove('flash');
    void node.offsetWidth; // restart the animation
    node.classList.add('flash');
  }

  // ---- Live fragments (a ticket, an equipment item, an article) ------------------

  const fragments = Array.prototype.slice.call(document.querySelectorAll('[data-live-fragment]'));

  function refreshFragment(holder) {
    return fetchHtml(holder.dataset.liveFragment).then((html) => {
      const doc = parseHtml(html);
      formatDates(doc.body);
      holder.replaceChildren.apply(holder, Array.prototype.slice.call(doc.body.childNodes));
      const fresh = holder.firstElementChild;
      // An untouched form follows the object; a form being edited keeps the version it
      // was opened with, so saving it answers "changed by X since you opened it".
      document.querySelectorAll('form[data-versioned]').forEach((form) => {
        if (form.dataset.dirty || !fresh || !fresh.dataset.version) return;
        form.elements.version.value = fresh.dataset.version;
        form.elements.version.defaultValue = fresh.dataset.version;
        syncFormDefaults(form, fresh);
      });
    });
  }

  /** The ticket form's selects follow the ticket while nobody is editing them. */
  function syncFormDefaults(form, fresh) {
    ['status', 'priority', 'assignee'].forEach((key) => {
      const field = form.elements[key === 'assignee' ? 'assignee_id' : key];
      if (field && fresh.dataset[key] !== undefined) setDefault(field, fresh.dataset[key]);
    });
  }

  function concerns(holder, event) {
    const subject = event.data && event.data[holder.dataset.liveKey];
    return subject && String(subject.id) === holder.dataset.liveId;
  }

  // ---- Statistics ----------------------------------------------------------------

  const statsHolder = document.querySelector('[data-live-stats]');
  function refreshStats() {
    return fetchHtml(statsHolder.dataset.liveStats).then((html) => {
      const fresh = parseHtml(html).getElementById('stats');
      const current = document.getElementById('stats');
      if (!fresh || !current) return;
      fresh.querySelectorAll('[data-stat]').forEach((n) => {
        const old = current.querySelector('[data-stat="' + n.dataset.stat + '"]');
        if (old && old.textContent !== n.textContent) {
          old.textContent = n.textContent;
          flash(old.parentNode);
        }
      });
    });
  }

  // ---- Refreshing, coalesced -----------------------------------------------------

  // A burst of events becomes one fetch per fragment: the fragment is the current
  // truth, whatever number of events led to it. One fetch per fragment at a time; an
  // event during a fetch asks for one more afterwards.
  const dirty = new Set();
  let scheduled = null;
  function markDirty(job) {
    dirty.add(job);
    if (scheduled) return;
    scheduled = setTimeout(() => {
      scheduled = null;
      const due = Array.from(dirty);
      dirty.clear();
      due.forEach(run);
    }, 50);
  }
  const running = new Map(); // job → whether it must run again when done
  function run(job) {
    if (running.has(job)) {
      running.set(job, true);
      return;
    }
    running.set(job, false);
    job()
      .catch(() => {})
      .then(() => {
        const again = running.get(job);
        running.delete(job);
        if (again) run(job);
      });
  }
  const jobs = new Map();
  function job(key, fn) {
    if (!jobs.has(key)) jobs.set(key, fn);
    return jobs.get(key);
  }

  function refreshAll() {
    lists.forEach((table, i) => markDirty(job('list' + i, () => refreshList(table))));
    fragments.forEach((holder, i) => markDirty(job('fragment' + i, () => refreshFragment(holder))));
    if (statsHolder) markDirty(job('stats', refreshStats));
  }

  function onEvent(event) {
    // For the page's other scripts (the inbox bell): one event, one DOM notice.
    document.dispatchEvent(new CustomEvent('ictdesk:event', { detail: event }));
    lists.forEach((table, i) => {
      if ((table.dataset.liveTypes || '').split(' ').indexOf(event.type) >= 0) {
        if (event.data && event.data.ticket) {
          if (!touched.has(table)) touched.set(table, new Set());
          touched.get(table).add(event.data.ticket.id);
        }
        markDirty(job('list' + i, () => refreshList(table)));
      }
    });
    fragments.forEach((holder, i) => {
      if (concerns(holder, event)) markDirty(job('fragment' + i, () => refreshFragment(holder)));
    });
    if (statsHolder && event.type.indexOf('ticket_') === 0) markDirty(job('stats', refreshStats));
    const actor = event.data && event.data.actor;
    // Never a toast for the person's own change, from this tab or another of theirs.
    if (actor && config && actor.id === config.userId) return;
    const said = describe(event);
    if (said) toast(Object.assign({ by: actor && actor.name }, said));
  }

  // ---- Presence on a ticket ------------------------------------------------------

  const presence = document.getElementById('presence');
  function showPresence(frame) {
    if (!presence || String(frame.ticket_id) !== presence.dataset.ticket) return;
    const others = (frame.viewers || []).filter((v) => v.user_id !== config.userId);
    const label = (v) => v.name + (v.state === 'idle' ? ' (' + t('ticket.idle') + ')' : '');
    const writing = others.filter((v) => v.state === 'editing').map(label);
    const viewing = others.filter((v) => v.state !== 'editing').map(label);
    const parts = [];
    if (viewing.length) parts.push(t('ticket.viewing', unique(viewing).join(', ')));
    if (writing.length) parts.push(t('ticket.writing', unique(writing).join(', ')));
    presence.textContent = parts.join(' · ');
    presence.hidden = !parts.length;
  }

  function unique(list) {
    return list.filter((v, i) => list.indexOf(v) === i);
  }

  function trackPresence(live) {
    if (!presence) return;
    const id = Number(presence.dataset.ticket);
    live.setPresence('view', id);
    let state = 'view';
    let lastSent = Date.now();
    const announce = (next) => {
      // Activity keeps the viewer from turning idle, at most once a minute.
      if (next === state && Date.now() - lastSent < 60000) return;
      state = next;
      lastSent = Date.now();
      live.setPresence(next, id);
    };
    document.querySelectorAll('form[data-presence]').forEach((form) => {
      form.addEventListener('input', () => announce('editing'));
      form.addEventListener('focusout', () => setTimeout(() => {
        if (!form.contains(document.activeElement)) announce('view');
      }, 0));
    });
    ['pointerdown', 'keydown', 'scroll'].forEach((name) =>
      document.addEventListener(name, () => announce(state), { passive: true }));
    window.addEventListener('pagehide', () => live.setPresence('leave', id));
  }

  // ---- Connection indicator ------------------------------------------------------

  function showMode(mode) {
    const node = document.getElementById('connection');
    if (!node) return;
    node.dataset.mode = mode;
    node.querySelector('.label').textContent = t('mode.' + mode);
  }

  // ---- Login and logout ----------------------------------------------------------

  const login = document.getElementById('login-form');
  if (login) {
    login.addEventListener('submit', (event) => {
      event.preventDefault();
      showError(login, '');
      api('POST', '/api/v1/session', { email: login.elements.email.value, password: login.elements.password.value })
        .then(() => { location.href = login.dataset.next || '/tickets'; })
        .catch((error) => showError(login, explain(error)));
    });
  }
  const logout = document.getElementById('logout');
  if (logout) {
    logout.addEventListener('click', () => {
      api('DELETE', '/api/v1/session').then(() => { location.href = '/login'; }, () => { location.href = '/login'; });
    });
  }

  // Clicking anywhere on a linked row opens it (the link inside stays the real target).
  document.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-href]');
    if (!row || event.target.closest('a, button, input, label')) return;
    location.href = row.dataset.href;
  });

  // ---- Start ---------------------------------------------------------------------

  formatDates(document);
  bindForms(document);
  if (config && window.LiveUpdates) {
    const live = new window.LiveUpdates({
      apiEndpoint: '/messages',
      csrfToken: config.csrfToken,
      websocketEnabled: config.useWebSocket,
      refreshInterval: 1000,
      timeout: config.timeoutMs,
      lastId: config.lastId,
      onEvent,
      onReset: () => {
        refreshAll();
        document.dispatchEvent(new CustomEvent('ictdesk:reset'));
      },
      // The page was drawn for the old role (menus, actions): draw it again.
      onRightsChanged: () => location.reload(),
      onMessage: (frame) => { if (frame.type === 'presence') showPresence(frame); },
      onModeChange: showMode,
    });
    window.ictdeskLive = live;
    live.start();
    trackPresence(live);
  }
})();
