//! Teams and their queues («Группы», issue 12 point 2): agents grouped by what they
//! handle («1-я линия», «Сеть», «1С»), each with a lead. A ticket belongs to a team and
//! optionally to an agent in it; a category may name the team its tickets go to; a team
//! may hand its new tickets to its active agents in turn (round-robin).
//!
//! Teams are the desk's internal organisation: agents and admins see them, admins
//! change them, requesters see neither the list nor its events.

use serde::{Deserialize, Serialize};

use crate::{
    desk::{Desk, Outcome, check_version, require_admin, require_staff},
    error::{Error, Fields, Result, required_text},
    events::{DeskEvent, TeamCreated, TeamUpdated},
    storage::Transaction,
    timestamps,
    users::{User, UserStatus},
};

/// Someone in a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, sqlx::FromRow)]
pub struct TeamMember {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema, sqlx::FromRow)]
pub struct Team {
    pub id: i64,
    pub name: String,
    /// The lead is always one of the members.
    pub lead_id: Option<i64>,
    pub lead_name: Option<String>,
    /// New tickets of the team go to its active agents in turn.
    pub auto_assign: bool,
    /// An inactive team takes no new tickets; its queue stays readable.
    pub active: bool,
    /// By name.
    #[sqlx(skip)]
    pub members: Vec<TeamMember>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub updated_by_name: Option<String>,
    /// Whom round-robin chose last (the next ticket goes to the member after them).
    #[serde(skip)]
    pub last_assigned_id: Option<i64>,
}

impl Team {
    pub fn has_member(&self, user_id: i64) -> bool {
        self.members.iter().any(|member| member.id == user_id)
    }
}

/// `POST /teams`: `{name, lead_id?, member_ids?, auto_assign?, active?}`.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct NewTeam {
    pub name: String,
    #[serde(default)]
    pub lead_id: Option<i64>,
    #[serde(default)]
    pub member_ids: Vec<i64>,
    #[serde(default)]
    pub auto_assign: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// `PATCH /teams/{id}`: any of these; `member_ids` replaces the members, `lead_id: null`
/// leaves the team without a lead.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct TeamChange {
    #[serde(default)]
    pub version: Option<i64>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "crate::patch::nullable")]
    pub lead_id: Option<Option<i64>>,
    #[serde(default)]
    pub member_ids: Option<Vec<i64>>,
    #[serde(default)]
    pub auto_assign: Option<bool>,
    #[serde(default)]
    pub active: Option<bool>,
}

/// The members as asked, without repeats, with the lead among them. Each new one must
/// be an active agent or admin (a field error on `member_ids` or `lead_id` if not);
/// those already `in_team` stay, even if blocked since: round-robin passes over them.
async fn check_members(
    tx: &mut dyn Transaction,
    fields: &mut Fields,
    member_ids: &[i64],
    lead_id: Option<i64>,
    in_team: &[i64],
) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = member_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for &id in &ids {
        if !in_team.contains(&id) && !is_active_staff(tx, id).await? {
            fields.add(
                "member_ids",
                format!("user {id} is not an active agent or admin"),
            );
        }
    }
    if let Some(lead) = lead_id {
        if !in_team.contains(&lead) && !is_active_staff(tx, lead).await? {
            fields.add("lead_id", "must be an active agent or admin");
        } else if !ids.contains(&lead) {
            ids.push(lead);
        }
    }
    Ok(ids)
}

async fn is_active_staff(tx: &mut dyn Transaction, id: i64) -> Result<bool> {
    Ok(tx
        .user(id)
        .await?
        .is_some_and(|user| user.role.is_staff() && user.status == UserStatus::Active))
}

