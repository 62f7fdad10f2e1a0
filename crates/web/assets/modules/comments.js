/*
 * The comment form on a ticket's page (issue 17, point 3). Staff write either a reply
 * to the requester or an internal note, chosen by two tabs that colour the whole form
 * and name what its button does, so a note cannot go out as a reply by a missed tick.
 * What is typed is kept as a draft in this browser (it survives a reload) and marked
 * unsaved until sent; sending also saves the ticket form's unsaved changes first, so
 * «reply and resolve» is one action. Files go with the comment (attachments.js).
 */

import { pendingFiles } from './attachments.js';
import { draftStore } from './drafts.js';

/** `reply` or `note`, from the form's tabs (a requester's form has none: a reply). */
export function commentMode(form) {
  const internal = form.querySelector('input[name=internal]:checked');
  return internal && internal.value === 'true' ? 'note' : 'reply';
}

/**
 * The form's colour, hint and button follow the chosen tab; the button also says when
 * it will save the ticket form's changes (`withChanges`).
 */
export function showMode(form, t, withChanges) {
  const mode = commentMode(form);
  form.dataset.mode = mode;
  if (!form.querySelector('.comment-mode')) return;
  const button = form.querySelector('[type=submit]');
  button.textContent = t('comment.' + mode + (withChanges ? '_and_save' : '_send'));
  const hint = form.querySelector('.mode-hint');
  if (hint) hint.textContent = t('comment.' + mode + '_hint');
}

/** What is sent: the text, whether it is internal, and the files. */
export function commentData(form, files) {
  const data = new FormData();
  data.append('body', form.elements.body.value);
  if (form.querySelector('.comment-mode')) data.append('internal', commentMode(form) === 'note' ? 'true' : 'false');
  files.forEach((file) => data.append('file', file, file.name));
  return data;
}

/**
 * Binds every `form.comment-form`. `ticketForm` is the page's ticket form, when there is
 * one (`form`, `unsaved()`, `save()`): its changes are saved before the comment is sent.
 */
export function bindCommentForms(document, { api, explain, t, storage, ticketForm }) {
  document.querySelectorAll('form.comment-form').forEach((form) => {
    bindCommentForm(form, { api, explain, t, storage, ticketForm });
  });
}

function bindCommentForm(form, { api, explain, t, storage, ticketForm }) {
  const window = form.ownerDocument.defaultView;
  const draft = draftStore(storage, 'ictdesk:comment-draft:' + form.dataset.ticket);
  const files = pendingFiles(form, t);
  const text = form.elements.body;
  const error = form.querySelector('.form-error');
  const unsaved = () => text.value.trim() !== '';

  function track() {
    showMode(form, t, Boolean(ticketForm && ticketForm.unsaved()));
    text.classList.toggle('unsaved', unsaved());
    const note = form.querySelector('.unsaved-note');
    if (note) note.hidden = !unsaved();
    if (unsaved()) {
      form.dataset.dirty = '1';
      draft.save({ body: text.value, mode: commentMode(form) });
    } else {
      delete form.dataset.dirty;
      draft.clear();
    }
  }

  function restoreDraft() {
    const kept = draft.load();
    if (kept && typeof kept.body === 'string') {
      text.value = kept.body;
      const tab = form.querySelector('input[name=internal][value="' + (kept.mode === 'note') + '"]');
      if (tab) tab.checked = true;
    }
    track();
  }

  function showError(message) {
    error.textContent = message || '';
    error.hidden = !message;
  }

  async function send() {
    showError('');
    const button = form.querySelector('[type=submit]');
    button.disabled = true;
    try {
      // The ticket's changes first: a refused save keeps the reply unsent and typed.
      if (ticketForm && ticketForm.unsaved() && !(await ticketForm.save())) return;
      await api('POST', form.dataset.api, commentData(form, files.files()));
      text.value = '';
      files.clear();
      track();
    } catch (failure) {
      showError(explain(failure));
    } finally {
      button.disabled = false;
    }
  }

  form.addEventListener('input', track);
  form.addEventListener('change', track);
  if (ticketForm) ticketForm.form.addEventListener('ictdesk:tracked', track);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    send();
  });
  window.addEventListener('beforeunload', (event) => {
    if (!form.dataset.dirty) return;
    event.preventDefault();
    event.returnValue = '';
  });
  restoreDraft();
}
