/*
 * Forms and buttons that talk to the JSON API instead of posting a page:
 * `<form class="api-form" data-api data-method data-after>` and
 * `<button data-api data-method data-body>`.
 */

/** The form's fields as the API wants them (`data-type="int"`, `data-nullable`, `multiple`, …). */
export function formBody(form) {
  const body = {};
  for (const field of form.elements) {
    if (!field.name || field.disabled) continue;
    if (field.type === 'checkbox') {
      body[field.name] = field.checked;
      continue;
    }
    if (field.type === 'select-multiple') {
      // A list of choices, such as a team's members: always sent, an empty list too.
      const chosen = Array.from(field.selectedOptions, (option) => option.value);
      body[field.name] = field.dataset.type === 'int' ? chosen.map((v) => parseInt(v, 10)) : chosen;
      continue;
    }
    let value = field.value.trim();
    if (field.hasAttribute('data-skip-unchanged') && field.value === initialValue(field)) continue;
    if (value === '') {
      if (field.hasAttribute('data-nullable')) body[field.name] = null;
      else if (!field.hasAttribute('data-skip-empty') && field.type !== 'hidden') body[field.name] = '';
      continue;
    }
    if (field.dataset.type === 'int') value = parseInt(value, 10);
    // The reader's local time, as the API wants it: RFC 3339 with the offset.
    if (field.type === 'datetime-local') value = new Date(value).toISOString();
    body[field.name] = value;
  }
  return body;
}

/** What the field held when the page (or the last save) set it. */
export function initialValue(field) {
  if (field.tagName === 'SELECT') {
    const selected = Array.from(field.options).find((option) => option.defaultSelected);
    return selected ? selected.value : field.options.length ? field.options[0].value : '';
  }
  return field.defaultValue;
}

/** Makes `value` the field's current and initial value. */
export function setDefault(field, value) {
  if (field.tagName === 'SELECT') {
    for (const option of field.options) option.defaultSelected = option.value === value;
  } else {
    field.defaultValue = value;
  }
  field.value = value;
}

/** After our own save, the form's values and version are the current ones. */
export function acceptCurrent(form, saved) {
  for (const field of form.elements) {
    if (!field.name || !(field.name in saved)) continue;
    if (field.type === 'checkbox') {
      field.defaultChecked = field.checked = saved[field.name] === true;
      continue;
    }
    setDefault(field, saved[field.name] === null ? '' : String(saved[field.name]));
  }
  if (form.elements.resolution) setDefault(form.elements.resolution, '');
}

export function showError(form, message) {
  const box = form.querySelector('.form-error');
  if (!box) return;
  box.textContent = message || '';
  box.hidden = !message;
}

/**
 * Sends every `form.api-form` under `root` to its endpoint. A form being edited is
 * marked `data-dirty` (live refreshes leave its version alone); `data-after` says what
 * follows a save: `refresh` (the default: the form keeps the saved values), `open:/path/`
 * (go to the new object), anything else (the form is emptied).
 */
export function bindForms(root, { api, explain, saved, location }) {
  root.querySelectorAll('form.api-form').forEach((form) => {
    form.addEventListener('input', () => {
      form.dataset.dirty = '1';
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      showError(form, '');
      const button = form.querySelector('[type=submit]');
      if (button) button.disabled = true;
      try {
        const result = await api(form.dataset.method || 'POST', form.dataset.api, formBody(form));
        delete form.dataset.dirty;
        const after = form.dataset.after || 'refresh';
        if (after.startsWith('open:')) {
          location.href = after.slice(5) + result.id;
          return;
        }
        form.reset();
        if (after === 'refresh') acceptCurrent(form, result);
        saved();
      } catch (error) {
        showError(form, explain(error));
      } finally {
        if (button) button.disabled = false;
      }
    });
  });
}

/** Buttons that post a fixed body (block / unblock, delete a file). */
export function bindButtons(document, { api, saved, failed }) {
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-api]');
    if (!button) return;
    button.disabled = true;
    try {
      await api(button.dataset.method || 'POST', button.dataset.api, buttonBody(button));
      saved();
    } catch (error) {
      failed(error);
    } finally {
      button.disabled = false;
    }
  });
}

function buttonBody(button) {
  try {
    return JSON.parse(button.dataset.body || '{}');
  } catch {
    return {};
  }
}
