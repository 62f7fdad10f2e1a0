/*
 * Server-rendered parts of a page (docs/architecture.md, "Pages are server-rendered
 * fragments"): fetched as HTML, parsed, and marked when they changed.
 */

export async function fetchHtml(fetch, url) {
  const response = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
  if (!response.ok) throw new Error('HTTP ' + response.status);
  return new DOMParser().parseFromString(await response.text(), 'text/html');
}

/** Plays the "just changed" animation again, even on a node that is still playing it. */
export function flash(node) {
  node.classList.remove('flash');
  void node.offsetWidth; // restart the animation
  node.classList.add('flash');
}
