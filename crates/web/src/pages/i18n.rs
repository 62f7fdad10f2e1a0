//! Interface strings in Russian and English. The language comes from the
//! `lang` cookie (the switch in the header), else from `Accept-Language`; the page also
//! gets the catalog as JSON, so toasts and live markers speak the same language.

use axum::http::{HeaderMap, header};
use ictdesk_desk::users::Role;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ru,
    En,
}

pub const LANG_COOKIE: &str = "lang";

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::Ru => "ru",
            Lang::En => "en",
        }
    }

    fn parse(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ru" => Some(Lang::Ru),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The cookie's choice, else the first supported language the browser asks for by
    /// preference (`q`), else Russian — the desk's home language.
    pub fn from_request(headers: &HeaderMap) -> Lang {
        let cookie = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(name, _)| *name == LANG_COOKIE)
            .and_then(|(_, value)| Lang::parse(value));
        if let Some(lang) = cookie {
            return lang;
        }
        let accept = headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default();
        let mut wanted: Vec<(f32, Lang)> = accept
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::parse(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.parse().ok())
                    .unwrap_or(1.0);
                Some((q, lang))
            })
            .collect();
        wanted.sort_by(|a, b| b.0.total_cmp(&a.0));
        wanted.first().map_or(Lang::Ru, |&(_, lang)| lang)
    }
}

/// The catalog of one language, as templates use it: `{{ t.t("tickets.title") }}`.
/// A requester reads some words their own way (issue 17 point 8: «Ожидание» is «Ждём
/// вашего ответа» to them): a catalog key prefixed with [`FOR_REQUESTERS`] replaces the
/// key's text for them, on the pages and in the page scripts' strings alike.
#[derive(Debug, Clone, Copy)]
pub struct Tr {
    pub lang: Lang,
    requester: bool,
}

/// The prefix of a catalog key that says the same thing to a requester.
pub const FOR_REQUESTERS: &str = "requester:";

type Entry = (&'static str, &'static str, &'static str);

fn entry(key: &str) -> Option<&'static Entry> {
    CATALOG.iter().find(|(k, _, _)| *k == key)
}

impl Tr {
    pub fn new(lang: Lang) -> Self {
        Self {
            lang,
            requester: false,
        }
    }

    /// The catalog as a person of `role` reads it.
    pub fn for_role(self, role: Role) -> Self {
        Self {
            requester: !role.is_staff(),
            ..self
        }
    }

    fn entry(&self, key: &str) -> Option<&'static Entry> {
        let own = self
            .requester
            .then(|| entry(&format!("{FOR_REQUESTERS}{key}")))
            .flatten();
        own.or_else(|| entry(key))
    }

    fn text(&self, &(_, en, ru): &'static Entry) -> &'static str {
        match self.lang {
            Lang::En => en,
            Lang::Ru => ru,
        }
    }

    /// The string for `key`; the key itself when missing, so a gap shows instead of
    /// breaking the page.
    pub fn t<'a>(&self, key: &'a str) -> &'a str {
        self.entry(key).map_or(key, |found| self.text(found))
    }

    /// The label of a choice: `t.label("status", "in_progress")` → «В работе».
    pub fn label(&self, group: &str, value: &str) -> String {
        self.entry(&format!("{group}.{value}"))
            .map_or_else(|| value.to_owned(), |found| self.text(found).to_owned())
    }

    /// A history entry's field name: `field.ticket.status` → «Статус».
    pub fn field(&self, kind: &str, field: &str) -> String {
        self.label(&format!("field.{kind}"), field)
    }

    /// A history entry's value: choices get their label, everything else shows as is.
    pub fn value(&self, kind: &str, field: &str, value: &str) -> String {
        let group = match (kind, field) {
            ("ticket", "status") => "status",
            ("ticket", "priority") => "priority",
            ("ticket", "type") => "type",
            ("equipment", "status") => "estatus",
            ("equipment", "kind") => "kind",
            _ => return value.to_owned(),
        };
        self.label(group, value)
    }

    /// The whole catalog as a JSON object, for the page's scripts.
    pub fn json(&self) -> String {
        let map: Map<String, Value> = CATALOG
            .iter()
            .filter(|(key, _, _)| !key.starts_with(FOR_REQUESTERS))
            .map(|&(key, _, _)| (key.to_owned(), Value::from(self.t(key))))
            .collect();
        // `</` cannot end the <script> block it is embedded in.
        Value::Object(map).to_string().replace("</", "<\\/")
    }
}

