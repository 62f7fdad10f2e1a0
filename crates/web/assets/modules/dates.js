/*
 * Dates in the reader's locale: the server writes `<time datetime="…">` in UTC and the
 * page shows it as the reader's clock and language say.
 */

export function dateFormat(lang) {
  return new Intl.DateTimeFormat(lang, { dateStyle: 'medium', timeStyle: 'short' });
}

/** Every `<time datetime>` under `root`, formatted; the exact instant in its title. */
export function formatDates(root, format) {
  root.querySelectorAll('time[datetime]').forEach((node) => {
    const at = new Date(node.getAttribute('datetime'));
    if (!isNaN(at)) {
      node.textContent = format.format(at);
      node.title = at.toISOString();
    }
  });
}
