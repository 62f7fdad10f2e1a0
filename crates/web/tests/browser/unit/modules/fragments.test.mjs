import test from 'node:test';
import assert from 'node:assert/strict';
import { refreshFragment } from '../../../../assets/modules/fragments.js';
import { page, server } from './support.mjs';

const FORMS = `<div data-live-fragment="/tickets/7/live"><div data-version="1">old</div></div>
<form data-versioned id="untouched"><input name="version" value="1"><select name="status"><option value="new" selected>new</option><option value="resolved">resolved</option></select></form>
<form data-versioned id="edited" data-dirty="1"><input name="version" value="1"><select name="status"><option value="new" selected>new</option><option value="resolved">resolved</option></select></form>`;

test('the part is replaced; an untouched form follows the object, an edited one keeps its version', async (t) => {
  const http = await server({
    'GET /tickets/7/live': {
      type: 'text/html',
      body: '<div data-version="2" data-status="resolved">fresh <time datetime="2026-01-01T00:00:00Z"></time></div>',
    },
  });
  t.after(http.close);
  const document = page(FORMS);
  const holder = document.querySelector('[data-live-fragment]');
  let formatted = 0;
  await refreshFragment(holder, {
    fetch: http.fetch,
    formatDates: (root) => (formatted += root.querySelectorAll('time').length),
  });
  assert.match(holder.textContent, /fresh/);
  assert.equal(formatted, 1);
  const untouched = document.getElementById('untouched');
  assert.equal(untouched.elements.version.value, '2');
  assert.equal(untouched.elements.status.value, 'resolved');
  const edited = document.getElementById('edited');
  assert.equal(edited.elements.version.value, '1');
  assert.equal(edited.elements.status.value, 'new');
});
