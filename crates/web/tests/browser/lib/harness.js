// Starts the real ictdesk binary on a temporary SQLite database and real headless
// Chromium, for the browser tests and the measuring tools.
'use strict';
const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const REPO = path.resolve(__dirname, '../../../../..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** The binary: $ICTDESK_BIN, else a release or debug build in the target directory. */
function binary() {
  if (process.env.ICTDESK_BIN) return process.env.ICTDESK_BIN;
  const target = process.env.CARGO_TARGET_DIR || path.join(REPO, 'target');
  for (const profile of ['release', 'debug']) {
    const candidate = path.join(target, profile, 'ictdesk');
    if (fs.existsSync(candidate)) return candidate;
  }
  throw new Error('no ictdesk binary: build it (cargo build --release -p ictdesk) or set ICTDESK_BIN');
}

/** Whether Chromium can be used; under CI=true a missing one is a failure, not a skip. */
function chromiumMissing() {
  if (fs.existsSync(CHROMIUM)) return false;
  if (process.env.CI === 'true') throw new Error(`Chromium not found at ${CHROMIUM} (CI=true: failing, not skipping)`);
  return `Chromium not found at ${CHROMIUM}`;
}

/** Waits for `check()` to be truthy, polling; fails loudly after `timeout` ms. */
async function until(what, check, timeout = 15000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One ictdesk server on its own database, restartable on the same port and data. */
class Server {
  constructor() {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ictdesk-browser-'));
    this.database = 'sqlite://' + path.join(this.dir, 'desk.db');
    this.port = 0;
    this.child = null;
    this.log = path.join(this.dir, 'server.log');
  }

  async start(env = {}) {
    const addrFile = path.join(this.dir, 'addr');
    fs.rmSync(addrFile, { force: true });
    const out = fs.openSync(this.log, 'a');
    this.child = spawn(binary(), ['serve', '--demo', '--port', String(this.port), '--addr-file', addrFile, '--database', this.database], {
      env: Object.assign({}, process.env, { RUST_LOG: 'warn', ICTDESK_ATTACHMENTS_DIR: path.join(this.dir, 'attachments') }, env),
      stdio: ['ignore', out, out],
    });
    const child = this.child;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    this.exited = exited;
    const addr = await until('the server address', async () => {
      if (child.exitCode !== null) throw new Error('ictdesk exited: ' + fs.readFileSync(this.log, 'utf8').slice(-2000));
      return fs.existsSync(addrFile) && fs.readFileSync(addrFile, 'utf8').trim();
    }, 60000);
    this.port = Number(addr.split(':').pop());
    this.url = 'http://127.0.0.1:' + this.port;
    return this;
  }

  async stop() {
    if (!this.child || this.child.exitCode !== null) return;
    this.child.kill('SIGTERM');
    await this.exited;
  }

  async restart(env) {
    await this.stop();
    return this.start(env);
  }

  /** Logs in through the API: an object with `request(method, path, body)`. */
  async login(email) {
    const response = await fetch(this.url + '/api/v1/session', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email, password: 'demo' }),
    });
    if (!response.ok) throw new Error('login failed: ' + response.status);
    const cookie = response.headers.get('set-cookie').split(';')[0];
    const session = await response.json();
    const server = this;
    return {
      user: session.user,
      cookie,
      async request(method, pathname, body) {
        const r = await fetch(server.url + pathname, {
          method,
          headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token, Cookie: cookie },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        const text = await r.text();
        if (!r.ok) throw new Error(`${method} ${pathname}: ${r.status} ${text}`);
        return text ? JSON.parse(text) : null;
      },
    };
  }

  cleanup() {
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Chromium with a fresh, empty profile (Playwright makes a temporary user-data-dir for
 * every launch); the flags keep it off the (closed) network. */
function launch() {
  const args = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'];
  return chromium.launch({ executablePath: CHROMIUM, args, headless: true });
}

/** A signed-in page of its own browser context, recording the console; `options.next`
 * is where the login leads (the ticket list by default), the rest the context's. */
async function signedIn(browser, server, email, options = {}) {
  const { next, ...contextOptions } = options;
  const context = await browser.newContext(Object.assign({ locale: 'ru-RU' }, contextOptions));
  const page = await context.newPage();
  page.consoleLines = [];
  page.on('console', (message) => page.consoleLines.push(message.text()));
  await page.goto(server.url + '/login' + (next ? '?next=' + encodeURIComponent(next) : ''));
  await page.fill('input[name=email]', email);
  await page.fill('input[name=password]', 'demo');
  await Promise.all([page.waitForURL(/\/tickets/), page.click('button[type=submit]')]);
  return page;
}

/** A demo server and a browser for one test (`t`), both ended after it. */
async function demoDesk(t) {
  const server = new Server();
  await server.start();
  const browser = await launch();
  t.after(async () => {
    await browser.close();
    await server.stop();
    server.cleanup();
  });
  return { server, browser };
}

module.exports = { Server, launch, demoDesk, signedIn, until, chromiumMissing };
