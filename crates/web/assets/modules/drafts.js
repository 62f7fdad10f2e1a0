/*
 * Drafts kept in this browser (localStorage) so that typed work survives a reload or a
 * crash until it is saved: the ticket form's unsaved fields, a comment being written.
 */

/** `load()`, `save(value)` and `clear()` for one key; a failing storage keeps nothing. */
export function draftStore(storage, key) {
  return {
    load() {
      try {
        return JSON.parse(storage.getItem(key) || 'null');
      } catch {
        return null;
      }
    },
    save(value) {
      try {
        storage.setItem(key, JSON.stringify(value));
      } catch {
        // Private mode or a full storage: the draft lives only as long as the page.
      }
    },
    clear() {
      try {
        storage.removeItem(key);
      } catch {
        // As above: nothing was kept.
      }
    },
  };
}
