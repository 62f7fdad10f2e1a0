/*
 * The agent's ticket form (issue 17, points 3 and 7): what is changed but not saved is
 * marked and kept as a draft in this browser (it survives a reload; leaving warns), and
 * a save from a version a colleague has changed since either goes through (the server
 * merges other fields and says so) or shows, beside each field both changed, what the
 * colleague set, with «Применить мои» / «Отменить мои». «Взять себе» is one click.
 */
(function () {
  'use strict';

  const form = document.querySelector('form.ticket-form');
  if (!form) return;

  const configNode = document.getElementById('ictdesk-config');
  const stringsNode = document.getElementById('ictdesk-strings');
  const config = JSON.parse((configNode && configNode.textContent) || 'null') || {};
  const strings = JSON.parse((stringsNode && stringsNode.textContent) || '{}') || {};
  const ticketUrl = form.dataset.api;
  const draftKey = 'ictdesk:ticket-draft:' + form.dataset.ticket;
  const FIELDS = ['status', 'priority', 'assignee_id', 'resolution'];
  const status = form.querySelector('.form-status');

  function t(key) {
    const args = Array.prototype.slice.call(arguments, 1);
    return (strings[key] || key).replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? '' : String(args[i])));
  }

  /** JSON to and from the API; a refusal rejects with its status and body. */
  function api(method, body) {
    return fetch(ticketUrl, {
      method,
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'Content-Type': 'application/json', 'X-CSRF-Token': config.csrfToken || '' },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then((response) => response.text().then((text) => {
      let answer = null;
      try {
        answer = text ? JSON.parse(text) : null;
      } catch (error) {
        answer = null;
      }
      if (response.ok) return answer;
      const error = new Error((answer && answer.error) || 'HTTP ' + response.status);
      error.status = response.status;
      error.answer = answer || {};
      throw error;
    }));
  }

  // ---- What is unsaved -------------------------------------------------------------

  function field(name) {
    return form.elements[name];
  }

  function saved(input) {
    if (input.tagName !== 'SELECT') return input.defaultValue;
    const option = Array.prototype.find.call(input.options, (o) => o.defaultSelected);
    return option ? option.value : '';
  }

  function setSaved(input, value) {
    if (input.tagName === 'SELECT') {
      Array.prototype.forEach.call(input.options, (o) => { o.defaultSelected = o.value === value; });
    } else {
      input.defaultValue = value;
    }
  }

  function changedFields() {
    return FIELDS.filter((name) => field(name) && field(name).value !== saved(field(name)));
  }

  /** Marks unsaved fields, keeps them as a draft, and tells app.js the form is in use. */
  function track() {
    const changed = changedFields();
    FIELDS.forEach((name) => {
      const input = field(name);
      if (input) input.closest('label').classList.toggle('unsaved', changed.indexOf(name) >= 0);
    });
    if (changed.length) {
      form.dataset.dirty = '1';
      const values = {};
      changed.forEach((name) => { values[name] = field(name).value; });
      store({ version: field('version').value, values });
    } else {
      delete form.dataset.dirty;
      store(null);
    }
  }

  function store(draft) {
    try {
      if (draft) localStorage.setItem(draftKey, JSON.stringify(draft));
      else localStorage.removeItem(draftKey);
    } catch (error) {
      // Private mode or a full storage: the draft lives only as long as the page.
    }
  }

  function restoreDraft() {
    let draft = null;
    try {
      draft = JSON.parse(localStorage.getItem(draftKey) || 'null');
    } catch (error) {
      draft = null;
    }
    if (!draft || !draft.values) return;
    Object.keys(draft.values).forEach((name) => {
      if (FIELDS.indexOf(name) >= 0 && field(name)) field(name).value = draft.values[name];
    });
    // The draft was made against its version: saving it is checked against that one.
    field('version').value = draft.version;
    track();
    if (form.dataset.dirty) say(t('ticket.draft_restored'));
  }

  function say(message) {
    status.textContent = message || '';
    status.hidden = !message;
  }

  function showError(message) {
    const box = form.querySelector('.form-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  // ---- Saving ------------------------------------------------------------------------

  function body() {
    const request = { version: parseInt(field('version').value, 10) };
    changedFields().forEach((name) => {
      const value = field(name).value.trim();
      if (name === 'assignee_id') request[name] = value === '' ? null : parseInt(value, 10);
      else request[name] = value;
    });
    return request;
  }

  function save() {
    showError('');
    say('');
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    return api('PATCH', body())
      .then(accept)
      .catch((error) => {
        if (error.status === 409 && error.answer.changed_by && Object.keys(error.answer.fields || {}).length) {
          return showConflicts(error.answer.fields);
        }
        showError(describe(error));
        return null;
      })
      .then(() => { button.disabled = false; });
  }

  function describe(error) {
    const fields = error.answer && error.answer.fields;
    if (fields && Object.keys(fields).length) {
      return Object.keys(fields).map((name) => label(name) + ': ' + fields[name]).join('; ');
    }
    return error.message || t('common.error');
  }

  function label(name) {
    const input = field(name);
    return input ? input.closest('label').firstChild.textContent.trim() : name;
  }

  /** After a save the form shows the ticket as it is now, and nothing is unsaved. */
  function accept(ticket) {
    FIELDS.forEach((name) => {
      const input = field(name);
      if (!input) return;
      const value = name === 'resolution' ? '' : ticket[name] === null ? '' : String(ticket[name]);
      setSaved(input, value);
      input.value = value;
    });
    field('version').value = ticket.version;
    field('version').defaultValue = String(ticket.version);
    clearConflicts();
    track();
    if (ticket.merged) {
      say(t('ticket.saved_merged', changedWho(ticket.merged.changed_by), ticket.merged.fields.map(label).join(', ')));
    } else {
      say(t('ticket.saved'));
    }
  }

  // ---- Conflicts ---------------------------------------------------------------------

  /** Beside each field a colleague changed too: their value, and the two ways out. */
  function showConflicts(fields) {
    return api('GET').then((current) => {
      clearConflicts();
      form.dataset.currentVersion = current.version;
      Object.keys(fields).forEach((name) => {
        const input = field(name);
        if (!input) return;
        const who = fields[name].replace(/^changed by /, '');
        const box = document.createElement('div');
        box.className = 'conflict';
        box.id = 'conflict-' + name;
        box.setAttribute('role', 'alert');
        const text = document.createElement('p');
        text.textContent = changedWho(who) + ' ' + t('ticket.conflict_now', shown(input, current[name]));
        const mine = button(t('ticket.apply_mine'), 'apply-mine', () => settle(name, box, true));
        const theirs = button(t('ticket.drop_mine'), 'drop-mine', () => {
          setSaved(input, current[name] === null ? '' : String(current[name]));
          input.value = saved(input);
          settle(name, box, false);
        });
        box.append(text, mine, theirs);
        input.closest('label').after(box);
        input.setAttribute('aria-describedby', box.id);
      });
      const first = form.querySelector('.conflict button');
      if (first) first.focus();
    });
  }

  function button(text, className, onClick) {
    const node = document.createElement('button');
    node.type = 'button';
    node.className = className;
    node.textContent = text;
    node.addEventListener('click', onClick);
    return node;
  }

  /**
   * One conflict decided. When none is left the form stands on the current version;
   * if the agent kept any of their values, those are saved at once.
   */
  function settle(name, box, keepMine) {
    field(name).removeAttribute('aria-describedby');
    box.remove();
    form.dataset.keepMine = form.dataset.keepMine || (keepMine ? '1' : '');
    if (form.querySelector('.conflict')) return;
    field('version').value = form.dataset.currentVersion;
    const resend = form.dataset.keepMine === '1';
    delete form.dataset.keepMine;
    track();
    if (resend && changedFields().length) save();
  }

  function clearConflicts() {
    form.querySelectorAll('.conflict').forEach((box) => box.remove());
    FIELDS.forEach((name) => { if (field(name)) field(name).removeAttribute('aria-describedby'); });
  }

  /** A value as the field shows it (the option's text, not its id). */
  function shown(input, value) {
    const text = value === null || value === undefined ? '' : String(value);
    if (input.tagName === 'SELECT') {
      const option = Array.prototype.find.call(input.options, (o) => o.value === text);
      if (option) return option.textContent.trim();
    }
    return text || '—';
  }

  /**
   * «Ольга Смирнова изменила» / «Иван Техников изменил»: Russian verbs agree with the
   * person, whom the desk knows only by name; a surname's ending tells it for most
   * Russian names, and the neutral «изменил(а)» covers the rest.
   */
  function changedWho(names) {
    const list = names.split(', ');
    if (list.length > 1) return t('ticket.changed_by_many', names);
    const surname = list[0].trim().split(/\s+/).pop() || '';
    if (/(ова|ева|ёва|ина|ына|ская|цкая|ая)$/i.test(surname)) return t('ticket.changed_by_she', names);
    if (/(ов|ев|ёв|ин|ын|ский|цкий|ой|ый|ий)$/i.test(surname)) return t('ticket.changed_by_he', names);
    return t('ticket.changed_by_someone', names);
  }

  // ---- «Взять себе» -------------------------------------------------------------------

  const take = document.querySelector('button.take-ticket');
  if (take) {
    take.addEventListener('click', () => {
      field('assignee_id').value = take.dataset.me;
      if (field('status').value === 'new') field('status').value = 'in_progress';
      track();
      save();
    });
  }

  form.addEventListener('input', track);
  form.addEventListener('change', track);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  window.addEventListener('beforeunload', (event) => {
    if (!form.dataset.dirty) return;
    event.preventDefault();
    event.returnValue = '';
  });
  restoreDraft();
})();
