/*
 * Parts a phone folds away (issue 17, point 13): `<button data-fold="id"
 * aria-expanded>` shows or hides the element `id` (the ticket list's counters and
 * filters) by its `open` class. Only the phone's stylesheet hides them; on a wider
 * screen the button is not shown and the part always is.
 */

export function bindFolds(document) {
  document.querySelectorAll('button[data-fold]').forEach((button) => {
    const part = document.getElementById(button.dataset.fold);
    if (!part) return;
    button.addEventListener('click', () => {
      const open = !part.classList.contains('open');
      part.classList.toggle('open', open);
      button.setAttribute('aria-expanded', String(open));
    });
  });
}
