/*
 * Files on a ticket's page: the comment form takes files by picker, by dropping them
 * on it and by pasting a screenshot into its text, and sends them with the comment in
 * one multipart request; the "Files" card uploads what is picked or dropped on it at
 * once. The page's live part then shows them (the server renders the thumbnails).
 */
(function () {
  'use strict';

  const configNode = document.getElementById('ictdesk-config');
  const stringsNode = document.getElementById('ictdesk-strings');
  const config = JSON.parse((configNode && configNode.textContent) || 'null') || {};
  const strings = JSON.parse((stringsNode && stringsNode.textContent) || '{}') || {};

  function t(key) {
    const args = Array.prototype.slice.call(arguments, 1);
    return (strings[key] || key).replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? '' : String(args[i])));
  }

  /** Posts a multipart form; resolves with the JSON answer, rejects with its message. */
  function send(url, data) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { Accept: 'application/json', 'X-CSRF-Token': config.csrfToken || '' },
      body: data,
    }).then((response) => response.text().then((text) => {
      let answer = null;
      try {
        answer = text ? JSON.parse(text) : null;
      } catch (error) {
        answer = null;
      }
      if (response.ok) return answer;
      const fields = answer && answer.fields ? Object.keys(answer.fields).map((f) => f + ': ' + answer.fields[f]) : [];
      throw new Error(fields.length ? fields.join('; ') : (answer && answer.error) || 'HTTP ' + response.status);
    }));
  }

  function showError(box, message) {
    if (!box) return;
    box.textContent = message || '';
    box.hidden = !message;
  }

  /** Files from a drop or a paste (a pasted screenshot gets a name with the time). */
  function filesOf(transfer) {
    const files = Array.prototype.slice.call((transfer && transfer.files) || []);
    return files.map((file) => {
      if (file.name && file.name !== 'image.png') return file;
      const stamp = new Date().toISOString().slice(0, 19).replace(/[T:]/g, '-');
      const ext = (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
      return new File([file], 'screenshot-' + stamp + '.' + ext, { type: file.type });
    });
  }

  /** A drop zone: highlights while files are dragged over it, hands dropped files on. */
  function dropZone(zone, take) {
    let depth = 0;
    zone.addEventListener('dragenter', (event) => {
      if (!event.dataTransfer || Array.prototype.indexOf.call(event.dataTransfer.types, 'Files') < 0) return;
      depth += 1;
      zone.classList.add('dragging');
    });
    zone.addEventListener('dragleave', () => {
      depth = Math.max(0, depth - 1);
      if (!depth) zone.classList.remove('dragging');
    });
    zone.addEventListener('dragover', (event) => {
      if (event.dataTransfer && Array.prototype.indexOf.call(event.dataTransfer.types, 'Files') >= 0) event.preventDefault();
    });
    zone.addEventListener('drop', (event) => {
      depth = 0;
      zone.classList.remove('dragging');
      const files = filesOf(event.dataTransfer);
      if (!files.length) return;
      event.preventDefault();
      take(files);
    });
  }

  // ---- The comment form: files go with the comment -------------------------------

  document.querySelectorAll('form.comment-form').forEach((form) => {
    const pending = [];
    const list = form.querySelector('.pending-files');
    const picker = form.querySelector('input[type=file]');
    const error = form.querySelector('.form-error');

    function render() {
      list.replaceChildren();
      pending.forEach((file, i) => {
        const item = document.createElement('li');
        item.className = 'chip';
        const name = document.createElement('span');
        name.textContent = file.name;
        const remove = document.createElement('button');
        remove.type = 'button';
        remove.className = 'text-button';
        remove.textContent = '×';
        remove.setAttribute('aria-label', t('files.remove', file.name));
        remove.addEventListener('click', () => {
          pending.splice(i, 1);
          render();
        });
        item.append(name, remove);
        list.appendChild(item);
      });
      list.hidden = !pending.length;
    }

    function take(files) {
      files.forEach((file) => pending.push(file));
      render();
    }

    picker.addEventListener('change', () => {
      take(Array.prototype.slice.call(picker.files));
      picker.value = '';
    });
    dropZone(form, take);
    form.elements.body.addEventListener('paste', (event) => {
      const files = filesOf(event.clipboardData);
      if (!files.length) return;
      event.preventDefault();
      take(files);
    });

    form.addEventListener('submit', (event) => {
      event.preventDefault();
      showError(error, '');
      const data = new FormData();
      data.append('body', form.elements.body.value);
      if (form.elements.internal) data.append('internal', form.elements.internal.checked ? 'true' : 'false');
      pending.forEach((file) => data.append('file', file, file.name));
      const button = form.querySelector('[type=submit]');
      button.disabled = true;
      send(form.dataset.api, data)
        .then(() => {
          form.reset();
          pending.length = 0;
          render();
        })
        .catch((failure) => showError(error, failure.message))
        .then(() => { button.disabled = false; });
    });
  });

  // ---- The files card: files on the ticket itself, uploaded at once --------------

  document.querySelectorAll('[data-upload]').forEach((card) => {
    const picker = card.querySelector('input[type=file]');
    const error = card.querySelector('.form-error');
    const status = card.querySelector('.upload-status');

    function upload(files) {
      if (!files.length) return;
      showError(error, '');
      const data = new FormData();
      files.forEach((file) => data.append('file', file, file.name));
      status.textContent = t('files.uploading', files.length);
      send(card.dataset.upload, data)
        .then(() => { status.textContent = t('files.uploaded', files.length); })
        .catch((failure) => {
          status.textContent = '';
          showError(error, failure.message);
        });
    }

    picker.addEventListener('change', () => {
      upload(Array.prototype.slice.call(picker.files));
      picker.value = '';
    });
    dropZone(card, upload);
  });
})();
