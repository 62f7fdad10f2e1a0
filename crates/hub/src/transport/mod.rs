//! Transports: thin adapters that carry the feed to clients.

pub(crate) mod polling;
pub(crate) mod wire;
pub(crate) mod ws;
