/*
 * LiveUpdates — the browser side of ictdesk's real-time hub (SPEC §6).
 *
 *   new LiveUpdates({apiEndpoint, csrfToken, useWebSocket, websocketUrl,
 *                    refreshInterval, onSuccess, onEvent, onModeChange, onReset})
 *
 * WebSocket first; when it fails or does not answer within `timeout`, long polling
 * (`longPolling: false`: plain polling every `refreshInterval` ms) while WebSocket is
 * retried with capped exponential backoff and jitter. Every (re)connection and poll
 * asks for the events after the last id applied, and an event is applied only when its
 * id is above that id, so switching transports neither loses nor repeats anything.
 * When the events after that id were pruned from the hub's log, the hub answers with
 * a reset instead (`{"type":"reset","last_id":N}`, or `"reset":true` in a poll): the
 * page re-fetches what it shows (`onReset`) and the client continues from N.
 * `useWebSocket: false` (the hub's WebSocket is switched off) starts with polling;
 * every poll answer says whether it is on, and the client follows (`followServer`).
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
      this.useWebSocket = o.useWebSocket !== false;
      this.websocketUrl = o.websocketUrl || defaultSocketUrl(this.env.window);
      this.refreshInterval = o.refreshInterval || 1000;
      this.longPolling = o.longPolling !== false;
      this.longPollWait = o.longPollWait || 25;
      this.timeout = o.timeout || 5000;
      this.backoffBase = o.backoffBase || 1000;
      this.backoffCap = o.backoffCap || 30000;
      this.onSuccess = o.onSuccess || noop;
      this.onEvent = o.onEvent || noop;
      this.onMessage = o.onMessage || noop;
      this.onModeChange = o.onModeChange || noop;
      this.onReset = o.onReset || noop;
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
      this.onVisible = this.onVisible.bind(this);
    }

    start() {
      if (this.mode !== MODES.STOPPED) return this;
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
      const url = this.lastId === null
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
      socket.onclose = () => {
        if (this.socket === socket) this.socketFailed();
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
        if (this.presence) this.send(this.presence);
        this.onSuccess({ mode: this.mode, lastId: this.lastId });
        return;
      }
      if (frame.type === 'reset') this.reset(frame.last_id);
      else if (typeof frame.id === 'number') this.apply(frame);
      else this.onMessage(frame);
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
      const headers = { Accept: 'application/json' };
      if (this.csrfToken) headers['X-CSRF-Token'] = this.csrfToken;
      this.env
        .fetch(url, { headers, credentials: 'same-origin', signal: abort && abort.signal })
        .then((response) => {
          if (!response.ok) throw new Error('HTTP ' + response.status);
          return response.json();
        })
        .then((body) => {
          if (generation !== this.pollGeneration) return;
          this.pollFailures = 0;
          if (this.mode === MODES.OFFLINE) this.setMode(MODES.POLLING);
          if (body.reset) this.reset(body.last_id);
          (body.messages || []).forEach((event) => this.apply(event));
          if (typeof body.last_id === 'number' && (this.lastId === null || body.last_id > this.lastId)) {
            this.lastId = body.last_id;
          }
          this.onSuccess({ mode: this.mode, lastId: this.lastId });
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
      if (!this.env.WebSocket || websocket === this.useWebSocket) return;
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
