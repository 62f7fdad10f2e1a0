import test from 'node:test';
import assert from 'node:assert/strict';
import { createApi, explain } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { server } from './support.mjs';

test('a call sends JSON with the CSRF token and returns the answer', async (t) => {
  const http = await server({ 'POST /api/v1/things': (body) => ({ status: 201, body: { id: 5, ...body } }) });
  t.after(http.close);
  const api = createApi({ fetch: http.fetch, csrfToken: 'tok' });
  assert.deepEqual(await api('POST', '/api/v1/things', { name: 'x' }), { id: 5, name: 'x' });
  assert.equal(http.requests[0].headers['x-csrf-token'], 'tok');
  assert.equal(http.requests[0].headers['content-type'], 'application/json');
});

test('a refusal carries its status, fields and who changed the object', async (t) => {
  const http = await server({
    'PATCH /api/v1/tickets/1': { status: 409, body: { error: 'changed', changed_by: 'Ada' } },
    'POST /api/v1/tickets': { status: 422, body: { error: 'invalid', fields: { title: 'required' } } },
    'GET /broken': { status: 500, type: 'text/plain', body: 'oops' },
  });
  t.after(http.close);
  const api = createApi({ fetch: http.fetch });
  const tr = translator({ 'common.conflict': 'Changed by {0}' });
  const conflict = await api('PATCH', '/api/v1/tickets/1', {}).catch((error) => error);
  assert.equal(conflict.status, 409);
  assert.equal(explain(conflict, tr), 'Changed by Ada');
  const invalid = await api('POST', '/api/v1/tickets', {}).catch((error) => error);
  assert.equal(explain(invalid, tr), 'title: required');
  const broken = await api('GET', '/broken').catch((error) => error);
  assert.equal(explain(broken, tr), 'HTTP 500');
});
