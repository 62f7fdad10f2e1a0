import test from 'node:test';
import assert from 'node:assert/strict';
import { bindFolds } from '../../../../assets/modules/fold.js';
import { page } from './support.mjs';

test('the fold button opens and closes its part and says which it is', () => {
  const document = page(
    '<button data-fold="tools" aria-expanded="false">Filters</button><div id="tools"></div><button data-fold="gone">x</button>',
  );
  bindFolds(document);
  const [button] = document.querySelectorAll('button');
  const tools = document.getElementById('tools');
  button.click();
  assert.equal(tools.classList.contains('open'), true);
  assert.equal(button.getAttribute('aria-expanded'), 'true');
  button.click();
  assert.equal(tools.classList.contains('open'), false);
  assert.equal(button.getAttribute('aria-expanded'), 'false');
});
