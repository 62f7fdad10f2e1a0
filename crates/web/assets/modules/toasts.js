/*
 * Toasts: short notices in the corner, at most five, each for five seconds — the time
 * starts again when the pointer leaves it, so there is time to read. A sticky one (a
 * critical notice) stays until it is clicked: it must not pass unseen.
 */

export const MAX_TOASTS = 5;
export const TOAST_MS = 5000;

/** `show({text, href?, level?, by?})` into `box`. */
export function createToasts(box, { t, setTimeout, clearTimeout }) {
  function dismiss(node) {
    node.classList.add('leaving');
    setTimeout(() => node.remove(), 300);
  }

  return function show({ text, detail, href, level, by, sticky }) {
    const node = box.ownerDocument.createElement(href ? 'a' : 'div');
    node.className = 'toast' + (level ? ' toast-' + level : '');
    if (href) node.href = href;
    node.setAttribute('role', 'status');
    const line = box.ownerDocument.createElement('span');
    line.className = 'toast-text';
    line.textContent = text;
    node.appendChild(line);
    if (detail) {
      const more = box.ownerDocument.createElement('span');
      more.className = 'toast-detail';
      more.textContent = detail;
      node.appendChild(more);
    }
    if (by) {
      const small = box.ownerDocument.createElement('small');
      small.textContent = t('toast.by', by);
      node.appendChild(small);
    }
    box.appendChild(node);
    while (box.children.length > MAX_TOASTS) box.removeChild(box.firstElementChild);
    if (sticky) {
      node.classList.add('toast-sticky');
      node.title = t('toast.dismiss');
      node.addEventListener('click', () => dismiss(node));
      return;
    }
    let timer = null;
    const arm = () => {
      timer = setTimeout(() => dismiss(node), TOAST_MS);
    };
    node.addEventListener('mouseenter', () => clearTimeout(timer));
    node.addEventListener('mouseleave', arm);
    arm();
  };
}
