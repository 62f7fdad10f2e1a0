import test from 'node:test';
import assert from 'node:assert/strict';
import { readJson, translator } from '../../../../assets/modules/strings.js';
import { page } from './support.mjs';

test('a string gets its arguments in place, and a missing key shows itself', () => {
  const t = translator({ 'toast.by': 'by {0}', pair: '{1} and {0}' });
  assert.equal(t('toast.by', 'Ada'), 'by Ada');
  assert.equal(t('pair', 'a', 'b'), 'b and a');
  assert.equal(t('pair', 'a'), ' and a');
  assert.equal(t('no.such.key'), 'no.such.key');
});

test('the page settings are read as JSON, and unreadable ones are null', () => {
  const document = page(
    '<script type="application/json" id="good">{"userId": 3}</script><script type="application/json" id="bad">{</script>',
  );
  assert.deepEqual(readJson(document, 'good'), { userId: 3 });
  assert.equal(readJson(document, 'bad'), null);
  assert.equal(readJson(document, 'missing'), null);
});
