/*
 * Toasts: short notices in the corner, at most five, each for five seconds — the time
 * starts again when the pointer leaves it, so there is time to read.
 */

export const MAX_TOASTS = 5;
export const TOAST_MS = 5000;

/** `show({text, href?, level?, by?})` into `box`. */
export function createToasts(box, { t, setTimeout, clearTimeout }) {
  function dismiss(node) {
    node.classList.add('leaving');
    setTimeout(() => node.remove(), 300);
  }

  return function show({ text, href, level, by }) {
    const node = box.ownerDocument.createElement(href ? 'a' : 'div');
    node.className = 'toast' + (level ? ' toast-' + level : '');
    if (href) node.href = href;
    node.setAttribute('role', 'status');
    const line = box.ownerDocument.createElement('span');
    line.className = 'toast-text';
    line.textContent = text;
    node.appendChild(line);
    if (by) {
      const small = box.ownerDocument.createElement('small');
      small.textContent = t('toast.by', by);
      node.appendChild(small);
    }
    box.appendChild(node);
    while (box.children.length > MAX_TOASTS) box.removeChild(box.firstElementChild);
    let timer = null;
    const arm = () => {
      timer = setTimeout(() => dismiss(node), TOAST_MS);
    };
    node.addEventListener('mouseenter', () => clearTimeout(timer));
    node.addEventListener('mouseleave', arm);
    arm();
  };
}
