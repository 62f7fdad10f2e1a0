/*
 * Calls to the JSON API (`/api/v1`, see docs/protocol.md): the session's cookie and
 * CSRF token go with each, and a refusal becomes an Error carrying the API's parts
 * (status, the fields it names, who changed the object meanwhile). A body is sent as
 * JSON, or as it is when it is a FormData (files: multipart).
 */

export function createApi({ fetch, csrfToken }) {
  return async function api(method, url, body) {
    const headers = { Accept: 'application/json' };
    if (csrfToken) headers['X-CSRF-Token'] = csrfToken;
    const multipart = body instanceof FormData;
    // The browser writes a multipart body's Content-Type itself (with its boundary).
    if (body !== undefined && !multipart) headers['Content-Type'] = 'application/json';
    const response = await fetch(url, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined || multipart ? body : JSON.stringify(body),
    });
    const data = parseJson(await response.text());
    if (!response.ok) throw refusal(response.status, data);
    return data;
  };
}

function parseJson(text) {
  try {
    return text ? JSON.parse(text) : null;
  } catch {
    return null;
  }
}

function refusal(status, data) {
  const error = new Error((data && data.error) || 'HTTP ' + status);
  error.status = status;
  error.fields = data && data.fields;
  error.changedBy = data && data.changed_by;
  return error;
}

/** An API error in the page's language where the API gives its parts. */
export function explain(error, t) {
  if (error.status === 409 && error.changedBy) return t('common.conflict', error.changedBy);
  // A 401 carries an empty `fields` object: that is no field error.
  if (error.fields && Object.keys(error.fields).length) {
    return Object.keys(error.fields)
      .map((field) => field + ': ' + error.fields[field])
      .join('; ');
  }
  return error.message || t('common.error');
}