pub(crate) async fn create_team_in(
    tx: &mut dyn Transaction,
    actor: &User,
    input: &NewTeam,
    at: &str,
) -> Result<Outcome<Team>> {
    require_admin(actor, "manage teams")?;
    let mut fields = Fields::new();
    let name = fields.check("name", required_text(&input.name, 100));
    let members = check_members(tx, &mut fields, &input.member_ids, input.lead_id, &[]).await?;
    fields.finish()?;
    let Some(name) = name else {
        return Err(Error::Internal("a parsed team lost its name".into()));
    };
    let draft = Team {
        id: 0,
        name,
        lead_id: input.lead_id,
        lead_name: None,
        auto_assign: input.auto_assign.unwrap_or(false),
        active: input.active.unwrap_or(true),
        members: Vec::new(),
        created_at: at.to_owned(),
        updated_at: at.to_owned(),
        version: 1,
        updated_by_name: None,
        last_assigned_id: None,
    };
    let id = tx.insert_team(&draft, actor.id).await?;
    tx.set_team_members(id, &members).await?;
    let team = tx.team(id).await?.ok_or(Error::NotFound("team"))?;
    let event = DeskEvent::TeamCreated(TeamCreated {
        team: &team,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(team, event))
}

pub(crate) async fn change_team_in(
    tx: &mut dyn Transaction,
    actor: &User,
    id: i64,
    change: &TeamChange,
    at: &str,
) -> Result<Outcome<Team>> {
    require_admin(actor, "manage teams")?;
    let old = tx.team(id).await?.ok_or(Error::NotFound("team"))?;
    check_version(change.version, old.version, old.updated_by_name.as_deref())?;
    let mut fields = Fields::new();
    let name = change
        .name
        .as_deref()
        .and_then(|name| fields.check("name", required_text(name, 100)));
    let lead_id = change.lead_id.unwrap_or(old.lead_id);
    let old_members: Vec<i64> = old.members.iter().map(|member| member.id).collect();
    let asked = change.member_ids.as_deref().unwrap_or(&old_members);
    let members = check_members(tx, &mut fields, asked, lead_id, &old_members).await?;
    fields.finish()?;

    let mut new = old.clone();
    new.name = name.unwrap_or(new.name);
    new.lead_id = lead_id;
    new.auto_assign = change.auto_assign.unwrap_or(new.auto_assign);
    new.active = change.active.unwrap_or(new.active);
    new.updated_at = at.to_owned();
    let mut sorted_old = old_members.clone();
    sorted_old.sort_unstable();
    let mut sorted_new = members.clone();
    sorted_new.sort_unstable();

    let mut changed_fields: Vec<&'static str> = Vec::new();
    for (field, differs) in [
        ("name", new.name != old.name),
        ("lead", new.lead_id != old.lead_id),
        ("members", sorted_new != sorted_old),
        ("auto_assign", new.auto_assign != old.auto_assign),
        ("active", new.active != old.active),
    ] {
        if differs {
            changed_fields.push(field);
        }
    }
    if changed_fields.is_empty() {
        return Ok(Outcome::Unchanged(old));
    }
    tx.update_team(&new, actor.id).await?;
    if changed_fields.contains(&"members") {
        tx.set_team_members(id, &members).await?;
    }
    let team = tx.team(id).await?.ok_or(Error::NotFound("team"))?;
    let event = DeskEvent::TeamUpdated(TeamUpdated {
        team: &team,
        changed_fields: &changed_fields,
        actor: actor.person(),
    })
    .encode()?;
    Ok(Outcome::changed(team, event))
}

/// The team a ticket may be given: an existing, active one.
pub(crate) async fn check_team(tx: &mut dyn Transaction, id: i64) -> Result<(), String> {
    match tx.team(id).await {
        Ok(Some(team)) if team.active => Ok(()),
        Ok(_) => Err("no such active team".into()),
        Err(_) => Err("cannot be checked now".into()),
    }
}

/// The member a new ticket of `team` goes to by round-robin: the next active agent or
/// admin after the one chosen last (in id order, wrapping), remembered for the next
/// ticket. `None` when the team does not assign by itself or has nobody available.
/// The team's row is locked by `tx.team`, so two tickets filed at once on different
/// nodes go to different people.
pub(crate) async fn next_assignee(tx: &mut dyn Transaction, team_id: i64) -> Result<Option<i64>> {
    let Some(team) = tx.team(team_id).await? else {
        return Ok(None);
    };
    if !team.auto_assign || !team.active {
        return Ok(None);
    }
    let available = tx.available_team_members(team_id).await?;
    let last = team.last_assigned_id.unwrap_or(i64::MIN);
    let Some(chosen) = available
        .iter()
        .copied()
        .find(|id| *id > last)
        .or_else(|| available.first().copied())
    else {
        return Ok(None);
    };
    tx.set_team_last_assigned(team_id, chosen).await?;
    Ok(Some(chosen))
}

impl Desk {
    pub async fn create_team(&self, actor: &User, input: &NewTeam) -> Result<Team> {
        let mut work = self.begin_change().await?;
        let outcome = create_team_in(work.tx(), actor, input, &now()).await?;
        work.finish(outcome).await
    }

    pub async fn change_team(&self, actor: &User, id: i64, change: &TeamChange) -> Result<Team> {
        let mut work = self.begin_change().await?;
        let outcome = change_team_in(work.tx(), actor, id, change, &now()).await?;
        work.finish(outcome).await
    }

    /// Every team, by name (agents and admins only).
    pub async fn list_teams(&self, actor: &User) -> Result<Vec<Team>> {
        require_staff(actor, "see teams")?;
        self.store.teams().await
    }

    pub async fn get_team(&self, actor: &User, id: i64) -> Result<Team> {
        require_staff(actor, "see teams")?;
        self.store.team(id).await?.ok_or(Error::NotFound("team"))
    }
}

fn now() -> String {
    timestamps::format(timestamps::now())
}
