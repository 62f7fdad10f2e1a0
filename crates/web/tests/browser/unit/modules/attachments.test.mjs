import test from 'node:test';
import assert from 'node:assert/strict';
import { bindUploadCards, filesOf, pendingFiles } from '../../../../assets/modules/attachments.js';
import { createApi, explain } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, until } from './support.mjs';

const tr = translator({
  'files.remove': 'Remove {0}',
  'files.uploading': 'Uploading {0}…',
  'files.uploaded': '{0} uploaded',
});

test('a pasted screenshot gets a name with the time; a named file keeps its name', () => {
  const shot = new File(['png'], 'image.png', { type: 'image/png' });
  const report = new File(['pdf'], 'report.pdf', { type: 'application/pdf' });
  const named = filesOf({ files: [shot, report] }, new Date('2026-12-01T10:20:30Z'));
  assert.deepEqual(
    named.map((file) => file.name),
    ['screenshot-2026-12-01-10-20-30.png', 'report.pdf'],
  );
  assert.deepEqual(filesOf(null), []);
});

test('pasted files wait as chips that can be removed', () => {
  const document = page(
    '<form><textarea name="body"></textarea><ul class="pending-files" hidden></ul><input type="file"></form>',
  );
  const form = document.querySelector('form');
  const pending = pendingFiles(form, tr);
  const paste = new document.defaultView.Event('paste', { cancelable: true });
  paste.clipboardData = { files: [new File(['a'], 'a.txt'), new File(['b'], 'b.txt')] };
  form.elements.body.dispatchEvent(paste);
  assert.equal(paste.defaultPrevented, true);
  assert.deepEqual(
    pending.files().map((f) => f.name),
    ['a.txt', 'b.txt'],
  );
  const remove = form.querySelector('button[aria-label="Remove a.txt"]');
  remove.click();
  assert.deepEqual(
    pending.files().map((f) => f.name),
    ['b.txt'],
  );
  pending.clear();
  assert.equal(form.querySelector('.pending-files').hidden, true);
});

test('the files card uploads at once and says how it went', async (t) => {
  let refuse = false;
  const http = await server({
    'POST /api/v1/tickets/7/attachments': () =>
      refuse ? { status: 413, body: { error: 'file too large' } } : { status: 201, body: { attachments: [] } },
  });
  t.after(http.close);
  const document = page(`<section data-upload="/api/v1/tickets/7/attachments">
    <input type="file"><p class="upload-status"></p><p class="form-error" hidden></p></section>`);
  bindUploadCards(document, { api: createApi({ fetch: http.fetch }), explain: (e) => explain(e, tr), t: tr });
  const card = document.querySelector('[data-upload]');
  const drop = (files) => {
    const event = new document.defaultView.Event('drop', { cancelable: true });
    event.dataTransfer = { files, types: ['Files'] };
    card.dispatchEvent(event);
  };
  drop([new File(['x'], 'log.txt', { type: 'text/plain' })]);
  await until('the upload', () => card.querySelector('.upload-status').textContent === '1 uploaded');
  assert.match(http.requests[0].headers['content-type'], /^multipart\/form-data; boundary=/);
  assert.match(http.requests[0].body, /name="file"; filename="log.txt"/);
  refuse = true;
  drop([new File(['x'], 'big.iso')]);
  await until('the refusal', () => !card.querySelector('.form-error').hidden);
  assert.equal(card.querySelector('.form-error').textContent, 'file too large');
});
