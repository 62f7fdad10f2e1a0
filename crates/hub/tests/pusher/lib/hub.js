// Starts the real `ictdesk hub` binary with a Pusher app, on a fresh SQLite file or (when
// ICTDESK_TEST_POSTGRES_URL is set) a fresh PostgreSQL database, and hands out real
// clients: pusher-js, laravel-echo and the Node `pusher` server SDK.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import PusherClient from 'pusher-js';
import PusherServer from 'pusher';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../..');
export const APP = { id: '4242', key: 'test-key', secret: 'test-secret' };

/** The binary: $ICTDESK_BIN, else a release or debug build in the target directory. */
export function binary() {
  if (process.env.ICTDESK_BIN) return process.env.ICTDESK_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
  for (const profile of ['release', 'debug']) {
    const candidate = path.join(target, profile, 'ictdesk');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('no ictdesk binary: build it (cargo build --release -p ictdesk) or set ICTDESK_BIN');
}

/** The databases to run on: SQLite always, PostgreSQL when its URL is given (required under CI=true). */
export function backends() {
  const list = ['sqlite'];
  if (process.env.ICTDESK_TEST_POSTGRES_URL) list.push('postgres');
  else if (process.env.CI === 'true') throw new Error('CI=true but ICTDESK_TEST_POSTGRES_URL is not set');
  return list;
}

/** Waits for `check()` to be truthy; fails loudly after `timeout` ms. Never a pacing sleep. */
export async function until(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A fresh database URL for `backend`; `drop()` removes a PostgreSQL one. */
export function freshDatabase(backend, dir) {
  if (backend === 'sqlite') return { url: 'sqlite://' + path.join(dir, 'hub.db'), drop() {} };
  const admin = process.env.ICTDESK_TEST_POSTGRES_URL;
  const name = `ictdesk_pusher_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
  execFileSync('psql', [admin, '-qc', `CREATE DATABASE ${name}`]);
  const url = new URL(admin);
  url.pathname = '/' + name;
  return {
    url: url.toString(),
    drop() {
      execFileSync('psql', [admin, '-qc', `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`]);
    },
  };
}

/** One `ictdesk hub` process. */
export class Hub {
  constructor(database, dir, node) {
    this.database = database;
    this.dir = dir;
    this.node = node;
    this.child = null;
  }

  static async start(database, dir, node = 'node-a', extraArgs = []) {
    const hub = new Hub(database, dir, node);
    const addrFile = path.join(dir, `addr-${node}`);
    fs.rmSync(addrFile, { force: true });
    const log = fs.openSync(path.join(dir, `${node}.log`), 'a');
    hub.child = spawn(binary(), ['hub', '--port', '0', '--addr-file', addrFile, '--database', database, '--pusher-app', `${APP.id}:${APP.key}:${APP.secret}`, ...extraArgs], {
      env: { ...process.env, RUST_LOG: 'warn', ICTDESK_NODE: node },
      stdio: ['ignore', log, log],
    });
    const addr = await until(`${node} to listen`, () => {
      if (hub.child.exitCode !== null) throw new Error(`${node} exited with ${hub.child.exitCode}; see ${path.join(dir, node + '.log')}`);
      return fs.existsSync(addrFile) && fs.readFileSync(addrFile, 'utf8');
    });
    [hub.host, hub.port] = [addr.split(':')[0], Number(addr.split(':')[1])];
    return hub;
  }

  /** The Node `pusher` server SDK pointed at this hub. */
  server(overrides = {}) {
    return new PusherServer({ appId: APP.id, key: APP.key, secret: APP.secret, host: this.host, port: String(this.port), useTLS: false, ...overrides });
  }

  /** A pusher-js client (Node build) whose private/presence subscriptions are signed by `authorize`. */
  client(authorize = defaultAuthorizer(this.server()), options = {}) {
    return new PusherClient(APP.key, {
      cluster: 'local',
      wsHost: this.host,
      wsPort: this.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      channelAuthorization: { customHandler: ({ socketId, channelName }, callback) => callback(null, authorize(socketId, channelName)) },
      ...options,
    });
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }

  kill() {
    if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Signs subscriptions as an app's auth endpoint would, with the Node SDK; presence members are user `user`. */
export function defaultAuthorizer(server, user = { user_id: '1', user_info: { name: 'Ann' } }) {
  return (socketId, channelName) =>
    channelName.startsWith('presence-') ? server.authorizeChannel(socketId, channelName, user) : server.authorizeChannel(socketId, channelName);
}

export function tempDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'ictdesk-pusher-'));
}

/** Resolves with the next `event` on `channel` (pusher-js), failing after 15 s. */
export function next(channel, event, timeout = 15000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${event} on ${channel.name} within ${timeout} ms`)), timeout);
    const handler = (data) => {
      clearTimeout(timer);
      channel.unbind(event, handler);
      resolve(data);
    };
    channel.bind(event, handler);
  });
}

/** Subscribes and waits for success (or rejects with the subscription error). */
export function subscribed(client, name) {
  const channel = client.subscribe(name);
  return new Promise((resolve, reject) => {
    channel.bind('pusher:subscription_succeeded', () => resolve(channel));
    channel.bind('pusher:subscription_error', (error) => reject(Object.assign(new Error(`subscription to ${name} refused`), { detail: error })));
  });
}

export function connected(client) {
  return until('pusher-js to connect', () => client.connection.state === 'connected');
}
