/*
 * Live page parts: `<div data-live-fragment="url" data-live-key="ticket" data-live-id="7">`
 * (a ticket, a piece of equipment, an article), fetched again whole when an event
 * concerns them.
 */

import { setDefault } from './forms.js';
import { fetchHtml } from './html.js';

export async function refreshFragment(holder, { fetch, formatDates }) {
  const doc = await fetchHtml(fetch, holder.dataset.liveFragment);
  formatDates(doc.body);
  holder.replaceChildren(...doc.body.childNodes);
  const fresh = holder.firstElementChild;
  // An untouched form follows the object; a form being edited keeps the version it
  // was opened with, so saving it answers "changed by X since you opened it".
  holder.ownerDocument.querySelectorAll('form[data-versioned]').forEach((form) => {
    if (form.dataset.dirty || !fresh || !fresh.dataset.version) return;
    form.elements.version.value = fresh.dataset.version;
    form.elements.version.defaultValue = fresh.dataset.version;
    followObject(form, fresh);
  });
}

/** The ticket form's selects follow the ticket while nobody is editing them. */
export function followObject(form, fresh) {
  ['status', 'priority', 'assignee'].forEach((key) => {
    const field = form.elements[key === 'assignee' ? 'assignee_id' : key];
    if (field && fresh.dataset[key] !== undefined) setDefault(field, fresh.dataset[key]);
  });
}
