//! `/me/mail-preferences`: which kinds of mail the caller gets, each on or off
//! (`{"ticket_created": true, "staff_reply": false, …}`); a `PUT` names the kinds to
//! switch and leaves the others as they are.

use std::collections::BTreeMap;

use axum::{Json, extract::State};
use ictdesk_desk::mail::{MailKind, MailPreferences};
use serde::Deserialize;

use crate::{
    AppState,
    error::Result,
    identity::Caller,
    requests::{JsonBody, KnownFields},
};

#[derive(Deserialize)]
#[serde(transparent)]
pub struct PreferencesChange(BTreeMap<String, bool>);

impl KnownFields for PreferencesChange {
    const FIELDS: &'static [&'static str] = MailKind::NAMES;
}

pub async fn preferences(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<MailPreferences>> {
    Ok(Json(state.desk.mail_preferences(&caller.user).await?))
}

pub async fn change_preferences(
    State(state): State<AppState>,
    caller: Caller,
    JsonBody(PreferencesChange(change)): JsonBody<PreferencesChange>,
) -> Result<Json<MailPreferences>> {
    Ok(Json(
        state
            .desk
            .set_mail_preferences(&caller.user, &change)
            .await?,
    ))
}
