/*
 * The new-ticket form of an agent or admin (issue 17, point 4): whom the ticket is for,
 * found by name or e-mail as they type (GET /api/v1/users?q=), offered in a datalist.
 * The chosen person's id goes into the hidden `requester_id`; text that names nobody
 * keeps the form from being sent, rather than filing the ticket for the agent.
 */

export const WAIT_MS = 200;

/** How a person reads in the list: «Анна Иванова <anna@…>». */
export function optionText(user) {
  return user.name + ' <' + user.email + '>';
}

export function bindRequesterPick(document, { api, t, setTimeout, clearTimeout }) {
  const input = document.querySelector('input.requester-pick');
  if (!input) return null;
  const options = document.getElementById(input.getAttribute('list'));
  const chosen = input.form.elements.requester_id;
  const found = new Map(); // an option's text → the person's id
  let timer = null;

  async function search() {
    const q = input.value.trim();
    if (q.length < 2 || found.has(input.value)) return;
    const answer = await api('GET', '/api/v1/users?status=active&per_page=10&q=' + encodeURIComponent(q));
    options.replaceChildren(
      ...answer.items.map((user) => {
        found.set(optionText(user), user.id);
        const option = document.createElement('option');
        option.value = optionText(user);
        return option;
      }),
    );
    choose();
  }

  function choose() {
    const id = found.get(input.value);
    chosen.value = id === undefined ? '' : String(id);
    const unknown = input.value.trim() !== '' && id === undefined;
    input.setCustomValidity(unknown ? t('new_ticket.requester_unknown') : '');
  }

  input.addEventListener('input', () => {
    choose();
    clearTimeout(timer);
    timer = setTimeout(() => search().catch(() => {}), WAIT_MS);
  });
  return { search };
}
