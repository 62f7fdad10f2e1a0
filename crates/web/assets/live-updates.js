/*
 * LiveUpdates — the browser side of ictdesk's real-time hub (docs/protocol.md).
 *
 *   new LiveUpdates({apiEndpoint, csrfToken, useWebSocket, websocketUrl,
 *                    refreshInterval, onSuccess, onEvent, onModeChange, onReset,
 *                    websocketEnabled, token, getToken, ticketsEndpoint,
 *                    onRightsChanged, onSessionEnded})
 *
 * WebSocket first; when it fails or does not answer within `timeout`, long polling
 * (`longPolling: false`: plain polling every `refreshInterval` ms) while WebSocket is
 * retried with capped exponential backoff and jitter. Every (re)connection and poll
 * asks for the events after the last id applied, and an event is applied only when its
 * id is above that id, so switching transports neither loses nor repeats anything.
 * When the events after that id were pruned from the hub's log, the hub answers with
 * a reset instead (`{"type":"reset","last_id":N}`, or `"reset":true` in a poll): the
 * page re-fetches what it shows (`onReset`) and the client continues from N.
 * `useWebSocket: false` means polling only, for good. `websocketEnabled: false` (the
 * hub's WebSocket is switched off right now) starts with polling; every poll answer
 * says whether it is on, and the client follows (`followServer`). A `websocketUrl`
 * without a path (`ws://host:8080`, as the original documented) means its `/ws`.
 *
 * `onSuccess(data)` receives what the original did: `{tickets, stats, last_updated}`
 * (the hub's answer to `get_tickets`, asked for on connect and after ticket events;
 * while polling, from `ticketsEndpoint`).
 *
 * The connection always acts for the viewer as they are now: when their rights change
 * the hub closes the socket (1008) or answers a poll 401. `role changed`: the client
 * opens again at once, with the new rights, from the last id (`onRightsChanged`);
 * `session ended` / `account blocked`: `onSessionEnded` (by default the page reloads,
 * and the server sends it to the login); `token expired`: a new token from
 * `getToken()`, else as an ended session. A hub token (`token`, or `getToken()` for a
 * fresh one) goes in the socket's first message (`{"type":"auth"}`), never the URL
 * (proxies log URLs), and is refreshed before its `exp`; polls send it as a header.
 *
 * Timers, sockets, fetch and the page's visibility are injected (`env`), so the state
 * machine runs under `node --test` with fakes.
 */
