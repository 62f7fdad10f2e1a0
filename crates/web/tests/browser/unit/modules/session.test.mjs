import test from 'node:test';
import assert from 'node:assert/strict';
import { bindSession } from '../../../../assets/modules/session.js';
import { createApi, explain } from '../../../../assets/modules/api.js';
import { translator } from '../../../../assets/modules/strings.js';
import { page, server, until } from './support.mjs';

test("signing in goes on to the page asked for; a refusal stays and says why in the page's language", async (t) => {
  const http = await server({
    'POST /api/v1/session': (body) =>
      body.password === 'right'
        ? { status: 201, body: { id: 1 } }
        : { status: 401, body: { error: 'wrong email or password', fields: {} } },
  });
  t.after(http.close);
  const document = page(
    '<form id="login-form" data-next="/equipment"><input name="email" value="a@b.c"><input name="password" value="wrong"><p class="form-error" hidden></p></form>',
  );
  const location = {};
  const translate = translator({
    'login.wrong': 'Wrong e-mail or password',
    'login.blocked_hint': 'If your account has been blocked, ask your administrator.',
  });
  bindSession(document, {
    api: createApi({ fetch: http.fetch }),
    explain: (e) => explain(e, translate),
    t: translate,
    location,
  });
  const form = document.getElementById('login-form');
  form.requestSubmit();
  await until('the refusal', () => !form.querySelector('.form-error').hidden);
  // The server's 401 carries an empty `fields` object, which once hid the box.
  assert.equal(
    form.querySelector('.form-error').textContent,
    'Wrong e-mail or password. If your account has been blocked, ask your administrator.',
  );
  form.elements.password.value = 'right';
  form.requestSubmit();
  await until('the redirect', () => location.href === '/equipment');
  assert.deepEqual(http.requests[1].body, { email: 'a@b.c', password: 'right' });
});
