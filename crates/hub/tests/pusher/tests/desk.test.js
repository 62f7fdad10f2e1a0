// The desk on Pusher channels with pusher-js (Node) against `ictdesk serve --demo`: a
// subscription to a desk channel follows its user's rights as they are now. An agent
// follows her user channel, the agents' channel and a ticket's presence channel when
// she is demoted, signs out, has her API token revoked or is blocked; the events after
// that reach her only as her new rights allow, and what they no longer allow ends
// (pusher:subscription_error, pusher:error 4009), taking her off the presence list.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { backends, freshDatabase, subscribed, tempDir, until } from '../lib/hub.js';
import { DeskServer, PASSWORD } from '../lib/desk.js';

/** A public channel on the same connection: what arrives on it orders a reading. */
const MARKER = 'marker';

for (const backend of backends()) {
  describe(`the desk on pusher-js follows the user's current rights (${backend})`, () => {
    let dir, database, desk, server, admin, colleague, ticketId, adminOnTicket;
    const clients = [];
    let people = 0;

    before(async () => {
      dir = tempDir();
      database = freshDatabase(backend, dir);
      desk = await DeskServer.start(database.url, dir);
      server = desk.server();
      admin = await desk.signIn('admin@demo.local');
      colleague = await desk.signIn('dmitry.volkov@demo.local');
      const requester = await desk.signIn('user@demo.local');
      const ticket = await requester.request('POST', '/api/v1/tickets', { title: 'Printer on fire', description: 'Smoke', priority: 'high' });
      ticketId = ticket.id;
      adminOnTicket = watch(admin, []);
      await adminOnTicket.subscribe(ticketChannel());
    });

    after(async () => {
      for (const client of clients) client.disconnect();
      await desk.stop();
      database.drop();
    });

    const ticketChannel = () => `presence-ticket.${ticketId}`;
    const channels = (user) => [`private-user.${user.id}`, 'private-role.agent', ticketChannel()];

    /** A new agent, signed in. */
    async function newAgent() {
      people += 1;
      const email = `agent${people}@test.local`;
      await admin.request('POST', '/api/v1/users', { name: `Agent ${people}`, email, role: 'agent', password: PASSWORD });
      return desk.signIn(email, PASSWORD);
    }

    /** A pusher-js connection authorised by `caller`, recording what it hears. */
    function watch(caller, heard) {
      const client = desk.pusher(caller);
      clients.push(client);
      return {
        client,
        heard,
        async subscribe(name) {
          const channel = await subscribed(client, name);
          channel.bind_global((event, data) => heard.push({ channel: name, event, data }));
          return channel;
        },
      };
    }

    /** The agent's three desk channels and the marker, on one connection, with nothing
     * heard before the returned point. */
    async function follow(caller) {
      const followed = watch(caller, []);
      for (const name of [...channels(caller.user), MARKER]) await followed.subscribe(name);
      await mark(followed, 'start');
      followed.heard.length = 0;
      return followed;
    }

    /** Publishes `name` on the marker channel and waits for `followed` to hear it. */
    async function mark(followed, name) {
      await server.trigger(MARKER, name, {});
      await until(`marker ${name}`, () => followed.heard.some((heard) => heard.channel === MARKER && heard.event === name));
    }

    /** Right after a change: an internal and a public comment on the ticket, a
     * notification for agents and one for everyone. */
    async function eventsAfterTheChange() {
      const comments = `/api/v1/tickets/${ticketId}/comments`;
      await colleague.request('POST', comments, { body: 'Check the fuser', internal: true });
      await colleague.request('POST', comments, { body: 'On my way', internal: false });
      for (const audience of ['agents', 'everyone']) {
        await admin.request('POST', '/api/v1/notifications', { title: `For ${audience}`, message: 'Maintenance tonight', level: 'info', audience });
      }
    }

    /** What `followed` heard on `channel` since the change (the change itself, told to
     * her as before, left out): desk events as labels, and the end. */
    function on(followed, channel) {
      const heard = followed.heard.filter((heard) => heard.channel === channel);
      const theChange = ['user_status_changed', 'user_session_ended'];
      const events = heard.filter((heard) => !heard.event.startsWith('pusher') && !theChange.includes(heard.event)).map(({ event, data }) => label(event, data));
      const ended = heard.find((heard) => heard.event === 'pusher:subscription_error');
      return { events, ended: ended?.data?.error };
    }

    function label(event, data) {
      if (event === 'ticket_comment_created') return `${event} internal=${data.comment.internal}`;
      if (event === 'system_notification_created') return `${event} ${data.notification.title}`;
      return event;
    }

    /** Once every channel of `user` ended for `reason`: none carried anything after the
     * change. (A channel's end, and what a check held, may follow the marker, which no
     * check holds.) */
    async function allEnded(followed, user, reason) {
      await until('every desk channel ended', () => channels(user).every((channel) => on(followed, channel).ended));
      for (const channel of channels(user)) assert.deepEqual(on(followed, channel), { events: [], ended: reason }, channel);
    }

    /** An agent's channels carry all they should of `eventsAfterTheChange`, nothing else. */
    async function carriesOnAsAgent(followed, user) {
      const staff = ['ticket_comment_created internal=true', 'ticket_comment_created internal=false'];
      const everything = [...staff, 'system_notification_created For agents', 'system_notification_created For everyone'];
      const [own, role, ticket] = channels(user);
      await until('the held events', () => on(followed, own).events.length >= everything.length && on(followed, role).events.length >= everything.length && on(followed, ticket).events.length >= staff.length);
      assert.deepEqual(on(followed, own), { events: everything, ended: undefined }, own);
      assert.deepEqual(on(followed, role), { events: everything, ended: undefined }, role);
      assert.deepEqual(on(followed, ticket), { events: staff, ended: undefined }, ticket);
    }

    const onTicket = (user) => adminOnTicket.client.channel(ticketChannel()).members.get(String(user.id));

    it('a demoted agent keeps her own channel with a requester\'s rights; the agents\' and the ticket\'s end', async () => {
      const vera = await newAgent();
      const followed = await follow(vera);
      await until('her on the presence list', () => onTicket(vera.user));

      await admin.request('PATCH', `/api/v1/users/${vera.user.id}`, { role: 'requester' });
      await eventsAfterTheChange();
      await mark(followed, 'end');

      const [own, role, ticket] = channels(vera.user);
      await until('her channels checked', () => on(followed, role).ended && on(followed, ticket).ended && on(followed, own).events.length >= 1);
      assert.deepEqual(on(followed, own), { events: ['system_notification_created For everyone'], ended: undefined });
      assert.deepEqual(on(followed, role), { events: [], ended: 'role changed' });
      assert.deepEqual(on(followed, ticket), { events: [], ended: 'role changed' });
      await until('her off the presence list', () => !onTicket(vera.user));
    });

    it('signing out ends what the session was granted; another session carries on', async () => {
      const vera = await newAgent();
      const elsewhere = await desk.signIn(vera.user.email, PASSWORD);
      const followed = await follow(vera);
      const otherDevice = await follow(elsewhere);

      await vera.request('DELETE', '/api/v1/session');
      await eventsAfterTheChange();
      await mark(followed, 'end');
      await mark(otherDevice, 'end');

      await allEnded(followed, vera.user, 'session ended');
      await carriesOnAsAgent(otherDevice, vera.user);
    });

    it('a revoked API token ends what it was granted; the session carries on', async () => {
      const vera = await newAgent();
      const token = await vera.withToken();
      const byToken = await follow(token.caller);
      const bySession = await follow(vera);

      await vera.request('DELETE', `/api/v1/tokens/${token.id}`);
      await eventsAfterTheChange();
      await mark(byToken, 'end');
      await mark(bySession, 'end');

      await allEnded(byToken, vera.user, 'session ended');
      await carriesOnAsAgent(bySession, vera.user);
    });

    it('a blocked agent loses every desk channel and leaves the presence list', async () => {
      const vera = await newAgent();
      const followed = await follow(vera);
      await until('her on the presence list', () => onTicket(vera.user));

      await admin.request('PATCH', `/api/v1/users/${vera.user.id}`, { status: 'blocked' });
      await eventsAfterTheChange();
      await mark(followed, 'end');

      await allEnded(followed, vera.user, 'account blocked');
      await until('her off the presence list', () => !onTicket(vera.user));
    });
  });
}
