//! Demo data: a realistic IT department, created through the same service functions as
//! real changes (so history and events are real), in a few large transactions so that
//! `ictdesk serve --demo` starts in seconds. (The first admin of an empty database
//! without the demo: `first_run.rs`.)

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use time::{Duration, OffsetDateTime};

use crate::{
    Desk,
    articles::{NewArticle, create_article_in},
    categories::{Category, CategoryScope},
    comments::NewComment,
    desk::Kept,
    equipment::{EquipmentChange, NewEquipment, change_equipment_in, create_equipment_in},
    error::{Error, Result},
    locations::Location,
    notifications::{NewNotification, NotificationAudience, create_notification_in},
    storage::Transaction,
    tickets::{NewTicket, TicketChange, add_comment_in, change_ticket_in, create_ticket_in},
    timestamps,
    users::{NewUser, User, create_user_in},
};

/// The password of every demo account.
pub const DEMO_PASSWORD: &str = "demo";

/// What `--demo` created, to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoSummary {
    pub users: usize,
    pub locations: usize,
    pub categories: usize,
    pub tickets: usize,
    pub comments: usize,
    pub equipment: usize,
    pub articles: usize,
    pub notifications: usize,
    /// `(email, password, role)` of the fixed demo logins.
    pub logins: Vec<(String, String, String)>,
}

const ADMIN: (&str, &str, &str) = ("Ольга Смирнова", "admin@demo.local", "ru");
const AGENTS: [(&str, &str, &str); 3] = [
    ("Алексей Кузнецов", "agent@demo.local", "ru"),
    ("Дмитрий Волков", "dmitry.volkov@demo.local", "ru"),
    ("Sarah Mitchell", "sarah.mitchell@demo.local", "en"),
];
const REQUESTERS: [(&str, &str, &str); 20] = [
    ("Мария Иванова", "user@demo.local", "ru"),
    ("Сергей Петров", "sergey.petrov@demo.local", "ru"),
    ("Анна Соколова", "anna.sokolova@demo.local", "ru"),
    ("Игорь Морозов", "igor.morozov@demo.local", "ru"),
    ("Екатерина Новикова", "ekaterina.novikova@demo.local", "ru"),
    ("Павел Лебедев", "pavel.lebedev@demo.local", "ru"),
    ("Наталья Козлова", "natalya.kozlova@demo.local", "ru"),
    ("Андрей Попов", "andrey.popov@demo.local", "ru"),
    ("Юлия Васильева", "yulia.vasilieva@demo.local", "ru"),
    ("Михаил Фёдоров", "mikhail.fedorov@demo.local", "ru"),
    ("Татьяна Михайлова", "tatiana.mikhailova@demo.local", "ru"),
    ("Владимир Егоров", "vladimir.egorov@demo.local", "ru"),
    ("Светлана Орлова", "svetlana.orlova@demo.local", "ru"),
    ("Николай Андреев", "nikolay.andreev@demo.local", "ru"),
    ("Елена Никитина", "elena.nikitina@demo.local", "ru"),
    ("James Carter", "james.carter@demo.local", "en"),
    ("Emily Johnson", "emily.johnson@demo.local", "en"),
    ("Michael Brown", "michael.brown@demo.local", "en"),
    ("Olivia Wilson", "olivia.wilson@demo.local", "en"),
    ("Daniel Thompson", "daniel.thompson@demo.local", "en"),
];

