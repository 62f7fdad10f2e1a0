/*
 * A list's filters apply as soon as one changes (issue 17, point 6): the form is sent as
 * it would be by its button, which stays for keyboards and for the search box.
 */

export function bindListFilters(document) {
  document.querySelectorAll('form[data-apply-on-change]').forEach((form) => {
    form.addEventListener('change', (event) => {
      if (event.target.tagName === 'SELECT') form.requestSubmit();
    });
  });
}
