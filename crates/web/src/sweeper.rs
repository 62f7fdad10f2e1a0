//! Removes attachment bytes that no attachment records any more (a refused or failed
//! upload, a deleted attachment), under the hub's supervisor. See
//! `ictdesk_desk::attachments` for why bytes are written before their record.

use std::time::Duration;

use ictdesk_desk::Desk;
use ictdesk_hub::{Hub, TaskError};

/// Between sweeps.
const EVERY: Duration = Duration::from_secs(3600);
/// Bytes younger than this may belong to an upload still on its way to its transaction.
const GRACE: Duration = Duration::from_secs(3600);

pub fn supervise(hub: &Hub, desk: Desk) {
    hub.supervise("attachment_sweeper", move |hub| sweep(hub, desk.clone()));
}

/// One run: a sweep now and then every hour, until the hub stops.
async fn sweep(hub: Hub, desk: Desk) -> Result<(), TaskError> {
    loop {
        let removed = desk.sweep_orphan_files(GRACE).await?;
        if removed > 0 {
            tracing::info!(removed, "orphaned attachment files removed");
        }
        tokio::select! {
            () = hub.stopped() => return Ok(()),
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
