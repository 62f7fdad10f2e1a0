//! Teams (issue 12 point 2): the list with each team's lead, members and a link to its
//! queue (`/tickets?team=…`), a team's own page, and for admins the forms that create
//! and change them. Agents and admins only; a requester gets the forbidden page.

use askama::Template;
use axum::{
    Router,
    extract::{Path, State},
    http::HeaderMap,
    response::Response,
    routing::get,
};
use ictdesk_desk::{
    Page,
    teams::Team,
    users::{User, UserQuery, UserStatus},
};

use super::{PageCaller, PageError, Pages, Shell, i18n::Tr, page_caller, render};

pub fn routes() -> Router<Pages> {
    Router::new()
        .route("/teams", get(list))
        .route("/teams/rows", get(rows))
        .route("/teams/{id}", get(team))
        .route("/teams/{id}/live", get(live_part))
}

#[derive(Template)]
#[template(path = "teams/list.html")]
struct ListPage {
    shell: Shell,
    t: Tr,
    admin: bool,
    teams: Vec<Team>,
    /// Whom an admin may put in a team: active agents and admins.
    staff: Vec<User>,
    form: TeamForm,
}

/// What an admin's team form starts with: a new team's blanks, or the team as it is.
#[derive(Default)]
struct TeamForm {
    lead_id: Option<i64>,
    member_ids: Vec<i64>,
    auto_assign: bool,
}

impl TeamForm {
    fn of(team: &Team) -> Self {
        Self {
            lead_id: team.lead_id,
            member_ids: team.members.iter().map(|member| member.id).collect(),
            auto_assign: team.auto_assign,
        }
    }

    fn is_lead(&self, user_id: &i64) -> bool {
        self.lead_id == Some(*user_id)
    }

    fn has_member(&self, user_id: &i64) -> bool {
        self.member_ids.contains(user_id)
    }
}

#[derive(Template)]
#[template(path = "teams/rows.html")]
struct Rows {
    t: Tr,
    teams: Vec<Team>,
}

#[derive(Template)]
#[template(path = "teams/team.html")]
struct TeamPage {
    shell: Shell,
    t: Tr,
    admin: bool,
    live: LivePart,
    staff: Vec<User>,
    form: TeamForm,
}

/// The part of a team's page that follows `team_updated`.
#[derive(Template)]
#[template(path = "teams/live.html")]
struct LivePart {
    t: Tr,
    team: Team,
}

/// Active agents and admins, for an admin's forms (nobody else sees them).
async fn choosable(pages: &Pages, caller: &PageCaller) -> Result<Vec<User>, PageError> {
    if !caller.is_admin() {
        return Ok(Vec::new());
    }
    let query = UserQuery {
        status: Some(UserStatus::Active),
        ..UserQuery::default()
    };
    let mut users = pages
        .app
        .desk
        .list_users(&caller.user, &query, Page::all())
        .await?
        .items;
    users.retain(|user| user.role.is_staff());
    Ok(users)
}

async fn list(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/teams").await?;
    let last_id = pages.app.hub.head();
    let teams = pages.app.desk.list_teams(&caller.user).await?;
    render(&ListPage {
        shell: Shell::new(&pages, &caller, caller.t.t("teams.title"), "teams", last_id),
        t: caller.t,
        admin: caller.is_admin(),
        staff: choosable(&pages, &caller).await?,
        form: TeamForm::default(),
        teams,
    })
}

async fn rows(State(pages): State<Pages>, headers: HeaderMap) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, "/teams").await?;
    let teams = pages.app.desk.list_teams(&caller.user).await?;
    render(&Rows { t: caller.t, teams })
}

async fn team(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/teams/{id}")).await?;
    let last_id = pages.app.hub.head();
    let team = pages.app.desk.get_team(&caller.user, id).await?;
    render(&TeamPage {
        shell: Shell::new(&pages, &caller, &team.name, "teams", last_id),
        t: caller.t,
        admin: caller.is_admin(),
        staff: choosable(&pages, &caller).await?,
        form: TeamForm::of(&team),
        live: LivePart { t: caller.t, team },
    })
}

async fn live_part(
    State(pages): State<Pages>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    let caller = page_caller(&pages, &headers, &format!("/teams/{id}")).await?;
    let team = pages.app.desk.get_team(&caller.user, id).await?;
    render(&LivePart { t: caller.t, team })
}
