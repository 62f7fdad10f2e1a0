/* Signing in (`#login-form`) and out (`#logout`) through the session API. */

import { showError } from './forms.js';

/**
 * The login's refusal in the page's language. A blocked account answers its right
 * password as a wrong one (no password oracle: `Desk::login`), so the one message says
 * what to do in either case.
 */
function explainLogin(error, { explain, t }) {
  if (error.status === 401) return t('login.wrong') + '. ' + t('login.blocked_hint');
  return explain(error);
}

export function bindSession(document, { api, explain, t, location }) {
  const login = document.getElementById('login-form');
  if (login) {
    login.addEventListener('submit', async (event) => {
      event.preventDefault();
      showError(login, '');
      const credentials = { email: login.elements.email.value, password: login.elements.password.value };
      try {
        await api('POST', '/api/v1/session', credentials);
        location.href = login.dataset.next || '/tickets';
      } catch (error) {
        showError(login, explainLogin(error, { explain, t }));
      }
    });
  }
  const logout = document.getElementById('logout');
  if (logout) {
    // Whatever the answer, the page leaves: a failed logout shows the login page too.
    const leave = () => {
      location.href = '/login';
    };
    logout.addEventListener('click', () => api('DELETE', '/api/v1/session').then(leave, leave));
  }
}
