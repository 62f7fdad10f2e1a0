/*
 * The ticket's equipment on its page (issue 17, point 5): the select offers the
 * requester's devices first; the search beside it finds any other piece by its number,
 * name, serial, holder or place (GET /api/v1/equipment?q=) and adds what it found to the
 * select, where the agent chooses it. Saving is the ticket form's (ticket-form.js).
 */

export const WAIT_MS = 250;

/** How a found piece reads in the select: number — name · holder · place. */
export function deviceLabel(piece) {
  const where = [piece.assigned_user_name, locationLabel(piece)].filter(Boolean).join(' · ');
  return piece.inventory_number + ' — ' + piece.name + (where ? ' · ' + where : '');
}

function locationLabel(piece) {
  return [piece.location_name, piece.location_building, piece.location_room].filter(Boolean).join(', ');
}

export function bindEquipmentPick(document, { api, t, setTimeout, clearTimeout }) {
  const search = document.querySelector('input.equipment-search');
  if (!search) return null;
  const select = search.form.elements.equipment_id;
  const count = document.getElementById('equipment-found-count');
  let timer = null;

  async function find() {
    const q = search.value.trim();
    if (q.length < 2) return;
    const answer = await api('GET', '/api/v1/equipment?per_page=10&q=' + encodeURIComponent(q));
    const group = foundGroup(select, t);
    // A found piece already chosen stays; the rest of the group is this search's.
    const kept = Array.from(group.children).filter((option) => option.selected);
    const offered = new Set(
      Array.from(select.options)
        .filter((option) => option.parentNode !== group || option.selected)
        .map((option) => option.value),
    );
    const fresh = answer.items.filter((piece) => !offered.has(String(piece.id)));
    group.replaceChildren(
      ...kept,
      ...fresh.map((piece) => {
        const option = document.createElement('option');
        option.value = String(piece.id);
        option.textContent = deviceLabel(piece);
        return option;
      }),
    );
    count.textContent = t('ticket.found_count', answer.items.length);
    count.hidden = false;
  }

  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => find().catch(() => {}), WAIT_MS);
  });
  // Enter searches now instead of saving the ticket form around it.
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    clearTimeout(timer);
    find().catch(() => {});
  });
  return { find };
}

/** The select's «Found» group, made on the first search (an empty one would show). */
function foundGroup(select, t) {
  let group = select.querySelector('optgroup.equipment-found');
  if (!group) {
    group = select.ownerDocument.createElement('optgroup');
    group.className = 'equipment-found';
    group.label = t('ticket.found_devices');
    select.append(group);
  }
  return group;
}
