//! Users: admins manage them; blocking ends sessions and says so.

use ictdesk_desk::{
    Error, Page,
    users::{NewUser, UserChange, UserQuery},
};

use crate::{
    both,
    helpers::{PASSWORD, TestDesk, assert_field_error, assert_forbidden},
};

fn newcomer(email: &str) -> NewUser {
    NewUser {
        name: "Ольга Новикова".into(),
        email: email.into(),
        role: "requester".into(),
        password: "long enough".into(),
        locale: Some("en".into()),
    }
}

fn status(status: &str) -> UserChange {
    UserChange {
        status: Some(status.into()),
        ..UserChange::default()
    }
}

both!(
    an_admin_creates_a_user_and_only_admins_hear_of_it,
    |t: TestDesk| async move {
        let head = t.head().await;
        let user = t
            .desk
            .create_user(&t.admin, &newcomer("Olga@Example.com"))
            .await
            .expect("created");
        assert_eq!(user.email, "olga@example.com");
        let event = t.one_event(head, "user_created").await;
        assert_eq!(event.data["user"]["id"], user.id);
        assert_eq!(event.data["user"]["email"], "olga@example.com");
        assert!(event.data["user"].get("password_hash").is_none());
        assert_eq!(event.data["actor"]["id"], t.admin.id);
        assert!(event.reaches(&t.admin));
        assert!(!event.reaches(&t.agent) && !event.reaches(&t.requester));
    }
);

both!(only_admins_create_users, |t: TestDesk| async move {
    let head = t.head().await;
    assert_forbidden(
        t.desk
            .create_user(&t.agent, &newcomer("a@example.com"))
            .await,
    );
    assert_forbidden(
        t.desk
            .create_user(&t.requester, &newcomer("b@example.com"))
            .await,
    );
    assert_forbidden(
        t.desk
            .change_user(&t.agent, t.requester.id, &status("blocked"))
            .await,
    );
    t.no_event_since(head).await;
});

both!(
    a_used_email_is_a_field_error_and_leaves_no_trace,
    |t: TestDesk| async move {
        let head = t.head().await;
        assert_field_error(
            t.desk
                .create_user(&t.admin, &newcomer("MARIA@test.local"))
                .await,
            "email",
        );
        t.no_event_since(head).await;
        let mut bad = newcomer("not an email");
        bad.role = "root".into();
        bad.password = "short".into();
        let error = t
            .desk
            .create_user(&t.admin, &bad)
            .await
            .expect_err("invalid");
        let fields = error.fields().expect("validation");
        assert!(
            fields.contains_key("email")
                && fields.contains_key("role")
                && fields.contains_key("password")
        );
        let users = t
            .desk
            .list_users(&t.admin, &UserQuery::default(), Page::default())
            .await
            .expect("list");
        assert_eq!(users.total, 4);
    }
);

both!(
    blocking_a_user_ends_their_sessions_and_is_reported,
    |t: TestDesk| async move {
        let session = t
            .desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("logged in");
        assert!(
            t.desk
                .session_user(&session.session_token)
                .await
                .expect("lookup")
                .is_some()
        );
        let head = t.head().await;
        let changed = t
            .desk
            .change_user(&t.admin, t.requester.id, &status("blocked"))
            .await
            .expect("blocked");
        assert!(changed.blocked);
        let event = t.one_event(head, "user_status_changed").await;
        assert_eq!(event.data["old_status"], "active");
        assert_eq!(event.data["new_status"], "blocked");
        assert!(event.reaches(&t.admin) && !event.reaches(&t.requester));
        assert!(
            t.desk
                .session_user(&session.session_token)
                .await
                .expect("lookup")
                .is_none()
        );
        // The same answer as a wrong password: it must not tell that the password
        // was right.
        assert!(matches!(
            t.desk.login("maria@test.local", PASSWORD).await,
            Err(Error::InvalidCredentials)
        ));

        let unblocked = t
            .desk
            .change_user(&t.admin, t.requester.id, &status("active"))
            .await
            .expect("unblocked");
        assert!(!unblocked.blocked);
        t.desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("logs in again");
    }
);

both!(
    admins_cannot_block_or_demote_themselves,
    |t: TestDesk| async move {
        assert_forbidden(
            t.desk
                .change_user(&t.admin, t.admin.id, &status("blocked"))
                .await,
        );
        let demote = UserChange {
            role: Some("requester".into()),
            ..UserChange::default()
        };
        assert_forbidden(t.desk.change_user(&t.admin, t.admin.id, &demote).await);
    }
);