/// (name, building, room)
const LOCATIONS: [(&str, Option<&str>, Option<&str>); 12] = [
    ("ГК-101", Some("Главный корпус"), Some("101 — Приёмная")),
    ("ГК-102", Some("Главный корпус"), Some("102 — Бухгалтерия")),
    ("ГК-204", Some("Главный корпус"), Some("204 — Отдел кадров")),
    ("ГК-305", Some("Главный корпус"), Some("305 — Отдел продаж")),
    ("ГК-310", Some("Главный корпус"), Some("310 — Переговорная")),
    ("ГК-012", Some("Главный корпус"), Some("012 — Серверная")),
    ("Б-12", Some("Корпус Б"), Some("12 — Склад")),
    ("Б-14", Some("Корпус Б"), Some("14 — Юридический отдел")),
    ("Б-21", Some("Корпус Б"), Some("21 — ИТ-отдел")),
    ("Б-23", Some("Корпус Б"), Some("23 — Маркетинг")),
    ("Филиал-1", Some("Филиал на Ленина"), Some("1 — Open space")),
    (
        "Филиал-2",
        Some("Филиал на Ленина"),
        Some("2 — Кабинет директора"),
    ),
];

pub(crate) const TICKET_CATEGORIES: [&str; 7] = [
    "Оборудование",
    "Программное обеспечение",
    "Сеть и интернет",
    "Доступы и учётные записи",
    "Печать и сканирование",
    "Почта и календарь",
    "Телефония",
];
const ARTICLE_CATEGORIES: [&str; 4] = ["Инструкции", "Частые вопросы", "How-to", "Регламенты ИТ"];

/// (title, description, category index, type, priority)
pub(crate) const TICKETS: [(&str, &str, usize, &str, &str); 30] = [
    (
        "Принтер не печатает",
        "Принтер в кабинете показывает «Замятие бумаги», но бумаги внутри нет.",
        4,
        "incident",
        "medium",
    ),
    (
        "Не включается компьютер",
        "После выходных компьютер не включается, индикатор питания не горит.",
        0,
        "incident",
        "high",
    ),
    (
        "Нет доступа к общей папке",
        "При открытии \\\\fs01\\finance пишет «Отказано в доступе».",
        3,
        "incident",
        "medium",
    ),
    (
        "Медленно работает интернет",
        "Страницы открываются по минуте, видеозвонки обрываются.",
        2,
        "incident",
        "high",
    ),
    (
        "Установить Microsoft Visio",
        "Для работы над схемами процессов нужен Visio.",
        1,
        "request",
        "low",
    ),
    (
        "Новый сотрудник: создать учётную запись",
        "С понедельника выходит новый менеджер, нужна почта и доступ в CRM.",
        3,
        "request",
        "medium",
    ),
    (
        "Не приходит почта",
        "Со вчерашнего дня не приходят письма от внешних адресатов.",
        5,
        "incident",
        "critical",
    ),
    (
        "Сломалась гарнитура",
        "Не работает микрофон на гарнитуре, собеседники меня не слышат.",
        6,
        "incident",
        "low",
    ),
    (
        "Замена картриджа",
        "Принтер печатает бледно, нужен новый картридж.",
        4,
        "request",
        "low",
    ),
    (
        "Не работает VPN из дома",
        "VPN-клиент подключается и сразу отключается с ошибкой 809.",
        2,
        "incident",
        "high",
    ),
    (
        "Сбросить пароль",
        "Забыл пароль после отпуска, учётная запись заблокирована.",
        3,
        "request",
        "medium",
    ),
    (
        "Второй монитор не определяется",
        "Подключил второй монитор через HDMI, изображения нет.",
        0,
        "incident",
        "medium",
    ),
    (
        "Не открывается 1С",
        "При запуске 1С появляется ошибка лицензии.",
        1,
        "incident",
        "critical",
    ),
    (
        "Сканер сохраняет пустые файлы",
        "МФУ сканирует, но в папке появляются пустые PDF.",
        4,
        "incident",
        "medium",
    ),
    (
        "Телефон не регистрируется",
        "IP-телефон показывает «Нет регистрации».",
        6,
        "incident",
        "medium",
    ),
    (
        "Printer shows offline",
        "The printer on the third floor is shown as offline on my laptop.",
        4,
        "incident",
        "medium",
    ),
    (
        "Laptop battery drains fast",
        "The battery lasts less than an hour since the last update.",
        0,
        "incident",
        "low",
    ),
    (
        "Request access to CRM",
        "I need read access to the CRM reports for the sales team.",
        3,
        "request",
        "medium",
    ),
    (
        "Outlook keeps asking for password",
        "Outlook asks for my password every few minutes.",
        5,
        "incident",
        "high",
    ),
    (
        "Install Zoom plugin",
        "Please install the Zoom plugin for Outlook.",
        1,
        "request",
        "low",
    ),
    (
        "Wi-Fi drops in meeting room",
        "Wi-Fi disconnects every few minutes in room 310.",
        2,
        "incident",
        "medium",
    ),
    (
        "New monitor for workplace",
        "I need a second monitor for spreadsheet work.",
        0,
        "request",
        "low",
    ),
    (
        "Shared calendar not visible",
        "I cannot see the team calendar shared with me.",
        5,
        "incident",
        "low",
    ),
    (
        "Keyboard not working",
        "Several keys on my keyboard stopped working.",
        0,
        "incident",
        "low",
    ),
    (
        "Cannot print in colour",
        "Colour printing comes out in black and white.",
        4,
        "incident",
        "low",
    ),
    (
        "Сервер 1С недоступен",
        "У всего отдела продаж не подключается база 1С.",
        1,
        "incident",
        "critical",
    ),
    (
        "Настроить переадресацию звонков",
        "На время отпуска нужна переадресация на коллегу.",
        6,
        "request",
        "low",
    ),
    (
        "Обновить антивирус",
        "Антивирус сообщает, что базы устарели на 10 дней.",
        1,
        "incident",
        "medium",
    ),
    (
        "Подключить сетевую розетку",
        "В кабинете не работает сетевая розетка у окна.",
        2,
        "request",
        "medium",
    ),
    (
        "Email attachments blocked",
        "Attachments from our supplier are blocked as unsafe.",
        5,
        "incident",
        "medium",
    ),
];

