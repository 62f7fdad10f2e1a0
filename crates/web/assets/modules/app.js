/*
 * The pages' behaviour, wired together: one LiveUpdates per tab (live-updates.js), the
 * connection mode, toasts, the page parts an event changes (page-updates.js says which),
 * forms to the JSON API, the inbox bell, a ticket's forms and files, and dates in the
 * reader's locale. Each concern is a module of
 * its own; this one only reads the page and connects them.
 */

import { createApi, explain as explainError } from './api.js';
import { bindUploadCards } from './attachments.js';
import { bindCommentForms } from './comments.js';
import { bindEquipmentPick } from './equipment-pick.js';
import { bindFolds } from './fold.js';
import { dateFormat, formatDates } from './dates.js';
import { watchExpiry } from './expiry.js';
import { bindButtons, bindForms } from './forms.js';
import { refreshFragment } from './fragments.js';
import { bindInbox } from './inbox.js';
import { bindListFilters } from './list-filters.js';
import { bindRowLinks, createLiveList } from './lists.js';
import { concerns, pageUpdate, toastFor } from './page-updates.js';
import { showPresence, trackPresence } from './presence.js';
import { awaitOwnEvents, createRefresher } from './refresh.js';
import { bindRequesterPick } from './requester-pick.js';
import { bindSession } from './session.js';
import { refreshStats } from './stats.js';
import { readJson, translator } from './strings.js';
import { bindTicketForm } from './ticket-form.js';
import { createToasts } from './toasts.js';

const config = readJson(document, 'ictdesk-config');
const t = translator(readJson(document, 'ictdesk-strings') || {});
const format = dateFormat(document.documentElement.lang || 'ru');
const formatAll = (root) => formatDates(root, format);
const api = createApi({ fetch, csrfToken: config && config.csrfToken });
const explain = (error) => explainError(error, t);
const timers = { setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (id) => clearTimeout(id) };
const toastBox = document.getElementById('toasts');
const toast = toastBox ? createToasts(toastBox, { t, ...timers }) : () => {};

const parts = { fetch, formatDates: formatAll, t };
const lists = Array.from(document.querySelectorAll('table[data-live-rows]'), (table) => createLiveList(table, parts));
const fragments = Array.from(document.querySelectorAll('[data-live-fragment]'));
const statsHolder = document.querySelector('[data-live-stats]');
const request = createRefresher(timers);
const refreshList = (list, i) => request('list' + i, list.refresh);
const refreshPart = (holder, i) => request('fragment' + i, () => refreshFragment(holder, parts));
const refreshTicketStats = () => request('stats', () => refreshStats(statsHolder, parts));

function refreshAll() {
  lists.forEach(refreshList);
  fragments.forEach(refreshPart);
  if (statsHolder) refreshTicketStats();
}

const own = awaitOwnEvents({ userId: config && config.userId, refreshAll, ...timers });

function onEvent(event) {
  // For the page's other scripts (the inbox bell): one event, one DOM notice.
  document.dispatchEvent(new CustomEvent('ictdesk:event', { detail: event }));
  own.heard(event);
  const update = pageUpdate(event);
  lists.forEach((list, i) => {
    if (!update.list || update.list !== list.kind) return;
    if (event.data && event.data.ticket) list.touch(event.data.ticket.id);
    refreshList(list, i);
  });
  fragments.forEach((holder, i) => {
    if (concerns(holder, event)) refreshPart(holder, i);
  });
  if (statsHolder && update.stats) refreshTicketStats();
  const actor = event.data && event.data.actor;
  // Never a toast for the person's own change, from this tab or another of theirs.
  if (actor && config && actor.id === config.userId) return;
  const said = toastFor(event, t);
  if (said) toast({ by: actor && actor.name, ...said });
}

function showMode(mode) {
  const node = document.getElementById('connection');
  if (!node) return;
  node.dataset.mode = mode;
  node.querySelector('.label').textContent = t('mode.' + mode);
}

formatAll(document);
document
  .querySelectorAll('[data-live-fragment][data-expiring]')
  .forEach((holder) =>
    watchExpiry(holder, { refresh: () => refreshFragment(holder, parts), now: Date.now, MutationObserver, ...timers }),
  );
bindForms(document, { api, explain, saved: own.saved, location });
bindButtons(document, { api, saved: own.saved, failed: (error) => toast({ text: explain(error), level: 'error' }) });
bindSession(document, { api, explain, t, location });
bindRowLinks(document, location);
bindListFilters(document);
bindFolds(document);
bindInbox(document, { api, fetch, t, userId: config && config.userId });
bindUploadCards(document, { api, explain, t });
const ticketForm = bindTicketForm(document, { api, explain, t, storage: localStorage });
bindCommentForms(document, { api, explain, t, storage: localStorage, ticketForm });
bindRequesterPick(document, { api, t, ...timers });
bindEquipmentPick(document, { api, t, ...timers });

if (config && window.LiveUpdates) {
  const presence = document.getElementById('presence');
  const live = new window.LiveUpdates({
    apiEndpoint: '/messages',
    csrfToken: config.csrfToken,
    websocketEnabled: config.useWebSocket,
    refreshInterval: 1000,
    timeout: config.timeoutMs,
    lastId: config.lastId,
    onEvent,
    onReset: () => {
      refreshAll();
      document.dispatchEvent(new CustomEvent('ictdesk:reset'));
    },
    // The page was drawn for the old role (menus, actions): draw it again.
    onRightsChanged: () => location.reload(),
    onMessage: (frame) => {
      if (frame.type === 'presence') showPresence(presence, frame, { userId: config.userId, t });
    },
    onModeChange: showMode,
  });
  window.ictdeskLive = live;
  live.start();
  if (presence) trackPresence(live, presence, { now: Date.now, ...timers });
}
