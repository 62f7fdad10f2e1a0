//! The seeder's rows: people, equipment, articles and tickets with their comments and
//! history, made from the demo department's texts (`crate::demo`) with enough variety
//! (names, rooms, inventory numbers) that lists, filters and searches behave as on real
//! data. Deterministic for a given first id, so that batches can be made in any order.

use rand::{Rng, SeedableRng, rngs::StdRng, seq::IndexedRandom};
use time::{Duration, OffsetDateTime};

use super::{Batch, NewArticleRow, NewCommentRow, NewEquipmentRow, NewUserRow, Person};
use crate::{
    articles::Visibility,
    demo::{ARTICLES, EQUIPMENT, NOTES, REPLIES, RESOLUTIONS, TICKETS},
    equipment::{EquipmentKind, EquipmentStatus},
    history::{Changes, EntityKind},
    tickets::{Priority, Ticket, TicketStatus, TicketType},
    timestamps,
    users::{Locale, Role},
};

/// (Russian, Latin) first names and surnames; emails use the Latin form.
const FIRST_NAMES: [(&str, &str); 16] = [
    ("Александр", "alexander"),
    ("Мария", "maria"),
    ("Дмитрий", "dmitry"),
    ("Анна", "anna"),
    ("Сергей", "sergey"),
    ("Елена", "elena"),
    ("Андрей", "andrey"),
    ("Ольга", "olga"),
    ("Иван", "ivan"),
    ("Наталья", "natalya"),
    ("Павел", "pavel"),
    ("Татьяна", "tatiana"),
    ("Михаил", "mikhail"),
    ("Юлия", "yulia"),
    ("Никита", "nikita"),
    ("Светлана", "svetlana"),
];
const SURNAMES: [(&str, &str); 16] = [
    ("Иванов", "ivanov"),
    ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"),
    ("Попов", "popov"),
    ("Васильев", "vasiliev"),
    ("Петров", "petrov"),
    ("Соколов", "sokolov"),
    ("Михайлов", "mikhailov"),
    ("Новиков", "novikov"),
    ("Фёдоров", "fedorov"),
    ("Морозов", "morozov"),
    ("Волков", "volkov"),
    ("Алексеев", "alekseev"),
    ("Лебедев", "lebedev"),
    ("Семёнов", "semenov"),
    ("Егоров", "egorov"),
];
const ENGLISH_NAMES: [&str; 12] = [
    "James", "Emily", "Michael", "Olivia", "Daniel", "Sophie", "Thomas", "Grace", "Oliver",
    "Chloe", "William", "Hannah",
];
const ENGLISH_SURNAMES: [&str; 12] = [
    "Carter", "Johnson", "Brown", "Wilson", "Thompson", "Walker", "Wright", "Hughes", "Evans",
    "Clarke", "Turner", "Hall",
];
/// Where a ticket's description says the problem is, in either language.
const PLACES: [&str; 6] = [
    "Кабинет {n}, рабочее место у окна.",
    "Отдел продаж, этаж {n}.",
    "Room {n}, second desk from the door.",
    "Бухгалтерия, кабинет {n}.",
    "Warehouse office {n}.",
    "Переговорная {n}, проектор и ноутбук.",
];

/// One person in ~100 is IT staff, one in 5 000 an admin; a fifth write in English.
pub(crate) fn users(first_id: i64, count: usize, now: OffsetDateTime) -> Vec<NewUserRow> {
    let mut rng = StdRng::seed_from_u64(first_id as u64);
    (0..count as i64)
        .map(|n| {
            let id = first_id + n;
            let english = rng.random_ratio(1, 5);
            let (name, login) = if english {
                let first = ENGLISH_NAMES.choose(&mut rng).copied().unwrap_or("Alex");
                let last = ENGLISH_SURNAMES
                    .choose(&mut rng)
                    .copied()
                    .unwrap_or("Smith");
                (
                    format!("{first} {last}"),
                    format!("{first}.{last}").to_lowercase(),
                )
            } else {
                let (first, first_latin) =
                    FIRST_NAMES.choose(&mut rng).copied().unwrap_or_default();
                let (last, last_latin) = SURNAMES.choose(&mut rng).copied().unwrap_or_default();
                // Russian surnames agree with the person: Иванов, Иванова.
                let feminine = first.ends_with('а') || first.ends_with('я');
                let last = if feminine {
                    format!("{last}а")
                } else {
                    last.to_owned()
                };
                (
                    format!("{first} {last}"),
                    format!("{first_latin}.{last_latin}"),
                )
            };
            let role = match id {
                id if id % 5_000 == 0 => Role::Admin,
                id if id % 100 == 0 => Role::Agent,
                _ => Role::Requester,
            };
            NewUserRow {
                id,
                name,
                email: format!("{login}.{id}@seed.local"),
                role,
                locale: if english { Locale::En } else { Locale::Ru },
                created_at: timestamps::format(now - Duration::days(rng.random_range(365..1_500))),
            }
        })
        .collect()
}

