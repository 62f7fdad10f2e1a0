// Starts the real `ictdesk serve --demo` (the desk with its hub) with a Pusher app, and
// hands out signed-in API clients and pusher-js clients that authorise their desk
// channels at `/broadcasting/auth` as a Laravel Echo page does.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import PusherClient from 'pusher-js';
import PusherServer from 'pusher';
import { binary, until } from './hub.js';

export const DESK_APP = { id: '1001', key: 'desk-key', secret: 'desk-secret' };
/** The password of the demo accounts, and of the people a test adds. */
const DEMO_PASSWORD = 'demo';
export const PASSWORD = 'a long test password';

/** One `ictdesk serve --demo` process. */
export class DeskServer {
  static async start(database, dir) {
    const desk = new DeskServer();
    const addrFile = path.join(dir, 'addr-desk');
    const log = fs.openSync(path.join(dir, 'desk.log'), 'a');
    const app = `${DESK_APP.id}:${DESK_APP.key}:${DESK_APP.secret}`;
    desk.child = spawn(binary(), ['serve', '--demo', '--port', '0', '--addr-file', addrFile, '--database', database, '--pusher-app', app], {
      env: { ...process.env, RUST_LOG: 'warn', ICTDESK_ATTACHMENTS_DIR: path.join(dir, 'attachments') },
      stdio: ['ignore', log, log],
    });
    const addr = await until('the desk to listen', () => {
      if (desk.child.exitCode !== null) throw new Error(`ictdesk serve exited with ${desk.child.exitCode}; see ${path.join(dir, 'desk.log')}`);
      return fs.existsSync(addrFile) && fs.readFileSync(addrFile, 'utf8').trim();
    }, 60000);
    [desk.host, desk.port] = [addr.split(':')[0], Number(addr.split(':')[1])];
    desk.url = `http://${addr}`;
    return desk;
  }

  /** Signs in through the API (the demo password unless given). */
  async signIn(email, password = DEMO_PASSWORD) {
    const response = await fetch(this.url + '/api/v1/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password }),
    });
    if (!response.ok) throw new Error(`sign-in of ${email}: ${response.status} ${await response.text()}`);
    const cookie = response.headers.get('set-cookie').split(';')[0];
    const { csrf_token: csrf, user } = await response.json();
    return new Caller(this, { Cookie: cookie, 'X-CSRF-TOKEN': csrf }, user);
  }

  /** The Node `pusher` server SDK on the desk's app. */
  server() {
    return new PusherServer({ appId: DESK_APP.id, key: DESK_APP.key, secret: DESK_APP.secret, host: this.host, port: String(this.port), useTLS: false });
  }

  /** A pusher-js client whose private and presence channels `caller` authorises. */
  pusher(caller) {
    return new PusherClient(DESK_APP.key, {
      cluster: 'local',
      wsHost: this.host,
      wsPort: this.port,
      forceTLS: false,
      enabledTransports: ['ws'],
      channelAuthorization: {
        customHandler: ({ socketId, channelName }, callback) => {
          caller.authorize(socketId, channelName).then((auth) => callback(null, auth), (error) => callback(error, null));
        },
      },
    });
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
  }
}

/** Someone using the desk's API, by session (cookie and CSRF token) or API token. */
export class Caller {
  constructor(desk, headers, user) {
    this.desk = desk;
    this.headers = headers;
    this.user = user;
  }

  async request(method, pathname, body) {
    const response = await fetch(this.desk.url + pathname, {
      method,
      headers: { 'Content-Type': 'application/json', ...this.headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${pathname}: ${response.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  /** The same person by a new API token; returns it with the token's id. */
  async withToken() {
    const made = await this.request('POST', '/api/v1/tokens', { name: 'echo page' });
    const listed = await this.request('GET', '/api/v1/tokens');
    const id = listed.items.find((token) => token.name === 'echo page').id;
    return { caller: new Caller(this.desk, { Authorization: `Bearer ${made.secret}` }, this.user), id };
  }

  /** `POST /broadcasting/auth` as Laravel Echo sends it. */
  async authorize(socketId, channelName) {
    const response = await fetch(this.desk.url + '/broadcasting/auth', {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', ...this.headers },
      body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }).toString(),
    });
    if (!response.ok) throw new Error(`/broadcasting/auth ${channelName}: ${response.status} ${await response.text()}`);
    return response.json();
  }
}
