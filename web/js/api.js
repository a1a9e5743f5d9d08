// JSON over fetch with the daemon's token. Errors come back as ApiError
// ({"error":{code,message,field?}}); a network failure is status 0,
// code "unreachable". On 401 the token dialog opens and the call is retried
// once the user presses Continue (again after a refused token).

const TOKEN_KEY = 'haul.token';
const TIMEOUT_MS = 15000;

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message || code || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = code || (status ? `http_${status}` : 'unreachable');
    this.field = field || null;
  }
}

export function getToken() {
  try {
    return sessionStorage.getItem(TOKEN_KEY) || '';
  } catch {
    return '';
  }
}

function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  } catch {
    /* storage disabled: the token lives for this call only */
  }
}

// One dialog for every request that got a 401 at the same time.
let asking = null;
const tokenListeners = new Set();

export function onToken(fn) {
  tokenListeners.add(fn);
  return () => tokenListeners.delete(fn);
}

export function askToken(rejected) {
  if (asking) return asking;
  const dialog = document.querySelector('[data-testid=token-dialog]');
  if (!dialog) return Promise.resolve('');
  const form = dialog.querySelector('form');
  const input = dialog.querySelector('input[name=token]');
  const note = dialog.querySelector('[data-field=token-note]');
  if (note) note.hidden = !rejected;
  input.value = '';
  asking = new Promise((resolve) => {
    const done = (token) => {
      form.removeEventListener('submit', submit);
      dialog.removeEventListener('close', closed);
      asking = null;
      resolve(token);
    };
    const submit = (event) => {
      event.preventDefault();
      const token = input.value.trim();
      if (!token) {
        input.focus();
        return;
      }
      setToken(token);
      done(token);
      dialog.close();
      for (const fn of tokenListeners) fn(token);
    };
    // Closed with Escape: the waiting calls try again, and ask again.
    const closed = () => done('');
    form.addEventListener('submit', submit);
    dialog.addEventListener('close', closed);
  });
  if (!dialog.open) dialog.showModal();
  input.focus();
  return asking;
}

async function request(method, path, body) {
  for (;;) {
    const headers = { Accept: 'application/json' };
    const token = getToken();
    if (token) headers.Authorization = `Bearer ${token}`;
    const init = { method, headers, cache: 'no-store', signal: AbortSignal.timeout(TIMEOUT_MS) };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch {
      throw new ApiError(0, 'unreachable', 'The daemon cannot be reached');
    }
    if (response.status === 401) {
      // Ask (once for every waiting call) unless a new token came meanwhile.
      if (getToken() === token) {
        if (token) setToken('');
        await askToken(Boolean(token));
      }
      continue;
    }
    const text = await response.text().catch(() => '');
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = null;
      }
    }
    if (!response.ok) {
      const e = data && typeof data === 'object' ? data.error : null;
      if (e && typeof e === 'object') throw new ApiError(response.status, e.code, e.message, e.field);
      throw new ApiError(response.status, null, typeof e === 'string' ? e : response.statusText);
    }
    return data;
  }
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body) => request('POST', path, body === undefined ? {} : body),
  del: (path) => request('DELETE', path),
};
