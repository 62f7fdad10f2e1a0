import test from 'node:test';
import assert from 'node:assert/strict';
import { bindListFilters } from '../../../../assets/modules/list-filters.js';
import { page } from './support.mjs';

test('a filter applies when a select changes; typing in the search box waits for its button', () => {
  const document = page(`<form data-apply-on-change><input type="search" name="q">
    <select name="status"><option value="open">open</option><option value="all">all</option></select></form>`);
  const form = document.querySelector('form');
  let submitted = 0;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submitted += 1;
  });
  bindListFilters(document);
  const fire = (node) => node.dispatchEvent(new document.defaultView.Event('change', { bubbles: true }));
  fire(form.elements.q);
  assert.equal(submitted, 0);
  form.elements.status.value = 'all';
  fire(form.elements.status);
  assert.equal(submitted, 1);
});