pub(crate) const REPLIES: [&str; 8] = [
    "Посмотрю сегодня до обеда.",
    "Уточните, пожалуйста, номер кабинета.",
    "Проверили удалённо, перезагрузите компьютер и проверьте ещё раз.",
    "Спасибо, всё заработало!",
    "Do you still see the error after restarting?",
    "I have ordered a replacement, it should arrive this week.",
    "Подтверждаю, проблема повторяется.",
    "Thanks, it works now.",
];
pub(crate) const NOTES: [&str; 4] = [
    "Похоже на проблему с драйвером после обновления.",
    "Запчасть заказана у поставщика, счёт 4417.",
    "Escalated to the network vendor, case #88213.",
    "Пользователь просил не звонить до 14:00.",
];
pub(crate) const RESOLUTIONS: [&str; 5] = [
    "Заменили неисправный модуль, проверили работу вместе с пользователем.",
    "Переустановили драйвер и настроили заново.",
    "Сбросили пароль и выдали временный доступ.",
    "Restored the configuration from backup and verified with the user.",
    "Replaced the cable; connection is stable.",
];

/// (kind, model, count)
pub(crate) const EQUIPMENT: [(&str, &str, usize); 8] = [
    ("workstation", "Dell OptiPlex 7090", 24),
    ("laptop", "Lenovo ThinkPad T14", 16),
    ("monitor", "Dell P2422H", 16),
    ("printer", "HP LaserJet Pro M404", 8),
    ("network", "Cisco Catalyst 2960", 5),
    ("phone", "Yealink T46U", 6),
    ("server", "HPE ProLiant DL380 Gen10", 3),
    ("other", "APC Smart-UPS 1500", 2),
];

