// What the module tests share: a real DOM (jsdom) and a real HTTP server on a free
// loopback port that answers as the test says, with the real fetch of Node.
import http from 'node:http';
import { JSDOM } from 'jsdom';

/** A document from `html`; DOMParser and CustomEvent as a page has them. */
export function page(html = '') {
  const { window } = new JSDOM('<!doctype html><html lang="en"><body>' + html + '</body></html>');
  globalThis.DOMParser = window.DOMParser;
  return window.document;
}

/** A real Storage (jsdom's localStorage for one origin), empty. */
export function storage() {
  return new JSDOM('', { url: 'http://127.0.0.1/' }).window.localStorage;
}

/**
 * A server answering `routes[method + ' ' + path]` (a function of the request body, or
 * a value): `{status?, type?, body}`. Its `fetch` takes paths as a page's does.
 */
export async function server(routes) {
  const requests = [];
  const listener = http.createServer((request, response) => {
    let body = '';
    request.on('data', (chunk) => (body += chunk));
    request.on('end', () => {
      const key = request.method + ' ' + request.url;
      // JSON is parsed; any other body (multipart) is handed on as its text.
      const json = (request.headers['content-type'] || '').startsWith('application/json');
      const parsed = body ? (json ? JSON.parse(body) : body) : undefined;
      requests.push({ key, headers: request.headers, body: parsed });
      const route = routes[key];
      const answer = typeof route === 'function' ? route(parsed) : route;
      if (!answer) {
        response.writeHead(404, { 'Content-Type': 'application/json' });
        response.end('{"error":"not found"}');
        return;
      }
      const type = answer.type || 'application/json';
      response.writeHead(answer.status || 200, { 'Content-Type': type });
      response.end(typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body));
    });
  });
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const base = 'http://127.0.0.1:' + listener.address().port;
  return {
    requests,
    fetch: (path, init) => fetch(base + path, init),
    close: () => new Promise((resolve) => listener.close(resolve)),
  };
}

/** Timers the test runs by hand: `run()` fires every timer due, in order. */
export function manualTimers() {
  const due = new Map();
  let next = 1;
  return {
    setTimeout: (fn, ms) => {
      due.set(next, { fn, ms });
      return next++;
    },
    clearTimeout: (id) => due.delete(id),
    pending: () => due.size,
    run() {
      const now = Array.from(due);
      due.clear();
      now.sort((a, b) => a[1].ms - b[1].ms).forEach(([, { fn }]) => fn());
    },
  };
}

/** Resolves once `check()` is true; fails loudly after `ms`. */
export async function until(what, check, ms = 5000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out waiting for ' + what);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
