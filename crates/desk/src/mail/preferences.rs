//! Which kinds of mail a person gets: every kind offered to them, except what they
//! switched off. Stored as the switched-off kinds, so that a kind added later is on.

use std::collections::BTreeMap;

use serde::Serialize;

use super::MailKind;
use crate::{
    desk::{Desk, require_active},
    error::{Error, Fields, Result},
    users::User,
};

/// `{"ticket_created": true, "staff_reply": false, …}`: each kind offered to the person
/// (requesters: the three about their own tickets; staff: all five), on or off.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct MailPreferences(BTreeMap<MailKind, bool>);

impl MailPreferences {
    fn of(user: &User, opted_out: &[MailKind]) -> Self {
        Self(
            offered(user)
                .map(|kind| (kind, !opted_out.contains(&kind)))
                .collect(),
        )
    }

    pub fn get(&self, kind: MailKind) -> Option<bool> {
        self.0.get(&kind).copied()
    }

    /// The kinds offered, in a stable order, each with its state.
    pub fn iter(&self) -> impl Iterator<Item = (MailKind, bool)> + '_ {
        self.0.iter().map(|(kind, on)| (*kind, *on))
    }
}

fn offered(user: &User) -> impl Iterator<Item = MailKind> + '_ {
    MailKind::ALL
        .iter()
        .copied()
        .filter(|kind| user.role.is_staff() || !kind.for_staff_only())
}

impl Desk {
    /// Whether this desk sends mail at all (`--smtp-url`).
    pub fn mail_enabled(&self) -> bool {
        self.mail.settings.is_some()
    }

    pub async fn mail_preferences(&self, actor: &User) -> Result<MailPreferences> {
        require_active(actor)?;
        let opted_out = self.store.mail_opt_outs(actor.id).await?;
        Ok(MailPreferences::of(actor, &opted_out))
    }

    /// Switches the named kinds on or off (others stay as they are); an unknown kind,
    /// or one not offered to the person, is refused naming it. Nothing live shows
    /// preferences, so the change commits without an event.
    pub async fn set_mail_preferences(
        &self,
        actor: &User,
        changes: &BTreeMap<String, bool>,
    ) -> Result<MailPreferences> {
        require_active(actor)?;
        let mut fields = Fields::new();
        let parsed: Vec<(MailKind, bool)> = changes
            .iter()
            .filter_map(|(name, on)| {
                let kind = fields.check(name, MailKind::parse(name))?;
                if offered(actor).any(|offered| offered == kind) {
                    Some((kind, *on))
                } else {
                    fields.add(name, "is only sent to agents and admins");
                    None
                }
            })
            .collect();
        fields.finish()?;
        let mut work = self.begin_change().await?;
        let mut opted_out = match work.tx().mail_recipient(actor.id).await? {
            Some(recipient) => recipient.opted_out,
            None => return Err(Error::NotFound("user")),
        };
        for (kind, on) in parsed {
            opted_out.retain(|off| *off != kind);
            if !on {
                opted_out.push(kind);
            }
        }
        work.tx().set_mail_opt_outs(actor.id, &opted_out).await?;
        work.commit().await?;
        Ok(MailPreferences::of(actor, &opted_out))
    }
}
