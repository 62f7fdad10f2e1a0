//! The key tests again on PostgreSQL, when `ICTDESK_TEST_POSTGRES_URL` is set (required
//! under `CI=true`).

use crate::{
    attachments::check_attachments,
    blocked::check_blocking,
    get_tickets::check_get_tickets,
    helpers::{Backend, spawn_app_with, web_config},
    inbox::check_inbox,
    leaks::check_leak_matrix,
};

#[tokio::test]
async fn leak_matrix_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_leak_matrix(&spawn_app_with(backend, web_config()).await).await;
}

#[tokio::test]
async fn blocking_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_blocking(&spawn_app_with(backend, web_config()).await).await;
}

#[tokio::test]
async fn get_tickets_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_get_tickets(&spawn_app_with(backend, web_config()).await).await;
}

#[tokio::test]
async fn attachments_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_attachments(&spawn_app_with(backend, web_config()).await).await;
}

#[tokio::test]
async fn inbox_on_postgres() {
    let Some(backend) = Backend::postgres().await else {
        return;
    };
    check_inbox(&spawn_app_with(backend, web_config()).await).await;
}
