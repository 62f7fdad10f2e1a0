/*
 * Page parts that show things with an end (`data-expiring`: the banner of notices, the
 * notices list): fetched again when the soonest `data-expires` inside passes, so an
 * expired notice leaves without an event — expiry is a time, not a change.
 */

/** The longest wait a timer takes (about 24 days); a later end is looked at again then. */
export const LONGEST_WAIT_MS = 2 ** 31 - 1;
/** At least this long between fetches, should the server's clock be behind ours. */
export const SHORTEST_WAIT_MS = 1000;

/** The soonest end under `holder`, in milliseconds since the epoch, or null. */
export function soonestEnd(holder) {
  const ends = Array.from(holder.querySelectorAll('[data-expires]'), (node) => Date.parse(node.dataset.expires));
  const valid = ends.filter(Number.isFinite);
  return valid.length ? Math.min(...valid) : null;
}

/**
 * Calls `refresh()` when the soonest end under `holder` passes, and again for the next
 * one after each change of the holder's content (a refresh, a live update).
 */
export function watchExpiry(holder, { refresh, now, setTimeout, clearTimeout, MutationObserver }) {
  let timer = null;
  function arm() {
    clearTimeout(timer);
    timer = null;
    const end = soonestEnd(holder);
    if (end === null) return;
    const wait = Math.min(Math.max(end - now(), SHORTEST_WAIT_MS), LONGEST_WAIT_MS);
    timer = setTimeout(() => {
      Promise.resolve(refresh()).catch(() => arm());
    }, wait);
  }
  new MutationObserver(arm).observe(holder, { childList: true });
  arm();
}
