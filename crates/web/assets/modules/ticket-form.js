/*
 * The agent's ticket form (issue 17, points 3 and 7): what is changed but not saved is
 * marked and kept as a draft in this browser (it survives a reload; leaving warns), and
 * a save from a version a colleague has changed since either goes through (the server
 * merges other fields and says so) or shows, beside each field both changed, what the
 * colleague set, with «Применить мои» / «Отменить мои». «Взять себе» is one click.
 */

import { draftStore } from './drafts.js';
import { initialValue, setDefault } from './forms.js';

export const FIELDS = ['status', 'priority', 'assignee_id', 'equipment_id', 'resolution'];

/**
 * «Ольга Смирнова изменила» / «Иван Техников изменил»: Russian verbs agree with the
 * person, whom the desk knows only by name; a surname's ending tells it for most
 * Russian names, and the neutral «изменил(а)» covers the rest.
 */
export function changedWho(names, t) {
  const list = names.split(', ');
  if (list.length > 1) return t('ticket.changed_by_many', names);
  const surname = list[0].trim().split(/\s+/).pop() || '';
  if (/(ова|ева|ёва|ина|ына|ская|цкая|ая)$/i.test(surname)) return t('ticket.changed_by_she', names);
  if (/(ов|ев|ёв|ин|ын|ский|цкий|ой|ый|ий)$/i.test(surname)) return t('ticket.changed_by_he', names);
  return t('ticket.changed_by_someone', names);
}

/** A value as the field shows it (the option's text, not its id). */
export function shownValue(input, value) {
  const text = value === null || value === undefined ? '' : String(value);
  if (input.tagName === 'SELECT') {
    const option = Array.from(input.options).find((o) => o.value === text);
    if (option) return option.textContent.trim();
  }
  return text || '—';
}

/**
 * Binds `form.ticket-form`; returns `{form, unsaved(), save()}` (`save` resolves true when
 * the ticket took the changes) for the comment form, which saves them with a reply.
 */
export function bindTicketForm(document, { api, explain, t, storage }) {
  const form = document.querySelector('form.ticket-form');
  if (!form) return null;
  const window = document.defaultView;
  const draft = draftStore(storage, 'ictdesk:ticket-draft:' + form.dataset.ticket);
  const status = form.querySelector('.form-status');
  const field = (name) => form.elements[name];
  const present = () => FIELDS.filter((name) => field(name));
  const changedFields = () => present().filter((name) => field(name).value !== initialValue(field(name)));
  const label = (name) => (field(name) ? field(name).closest('label').firstChild.textContent.trim() : name);

  /**
   * Marks unsaved fields, keeps them as a draft, and tells the page the form is in use
   * (`data-dirty`) and that what is unsaved may have changed (`ictdesk:tracked`).
   */
  function track() {
    const changed = changedFields();
    present().forEach((name) => field(name).closest('label').classList.toggle('unsaved', changed.includes(name)));
    if (changed.length) {
      form.dataset.dirty = '1';
      const values = Object.fromEntries(changed.map((name) => [name, field(name).value]));
      draft.save({ version: field('version').value, values });
    } else {
      delete form.dataset.dirty;
      draft.clear();
    }
    form.dispatchEvent(new window.CustomEvent('ictdesk:tracked'));
  }

  function restoreDraft() {
    const kept = draft.load();
    if (!kept || !kept.values) return;
    Object.keys(kept.values).forEach((name) => {
      if (FIELDS.includes(name) && field(name)) field(name).value = kept.values[name];
    });
    // The draft was made against its version: saving it is checked against that one.
    field('version').value = kept.version;
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

  function body() {
    const request = { version: parseInt(field('version').value, 10) };
    changedFields().forEach((name) => {
      const value = field(name).value.trim();
      if (name === 'assignee_id' || name === 'equipment_id') request[name] = value === '' ? null : parseInt(value, 10);
      else request[name] = value;
    });
    return request;
  }

  async function save() {
    showError('');
    say('');
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try {
      accept(await api('PATCH', form.dataset.api, body()));
      return true;
    } catch (error) {
      const overlapping = error.status === 409 && error.changedBy && Object.keys(error.fields || {}).length;
      if (overlapping) await conflicts.show(error.fields).catch(() => showError(explain(error)));
      else showError(describeError(error));
      return false;
    } finally {
      button.disabled = false;
    }
  }

  function describeError(error) {
    const fields = error.fields && Object.keys(error.fields).length ? error.fields : null;
    if (!fields) return explain(error);
    return Object.keys(fields)
      .map((name) => label(name) + ': ' + fields[name])
      .join('; ');
  }

  /** After a save the form shows the ticket as it is now, and nothing is unsaved. */
  function accept(ticket) {
    present().forEach((name) => {
      const value = name === 'resolution' || ticket[name] === null ? '' : String(ticket[name]);
      setDefault(field(name), value);
    });
    field('version').value = ticket.version;
    field('version').defaultValue = String(ticket.version);
    conflicts.clear();
    track();
    if (ticket.merged) {
      const fields = ticket.merged.fields.map(label).join(', ');
      say(t('ticket.saved_merged', changedWho(ticket.merged.changed_by, t), fields));
    } else {
      say(t('ticket.saved'));
    }
  }

  const conflicts = conflictBoxes(form, { api, t, track, save, field });

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
  return { form, unsaved: () => changedFields().length > 0, save };
}

/** Beside each field a colleague changed too: their value, and the two ways out. */
function conflictBoxes(form, { api, t, track, save, field }) {
  let keepMine = false;
  let currentVersion = null;

  async function show(fields) {
    const current = await api('GET', form.dataset.api);
    clear();
    currentVersion = current.version;
    Object.keys(fields).forEach((name) => {
      const input = field(name);
      if (!input) return;
      const who = fields[name].replace(/^changed by /, '');
      const box = form.ownerDocument.createElement('div');
      box.className = 'conflict';
      box.id = 'conflict-' + name;
      box.setAttribute('role', 'alert');
      const text = form.ownerDocument.createElement('p');
      text.textContent = changedWho(who, t) + ' ' + t('ticket.conflict_now', shownValue(input, current[name]));
      const mine = button(form, t('ticket.apply_mine'), 'apply-mine', () => settle(name, box, true));
      const theirs = button(form, t('ticket.drop_mine'), 'drop-mine', () => {
        setDefault(input, current[name] === null ? '' : String(current[name]));
        settle(name, box, false);
      });
      box.append(text, mine, theirs);
      input.closest('label').after(box);
      input.setAttribute('aria-describedby', box.id);
    });
    const first = form.querySelector('.conflict button');
    if (first) first.focus();
  }

  /**
   * One conflict decided. When none is left the form stands on the current version;
   * if the agent kept any of their values, those are saved at once.
   */
  function settle(name, box, mine) {
    field(name).removeAttribute('aria-describedby');
    box.remove();
    keepMine = keepMine || mine;
    if (form.querySelector('.conflict')) return;
    field('version').value = currentVersion;
    const resend = keepMine;
    keepMine = false;
    track();
    if (resend && form.dataset.dirty) save();
  }

  function clear() {
    form.querySelectorAll('.conflict').forEach((box) => box.remove());
    FIELDS.forEach((name) => field(name) && field(name).removeAttribute('aria-describedby'));
  }

  return { show, clear };
}

function button(form, text, className, onClick) {
  const node = form.ownerDocument.createElement('button');
  node.type = 'button';
  node.className = className;
  node.textContent = text;
  node.addEventListener('click', onClick);
  return node;
}