/// Equipment of the demo's kinds and models, most of it in someone's use.
pub(crate) fn equipment(
    first_id: i64,
    count: usize,
    people: &[Person],
    locations: &[i64],
    now: OffsetDateTime,
) -> Vec<NewEquipmentRow> {
    let mut rng = StdRng::seed_from_u64(first_id as u64);
    let staff: Vec<i64> = people
        .iter()
        .filter(|p| p.role.is_staff())
        .map(|p| p.id)
        .collect();
    (0..count as i64)
        .map(|n| {
            let id = first_id + n;
            let (kind, model, _) = EQUIPMENT.choose(&mut rng).copied().unwrap_or(EQUIPMENT[0]);
            let kind = EquipmentKind::parse(kind).unwrap_or(EquipmentKind::Other);
            let status = match rng.random_range(0..20) {
                0 => EquipmentStatus::InRepair,
                1 => EquipmentStatus::WrittenOff,
                2..=4 => EquipmentStatus::InStock,
                _ => EquipmentStatus::InUse,
            };
            let assigned_user_id = (status == EquipmentStatus::InUse)
                .then(|| people.choose(&mut rng).map(|p| p.id))
                .flatten();
            NewEquipmentRow {
                id,
                inventory_number: format!("INV-S-{id:07}"),
                name: model,
                kind,
                serial: serial(&mut rng),
                status,
                location_id: locations.choose(&mut rng).copied(),
                assigned_user_id,
                created_at: timestamps::format(now - Duration::days(rng.random_range(30..1_500))),
                created_by: staff.choose(&mut rng).copied(),
            }
        })
        .collect()
}

fn serial(rng: &mut StdRng) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789";
    (0..10)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

/// Knowledge-base articles: the demo's, numbered as editions and extended with a
/// paragraph, so that a search matches many articles as in a large knowledge base.
pub(crate) fn articles(
    first_id: i64,
    count: usize,
    authors: &[i64],
    categories: &[i64],
    now: OffsetDateTime,
) -> Vec<NewArticleRow> {
    let mut rng = StdRng::seed_from_u64(first_id as u64);
    (0..count as i64)
        .map(|n| {
            let id = first_id + n;
            let (title, body, _, visibility) =
                ARTICLES.choose(&mut rng).copied().unwrap_or(ARTICLES[0]);
            let extra = TICKETS.choose(&mut rng).map_or("", |ticket| ticket.1);
            NewArticleRow {
                id,
                title: format!("{title} ({id})"),
                body: format!("{body}\n\nСм. также: {extra}"),
                category_id: categories.choose(&mut rng).copied(),
                visibility: Visibility::parse(visibility).unwrap_or(Visibility::Everyone),
                author_id: authors.choose(&mut rng).copied().unwrap_or_default(),
                created_at: timestamps::format(now - Duration::days(rng.random_range(1..1_000))),
            }
        })
        .collect()
}

/// Who and what tickets refer to.
pub(crate) struct World {
    pub staff: Vec<Person>,
    pub requesters: Vec<i64>,
    pub categories: Vec<i64>,
    pub equipment: Vec<i64>,
    /// The newest ticket is filed at `now`, the oldest `span` before.
    pub now: OffsetDateTime,
    pub span: Duration,
}

/// Where the ids of the next batch of tickets start.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TicketIds {
    /// The index of the batch's first ticket among all `total` seeded ones.
    pub index: i64,
    pub total: i64,
    pub ticket: i64,
    pub comment: i64,
}

/// `count` tickets filed in time order, each with the comments and history its life
/// left: older tickets are closed, the last days' still open.
pub(crate) fn tickets(ids: TicketIds, count: usize, world: &World) -> Batch {
    let mut rng = StdRng::seed_from_u64(ids.ticket as u64);
    let mut batch = Batch::default();
    let mut comment_id = ids.comment;
    for n in 0..count as i64 {
        let position = (ids.index + n) as f64 / ids.total.max(1) as f64;
        let created =
            world.now - world.span * (1.0 - position) + Duration::minutes(rng.random_range(0..30));
        let ticket = life_of_ticket(ids.ticket + n, created, world, &mut rng, &mut batch);
        let comments = rng.random_range(0..=3);
        for k in 0..comments {
            let at = created + Duration::minutes(rng.random_range(5..600) * (k + 1));
            batch
                .comments
                .push(comment(comment_id, &ticket, k, at, world, &mut rng));
            comment_id += 1;
        }
        batch.tickets.push(ticket);
    }
    batch
}

