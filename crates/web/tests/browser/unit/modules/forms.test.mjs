import test from 'node:test';
import assert from 'node:assert/strict';
import { acceptCurrent, bindButtons, bindForms, formBody } from '../../../../assets/modules/forms.js';
import { createApi } from '../../../../assets/modules/api.js';
import { page, server, until } from './support.mjs';

const FORM = `<form class="api-form" data-api="/api/v1/tickets/7" data-method="PATCH">
  <input type="hidden" name="version" value="3" data-type="int">
  <input name="title" value=" Printer ">
  <select name="priority" data-skip-unchanged><option value="low" selected>low</option><option value="high">high</option></select>
  <select name="assignee_id" data-nullable data-type="int"><option value="">nobody</option><option value="2">Ada</option></select>
  <input name="note" value="" data-skip-empty>
  <input name="resolution" value="">
  <input type="checkbox" name="internal" checked>
  <input name="off" value="x" disabled>
  <p class="form-error" hidden></p><button type="submit">Save</button>
</form>`;

test('a form becomes the body the API wants', () => {
  const form = page(FORM).querySelector('form');
  assert.deepEqual(formBody(form), { version: 3, title: 'Printer', assignee_id: null, resolution: '', internal: true });
  form.elements.priority.value = 'high';
  form.elements.assignee_id.value = '2';
  assert.deepEqual(formBody(form), {
    version: 3,
    title: 'Printer',
    priority: 'high',
    assignee_id: 2,
    resolution: '',
    internal: true,
  });
});

test('a multiple choice is sent as a list of its chosen values, an empty one too', () => {
  const form = page(`<form class="api-form">
    <select name="member_ids" data-type="int" multiple>
      <option value="2" selected>Ada</option><option value="5">Bob</option><option value="9" selected>Eve</option>
    </select>
    <select name="tags" multiple><option value="a">a</option></select>
  </form>`).querySelector('form');
  assert.deepEqual(formBody(form), { member_ids: [2, 9], tags: [] });
  form.elements.member_ids.options[0].selected = false;
  assert.deepEqual(formBody(form), { member_ids: [9], tags: [] });
});

test('after a save the saved values are the form initial ones', () => {
  const form = page(FORM).querySelector('form');
  form.elements.priority.value = 'high';
  form.elements.resolution.value = 'done';
  acceptCurrent(form, { version: 4, priority: 'high', assignee_id: null });
  form.reset();
  assert.equal(form.elements.version.value, '4');
  assert.equal(form.elements.priority.value, 'high');
  assert.equal(form.elements.resolution.value, '');
});

test('a saved form tells it was saved once; a refused one shows why', async (t) => {
  let answer = { status: 200, body: { id: 7, version: 4, title: 'Printer', priority: 'low' } };
  const http = await server({ 'PATCH /api/v1/tickets/7': () => answer });
  t.after(http.close);
  const document = page(FORM);
  const form = document.querySelector('form');
  let saves = 0;
  bindForms(document, {
    api: createApi({ fetch: http.fetch }),
    explain: (e) => e.message,
    saved: () => saves++,
    location: {},
  });
  form.dispatchEvent(new document.defaultView.Event('input'));
  assert.equal(form.dataset.dirty, '1');
  form.requestSubmit();
  await until('the save', () => saves === 1);
  assert.equal(form.dataset.dirty, undefined);
  assert.equal(form.elements.version.value, '4');
  answer = { status: 409, body: { error: 'changed meanwhile' } };
  form.requestSubmit();
  await until('the refusal', () => !form.querySelector('.form-error').hidden);
  assert.equal(form.querySelector('.form-error').textContent, 'changed meanwhile');
  assert.equal(saves, 1);
});

test('a button posts its fixed body', async (t) => {
  const http = await server({ 'POST /api/v1/users/3/block': { body: { ok: true } } });
  t.after(http.close);
  const document = page(
    '<button data-api="/api/v1/users/3/block" data-body=\'{"reason":"left"}\'>Block</button><button data-api="/nowhere">x</button>',
  );
  const outcomes = [];
  bindButtons(document, {
    api: createApi({ fetch: http.fetch }),
    saved: () => outcomes.push('saved'),
    failed: (e) => outcomes.push(e.status),
  });
  const [block, broken] = document.querySelectorAll('button');
  block.click();
  await until('the post', () => outcomes.length === 1);
  assert.deepEqual(http.requests[0].body, { reason: 'left' });
  broken.click();
  await until('the refusal', () => outcomes.length === 2);
  assert.deepEqual(outcomes, ['saved', 404]);
});
