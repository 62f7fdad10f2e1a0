// The hub's real answers, as live-updates.js receives them, captured from a running
// `ictdesk serve --demo` through Chromium (its WebSocket and fetch, with the page's
// cookie). `tools/capture-answers.js` writes them to `unit/fixtures/answers.json` for
// the unit tests; `e2e/answers.test.js` captures them again and checks that the file
// still has the server's shape.
'use strict';
const { signedIn, until } = require('./harness');

/** Every answer the client handles, from a fresh demo server. */
async function captureAnswers(server, browser) {
  const admin = await server.login('admin@demo.local');
  const agentApi = await server.login('agent@demo.local');
  const agentPage = await signedIn(browser, server, 'agent@demo.local');
  // A page without the desk's own client, which would reload on a role change.
  const page = await agentPage.context().newPage();
  await page.goto(server.url + '/api/v1/session');
  const agentId = (await agentApi.request('GET', '/api/v1/session')).user.id;

  await page.evaluate(() => {
    window.frames = [];
    window.open = (since) => new Promise((resolve) => {
      const socket = new WebSocket(`ws://${location.host}/ws?since=${since}`);
      socket.onmessage = (message) => window.frames.push(JSON.parse(message.data));
      socket.onclose = (event) => window.frames.push({ closed: { code: event.code, reason: event.reason } });
      socket.onopen = () => resolve();
      window.socket = socket;
    });
  });
  const frames = () => page.evaluate(() => window.frames);
  const next = async (test) => until('a frame', async () => (await frames()).find(test));
  const head = (await page.evaluate(() => fetch('/messages').then((r) => r.json()))).last_id;

  await page.evaluate((since) => window.open(since), head);
  const welcome = await next((f) => f.type === 'welcome');
  await page.evaluate(() => window.socket.send(JSON.stringify({ type: 'get_tickets' })));
  const tickets = await next((f) => f.type === 'tickets');
  await page.evaluate(() => window.socket.send(JSON.stringify({ type: 'ping' })));
  const pong = await next((f) => f.type === 'pong');
  await agentApi.request('POST', '/api/v1/tickets', { title: 'Captured for the unit tests', description: 'A real event', priority: 'high' });
  const event = await next((f) => f.type === 'ticket_created');
  const poll = await page.evaluate((since) => fetch('/messages?since=' + since).then((r) => r.json()), head);
  const ticketsOverHttp = await page.evaluate(() => fetch('/get_tickets').then((r) => r.json()));

  await admin.request('PATCH', `/api/v1/users/${agentId}`, { role: 'requester' });
  const roleChanged = (await next((f) => f.closed)).closed;

  await page.evaluate(() => { window.frames = []; });
  await page.evaluate((since) => window.open(since), event.id);
  await next((f) => f.type === 'welcome');
  // An admin's password reset ends every session of the account; the page's cookie
  // stays, as after a logout on another device.
  await admin.request('PATCH', `/api/v1/users/${agentId}`, { password: 'a reset passphrase' });
  const sessionEnded = (await next((f) => f.closed)).closed;
  const pollAfterSessionEnded = await page.evaluate(() => fetch('/messages').then(async (r) => ({ status: r.status, body: await r.json() })));

  const answers = { welcome, tickets, pong, event, poll, ticketsOverHttp, closes: { roleChanged, sessionEnded }, pollAfterSessionEnded };
  // Two tickets are enough of a list.
  for (const list of [answers.tickets, answers.ticketsOverHttp]) list.tickets = list.tickets.slice(0, 2);
  return answers;
}

/** The shape of a JSON value: its keys and the types of their values, recursively
 * (arrays by their first element), so that two captures compare although ids differ. */
function shape(value) {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.keys(value).sort().map((key) => [key, shape(value[key])]));
  }
  return value === null ? 'null' : typeof value;
}

module.exports = { captureAnswers, shape };
