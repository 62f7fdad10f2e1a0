//! Logging in, sessions and API tokens.

use ictdesk_desk::Error;

use crate::{
    both,
    helpers::{PASSWORD, TestDesk},
};

both!(
    unknown_email_and_wrong_password_fail_alike,
    |t: TestDesk| async move {
        let unknown = t
            .desk
            .login("nobody@test.local", PASSWORD)
            .await
            .expect_err("unknown");
        let wrong = t
            .desk
            .login("maria@test.local", "wrong password")
            .await
            .expect_err("wrong");
        assert!(matches!(unknown, Error::InvalidCredentials));
        assert!(matches!(wrong, Error::InvalidCredentials));
        assert_eq!(unknown.to_string(), wrong.to_string());
        assert!(matches!(
            t.desk.login("not an email", PASSWORD).await,
            Err(Error::InvalidCredentials)
        ));
    }
);

both!(
    a_session_finds_its_user_until_logout,
    |t: TestDesk| async move {
        let head = t.head().await;
        let session = t
            .desk
            .login(" Maria@Test.Local ", PASSWORD)
            .await
            .expect("logged in");
        assert_eq!(session.user.id, t.requester.id);
        let active = t
            .desk
            .session_user(&session.session_token)
            .await
            .expect("lookup")
            .expect("a session");
        assert_eq!(active.user.id, t.requester.id);
        assert_eq!(active.csrf_token, session.csrf_token);
        assert_eq!(active.expires_at, session.expires_at);
        assert!(active.user.last_login_at.is_some());
        assert!(
            t.desk
                .session_user("forged")
                .await
                .expect("lookup")
                .is_none()
        );
        // Logging in is not one of the eleven changes: no event.
        t.no_event_since(head).await;
        assert!(t.desk.logout(&session.session_token).await.expect("logout"));
        assert!(
            t.desk
                .session_user(&session.session_token)
                .await
                .expect("lookup")
                .is_none()
        );
        // Logging out tells the user's open connections, on every node, to identify
        // again: an event for that user alone.
        let ended = t.one_event(head, "user_session_ended").await;
        assert_eq!(ended.data["user"]["id"], t.requester.id);
        assert!(ended.reaches(&t.requester) && !ended.reaches(&t.admin));
        assert!(!t.desk.logout(&session.session_token).await.expect("logout"));
    }
);

both!(api_tokens_identify_their_user, |t: TestDesk| async move {
    let token = t
        .desk
        .create_api_token(&t.agent, "monitoring")
        .await
        .expect("token");
    assert!(token.secret.starts_with("ictd_"));
    let user = t
        .desk
        .api_token_user(&token.secret)
        .await
        .expect("lookup")
        .expect("a user");
    assert_eq!(user.id, t.agent.id);
    assert!(
        t.desk
            .api_token_user("ictd_forged")
            .await
            .expect("lookup")
            .is_none()
    );
    let listed = t.desk.api_tokens(&t.agent).await.expect("list");
    assert_eq!(listed.len(), 1);
    t.desk
        .delete_api_token(&t.agent, token.token.id)
        .await
        .expect("deleted");
    assert!(
        t.desk
            .api_token_user(&token.secret)
            .await
            .expect("lookup")
            .is_none()
    );
});
