/*
 * Live lists: `<table data-live-rows="url" data-live-list="kind" data-live-insert="top">`.
 * An event fetches the rows again; a row changes in place (keeping its selection) only
 * when the server's is newer; new rows go on top at once, or wait behind an "N new —
 * show" marker while someone works on the list.
 */

import { fetchHtml, flash } from './html.js';

/** Someone working on the list: a row selected, a field focused, or scrolled away. */
export function interacting(table) {
  if (table.querySelector('tbody input[type=checkbox]:checked')) return true;
  const document = table.ownerDocument;
  const active = document.activeElement;
  if (active && active !== document.body && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName)) return true;
  if (document.querySelector('form.api-form[data-dirty]')) return true;
  return document.defaultView.scrollY > 150 || table.matches(':hover');
}

/** Replaces a row only when it changed, keeping its selection. */
export function patchRow(current, row, formatDates) {
  // Only forward: an answer that raced a newer one must not undo it.
  if (Number(row.dataset.version) <= Number(current.dataset.version)) return;
  const box = current.querySelector('input[type=checkbox]');
  const checked = box && box.checked;
  formatDates(row);
  current.replaceWith(row);
  if (checked) row.querySelector('input[type=checkbox]').checked = true;
  flash(row);
}

/** One live list: `touch(ticketId)` notes a ticket an event named; `refresh()` fetches. */
export function createLiveList(table, { fetch, formatDates, t }) {
  const body = table.tBodies[0];
  const rowOf = (id) => body.querySelector('tr[data-id="' + id + '"]');
  let touched = new Set(); // tickets named by events since the last refresh
  let waiting = []; // rows behind the marker

  async function refresh() {
    const named = touched;
    touched = new Set();
    const fresh = (await fetchHtml(fetch, table.dataset.liveRows)).querySelectorAll('tbody > tr[data-id]');
    const incoming = [];
    const seen = new Set();
    fresh.forEach((row) => {
      seen.add(row.dataset.id);
      const current = rowOf(row.dataset.id);
      if (current) patchRow(current, row, formatDates);
      else incoming.push(row);
    });
    // A changed ticket that left this page's filter still shows the truth: fetched alone.
    named.forEach((id) => {
      if (rowOf(id) && !seen.has(String(id))) refreshAlone(id).catch(() => {});
    });
    if (!table.dataset.liveInsert || !incoming.length) return;
    incoming.forEach((row) => {
      if (!waiting.some((w) => w.dataset.id === row.dataset.id)) waiting.push(row);
    });
    if (interacting(table)) showMarker();
    else showWaiting();
  }

  async function refreshAlone(id) {
    const fresher = (await fetchHtml(fetch, '/tickets/' + id + '/row')).querySelector('tr[data-id]');
    const row = rowOf(id);
    if (fresher && row) patchRow(row, fresher, formatDates);
  }

  function showWaiting() {
    const rows = waiting;
    waiting = [];
    rows
      .slice()
      .reverse()
      .forEach((row) => {
        if (rowOf(row.dataset.id)) return;
        formatDates(row);
        body.insertBefore(row, body.firstChild);
        flash(row);
      });
    const marker = markerOf(table);
    if (marker) marker.hidden = true;
    const empty = table.parentNode.querySelector('.empty');
    if (empty && rows.length) empty.hidden = true;
  }

  function showMarker() {
    const marker = markerOf(table);
    if (!marker || !marker.classList.contains('new-rows')) return;
    marker.textContent = t('common.new_rows', waiting.length);
    marker.hidden = false;
    marker.onclick = showWaiting;
  }

  return {
    kind: table.dataset.liveList,
    touch: (id) => touched.add(id),
    refresh,
  };
}

function markerOf(table) {
  const wrap = table.closest('.table-wrap');
  return wrap ? wrap.previousElementSibling : null;
}

/** Clicking anywhere on a linked row opens it (the link inside stays the real target). */
export function bindRowLinks(document, location) {
  document.addEventListener('click', (event) => {
    const row = event.target.closest('tr[data-href]');
    if (!row || event.target.closest('a, button, input, label')) return;
    location.href = row.dataset.href;
  });
}
