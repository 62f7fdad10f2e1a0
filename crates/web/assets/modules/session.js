/* Signing in (`#login-form`) and out (`#logout`) through the session API. */

import { showError } from './forms.js';

export function bindSession(document, { api, explain, location }) {
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
        showError(login, explain(error));
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