/// (title, body, category index, visibility)
pub(crate) const ARTICLES: [(&str, &str, usize, &str); 25] = [
    (
        "Как подключить сетевой принтер",
        "1. Откройте **Параметры → Принтеры и сканеры**.\n2. Нажмите «Добавить принтер».\n3. Выберите принтер вашего этажа, например `PRN-3-01`.",
        0,
        "everyone",
    ),
    (
        "Что делать, если принтер не печатает",
        "Проверьте бумагу и картридж, перезагрузите принтер. Если принтеры всего этажа не печатают — создайте заявку.",
        1,
        "everyone",
    ),
    (
        "Настройка VPN для работы из дома",
        "Установите VPN-клиент из Центра программ, введите адрес `vpn.demo.local` и рабочий логин.",
        0,
        "everyone",
    ),
    (
        "Как сменить пароль",
        "Нажмите Ctrl+Alt+Del → «Сменить пароль». Пароль должен содержать не менее 12 символов.",
        1,
        "everyone",
    ),
    (
        "Подключение второго монитора",
        "Подключите монитор к разъёму DisplayPort, затем нажмите Win+P и выберите «Расширить».",
        0,
        "everyone",
    ),
    (
        "Настройка почты на телефоне",
        "Установите Outlook для iOS или Android и войдите с рабочей учётной записью.",
        0,
        "everyone",
    ),
    (
        "Сканирование документов в папку",
        "На МФУ выберите «Сканировать в папку», документы появятся в `\\\\fs01\\scan\\<логин>`.",
        0,
        "everyone",
    ),
    (
        "Правила использования рабочих ноутбуков",
        "Ноутбук выдаётся под подпись. Не оставляйте его в машине, о потере сообщите в ИТ в течение часа.",
        3,
        "everyone",
    ),
    (
        "Как заказать новое оборудование",
        "Создайте заявку типа «Запрос» в категории «Оборудование», укажите обоснование и согласование руководителя.",
        1,
        "everyone",
    ),
    (
        "Частые ошибки 1С и их решение",
        "Ошибка лицензии обычно означает, что сервер лицензий перезагружается — подождите пять минут.",
        1,
        "everyone",
    ),
    (
        "Переадресация звонков на IP-телефоне",
        "Меню → Переадресация → Всегда, введите внутренний номер коллеги.",
        0,
        "everyone",
    ),
    (
        "Регламент резервного копирования серверов",
        "Полное копирование — по воскресеньям, инкрементное — ежедневно в 02:00. Проверка восстановления — раз в месяц.",
        3,
        "agents",
    ),
    (
        "Доступ к коммутаторам и паролям",
        "Пароли хранятся в менеджере паролей ИТ-отдела, доступ выдаёт руководитель ИТ.",
        3,
        "agents",
    ),
    (
        "Порядок списания оборудования",
        "Составьте акт, приложите заключение о неремонтопригодности, переведите оборудование в статус «Списано».",
        3,
        "agents",
    ),
    (
        "How to connect to the office Wi-Fi",
        "Choose the network `DEMO-CORP` and sign in with your work account. Guests use `DEMO-GUEST`.",
        2,
        "everyone",
    ),
    (
        "How to set up a network printer",
        "Open **Settings → Printers & scanners**, click *Add device* and choose the printer of your floor.",
        2,
        "everyone",
    ),
    (
        "Troubleshooting printers that show offline",
        "Restart the printer, then remove and re-add it. Printers on the guest network cannot be used.",
        2,
        "everyone",
    ),
    (
        "Working remotely with VPN",
        "Install the VPN client from the Software Center and connect to `vpn.demo.local`.",
        2,
        "everyone",
    ),
    (
        "Resetting your password",
        "Use the self-service portal or ask the service desk; passwords must have at least 12 characters.",
        1,
        "everyone",
    ),
    (
        "Sharing your Outlook calendar",
        "In Outlook, right-click your calendar → *Sharing permissions* and add your colleagues.",
        2,
        "everyone",
    ),
    (
        "Booking meeting rooms",
        "Meeting rooms are booked as resources in Outlook; room 310 has a video conferencing system.",
        1,
        "everyone",
    ),
    (
        "Reporting a phishing email",
        "Do not click links. Use the *Report phishing* button in Outlook or forward the message to the service desk.",
        1,
        "everyone",
    ),
    (
        "Onboarding checklist for new employees",
        "Account, mailbox, laptop, access to shared folders, phone extension — create one request per item.",
        3,
        "agents",
    ),
    (
        "Server room access procedure",
        "Only IT staff may enter the server room; every visit is logged in the access journal.",
        3,
        "agents",
    ),
    (
        "Keyboard shortcuts for the service desk",
        "Use `Ctrl+K` to search tickets and `Ctrl+Enter` to send a comment.",
        2,
        "everyone",
    ),
];

