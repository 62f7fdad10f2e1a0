/*
 * Refreshing, coalesced. A burst of events becomes one fetch per page part: the part
 * is the current truth, whatever number of events led to it. One fetch per part at a
 * time; a request during a fetch asks for one more afterwards.
 *
 * The person's own save refreshes once: the save's event (they are in its audience
 * unless, say, they wrote a notification for someone else) does it, and only when no
 * event of theirs arrives within OWN_CHANGE_WAIT_MS does the page refresh by itself
 * (an edit that changed nothing has no event).
 */

export const COALESCE_MS = 50;
export const OWN_CHANGE_WAIT_MS = 3000;

/** `request(key, fetchPart)` asks for a refresh of one part; `fetchPart` returns a promise. */
export function createRefresher({ setTimeout }) {
  const dirty = new Map(); // key → fetchPart, waiting for the next tick
  const running = new Map(); // key → whether it must run again when done
  let scheduled = false;

  function run(key, fetchPart) {
    if (running.has(key)) {
      running.set(key, true);
      return;
    }
    running.set(key, false);
    Promise.resolve()
      .then(fetchPart)
      .catch(() => {})
      .then(() => {
        const again = running.get(key);
        running.delete(key);
        if (again) run(key, fetchPart);
      });
  }

  return function request(key, fetchPart) {
    dirty.set(key, fetchPart);
    if (scheduled) return;
    scheduled = true;
    setTimeout(() => {
      scheduled = false;
      const due = Array.from(dirty);
      dirty.clear();
      due.forEach(([dueKey, dueFetch]) => run(dueKey, dueFetch));
    }, COALESCE_MS);
  };
}

/**
 * `saved()` after the person's own change; `heard(event)` for each event. Calls
 * `refreshAll` only when no event by `userId` follows a save in time.
 */
export function awaitOwnEvents({ userId, refreshAll, setTimeout, clearTimeout }) {
  let timer = null;
  return {
    saved() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        refreshAll();
      }, OWN_CHANGE_WAIT_MS);
    },
    heard(event) {
      const actor = event.data && event.data.actor;
      if (timer === null || !actor || actor.id !== userId) return;
      clearTimeout(timer);
      timer = null;
    },
  };
}
