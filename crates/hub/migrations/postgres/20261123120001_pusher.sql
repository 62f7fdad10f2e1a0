-- Pusher channels (docs/pusher.md): an event of a Pusher app's channel is an event of
-- the one log, with its app and channel; `except_socket` is the publisher's own
-- connection, which the protocol leaves out; `user_id` the member who sent a client
-- event on a presence channel. Native viewers never see these events.
ALTER TABLE events ADD COLUMN app TEXT;
ALTER TABLE events ADD COLUMN channel TEXT;
ALTER TABLE events ADD COLUMN except_socket TEXT;
ALTER TABLE events ADD COLUMN user_id TEXT;
-- A channel's history and a subscriber's resume read one channel in id order.
CREATE INDEX events_by_channel ON events (app, channel, id) WHERE channel IS NOT NULL;
-- Who is on each presence channel, one row per subscribed connection: a node that
-- starts reads it, and the survivors remove the rows of a node that died.
CREATE TABLE pusher_members (
    app       TEXT NOT NULL,
    channel   TEXT NOT NULL,
    socket_id TEXT NOT NULL,
    user_id   TEXT NOT NULL,
    user_info TEXT,
    node      TEXT NOT NULL,
    PRIMARY KEY (app, channel, socket_id)
);
CREATE INDEX pusher_members_by_node ON pusher_members (node);
