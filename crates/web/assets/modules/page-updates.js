/*
 * The one table from desk event types (docs/events.md) to what they change on a page:
 * `list` — the live list (`<table data-live-list="…">`) that shows such objects;
 * `fragment` — the key in the event's data naming the object whose page part
 * (`data-live-key`) it changes; `section` — the page parts (`data-live-section`) that
 * show every object of its kind; `stats` — the ticket statistics; `toast` — what it says
 * to a person, and where clicking takes them. A type missing here changes nothing on a
 * page (`inbox_read` is the bell's, in inbox.js; `user_session_ended` the live client's).
 */

const ticketPage = (d) => '/tickets/' + d.ticket.id;
const equipmentPage = (d) => '/equipment/' + d.equipment.id;
const articlePage = (d) => '/kb/' + d.article.id;

const ticketUpdate = (toast) => ({ list: 'tickets', fragment: 'ticket', stats: true, toast });
const equipmentUpdate = (toast) => ({ list: 'equipment', fragment: 'equipment', toast });
const articleUpdate = (toast) => ({ list: 'articles', fragment: 'article', toast });

export const PAGE_UPDATES = {
  ticket_created: ticketUpdate((d, t) => ({
    text: t('toast.ticket_created', d.ticket.id, d.ticket.title),
    href: ticketPage(d),
  })),
  ticket_status_changed: ticketUpdate((d, t) => ({
    text: t('toast.ticket_status_changed', d.ticket.id, t('status.' + d.new_status)),
    href: ticketPage(d),
  })),
  ticket_updated: ticketUpdate((d, t) => ({
    text: t('toast.ticket_updated', d.ticket.id, d.actor ? d.actor.name : ''),
    href: ticketPage(d),
  })),
  ticket_assigned: ticketUpdate((d, t) => ({
    text: d.new_assignee
      ? t('toast.ticket_assigned', d.ticket.id, d.new_assignee.name)
      : t('toast.ticket_unassigned', d.ticket.id),
    href: ticketPage(d),
  })),
  ticket_comment_created: ticketUpdate((d, t) => ({
    text: t('toast.ticket_comment_created', d.ticket.id, d.comment ? d.comment.author_name : ''),
    href: ticketPage(d),
  })),
  user_created: {
    list: 'users',
    toast: (d, t) => ({ text: t('toast.user_created', d.user.name), href: '/users' }),
  },
  user_status_changed: {
    list: 'users',
    toast: (d, t) => ({
      text: t('toast.user_status_changed', d.user.name, t('ustatus.' + d.user.status)),
      href: '/users',
    }),
  },
  equipment_status_changed: equipmentUpdate((d, t) => ({
    text: t('toast.equipment_status_changed', d.equipment.inventory_number, t('estatus.' + d.new_status)),
    href: equipmentPage(d),
  })),
  equipment_location_changed: equipmentUpdate((d, t) => ({
    text: t('toast.equipment_location_changed', d.equipment.inventory_number, d.location || '—'),
    href: equipmentPage(d),
  })),
  knowledge_article_created: articleUpdate((d, t) => ({
    text: t('toast.knowledge_article_created', d.article.title),
    href: articlePage(d),
  })),
  knowledge_article_updated: articleUpdate((d, t) => ({
    text: t('toast.knowledge_article_updated', d.article.title),
    href: articlePage(d),
  })),
  team_created: {
    list: 'teams',
    toast: (d, t) => ({ text: t('toast.team_created', d.team.name), href: '/teams/' + d.team.id }),
  },
  team_updated: {
    list: 'teams',
    fragment: 'team',
    toast: (d, t) => ({ text: t('toast.team_updated', d.team.name), href: '/teams/' + d.team.id }),
  },
  // Notices also change the banner and the notices list (`data-live-section="notices"`);
  // the toast carries the message, and a critical one stays until clicked.
  system_notification_created: {
    list: 'notifications',
    section: 'notices',
    toast: (d, t) => ({
      text: t('toast.system_notification_created', d.notification.title),
      detail: d.notification.message,
      href: '/notifications',
      level: d.notification.level,
      sticky: d.notification.level === 'critical',
    }),
  },
  system_notification_withdrawn: { list: 'notifications', section: 'notices' },
};

const NOTHING = {};

/** What an event changes on a page (nothing for a type the table does not name). */
export function pageUpdate(event) {
  return Object.hasOwn(PAGE_UPDATES, event.type) ? PAGE_UPDATES[event.type] : NOTHING;
}

/**
 * Whether the event is about what a page part shows: the object named by
 * `data-live-key` and `data-live-id`, or any object of a `data-live-section`.
 */
export function concerns(holder, event) {
  const { fragment: key, section } = pageUpdate(event);
  if (section && holder.dataset.liveSection === section) return true;
  const subject = key === holder.dataset.liveKey && event.data && event.data[key];
  return Boolean(subject) && String(subject.id) === holder.dataset.liveId;
}

/** The toast for an event, or null when it has none. */
export function toastFor(event, t) {
  const { toast } = pageUpdate(event);
  return toast ? toast(event.data || {}, t) : null;
}