/// The demo's fixed timeline: everything happened in the last 60 days.
struct Clock {
    start: OffsetDateTime,
    now: OffsetDateTime,
}

impl Clock {
    fn at(&self, offset: Duration) -> String {
        timestamps::format((self.start + offset).min(self.now))
    }
}

impl Desk {
    /// Fills an empty database with the demo IT department; `None` if it is not empty.
    pub async fn seed_demo(&self) -> Result<Option<DemoSummary>> {
        if !self.is_empty().await? {
            return Ok(None);
        }
        // One hash for every demo account: hashing is deliberately slow.
        let hash = self.passwords.hash(DEMO_PASSWORD).await?;
        let now = timestamps::now();
        let clock = Clock {
            start: now - Duration::days(60),
            now,
        };
        let mut rng = StdRng::seed_from_u64(2026);

        let mut work = self.begin_change().await?;
        let (tx, kept) = work.steps();
        let people = seed_people(tx, kept, &hash, &clock).await?;
        let (locations, categories) = seed_places_and_categories(tx).await?;
        work.commit().await?;

        let mut work = self.begin_change().await?;
        let (tx, kept) = work.steps();
        let equipment = seed_equipment(tx, kept, &people, &locations, &clock, &mut rng).await?;
        let articles = seed_articles(tx, kept, &people, &categories, &clock).await?;
        work.commit().await?;

        let mut work = self.begin_change().await?;
        let (tx, kept) = work.steps();
        let (tickets, comments) =
            seed_tickets(tx, kept, &people, &categories, &equipment, &clock, &mut rng).await?;
        let notifications = seed_notifications(tx, kept, &people, &clock).await?;
        work.commit().await?;

        Ok(Some(DemoSummary {
            users: 1 + people.agents.len() + people.requesters.len(),
            locations: locations.len(),
            categories: categories.len(),
            tickets,
            comments,
            equipment: equipment.len(),
            articles,
            notifications,
            logins: vec![
                (ADMIN.1.into(), DEMO_PASSWORD.into(), "admin".into()),
                (AGENTS[0].1.into(), DEMO_PASSWORD.into(), "agent".into()),
                (
                    REQUESTERS[0].1.into(),
                    DEMO_PASSWORD.into(),
                    "requester".into(),
                ),
            ],
        }))
    }
}

struct People {
    admin: User,
    agents: Vec<User>,
    requesters: Vec<User>,
}

impl People {
    fn staff(&self) -> impl Iterator<Item = &User> {
        std::iter::once(&self.admin).chain(&self.agents)
    }
}

async fn seed_people(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    hash: &str,
    clock: &Clock,
) -> Result<People> {
    let person = |(name, email, locale): (&str, &str, &str), role: &str| NewUser {
        name: name.into(),
        email: email.into(),
        role: role.into(),
        password: String::new(),
        locale: Some(locale.into()),
    };
    let at = clock.at(Duration::ZERO);
    let admin = kept.keep(create_user_in(tx, None, &person(ADMIN, "admin"), hash, &at).await?);
    let mut agents = Vec::new();
    for agent in AGENTS {
        agents.push(
            kept.keep(create_user_in(tx, Some(&admin), &person(agent, "agent"), hash, &at).await?),
        );
    }
    let mut requesters = Vec::new();
    for (i, requester) in REQUESTERS.into_iter().enumerate() {
        let at = clock.at(Duration::hours(i as i64));
        requesters.push(kept.keep(
            create_user_in(tx, Some(&admin), &person(requester, "requester"), hash, &at).await?,
        ));
    }
    Ok(People {
        admin,
        agents,
        requesters,
    })
}

