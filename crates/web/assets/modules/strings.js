/*
 * The page's settings and strings, which the server writes into the page as JSON
 * (`#ictdesk-config`, `#ictdesk-strings`), and filling in a string's {0}, {1}….
 */

/** The JSON in the element with this id, or null when it is missing or unreadable. */
export function readJson(document, id) {
  const node = document.getElementById(id);
  try {
    return node ? JSON.parse(node.textContent) : null;
  } catch {
    return null;
  }
}

/** A `t(key, ...args)` over a catalog: the key itself when the catalog lacks it. */
export function translator(strings) {
  return (key, ...args) =>
    (strings[key] || key).replace(/\{(\d)\}/g, (_, i) => (args[i] === undefined ? '' : String(args[i])));
}
