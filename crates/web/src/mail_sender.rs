//! The outbox's sender under the hub's supervisor, when e-mail is on
//! (`ictdesk_desk::mail::delivery`).

use ictdesk_desk::Desk;
use ictdesk_hub::Hub;

pub fn supervise(hub: &Hub, desk: &Desk) {
    let Some(sender) = desk.mail_sender() else {
        return;
    };
    hub.supervise("mail_sender", move |hub| {
        let sender = sender.clone();
        async move {
            let node = hub.config().node.clone();
            sender.run(&node, hub.stopped()).await?;
            Ok(())
        }
    });
}
