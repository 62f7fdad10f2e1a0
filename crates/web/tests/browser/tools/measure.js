// Bytes on the wire per update and per idle minute in each mode, and event-to-screen
// latency, measured in real Chromium against the real binary:
//   node tools/measure.js            (IDLE_SECONDS=60 EVENTS=100 by default)
// All browser traffic goes through a counting TCP proxy, so the numbers include HTTP
// headers, cookies and WebSocket framing — everything but TCP/IP itself. The page is
// the notifications list, which fetches nothing for ticket events: what is counted is
// the transport alone.
'use strict';
const net = require('node:net');
const { Server, launch, signedIn, until } = require('../lib/harness');

const IDLE_SECONDS = Number(process.env.IDLE_SECONDS || 60);
const EVENTS = Number(process.env.EVENTS || 100);

/** A TCP proxy to `port` that counts the bytes in both directions. */
function countingProxy(port) {
  const counter = { bytes: 0 };
  const proxy = net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    client.on('data', (chunk) => { counter.bytes += chunk.length; upstream.write(chunk); });
    upstream.on('data', (chunk) => { counter.bytes += chunk.length; client.write(chunk); });
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('error', end); upstream.on('error', end); client.on('close', end); upstream.on('close', end);
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve({ proxy, counter, url: 'http://127.0.0.1:' + proxy.address().port })));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const percentile = (values, p) => {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
};

async function measureMode(browser, server, name, setup) {
  const { proxy, counter, url } = await countingProxy(server.port);
  const page = await signedIn(browser, Object.assign(Object.create(server), { url }), 'agent@demo.local');
  await page.goto(url + '/notifications');
  await setup(page);
  await sleep(2000); // let the page settle before counting
  counter.bytes = 0;
  await sleep(IDLE_SECONDS * 1000);
  const idlePerMinute = (counter.bytes * 60) / IDLE_SECONDS;
  // Updates: comments by someone else, one at a time, each waited for on the page.
  const api = await server.login('user@demo.local');
  const ticket = await api.request('POST', '/api/v1/tickets', { title: 'measure ' + name, description: 'x' });
  await sleep(1500);
  counter.bytes = 0;
  const updates = 20;
  for (let i = 0; i < updates; i++) {
    const before = await page.evaluate(() => window.ictdeskLive.lastId);
    await api.request('POST', `/api/v1/tickets/${ticket.id}/comments`, { body: 'm' + i });
    await until('the update', () => page.evaluate((b) => window.ictdeskLive.lastId > b, before), 30000);
  }
  const perUpdate = counter.bytes / updates;
  await page.context().close();
  proxy.close();
  return { mode: name, idle_bytes_per_minute: Math.round(idlePerMinute), bytes_per_update: Math.round(perUpdate) };
}

async function latency(browser, server) {
  const agent = await signedIn(browser, server, 'agent@demo.local');
  await until('live', async () => (await agent.getAttribute('#connection', 'data-mode')) === 'websocket');
  await agent.evaluate(() => {
    window.seen = {};
    new MutationObserver(() => {
      document.querySelectorAll('#toasts .toast').forEach((toast) => {
        const m = /lat-(\d+)/.exec(toast.textContent);
        if (m && !window.seen[m[1]]) window.seen[m[1]] = Date.now();
      });
    }).observe(document.getElementById('toasts'), { childList: true });
    window.rows = {};
    new MutationObserver(() => {
      document.querySelectorAll('table.list tbody tr').forEach((tr) => {
        const m = /lat-(\d+)/.exec(tr.textContent);
        if (m && !window.rows[m[1]]) window.rows[m[1]] = Date.now();
      });
    }).observe(document.querySelector('table.list tbody'), { childList: true });
  });
  const api = await server.login('user@demo.local');
  const toast = [];
  const row = [];
  for (let i = 0; i < EVENTS; i++) {
    const sent = Date.now();
    await api.request('POST', '/api/v1/tickets', { title: 'lat-' + i, description: 'latency' });
    const shown = await until('ticket ' + i + ' on screen', () => agent.evaluate((n) => window.seen[n] && window.rows[n] && [window.seen[n], window.rows[n]], i), 10000);
    toast.push(shown[0] - sent);
    row.push(shown[1] - sent);
  }
  await agent.context().close();
  return {
    events: EVENTS,
    toast_ms: { p50: percentile(toast, 50), p95: percentile(toast, 95) },
    row_ms: { p50: percentile(row, 50), p95: percentile(row, 95) },
  };
}

(async () => {
  const server = await new Server().start();
  const browser = await launch();
  try {
    const results = [];
    results.push(await measureMode(browser, server, 'websocket', (page) =>
      until('websocket', async () => (await page.getAttribute('#connection', 'data-mode')) === 'websocket')));
    const restartInPage = (options) => (page) => page.evaluate((o) => {
      window.ictdeskLive.stop();
      const config = JSON.parse(document.getElementById('ictdesk-config').textContent);
      window.ictdeskLive = new window.LiveUpdates(Object.assign({ csrfToken: config.csrfToken, lastId: window.ictdeskLive.lastId }, o));
      window.ictdeskLive.start();
    }, options);
    results.push(await measureMode(browser, server, 'long polling (wait=25)', restartInPage({ useWebSocket: false })));
    results.push(await measureMode(browser, server, 'plain polling (refreshInterval 1000)', restartInPage({ useWebSocket: false, longPolling: false, refreshInterval: 1000 })));
    const lat = await latency(browser, server);
    console.log(JSON.stringify({ idle_seconds: IDLE_SECONDS, transports: results, latency: lat }, null, 2));
  } finally {
    await browser.close();
    await server.stop();
    server.cleanup();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