/// (key, English, Russian). `{0}` is filled in by the page scripts.
const CATALOG: &[(&str, &str, &str)] = &[
    ("app.name", "ICT Service Desk", "ИТ-служба поддержки"),
    ("nav.tickets", "All tickets", "Все заявки"),
    ("nav.new_ticket", "New ticket", "Новая заявка"),
    ("nav.equipment", "Equipment", "Оборудование"),
    ("nav.kb", "Knowledge base", "База знаний"),
    ("nav.users", "Users", "Пользователи"),
    ("nav.notifications", "Notifications", "Уведомления"),
    ("nav.logout", "Log out", "Выйти"),
    ("nav.menu", "Menu", "Меню"),
    ("nav.inbox", "Inbox", "Входящие"),
    (
        "inbox.bell",
        "Inbox: {0} unread",
        "Входящие: непрочитанных {0}",
    ),
    ("inbox.title", "Inbox", "Входящие"),
    ("inbox.unread_only", "Unread only", "Только непрочитанные"),
    ("inbox.all", "All", "Все"),
    (
        "inbox.read_all",
        "Mark all read",
        "Отметить все прочитанными",
    ),
    ("inbox.read", "Mark read", "Прочитано"),
    ("inbox.empty", "Nothing here yet.", "Здесь пока пусто."),
    ("inbox.unread", "unread", "не прочитано"),
    ("inbox.by", "by {0}", "— {0}"),
    (
        "inbox.notify",
        "Desktop notifications while this tab is in the background",
        "Уведомления на рабочем столе, пока вкладка в фоне",
    ),
    (
        "inbox.notify_denied",
        "The browser blocks notifications for this site; allow them in its site settings.",
        "Браузер запретил уведомления для этого сайта; разрешите их в настройках сайта.",
    ),
    (
        "inbox.type.ticket_assigned",
        "Assigned to you",
        "Назначена вам",
    ),
    (
        "inbox.type.ticket_comment_created",
        "New comment",
        "Новый комментарий",
    ),
    (
        "inbox.type.ticket_status_changed",
        "Status changed",
        "Статус изменён",
    ),
    (
        "inbox.type.system_notification_created",
        "System notification",
        "Системное уведомление",
    ),
    ("files.title", "Files", "Файлы"),
    ("files.attach", "Attach files", "Прикрепить файлы"),
    ("files.choose", "Choose files", "Выбрать файлы"),
    (
        "files.drop_hint",
        "Drop files here or choose them; images show as thumbnails.",
        "Перетащите файлы сюда или выберите их; изображения видны как миниатюры.",
    ),
    (
        "files.comment_hint",
        "Drop files on the form or paste a screenshot into the text.",
        "Перетащите файлы на форму или вставьте снимок экрана в текст.",
    ),
    ("files.pending", "Files to send", "Файлы к отправке"),
    ("files.remove", "Remove {0}", "Убрать {0}"),
    ("files.delete", "Delete", "Удалить"),
    ("files.uploading", "Uploading {0}…", "Загрузка: {0}…"),
    ("files.uploaded", "Uploaded: {0}", "Загружено: {0}"),
    ("files.bytes", "{0} B", "{0} Б"),
    ("files.kb", "{0} KB", "{0} КБ"),
    ("files.mb", "{0} MB", "{0} МБ"),
    ("nav.preferences", "My settings", "Мои настройки"),
    ("preferences.title", "My settings", "Мои настройки"),
    (
        "preferences.mail",
        "E-mail notifications",
        "Уведомления по почте",
    ),
    (
        "preferences.mail_off",
        "This desk sends no e-mail yet; your choice applies once it does.",
        "Служба пока не отправляет почту; выбор вступит в силу, когда начнёт.",
    ),
    ("preferences.mail_to", "Sent to", "Отправляются на"),
    (
        "mail.ticket_created",
        "My ticket is registered (with its number)",
        "Моя заявка зарегистрирована (с её номером)",
    ),
    (
        "mail.staff_reply",
        "The service desk replies on my ticket",
        "Служба поддержки ответила по моей заявке",
    ),
    (
        "mail.ticket_resolved",
        "My ticket is resolved",
        "Моя заявка решена",
    ),
    (
        "mail.ticket_assigned",
        "A ticket is assigned to me",
        "Мне назначена заявка",
    ),
    (
        "mail.requester_reply",
        "The requester comments on a ticket assigned to me",
        "Заявитель прокомментировал назначенную мне заявку",
    ),
    ("mode.connecting", "Connecting…", "Подключение…"),
    ("mode.websocket", "Live", "Онлайн"),
    ("mode.polling", "Polling", "Опрос"),
    ("mode.offline", "Offline", "Нет связи"),
    ("mode.stopped", "Offline", "Нет связи"),
    ("login.title", "Sign in", "Вход"),
    ("login.email", "Email", "Эл. почта"),
    ("login.password", "Password", "Пароль"),
    ("login.submit", "Sign in", "Войти"),
    (
        "login.wrong",
        "Wrong e-mail or password",
        "Неверная эл. почта или пароль",
    ),
    (
        "login.blocked_hint",
        "If your account has been blocked, ask your administrator.",
        "Если учётная запись заблокирована, обратитесь к администратору.",
    ),
    (
        "login.demo",
        "Demo logins (password «demo»)",
        "Демо-входы (пароль «demo»)",
    ),
    ("common.save", "Save", "Сохранить"),
    ("common.create", "Create", "Создать"),
    ("common.search", "Search", "Поиск"),
    ("common.filter", "Filter", "Применить"),
    ("common.reset", "Reset", "Сбросить"),
    ("common.all", "All", "Все"),
    ("common.prev", "Previous", "Назад"),
    ("common.next", "Next", "Вперёд"),
    ("common.page", "Page {0} of {1}", "Страница {0} из {1}"),
    ("common.total", "{0} in all", "Всего: {0}"),
    ("common.edit", "Edit", "Изменить"),
    ("common.history", "History", "История"),
    (
        "common.no_history",
        "No changes yet.",
        "Изменений пока нет.",
    ),
    ("common.empty", "Nothing here yet.", "Здесь пока пусто."),
    (
        "common.error",
        "Something went wrong",
        "Что-то пошло не так",
    ),
    ("common.created_at", "Created", "Создано"),
    ("common.updated_at", "Updated", "Изменено"),
    ("common.new_rows", "{0} new — show", "Новых: {0} — показать"),
    (
        "common.conflict",
        "Changed by {0} since you opened it. Reload to see the current version.",
        "Изменено пользователем {0}, пока страница была открыта. Обновите страницу.",
    ),
    (
        "error.forbidden",
        "You may not see this page.",
        "Эта страница вам недоступна.",
    ),
    ("tickets.title", "All tickets", "Все заявки"),
    ("tickets.mine_title", "My tickets", "Мои заявки"),
    (
        "tickets.search",
        "Search in title and description",
        "Поиск по теме и описанию",
    ),
    ("tickets.id", "#", "№"),
    ("tickets.subject", "Subject", "Тема"),
    ("tickets.status", "Status", "Статус"),
    ("tickets.priority", "Priority", "Приоритет"),
    ("tickets.type", "Type", "Тип"),
    ("tickets.category", "Category", "Категория"),
    ("tickets.requester", "Requester", "Заявитель"),
    (
        "tickets.of_requester",
        "All tickets of this requester",
        "Все заявки этого заявителя",
    ),
    ("tickets.assignee", "Assignee", "Исполнитель"),
    ("tickets.unassigned", "Unassigned", "Не назначена"),
    ("tickets.equipment", "Equipment", "Оборудование"),
    ("tickets.description", "Description", "Описание"),
    ("tickets.resolution", "Resolution", "Решение"),
    ("tickets.resolved_at", "Resolved", "Решена"),
    ("tickets.closed_at", "Closed", "Закрыта"),
    ("tickets.select", "Select", "Выбрать"),
    ("stats.new", "New", "Новые"),
    ("stats.in_progress", "In progress", "В работе"),
    ("stats.waiting", "Waiting", "Ожидание"),
    (
        "stats.awaiting_staff",
        "Awaiting IT's reply",
        "Ждёт ответа ИТ",
    ),
    ("tickets.unseen_reply", "new reply", "новый ответ"),
    ("stats.open", "Open", "Открытые"),
    (
        "statuses.new,in_progress",
        "New and in progress",
        "Новые и в работе",
    ),
    (
        "statuses.resolved,closed",
        "Resolved and closed",
        "Решённые и закрытые",
    ),
    ("tickets.order", "Order", "Порядок"),
    (
        "tickets.order_triage",
        "Most urgent, then oldest",
        "Сначала срочные и старые",
    ),
    (
        "tickets.order_recent",
        "Recently changed",
        "Недавно изменённые",
    ),
    ("tickets.age", "Age", "Возраст"),
    ("tickets.age_hours", "{0} h", "{0} ч"),
    ("tickets.age_days", "{0} d", "{0} дн."),
    ("stats.resolved", "Resolved", "Решены"),
    ("stats.closed", "Closed", "Закрыты"),
    ("stats.unassigned", "Unassigned", "Не назначены"),
    ("stats.mine", "Mine", "Мои"),
    ("stats.created_today", "Created today", "Создано сегодня"),
    ("stats.resolved_today", "Resolved today", "Решено сегодня"),
    ("status.new", "New", "Новая"),
    ("status.in_progress", "In progress", "В работе"),
    ("status.waiting", "Waiting", "Ожидание"),
    ("status.resolved", "Resolved", "Решена"),
    ("status.closed", "Closed", "Закрыта"),
    // A requester's own words (issue 17 point 8): what «Ожидание» means to them.
    (
        "requester:status.waiting",
        "Awaiting your reply",
        "Ждём вашего ответа",
    ),
    (
        "requester:stats.waiting",
        "Awaiting your reply",
        "Ждут вашего ответа",
    ),
    (
        "requester:tickets.unseen_reply",
        "reply from IT",
        "ответ ИТ",
    ),
    ("stats.done", "Resolved", "Решённые"),
    ("tickets.order_open_first", "Open first", "Сначала открытые"),
    ("priority.low", "Low", "Низкий"),
    ("priority.medium", "Medium", "Средний"),
    ("priority.high", "High", "Высокий"),
    ("priority.critical", "Critical", "Критический"),
    ("type.incident", "Incident", "Инцидент"),
    ("type.request", "Request", "Запрос"),
    ("ticket.comments", "Comments", "Комментарии"),
    (
        "ticket.no_comments",
        "No comments yet.",
        "Комментариев пока нет.",
    ),
    ("ticket.add_comment", "Add comment", "Добавить комментарий"),
    (
        "ticket.comment_placeholder",
        "Write a comment…",
        "Напишите комментарий…",
    ),
    // agentday: the person card, a ticket's equipment, a device's tickets (issue 17, point 5).
    ("person.location", "Location", "Где находится"),
    (
        "person.no_location",
        "not known (no equipment with a location)",
        "неизвестно (нет оборудования с расположением)",
    ),
    ("person.open_tickets", "Open tickets", "Открытые заявки"),
    (
        "person.no_open_tickets",
        "No open tickets.",
        "Открытых заявок нет.",
    ),
    ("person.equipment", "Equipment", "Оборудование"),
    ("person.no_equipment", "No equipment.", "Оборудования нет."),
    (
        "person.all_tickets",
        "All of their tickets",
        "Все заявки этого человека",
    ),
    (
        "person.open_card",
        "Open the card of {0}",
        "Открыть карточку: {0}",
    ),
    ("ticket.no_equipment", "— none —", "— не указано —"),
    (
        "ticket.requester_devices",
        "The requester's devices",
        "Устройства заявителя",
    ),
    ("ticket.other_devices", "Other devices", "Другие устройства"),
    ("ticket.found_devices", "Found", "Найдено"),
    (
        "ticket.found_count",
        "Found: {0}. Choose one under Equipment.",
        "Найдено: {0}. Выберите в списке «Оборудование».",
    ),
    (
        "ticket.equipment_search",
        "Find a device (number, name, holder, place)",
        "Найти устройство (номер, название, владелец, место)",
    ),
    (
        "equipment.tickets",
        "Tickets about it",
        "Заявки по устройству",
    ),
    (
        "equipment.no_tickets",
        "No tickets about it.",
        "Заявок по устройству нет.",
    ),
    // agentday: the phone's ticket list folds its counters and filters (issue 17, point 13).
    (
        "tickets.tools",
        "Counters and filters",
        "Счётчики и фильтры",
    ),
    // agentday: the comment form's two tabs (issue 17, point 3).
    ("comment.kind", "Kind of comment", "Вид комментария"),
    ("comment.reply_tab", "Reply to requester", "Ответ заявителю"),
    ("comment.note_tab", "Internal note", "Внутренняя заметка"),
    (
        "comment.reply_send",
        "Send reply to requester",
        "Отправить ответ заявителю",
    ),
    (
        "comment.note_send",
        "Add internal note",
        "Добавить внутреннюю заметку",
    ),
    (
        "comment.reply_and_save",
        "Save changes and send reply",
        "Сохранить изменения и отправить ответ",
    ),
    (
        "comment.note_and_save",
        "Save changes and add note",
        "Сохранить изменения и добавить заметку",
    ),
    (
        "comment.reply_hint",
        "The requester will see this reply.",
        "Заявитель увидит этот ответ.",
    ),
    (
        "comment.note_hint",
        "Only IT staff see this note; the requester does not.",
        "Заметку видят только сотрудники ИТ, заявитель — нет.",
    ),
    (
        "comment.unsaved",
        "Not sent yet: kept in this browser as a draft.",
        "Ещё не отправлено: черновик сохранён в этом браузере.",
    ),
    ("ticket.internal_badge", "internal", "внутренняя"),
    ("ticket.take", "Take it", "Взять себе"),
    ("ticket.saved", "Saved.", "Сохранено."),
    (
        "ticket.saved_merged",
        "Saved. {0} Their change ({1}) is kept too.",
        "Сохранено. {0} Эти изменения ({1}) тоже сохранены.",
    ),
    (
        "ticket.changed_by_she",
        "{0} changed this ticket while you were editing it.",
        "Заявку изменила {0}, пока вы её редактировали.",
    ),
    (
        "ticket.changed_by_he",
        "{0} changed this ticket while you were editing it.",
        "Заявку изменил {0}, пока вы её редактировали.",
    ),
    (
        "ticket.changed_by_someone",
        "{0} changed this ticket while you were editing it.",
        "Заявку изменил(а) {0}, пока вы её редактировали.",
    ),
    (
        "ticket.changed_by_many",
        "{0} changed this ticket while you were editing it.",
        "Заявку изменили {0}, пока вы её редактировали.",
    ),
    ("ticket.conflict_now", "Now: «{0}».", "Сейчас: «{0}»."),
    ("ticket.apply_mine", "Apply mine", "Применить мои"),
    ("ticket.drop_mine", "Discard mine", "Отменить мои"),
    (
        "ticket.draft_restored",
        "Your unsaved changes were restored; they are not saved yet.",
        "Восстановлены несохранённые изменения; они ещё не сохранены.",
    ),
    (
        "ticket.change_status",
        "Status and assignment",
        "Статус и назначение",
    ),
    (
        "ticket.viewing",
        "Also viewing: {0}",
        "Также просматривают: {0}",
    ),
    ("ticket.writing", "Writing: {0}", "Пишут: {0}"),
    ("ticket.idle", "idle", "неактивен"),
    ("new_ticket.requester", "Requester", "Заявитель"),
    (
        "new_ticket.requester_hint",
        "Filing for a caller: type their name or e-mail. Empty: the ticket is yours.",
        "Заявка за позвонившего: начните вводить имя или эл. почту. Пусто — заявка от вас.",
    ),
    (
        "new_ticket.requester_unknown",
        "Choose a person from the list.",
        "Выберите человека из списка.",
    ),
    ("new_ticket.title", "New ticket", "Новая заявка"),
    ("new_ticket.submit", "Submit ticket", "Отправить заявку"),
    ("equipment.title", "Equipment", "Оборудование"),
    ("equipment.inventory", "Inventory no.", "Инв. номер"),
    ("equipment.name", "Name", "Наименование"),
    ("equipment.kind", "Kind", "Вид"),
    ("equipment.serial", "Serial", "Серийный номер"),
    ("equipment.status", "Status", "Состояние"),
    ("equipment.location", "Location", "Расположение"),
    ("equipment.assigned", "Assigned to", "Закреплено за"),
    ("equipment.notes", "Notes", "Заметки"),
    (
        "equipment.search",
        "Inventory no., name or serial",
        "Инв. номер, наименование или серийный номер",
    ),
    (
        "equipment.change",
        "Status, location and assignment",
        "Состояние, расположение и закрепление",
    ),
    ("estatus.in_use", "In use", "В эксплуатации"),
    ("estatus.in_stock", "In stock", "На складе"),
    ("estatus.in_repair", "In repair", "В ремонте"),
    ("estatus.written_off", "Written off", "Списано"),
    ("kind.workstation", "Workstation", "Рабочая станция"),
    ("kind.laptop", "Laptop", "Ноутбук"),
    ("kind.printer", "Printer", "Принтер"),
    ("kind.monitor", "Monitor", "Монитор"),
    ("kind.network", "Network", "Сетевое"),
    ("kind.phone", "Phone", "Телефон"),
    ("kind.server", "Server", "Сервер"),
    ("kind.other", "Other", "Другое"),
    ("kb.title", "Knowledge base", "База знаний"),
    ("kb.search", "Search articles", "Поиск статей"),
    ("kb.new", "New article", "Новая статья"),
    ("kb.edit", "Edit article", "Редактировать статью"),
    ("kb.article_title", "Title", "Заголовок"),
    ("kb.body", "Text (Markdown)", "Текст (Markdown)"),
    ("kb.category", "Category", "Категория"),
    ("kb.visibility", "Visible to", "Видимость"),
    ("kb.author", "Author", "Автор"),
    ("visibility.everyone", "Everyone", "Все"),
    ("visibility.agents", "Agents only", "Только сотрудники ИТ"),
    ("users.title", "Users", "Пользователи"),
    ("users.name", "Name", "Имя"),
    ("users.email", "Email", "Эл. почта"),
    ("users.role", "Role", "Роль"),
    ("users.status", "Status", "Статус"),
    ("users.last_login", "Last login", "Последний вход"),
    ("users.new", "New user", "Новый пользователь"),
    ("users.password", "Initial password", "Начальный пароль"),
    ("users.block", "Block", "Заблокировать"),
    ("users.unblock", "Unblock", "Разблокировать"),
    ("users.search", "Name or email", "Имя или эл. почта"),
    ("role.requester", "Requester", "Сотрудник"),
    ("role.agent", "Agent", "Специалист ИТ"),
    ("role.admin", "Admin", "Администратор"),
    ("ustatus.active", "Active", "Активен"),
    ("ustatus.blocked", "Blocked", "Заблокирован"),
    (
        "notifications.title",
        "System notifications",
        "Системные уведомления",
    ),
    ("notifications.new", "New notification", "Новое уведомление"),
    ("notifications.heading", "Title", "Заголовок"),
    ("notifications.message", "Message", "Сообщение"),
    ("notifications.level", "Level", "Уровень"),
    ("notifications.audience", "Audience", "Получатели"),
    ("notifications.expires", "Expires", "Действует до"),
    // Announcements (issue 17 point 12).
    ("notifications.until", "until", "до"),
    (
        "notifications.none",
        "No notices for you right now.",
        "Сейчас уведомлений для вас нет.",
    ),
    ("notifications.state", "State", "Состояние"),
    ("notifications.withdraw", "Withdraw", "Снять"),
    ("notifications.withdrawn", "Withdrawn", "Снято"),
    ("notifications.expired", "Expired", "Истекло"),
    (
        "notifications.banner_hint",
        "Warnings and critical notices stay as a banner on every page until they expire or are withdrawn.",
        "Предупреждения и критичные уведомления видны баннером на каждой странице, пока не истекут или не будут сняты.",
    ),
    ("level.info", "Info", "Информация"),
    ("level.warning", "Warning", "Предупреждение"),
    ("level.critical", "Critical", "Критично"),
    ("audience.everyone", "Everyone", "Все"),
    ("audience.agents", "Agents", "Сотрудники ИТ"),
    ("audience.admins", "Admins", "Администраторы"),
    ("audience.user", "One person", "Один пользователь"),
    (
        "toast.ticket_created",
        "New ticket #{0}: {1}",
        "Новая заявка №{0}: {1}",
    ),
    (
        "toast.ticket_status_changed",
        "Ticket #{0} — {1}",
        "Заявка №{0} — {1}",
    ),
    (
        "toast.ticket_updated",
        "Ticket #{0} updated by {1}",
        "Заявка №{0} изменена: {1}",
    ),
    (
        "toast.ticket_assigned",
        "Ticket #{0} assigned to {1}",
        "Заявка №{0} назначена: {1}",
    ),
    (
        "toast.ticket_unassigned",
        "Ticket #{0} unassigned",
        "С заявки №{0} снят исполнитель",
    ),
    (
        "toast.ticket_comment_created",
        "{1} commented on #{0}",
        "{1} — комментарий к заявке №{0}",
    ),
    (
        "toast.user_created",
        "New user: {0}",
        "Новый пользователь: {0}",
    ),
    (
        "toast.user_status_changed",
        "User {0}: {1}",
        "Пользователь {0}: {1}",
    ),
    ("toast.equipment_status_changed", "{0}: {1}", "{0}: {1}"),
    (
        "toast.equipment_location_changed",
        "{0} moved to {1}",
        "{0} перемещено: {1}",
    ),
    (
        "toast.knowledge_article_created",
        "New article: {0}",
        "Новая статья: {0}",
    ),
    (
        "toast.knowledge_article_updated",
        "Article updated: {0}",
        "Статья обновлена: {0}",
    ),
    ("toast.system_notification_created", "{0}", "{0}"),
    ("toast.dismiss", "Click to close", "Нажмите, чтобы закрыть"),
    ("toast.by", "by {0}", "автор: {0}"),
    // Teams and queues (issue 12 point 2).
    ("nav.teams", "Teams", "Группы"),
    ("teams.title", "Teams", "Группы"),
    ("teams.new", "New team", "Новая группа"),
    ("teams.edit", "Change the team", "Изменить группу"),
    ("teams.name", "Name", "Название"),
    ("teams.lead", "Lead", "Руководитель"),
    ("teams.members", "Members", "Участники"),
    (
        "teams.auto_assign",
        "Assign new tickets in turn",
        "Назначать новые заявки по очереди",
    ),
    ("teams.round_robin", "In turn", "По очереди"),
    ("teams.queue", "Queue", "Очередь"),
    ("teams.state", "State", "Состояние"),
    ("teams.active", "Active", "Действует"),
    ("teams.inactive", "Inactive", "Не действует"),
    ("tickets.team", "Team", "Группа"),
    ("toast.team_created", "New team: {0}", "Новая группа: {0}"),
    (
        "toast.team_updated",
        "Team changed: {0}",
        "Группа изменена: {0}",
    ),
    ("field.ticket.team", "Team", "Группа"),
    ("field.ticket.status", "Status", "Статус"),
    ("field.ticket.attachment", "File", "Файл"),
    ("field.ticket.priority", "Priority", "Приоритет"),
    ("field.ticket.type", "Type", "Тип"),
    ("field.ticket.assignee", "Assignee", "Исполнитель"),
    ("field.ticket.category", "Category", "Категория"),
    ("field.ticket.equipment", "Equipment", "Оборудование"),
    ("field.ticket.title", "Subject", "Тема"),
    ("field.ticket.description", "Description", "Описание"),
    ("field.ticket.resolution", "Resolution", "Решение"),
    ("field.equipment.status", "Status", "Состояние"),
    ("field.equipment.location", "Location", "Расположение"),
    (
        "field.equipment.assigned_user",
        "Assigned to",
        "Закреплено за",
    ),
    ("field.equipment.name", "Name", "Наименование"),
    ("field.equipment.kind", "Kind", "Вид"),
    ("field.equipment.serial", "Serial", "Серийный номер"),
    ("field.equipment.notes", "Notes", "Заметки"),
    (
        "field.equipment.inventory_number",
        "Inventory no.",
        "Инв. номер",
    ),
];

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut map = HeaderMap::new();
        map.insert(name, HeaderValue::from_static(value));
        map
    }

    #[test]
    fn the_browser_language_is_chosen_by_preference() {
        let map = headers(header::ACCEPT_LANGUAGE, "de-DE, en;q=0.8, ru;q=0.5");
        assert_eq!(Lang::from_request(&map), Lang::En);
        let map = headers(header::ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9,en;q=0.8");
        assert_eq!(Lang::from_request(&map), Lang::Ru);
    }

    #[test]
    fn the_cookie_overrides_the_browser() {
        let mut map = headers(header::ACCEPT_LANGUAGE, "ru");
        map.insert(header::COOKIE, HeaderValue::from_static("a=b; lang=en"));
        assert_eq!(Lang::from_request(&map), Lang::En);
    }

    #[test]
    fn every_key_is_unique_and_translated() {
        for (i, (key, en, ru)) in CATALOG.iter().enumerate() {
            assert!(!en.is_empty() && !ru.is_empty(), "{key}");
            assert!(
                CATALOG[i + 1..].iter().all(|(other, _, _)| other != key),
                "{key} twice"
            );
        }
    }

    #[test]
    fn a_requester_reads_waiting_as_awaiting_their_reply() {
        let staff = Tr::new(Lang::Ru).for_role(Role::Agent);
        let requester = Tr::new(Lang::Ru).for_role(Role::Requester);
        assert_eq!(staff.label("status", "waiting"), "Ожидание");
        assert_eq!(requester.label("status", "waiting"), "Ждём вашего ответа");
        assert_eq!(requester.t("status.new"), "Новая");
        let strings: Value = serde_json::from_str(&requester.json()).expect("JSON");
        assert_eq!(strings["status.waiting"], "Ждём вашего ответа");
        assert!(strings.get("requester:status.waiting").is_none());
    }

    #[test]
    fn choices_have_labels() {
        let t = Tr::new(Lang::Ru);
        assert_eq!(t.label("status", "in_progress"), "В работе");
        assert_eq!(t.label("status", "unknown"), "unknown");
    }
}