both!(
    people_rename_themselves_but_not_their_role,
    |t: TestDesk| async move {
        let rename = UserChange {
            name: Some("Мария Иванова".into()),
            locale: Some("en".into()),
            ..UserChange::default()
        };
        let changed = t
            .desk
            .change_user(&t.requester, t.requester.id, &rename)
            .await
            .expect("renamed");
        assert_eq!(changed.user.name, "Мария Иванова");
        let promote = UserChange {
            role: Some("admin".into()),
            ..UserChange::default()
        };
        assert_forbidden(
            t.desk
                .change_user(&t.requester, t.requester.id, &promote)
                .await,
        );
        assert_forbidden(
            t.desk
                .change_user(&t.requester, t.other_requester.id, &rename)
                .await,
        );
    }
);

both!(
    a_stale_user_edit_names_who_changed_it,
    |t: TestDesk| async move {
        let first = UserChange {
            version: Some(t.agent.version),
            role: Some("admin".into()),
            ..UserChange::default()
        };
        t.desk
            .change_user(&t.admin, t.agent.id, &first)
            .await
            .expect("promoted");
        let stale = UserChange {
            version: Some(t.agent.version),
            name: Some("X".into()),
            ..UserChange::default()
        };
        match t.desk.change_user(&t.admin, t.agent.id, &stale).await {
            Err(error @ Error::Conflict { .. }) => {
                assert_eq!(
                    error.to_string(),
                    "changed by Анна Админова since you opened it"
                )
            }
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
);

both!(requesters_cannot_list_users, |t: TestDesk| async move {
    assert_forbidden(
        t.desk
            .list_users(&t.requester, &UserQuery::default(), Page::default())
            .await,
    );
    let agents = UserQuery {
        role: ictdesk_desk::users::Role::parse("agent").ok(),
        ..UserQuery::default()
    };
    let list = t
        .desk
        .list_users(&t.agent, &agents, Page::default())
        .await
        .expect("list");
    assert_eq!(
        list.items.iter().map(|user| user.id).collect::<Vec<_>>(),
        [t.agent.id]
    );
    let by_name = UserQuery {
        q: Some("Мария".into()),
        ..UserQuery::default()
    };
    let list = t
        .desk
        .list_users(&t.admin, &by_name, Page::default())
        .await
        .expect("list");
    assert_eq!(list.total, 1);
});

fn new_password(current: Option<&str>) -> UserChange {
    UserChange {
        password: Some("a brand new secret".into()),
        current_password: current.map(str::to_owned),
        ..UserChange::default()
    }
}

both!(
    ones_own_password_changes_only_with_the_current_one_and_ends_the_other_sessions,
    |t: TestDesk| async move {
        let here = t
            .desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("in");
        let elsewhere = t
            .desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("in");
        let me = &t.requester;
        assert_field_error(
            t.desk
                .change_user_in_session(me, Some(&here.session_token), me.id, &new_password(None))
                .await,
            "current_password",
        );
        assert_field_error(
            t.desk
                .change_user_in_session(
                    me,
                    Some(&here.session_token),
                    me.id,
                    &new_password(Some("not my password")),
                )
                .await,
            "current_password",
        );
        t.desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("the old password still works after refused changes");

        t.desk
            .change_user_in_session(
                me,
                Some(&here.session_token),
                me.id,
                &new_password(Some(PASSWORD)),
            )
            .await
            .expect("changed");
        let session = |token: String| {
            let desk = t.desk.clone();
            async move { desk.session_user(&token).await.expect("lookup") }
        };
        assert!(session(here.session_token.clone()).await.is_some());
        assert!(session(elsewhere.session_token.clone()).await.is_none());
        t.desk
            .login("maria@test.local", "a brand new secret")
            .await
            .expect("the new password works");
    }
);

both!(
    an_admin_resets_someone_elses_password_without_theirs_and_ends_all_their_sessions,
    |t: TestDesk| async move {
        let theirs = t
            .desk
            .login("maria@test.local", PASSWORD)
            .await
            .expect("in");
        t.desk
            .change_user_in_session(&t.admin, None, t.requester.id, &new_password(None))
            .await
            .expect("reset");
        assert!(
            t.desk
                .session_user(&theirs.session_token)
                .await
                .expect("lookup")
                .is_none()
        );
    }
);