/// A ticket as its requester filed it and its agent worked it, with the history of
/// every step; `batch` receives the history.
fn life_of_ticket(
    id: i64,
    created: OffsetDateTime,
    world: &World,
    rng: &mut StdRng,
    batch: &mut Batch,
) -> Ticket {
    let (title, description, category, kind, priority) =
        TICKETS.choose(rng).copied().unwrap_or(TICKETS[0]);
    let place = PLACES
        .choose(rng)
        .copied()
        .unwrap_or_default()
        .replace("{n}", &rng.random_range(100..520).to_string());
    let requester_id = world.requesters.choose(rng).copied().unwrap_or_default();
    let created_at = timestamps::format(created);
    let mut ticket = Ticket {
        id,
        title: title.to_owned(),
        description: format!("{description} {place}"),
        ticket_type: TicketType::parse(kind).unwrap_or(TicketType::Incident),
        status: TicketStatus::New,
        priority: Priority::parse(priority).unwrap_or(Priority::Medium),
        category_id: world.categories.get(category).copied(),
        category_name: None,
        requester_id,
        requester_name: String::new(),
        assignee_id: None,
        assignee_name: None,
        equipment_id: (category == 0)
            .then(|| world.equipment.choose(rng).copied())
            .flatten(),
        equipment_inventory_number: None,
        equipment_name: None,
        resolution: None,
        created_at: created_at.clone(),
        updated_at: created_at,
        resolved_at: None,
        closed_at: None,
        version: 1,
        updated_by: Some(requester_id),
        updated_by_name: None,
        requester_replied_at: None,
        staff_replied_at: None,
        team_id: None,
        team_name: None,
    };
    let Some(agent) = world.staff.choose(rng) else {
        return ticket;
    };
    let age = world.now - created;
    let mut at = created;
    for (step, status) in steps_to(final_status(age, rng)).iter().enumerate() {
        at = (at + Duration::minutes(rng.random_range(20..2_000))).min(world.now);
        let at_text = timestamps::format(at);
        let mut changes = Changes::new(EntityKind::Ticket, id, agent.id, &at_text);
        changes.field("status", Some(ticket.status), Some(*status));
        if step == 0 {
            changes.field::<&str>("assignee", None, Some(&agent.name));
            ticket.assignee_id = Some(agent.id);
        }
        match status {
            TicketStatus::Resolved => {
                let resolution = RESOLUTIONS.choose(rng).map(|r| (*r).to_owned());
                changes.field("resolution", None, resolution.as_ref());
                ticket.resolution = resolution;
                ticket.resolved_at = Some(at_text.clone());
            }
            TicketStatus::Closed => ticket.closed_at = Some(at_text.clone()),
            _ => {}
        }
        ticket.status = *status;
        ticket.updated_at = at_text;
        ticket.updated_by = Some(agent.id);
        ticket.version += 1;
        batch.history.extend_from_slice(changes.entries());
    }
    ticket
}

/// Closed after a month, mostly resolved after a week, open in the last days.
fn final_status(age: Duration, rng: &mut StdRng) -> TicketStatus {
    let roll = rng.random_range(0..100);
    match (age.whole_days(), roll) {
        (30.., 0..=94) => TicketStatus::Closed,
        (30.., _) => TicketStatus::Resolved,
        (7..30, 0..=59) => TicketStatus::Closed,
        (7..30, 60..=89) => TicketStatus::Resolved,
        (7..30, _) => TicketStatus::Waiting,
        (_, 0..=29) => TicketStatus::New,
        (_, 30..=59) => TicketStatus::InProgress,
        (_, 60..=74) => TicketStatus::Waiting,
        _ => TicketStatus::Resolved,
    }
}

/// The statuses a ticket passes through to reach `last`.
fn steps_to(last: TicketStatus) -> &'static [TicketStatus] {
    use TicketStatus::*;
    match last {
        New => &[],
        InProgress => &[InProgress],
        Waiting => &[InProgress, Waiting],
        Resolved => &[InProgress, Resolved],
        Closed => &[InProgress, Resolved, Closed],
    }
}

/// The `k`-th comment: the agent replies, the requester answers, the agent notes.
fn comment(
    id: i64,
    ticket: &Ticket,
    k: i64,
    at: OffsetDateTime,
    world: &World,
    rng: &mut StdRng,
) -> NewCommentRow {
    let agent = ticket.assignee_id.unwrap_or(ticket.requester_id);
    let (author_id, body, internal) = match k {
        1 => (ticket.requester_id, REPLIES.choose(rng), false),
        2 if ticket.assignee_id.is_some() => (agent, NOTES.choose(rng), true),
        _ => (agent, REPLIES.choose(rng), false),
    };
    NewCommentRow {
        id,
        ticket_id: ticket.id,
        author_id,
        body: body.copied().unwrap_or_default(),
        internal,
        created_at: timestamps::format(at.min(world.now)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_final_status_has_its_path() {
        for status in TicketStatus::ALL {
            let steps = steps_to(*status);
            assert_eq!(steps.last().copied().unwrap_or(TicketStatus::New), *status);
        }
    }

    #[test]
    fn old_tickets_are_finished_and_recent_ones_mostly_open() {
        let mut rng = StdRng::seed_from_u64(1);
        let old = (0..100)
            .filter(|_| !final_status(Duration::days(90), &mut rng).is_open())
            .count();
        let recent = (0..100)
            .filter(|_| final_status(Duration::days(1), &mut rng).is_open())
            .count();
        assert_eq!(old, 100);
        assert!(recent > 50, "{recent}");
    }
}
