/*
 * Files on a ticket's page: the comment form takes files by picker, by dropping them
 * on it and by pasting a screenshot into its text (the form sends them with the comment,
 * comments.js); the "Files" card uploads what is picked or dropped on it at once. The
 * page's live part then shows them (the server renders the thumbnails).
 */

/** Files from a drop or a paste (a pasted screenshot gets a name with the time). */
export function filesOf(transfer, now = new Date()) {
  const files = Array.from((transfer && transfer.files) || []);
  return files.map((file) => {
    if (file.name && file.name !== 'image.png') return file;
    const stamp = now.toISOString().slice(0, 19).replace(/[T:]/g, '-');
    const ext = (file.type.split('/')[1] || 'png').replace('jpeg', 'jpg');
    return new File([file], 'screenshot-' + stamp + '.' + ext, { type: file.type });
  });
}

function carriesFiles(event) {
  return Boolean(event.dataTransfer && Array.from(event.dataTransfer.types).includes('Files'));
}

/** A drop zone: highlights while files are dragged over it, hands dropped files on. */
export function dropZone(zone, take) {
  let depth = 0;
  zone.addEventListener('dragenter', (event) => {
    if (!carriesFiles(event)) return;
    depth += 1;
    zone.classList.add('dragging');
  });
  zone.addEventListener('dragleave', () => {
    depth = Math.max(0, depth - 1);
    if (!depth) zone.classList.remove('dragging');
  });
  zone.addEventListener('dragover', (event) => {
    if (carriesFiles(event)) event.preventDefault();
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

/**
 * The files waiting to go with a comment: listed as chips under the form, each with a
 * button that removes it. `files()` are the ones left; `clear()` after sending.
 */
export function pendingFiles(form, t) {
  const pending = [];
  const list = form.querySelector('.pending-files');
  const picker = form.querySelector('input[type=file]');

  function render() {
    list.replaceChildren(...pending.map(chip));
    list.hidden = !pending.length;
  }

  function chip(file, i) {
    const document = form.ownerDocument;
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
    return item;
  }

  function take(files) {
    pending.push(...files);
    render();
  }

  picker.addEventListener('change', () => {
    take(Array.from(picker.files));
    picker.value = '';
  });
  dropZone(form, take);
  form.elements.body.addEventListener('paste', (event) => {
    const files = filesOf(event.clipboardData);
    if (!files.length) return;
    event.preventDefault();
    take(files);
  });
  return {
    files: () => pending.slice(),
    clear() {
      pending.length = 0;
      render();
    },
  };
}

/** Every `[data-upload]` card uploads what is picked or dropped on it at once. */
export function bindUploadCards(document, { api, explain, t }) {
  document.querySelectorAll('[data-upload]').forEach((card) => {
    const picker = card.querySelector('input[type=file]');
    const error = card.querySelector('.form-error');
    const status = card.querySelector('.upload-status');

    async function upload(files) {
      if (!files.length) return;
      showError(error, '');
      const data = new FormData();
      files.forEach((file) => data.append('file', file, file.name));
      status.textContent = t('files.uploading', files.length);
      try {
        await api('POST', card.dataset.upload, data);
        status.textContent = t('files.uploaded', files.length);
      } catch (failure) {
        status.textContent = '';
        showError(error, explain(failure));
      }
    }

    picker.addEventListener('change', () => {
      upload(Array.from(picker.files));
      picker.value = '';
    });
    dropZone(card, upload);
  });
}

function showError(box, message) {
  box.textContent = message || '';
  box.hidden = !message;
}