(function (root) {
  'use strict';

  const MODES = Object.freeze({
    CONNECTING: 'connecting',
    WEBSOCKET: 'websocket',
    POLLING: 'polling',
    OFFLINE: 'offline',
    STOPPED: 'stopped',
  });

  function browserEnv() {
    return {
      WebSocket: root.WebSocket,
      fetch: root.fetch && root.fetch.bind(root),
      setTimeout: root.setTimeout.bind(root),
      clearTimeout: root.clearTimeout.bind(root),
      random: Math.random,
      now: Date.now,
      console: root.console,
      AbortController: root.AbortController,
      document: root.document,
      window: root,
    };
  }

  class LiveUpdates {
    constructor(options, env) {
      const o = options || {};
      this.env = env || browserEnv();
      this.apiEndpoint = o.apiEndpoint || '/messages';
      this.csrfToken = o.csrfToken || '';
      // The caller's choice (false: never), and whether the hub has it on now.
      this.allowWebSocket = o.useWebSocket !== false;
      this.useWebSocket = this.allowWebSocket && o.websocketEnabled !== false;
      this.websocketUrl = socketUrl(o.websocketUrl || defaultSocketUrl(this.env.window));
      this.ticketsEndpoint = o.ticketsEndpoint || '/get_tickets';
      this.token = o.token || null;
      this.getToken = o.getToken || null;
      this.refreshInterval = o.refreshInterval || 1000;
      this.longPolling = o.longPolling !== false;
      this.longPollWait = o.longPollWait || 25;
      this.timeout = o.timeout || 5000;
      this.backoffBase = o.backoffBase || 1000;
      this.backoffCap = o.backoffCap || 30000;
      this.onSuccess = o.onSuccess || null;
      this.onEvent = o.onEvent || noop;
      this.onMessage = o.onMessage || noop;
      this.onModeChange = o.onModeChange || noop;
      this.onReset = o.onReset || noop;
      this.onRightsChanged = o.onRightsChanged || noop;
      this.onSessionEnded = o.onSessionEnded || (() => reloadPage(this.env.window));
      // Where the page's server-rendered content ends: events after it are new.
      this.lastId = typeof o.lastId === 'number' ? o.lastId : null;

      this.mode = MODES.STOPPED;
      this.socket = null;
      this.socketOpen = false;
      this.attempts = 0;
      this.retryTimer = null;
      this.connectTimer = null;
      this.pollTimer = null;
      this.pollAbort = null;
      // Bumped whenever polling stops, so that an answer to an older poll is dropped.
      this.pollGeneration = 0;
      this.polling = false;
      this.pollFailures = 0;
      this.presence = null;
      this.refreshTimer = null;
      // A `get_tickets` is on its way; `ticketsAgain`: ask once more when it is answered.
      this.ticketsAsked = false;
      this.ticketsAgain = false;
      this.polledOnce = false;
      this.onVisible = this.onVisible.bind(this);
    }

    start() {
      if (this.mode !== MODES.STOPPED) return this;
      if (!this.token && this.getToken) {
        // The first token, then the connection.
        this.renewToken().then(() => this.start(), () => this.sessionEnded('token expired'));
        return this;
      }
      this.setMode(MODES.CONNECTING);
      const { document, window } = this.env;
      if (document && document.addEventListener) {
        document.addEventListener('visibilitychange', this.onVisible);
      }
      if (window && window.addEventListener) window.addEventListener('online', this.onVisible);
      if (this.useWebSocket && this.env.WebSocket) this.connect();
      else this.startPolling();
      return this;
    }

    stop() {
      const { document, window } = this.env;
      if (document && document.removeEventListener) {
        document.removeEventListener('visibilitychange', this.onVisible);
      }
      if (window && window.removeEventListener) window.removeEventListener('online', this.onVisible);
      this.clearRetry();
      this.closeSocket();
      this.stopPolling();
      this.clearRefresh();
      this.setMode(MODES.STOPPED);
    }

    /** Sends a client message over the socket; false when there is no open socket. */
    send(message) {
      if (!this.socket || !this.socketOpen) return false;
      this.socket.send(JSON.stringify(message));
      return true;
    }

    /** Presence on a ticket ('view' | 'editing' | 'leave'), re-announced on reconnect. */
    setPresence(type, ticketId) {
      this.presence = type === 'leave' ? null : { type, ticket_id: ticketId };
      this.send({ type, ticket_id: ticketId });
    }

    // ---- WebSocket -------------------------------------------------------------

    connect() {
      this.clearRetry();
      this.closeSocket();
      // With a token the replay waits for the `auth` message: it is for that viewer.
      const url = this.lastId === null || this.token
        ? this.websocketUrl
        : this.websocketUrl + (this.websocketUrl.includes('?') ? '&' : '?') + 'since=' + this.lastId;
      let socket;
      try {
        socket = new this.env.WebSocket(url);
      } catch (error) {
        this.socketFailed();
        return;
      }
      this.socket = socket;
      this.socketOpen = false;
      this.connectTimer = this.env.setTimeout(() => {
        // No welcome within WEBSOCKET_TIMEOUT: treat it as refused.
        if (this.socket === socket && !this.socketOpen) this.socketFailed();
      }, this.timeout);
      socket.onmessage = (message) => {
        if (this.socket === socket) this.onSocketMessage(message.data);
      };
      socket.onclose = (event) => {
        if (this.socket !== socket) return;
        if (event && event.code === 1008 && this.closedForRights(event.reason)) return;
        this.socketFailed();
      };
      socket.onerror = () => {
        if (this.socket === socket) this.socketFailed();
      };
    }

    onSocketMessage(text) {
      let frame;
      try {
        frame = JSON.parse(text);
      } catch (error) {
        return;
      }
      if (frame.type === 'welcome') {
        this.env.clearTimeout(this.connectTimer);
        this.socketOpen = true;
        this.attempts = 0;
        this.stopPolling();
        if (this.lastId === null) this.lastId = frame.last_id;
        this.env.console.log('WebSocket: Подключение установлено');
        this.setMode(MODES.WEBSOCKET);
        if (this.token) this.send({ type: 'auth', token: this.token });
        else this.opened();
        return;
      }
      if (frame.type === 'auth_ok') {
        this.send({ type: 'resume', since: this.lastId });
        this.opened();
      } else if (frame.type === 'tickets') this.ticketsArrived(frame);
      else if (frame.type === 'reset') this.reset(frame.last_id);
      else if (typeof frame.id === 'number') this.apply(frame);
      else this.onMessage(frame);
    }

    /** The socket acts for the viewer: presence again, the original's data. */
    opened() {
      this.ticketsAsked = false;
      if (this.presence) this.send(this.presence);
      this.askTickets();
    }

    /**
     * A 1008 close for the viewer's rights (see the hub's `rights` module); false for
     * other closes, which are retried as usual.
     */
    closedForRights(reason) {
      if (reason === 'role changed') {
        this.closeSocket();
        this.onRightsChanged(reason);
        // Open again at once, with the new rights, from the last id applied.
        this.attempts = 0;
        this.connect();
        return true;
      }
      if (reason === 'token expired' && this.getToken) {
        this.closeSocket();
        this.renewToken().then(() => this.connect(), () => this.sessionEnded(reason));
        return true;
      }
      if (reason === 'session ended' || reason === 'account blocked' || reason === 'token expired') {
        this.sessionEnded(reason);
        return true;
      }
      return false;
    }

    /** Nothing more can be received as this viewer: stop, and let the page sign in. */
    sessionEnded(reason) {
      this.stop();
      this.onSessionEnded(reason);
    }

    // ---- Tokens (hub mode) ---------------------------------------------------------

    /** A fresh token from `getToken`, then a refresh scheduled before its `exp`. */
    renewToken() {
      return Promise.resolve(this.getToken()).then((token) => {
        if (!token) throw new Error('no token');
        this.token = token;
        this.scheduleRefresh();
        if (this.socketOpen) this.send({ type: 'auth', token });
      });
    }

    scheduleRefresh() {
      this.clearRefresh();
      const exp = tokenExpiry(this.token);
      if (!this.getToken || exp === null) return;
      const left = exp * 1000 - this.env.now();
      // Half-way for short tokens, else a minute ahead.
      const delay = Math.max(0, Math.min(left / 2, left - 60000));
      this.refreshTimer = this.env.setTimeout(() => {
        this.refreshTimer = null;
        this.renewToken().catch(() => {});
      }, delay);
    }

    clearRefresh() {
      if (this.refreshTimer !== null) this.env.clearTimeout(this.refreshTimer);
      this.refreshTimer = null;
    }

    // ---- The original's data (onSuccess) -------------------------------------------

    /** Asks for `{tickets, stats, last_updated}`, one request at a time. */
    askTickets() {
      if (!this.onSuccess) return;
      if (this.ticketsAsked) {
        this.ticketsAgain = true;
        return;
      }
      if (this.socketOpen) {
        this.ticketsAsked = this.send({ type: 'get_tickets' });
        return;
      }
      this.ticketsAsked = true;
      this.env
        .fetch(this.ticketsEndpoint, { headers: this.headers(), credentials: 'same-origin' })
        .then((response) => (response.ok ? response.json() : null))
        .then((data) => { if (data) this.ticketsArrived(data); else this.ticketsAsked = false; },
          () => { this.ticketsAsked = false; });
    }

    ticketsArrived(data) {
      this.ticketsAsked = false;
      if (this.onSuccess) this.onSuccess(data);
      if (this.ticketsAgain) {
        this.ticketsAgain = false;
        this.askTickets();
      }
    }

    /** The socket is gone or never came: poll meanwhile and retry it later. */
    socketFailed() {
      const wasOpen = this.socketOpen;
      this.closeSocket();
      if (this.mode === MODES.STOPPED) return;
      if (wasOpen || this.mode === MODES.CONNECTING) {
        this.env.console.log('LiveUpdates: WebSocket отключен');
      }
      if (!this.polling) this.startPolling();
      this.scheduleRetry();
    }

    scheduleRetry() {
      this.clearRetry();
      const ceiling = Math.min(this.backoffCap, this.backoffBase * Math.pow(2, this.attempts));
      this.attempts += 1;
      // Full jitter over the upper half: spreads a crowd of tabs after a restart.
      const delay = ceiling / 2 + this.env.random() * (ceiling / 2);
      this.retryTimer = this.env.setTimeout(() => {
        this.retryTimer = null;
        this.connect();
      }, delay);
    }

    clearRetry() {
      if (this.retryTimer !== null) this.env.clearTimeout(this.retryTimer);
      this.retryTimer = null;
    }

    closeSocket() {
      const socket = this.socket;
      this.socket = null;
      this.socketOpen = false;
      this.env.clearTimeout(this.connectTimer);
      if (!socket) return;
      socket.onmessage = socket.onclose = socket.onerror = null;
      try {
        socket.close();
      } catch (error) {
        // Closing a socket that never opened may throw; it is gone either way.
      }
    }

    // ---- Polling ---------------------------------------------------------------

    startPolling() {
      if (this.polling) return;
      this.polling = true;
      this.pollFailures = 0;
      this.env.console.log('LiveUpdates: Используем HTTP polling');
      this.setMode(MODES.POLLING);
      this.poll();
    }

    stopPolling() {
      this.polling = false;
      this.pollGeneration += 1;
      if (this.pollTimer !== null) this.env.clearTimeout(this.pollTimer);
      this.pollTimer = null;
      if (this.pollAbort) this.pollAbort.abort();
      this.pollAbort = null;
    }

    poll() {
      if (!this.polling) return;
      const generation = this.pollGeneration;
      const wait = this.longPolling ? this.longPollWait : 0;
      let url = this.apiEndpoint + (this.apiEndpoint.includes('?') ? '&' : '?');
      url += 'since=' + (this.lastId === null ? '' : this.lastId);
      if (wait) url += '&wait=' + wait;
      const abort = this.env.AbortController ? new this.env.AbortController() : null;
      this.pollAbort = abort;
      this.env
        .fetch(url, { headers: this.headers(), credentials: 'same-origin', signal: abort && abort.signal })
        .then((response) => {
          if (response.status === 401) return { unauthorized: true };
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return response.json();
        })
        .then((body) => {
          if (generation !== this.pollGeneration) return;
          if (body.unauthorized) {
            // The session or token ended (see closedForRights).
            if (this.getToken) {
              this.renewToken().then(() => this.schedulePoll(0), () => this.sessionEnded('token expired'));
            } else {
              this.sessionEnded('session ended');
            }
            return;
          }
          const first = !this.polledOnce;
          this.polledOnce = true;
          this.pollFailures = 0;
          if (this.mode === MODES.OFFLINE) this.setMode(MODES.POLLING);
          if (body.reset) this.reset(body.last_id);
          const messages = body.messages || [];
          messages.forEach((event) => this.apply(event));
          if (typeof body.last_id === 'number' && (this.lastId === null || body.last_id > this.lastId)) {
            this.lastId = body.last_id;
          }
          if (first && !messages.some(isTicketEvent)) this.askTickets();
          if (typeof body.websocket === 'boolean') this.followServer(body.websocket);
          // A hidden tab polls rarely; becoming visible polls at once (onVisible).
          const interval = this.hidden() ? Math.max(this.refreshInterval, 30000) : this.refreshInterval;
          const next = body.has_more || wait ? 0 : interval;
          this.schedulePoll(next);
        })
        .catch(() => {
          if (generation !== this.pollGeneration) return;
          this.pollFailures += 1;
          this.setMode(MODES.OFFLINE);
          const ceiling = Math.min(this.backoffCap, this.refreshInterval * Math.pow(2, this.pollFailures));
          this.schedulePoll(ceiling / 2 + this.env.random() * (ceiling / 2));
        });
    }

    /**
     * Every poll answer says whether the hub's WebSocket is open (`websocket`): a page
     * rendered while it was switched off moves to it once it is on again (polling stops
     * at the welcome), and one that polls because it is off stops retrying it.
     */
    followServer(websocket) {
      if (!this.allowWebSocket || !this.env.WebSocket || websocket === this.useWebSocket) return;
      this.useWebSocket = websocket;
      if (!websocket) {
        this.clearRetry();
        return;
      }
      this.attempts = 0;
      if (!this.socket) this.connect();
    }

    schedulePoll(delay) {
      const generation = this.pollGeneration;
      this.pollTimer = this.env.setTimeout(() => {
        this.pollTimer = null;
        if (generation === this.pollGeneration) this.poll();
      }, delay);
    }

    // ---- Shared ----------------------------------------------------------------

    /** Applies an event once, in order, whichever transport brought it. */
    apply(event) {
      if (this.lastId !== null && event.id <= this.lastId) return;
      this.lastId = event.id;
      this.onEvent(event);
      if (isTicketEvent(event)) this.askTickets();
    }

    /** Request headers: the CSRF token of a session, or a hub token. */
    headers() {
      const headers = { Accept: 'application/json' };
      if (this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
      if (this.token) headers.Authorization = 'Bearer ' + this.token;
      return headers;
    }

    /**
     * The events after `lastId` were pruned from the hub's log: they cannot be applied
     * one by one, so the page re-fetches everything live once and goes on from `lastId`.
     */
    reset(lastId) {
      if (typeof lastId === 'number') this.lastId = lastId;
      this.onReset(lastId);
    }

    setMode(mode) {
      if (mode === this.mode) return;
      const previous = this.mode;
      this.mode = mode;
      this.onModeChange(mode, previous);
    }

    hidden() {
      return Boolean(this.env.document && this.env.document.hidden);
    }

    /** Back from a hidden tab, a sleep or a network loss: catch up now. */
    onVisible() {
      if (this.hidden() || this.mode === MODES.STOPPED) return;
      if (this.socketOpen) {
        // A socket that died during sleep only notices when it sends; the hub's
        // `pong` (or the close that follows) tells which it is.
        this.send({ type: 'ping' });
        return;
      }
      if (this.useWebSocket && this.env.WebSocket && !this.socket) {
        this.attempts = 0;
        this.connect();
      }
      if (this.polling) {
        this.stopPolling();
        this.polling = true;
        this.pollFailures = 0;
        this.poll();
      }
    }
  }

  /** `ws://host:8080` (no path, as the original documented) means the hub's `/ws`. */
  function socketUrl(url) {
    return url.replace(/^(wss?:\/\/[^/?#]+)\/?(?=[?#]|$)/, '$1/ws');
  }

  function isTicketEvent(event) {
    return typeof event.type === 'string' && event.type.indexOf('ticket_') === 0;
  }

  /** A JWT's `exp` (seconds), or null when the token is not one. */
  function tokenExpiry(token) {
    try {
      const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      const text = typeof atob === 'function' ? atob(part) : Buffer.from(part, 'base64').toString();
      const exp = JSON.parse(text).exp;
      return typeof exp === 'number' ? exp : null;
    } catch (error) {
      return null;
    }
  }

  function reloadPage(window) {
    if (window && window.location && window.location.reload) window.location.reload();
  }

  function defaultSocketUrl(window) {
    if (!window || !window.location) return 'ws://localhost/ws';
    const scheme = window.location.protocol === 'https:' ? 'wss:' : 'ws:';
    return scheme + '//' + window.location.host + '/ws';
  }

  function noop() {}

  LiveUpdates.MODES = MODES;
  if (typeof module !== 'undefined' && module.exports) module.exports = { LiveUpdates, MODES };
  else root.LiveUpdates = LiveUpdates;
})(typeof window !== 'undefined' ? window : globalThis);