/// Locations and categories have no events (docs/events.md): written directly.
async fn seed_places_and_categories(
    tx: &mut dyn Transaction,
) -> Result<(Vec<Location>, Vec<Category>)> {
    let mut locations = Vec::new();
    for (name, building, room) in LOCATIONS {
        let mut location = Location {
            id: 0,
            name: name.into(),
            building: building.map(Into::into),
            room: room.map(Into::into),
        };
        location.id = tx.insert_location(&location).await?;
        locations.push(location);
    }
    let mut categories = Vec::new();
    let lists = [
        (CategoryScope::Ticket, &TICKET_CATEGORIES[..]),
        (CategoryScope::Article, &ARTICLE_CATEGORIES[..]),
    ];
    for (scope, names) in lists {
        for name in names {
            let mut category = Category {
                id: 0,
                name: (*name).into(),
                scope,
                active: true,
                default_team_id: None,
            };
            category.id = tx.insert_category(&category).await?;
            categories.push(category);
        }
    }
    Ok((locations, categories))
}

fn category_id(categories: &[Category], scope: CategoryScope, index: usize) -> Option<i64> {
    categories
        .iter()
        .filter(|category| category.scope == scope)
        .nth(index)
        .map(|category| category.id)
}

fn serial(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// 80 pieces: most in use by someone, some in stock, a few in repair or written off,
/// each with its creation and later moves in history. Returns each piece's id and
/// holder.
async fn seed_equipment(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    people: &People,
    locations: &[Location],
    clock: &Clock,
    rng: &mut StdRng,
) -> Result<Vec<(i64, Option<i64>)>> {
    let agent = &people.agents[0];
    let storage = locations
        .iter()
        .find(|location| location.name == "Б-12")
        .map(|location| location.id);
    let offices: Vec<i64> = locations
        .iter()
        .map(|location| location.id)
        .filter(|id| Some(*id) != storage)
        .collect();
    let holders: Vec<&User> = people.requesters.iter().chain(people.staff()).collect();
    let mut ids = Vec::new();
    for (kind, model, count) in EQUIPMENT {
        for _ in 0..count {
            let number = ids.len() + 1;
            let personal = matches!(kind, "workstation" | "laptop" | "monitor" | "phone");
            let assigned = personal && number % 7 != 0;
            let input = NewEquipment {
                inventory_number: format!("INV-2024-{number:04}"),
                name: model.into(),
                kind: kind.into(),
                serial: Some(serial(rng)),
                status: None,
                location_id: if assigned || kind != "other" {
                    offices.choose(rng).copied()
                } else {
                    storage
                },
                assigned_user_id: assigned
                    .then(|| holders.choose(rng).map(|user| user.id))
                    .flatten(),
                notes: None,
            };
            let at = clock.at(Duration::hours(number as i64 * 3));
            let piece = kept.keep(create_equipment_in(tx, agent, &input, &at).await?);
            let later = clock.at(Duration::days(20 + (number % 30) as i64));
            let change = match number % 13 {
                0 => Some(EquipmentChange {
                    status: Some("in_repair".into()),
                    notes: Some(Some("Отправлено в сервисный центр".into())),
                    ..EquipmentChange::default()
                }),
                5 => Some(EquipmentChange {
                    status: Some("written_off".into()),
                    notes: Some(Some("Не подлежит ремонту, акт списания №12".into())),
                    ..EquipmentChange::default()
                }),
                9 => Some(EquipmentChange {
                    location_id: Some(offices.choose(rng).copied()),
                    ..EquipmentChange::default()
                }),
                _ => None,
            };
            let mut holder = piece.assigned_user_id;
            if let Some(change) = change {
                let changed = change_equipment_in(tx, agent, piece.id, &change, &later).await?;
                // A repair or a write-off takes the piece from its holder.
                holder = kept.keep(changed).assigned_user_id;
            }
            ids.push((piece.id, holder));
        }
    }
    Ok(ids)
}

async fn seed_articles(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    people: &People,
    categories: &[Category],
    clock: &Clock,
) -> Result<usize> {
    let authors: Vec<&User> = people.staff().collect();
    for (i, (title, body, category, visibility)) in ARTICLES.into_iter().enumerate() {
        let input = NewArticle {
            title: title.into(),
            body: body.into(),
            category_id: category_id(categories, CategoryScope::Article, category),
            visibility: Some(visibility.into()),
        };
        let author = authors
            .get(i % authors.len())
            .copied()
            .ok_or(Error::NotFound("author"))?;
        kept.keep(
            create_article_in(tx, author, &input, &clock.at(Duration::days(i as i64 * 2))).await?,
        );
    }
    Ok(ARTICLES.len())
}

/// The status a demo ticket ends in: a realistic mix, older tickets further along.
pub(crate) fn final_status(i: usize, total: usize) -> &'static str {
    let age = (total - i) * 100 / total;
    match (age, i % 10) {
        (70.., 0..=7) => "closed",
        (70.., _) => "resolved",
        (40..70, 0..=3) => "closed",
        (40..70, 4..=6) => "resolved",
        (40..70, 7) => "waiting",
        (40..70, _) => "in_progress",
        (15..40, 0..=2) => "resolved",
        (15..40, 3..=4) => "waiting",
        (15..40, _) => "in_progress",
        (_, 0..=6) => "new",
        _ => "in_progress",
    }
}

