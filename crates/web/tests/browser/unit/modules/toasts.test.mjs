import test from 'node:test';
import assert from 'node:assert/strict';
import { MAX_TOASTS, createToasts } from '../../../../assets/modules/toasts.js';
import { translator } from '../../../../assets/modules/strings.js';
import { manualTimers, page } from './support.mjs';

test('toasts keep the newest few and leave when their time is up', () => {
  const document = page('<div id="toasts"></div>');
  const box = document.getElementById('toasts');
  const timers = manualTimers();
  const show = createToasts(box, { t: translator({ 'toast.by': 'by {0}' }), ...timers });
  show({ text: 'Ticket #7', href: '/tickets/7', by: 'Ada', level: 'warning' });
  const first = box.firstElementChild;
  assert.equal(first.tagName, 'A');
  assert.equal(first.className, 'toast toast-warning');
  assert.equal(first.textContent, 'Ticket #7by Ada');
  for (let i = 0; i < MAX_TOASTS; i++) show({ text: 'more ' + i });
  assert.equal(box.children.length, MAX_TOASTS);
  assert.ok(!first.isConnected, 'the oldest went');
  timers.run(); // their time is up: they start leaving
  assert.ok(Array.from(box.children).every((node) => node.classList.contains('leaving')));
  timers.run(); // and are gone
  assert.equal(box.children.length, 0);
});

test('a toast under the pointer stays until the pointer leaves', () => {
  const document = page('<div id="toasts"></div>');
  const box = document.getElementById('toasts');
  const timers = manualTimers();
  createToasts(box, { t: translator({}), ...timers })({ text: 'read me' });
  box.firstElementChild.dispatchEvent(new document.defaultView.Event('mouseenter'));
  assert.equal(timers.pending(), 0);
  box.firstElementChild.dispatchEvent(new document.defaultView.Event('mouseleave'));
  assert.equal(timers.pending(), 1);
});

test('a critical notice carries its message and stays until clicked', () => {
  const document = page('<div id="toasts"></div>');
  const box = document.getElementById('toasts');
  const timers = manualTimers();
  const show = createToasts(box, { t: translator({ 'toast.dismiss': 'Click to close' }), ...timers });
  show({ text: 'Mail is down', detail: 'Back at noon', level: 'critical', sticky: true });
  const node = box.firstElementChild;
  assert.equal(node.querySelector('.toast-detail').textContent, 'Back at noon');
  assert.equal(node.title, 'Click to close');
  assert.equal(timers.pending(), 0, 'no timer takes it away');
  node.dispatchEvent(new document.defaultView.MouseEvent('click', { bubbles: true }));
  assert.ok(node.classList.contains('leaving'));
  timers.run();
  assert.equal(box.children.length, 0);
});
