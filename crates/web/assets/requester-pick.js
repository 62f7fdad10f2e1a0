/*
 * The new-ticket form of an agent or admin (issue 17, point 4): whom the ticket is for,
 * found by name or e-mail as they type (GET /api/v1/users?q=), offered in a datalist.
 * The chosen person's id goes into the hidden `requester_id`; text that names nobody
 * keeps the form from being sent, rather than filing the ticket for the agent.
 */
(function () {
  'use strict';

  const input = document.querySelector('input.requester-pick');
  if (!input) return;

  const stringsNode = document.getElementById('ictdesk-strings');
  const strings = JSON.parse((stringsNode && stringsNode.textContent) || '{}') || {};
  const options = document.getElementById(input.getAttribute('list'));
  const chosen = input.form.elements.requester_id;
  const found = new Map(); // an option's text → the person's id
  const WAIT_MS = 200;
  let timer = null;

  function optionText(user) {
    return user.name + ' <' + user.email + '>';
  }

  function search() {
    const q = input.value.trim();
    if (q.length < 2 || found.has(input.value)) return;
    const url = '/api/v1/users?status=active&per_page=10&q=' + encodeURIComponent(q);
    fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } })
      .then((response) => (response.ok ? response.json() : { items: [] }))
      .then((answer) => {
        options.replaceChildren();
        answer.items.forEach((user) => {
          found.set(optionText(user), user.id);
          const option = document.createElement('option');
          option.value = optionText(user);
          options.append(option);
        });
        choose();
      })
      .catch(() => {});
  }

  function choose() {
    const id = found.get(input.value);
    chosen.value = id === undefined ? '' : String(id);
    const unknown = input.value.trim() !== '' && id === undefined;
    input.setCustomValidity(unknown ? strings['new_ticket.requester_unknown'] || 'unknown' : '');
  }

  input.addEventListener('input', () => {
    choose();
    clearTimeout(timer);
    timer = setTimeout(search, WAIT_MS);
  });
})();