/// The statuses a ticket passes through to reach `last`.
pub(crate) fn path_to(last: &str) -> &'static [&'static str] {
    match last {
        "in_progress" => &["in_progress"],
        "waiting" => &["in_progress", "waiting"],
        "resolved" => &["in_progress", "resolved"],
        "closed" => &["in_progress", "resolved", "closed"],
        _ => &[],
    }
}

async fn seed_tickets(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    people: &People,
    categories: &[Category],
    equipment: &[(i64, Option<i64>)],
    clock: &Clock,
    rng: &mut StdRng,
) -> Result<(usize, usize)> {
    const TOTAL: usize = 150;
    let mut comments = 0;
    for i in 0..TOTAL {
        let (title, description, category, kind, priority) = TICKETS[i % TICKETS.len()];
        let requester = people
            .requesters
            .choose(rng)
            .ok_or(Error::NotFound("requester"))?;
        let agent = people.agents.choose(rng).ok_or(Error::NotFound("agent"))?;
        let created =
            Duration::minutes((i * 60 * 24 * 59 / TOTAL) as i64 + rng.random_range(0..120));
        let input = NewTicket {
            title: title.into(),
            description: description.into(),
            priority: Some(priority.into()),
            ticket_type: Some(kind.into()),
            category_id: category_id(categories, CategoryScope::Ticket, category),
            // A requester names only what they hold (tickets::check_equipment).
            equipment_id: (category == 0)
                .then(|| held_by(equipment, requester).choose(rng).copied())
                .flatten(),
            requester_id: None,
            team_id: None,
            files: Vec::new(),
        };
        let ticket = kept.keep(create_ticket_in(tx, requester, &input, &clock.at(created)).await?);
        let mut step = created;
        for (n, status) in path_to(final_status(i, TOTAL)).iter().enumerate() {
            step += Duration::minutes(rng.random_range(20..600));
            let change = TicketChange {
                status: Some((*status).into()),
                assignee_id: (n == 0).then_some(Some(agent.id)),
                resolution: (*status == "resolved")
                    .then(|| RESOLUTIONS.choose(rng).map(|r| (*r).to_owned()))
                    .flatten(),
                ..TicketChange::default()
            };
            kept.keep(change_ticket_in(tx, agent, ticket.id, &change, &clock.at(step)).await?);
            if n == 0 {
                comments +=
                    seed_conversation(tx, kept, ticket.id, [requester, agent], clock, step, rng)
                        .await?;
            }
        }
    }
    Ok((TOTAL, comments))
}

