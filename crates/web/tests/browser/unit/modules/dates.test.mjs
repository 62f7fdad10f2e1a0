import test from 'node:test';
import assert from 'node:assert/strict';
import { dateFormat, formatDates } from '../../../../assets/modules/dates.js';
import { page } from './support.mjs';

test('times are shown in the reader locale with the exact instant as their title', () => {
  const document = page('<time datetime="2026-11-23T09:14:03Z">raw</time><time datetime="not a date">raw</time>');
  const format = dateFormat('en');
  formatDates(document.body, format);
  const [good, bad] = document.querySelectorAll('time');
  assert.equal(good.textContent, format.format(new Date('2026-11-23T09:14:03Z')));
  assert.equal(good.title, '2026-11-23T09:14:03.000Z');
  assert.equal(bad.textContent, 'raw');
});
