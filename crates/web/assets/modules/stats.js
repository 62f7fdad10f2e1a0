/*
 * The ticket statistics (`<div data-live-stats="url">` holding `#stats`): fetched again
 * on ticket events; only the numbers that changed are replaced, and flash.
 */

import { fetchHtml, flash } from './html.js';

export async function refreshStats(holder, { fetch }) {
  const fresh = (await fetchHtml(fetch, holder.dataset.liveStats)).getElementById('stats');
  const current = holder.ownerDocument.getElementById('stats');
  if (!fresh || !current) return;
  fresh.querySelectorAll('[data-stat]').forEach((number) => {
    const old = current.querySelector('[data-stat="' + number.dataset.stat + '"]');
    if (old && old.textContent !== number.textContent) {
      old.textContent = number.textContent;
      flash(old.parentNode);
    }
  });
}