/// The pieces `person` holds.
fn held_by(equipment: &[(i64, Option<i64>)], person: &User) -> Vec<i64> {
    let theirs = equipment
        .iter()
        .filter(|(_, holder)| *holder == Some(person.id));
    theirs.map(|(id, _)| *id).collect()
}

/// 0–3 comments: the agent's reply, the requester's answer, sometimes an internal note.
async fn seed_conversation(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    ticket_id: i64,
    [requester, agent]: [&User; 2],
    clock: &Clock,
    mut at: Duration,
    rng: &mut StdRng,
) -> Result<usize> {
    let count = rng.random_range(0..=3);
    for n in 0..count {
        at += Duration::minutes(rng.random_range(5..240));
        let (author, input) = match n {
            1 => (
                requester,
                NewComment {
                    body: REPLIES[rng.random_range(0..REPLIES.len())].into(),
                    internal: false,
                    files: Vec::new(),
                },
            ),
            2 => (
                agent,
                NewComment {
                    body: NOTES[rng.random_range(0..NOTES.len())].into(),
                    internal: true,
                    files: Vec::new(),
                },
            ),
            _ => (
                agent,
                NewComment {
                    body: REPLIES[rng.random_range(0..REPLIES.len())].into(),
                    internal: false,
                    files: Vec::new(),
                },
            ),
        };
        kept.keep(add_comment_in(tx, author, ticket_id, &input, &clock.at(at)).await?);
    }
    Ok(count)
}

async fn seed_notifications(
    tx: &mut dyn Transaction,
    kept: &mut Kept,
    people: &People,
    clock: &Clock,
) -> Result<usize> {
    let user = people
        .requesters
        .first()
        .map_or(people.admin.id, |user| user.id);
    let items = [
        (
            "Плановые работы на почтовом сервере",
            "В субботу с 10:00 до 12:00 почта будет недоступна.",
            "warning",
            NotificationAudience::Everyone,
            Some(Duration::days(90)),
        ),
        (
            "Обновление VPN-клиента",
            "Пожалуйста, обновите VPN-клиент до версии 5.2 до конца месяца.",
            "info",
            NotificationAudience::Everyone,
            None,
        ),
        (
            "Резервное копирование не прошло",
            "Ночное копирование сервера 1С завершилось с ошибкой, проверьте журнал.",
            "critical",
            NotificationAudience::Agents,
            None,
        ),
        (
            "Продление лицензий",
            "Лицензии антивируса истекают через 30 дней.",
            "warning",
            NotificationAudience::Admins,
            None,
        ),
        (
            "Ваш ноутбук готов",
            "Ноутбук после ремонта можно забрать в кабинете Б-21.",
            "info",
            NotificationAudience::User(user),
            Some(Duration::days(70)),
        ),
    ];
    for (i, (title, message, level, audience, expires)) in items.into_iter().enumerate() {
        let input = NewNotification {
            title: title.into(),
            message: message.into(),
            level: Some(level.into()),
            audience,
            expires_at: expires.map(|after| clock.at(after)),
        };
        kept.keep(
            create_notification_in(
                tx,
                &people.admin,
                &input,
                &clock.at(Duration::days(50 + i as i64)),
            )
            .await?,
        );
    }
    Ok(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_tickets_are_further_along() {
        assert_eq!(final_status(0, 150), "closed");
        assert_eq!(final_status(149, 150), "in_progress");
        assert_eq!(final_status(140, 150), "new");
    }

    #[test]
    fn every_final_status_is_reachable_by_its_path() {
        assert_eq!(path_to("closed"), ["in_progress", "resolved", "closed"]);
        assert!(path_to("new").is_empty());
    }
}
