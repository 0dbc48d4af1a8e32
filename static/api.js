// REST helper for the dashboard: same-origin fetch with the HttpOnly session cookie (the
// server accepts it for /admin/*), the contract's envelope `{code, msg, data}` unwrapped.

/** A failed call. `status` is the HTTP status (0 = network), `code` the envelope's code. */
export class ApiError extends Error {
  constructor(message, { status = 0, code = null } = {}) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Listeners told when any call answers 401 (the session is gone). */
const unauthorizedListeners = new Set();
export function onUnauthorized(fn) { unauthorizedListeners.add(fn); }

/**
 * Calls the API and returns `data`. Business errors (HTTP 200, code 0) throw with the server's
 * Chinese `msg`, which the caller shows as is.
 */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new ApiError('网络错误，无法连接服务器 (network error)', { status: 0 });
  }
  if (res.status === 401) {
    for (const fn of unauthorizedListeners) fn();
    throw new ApiError('登录已失效，请重新登录 (session expired)', { status: 401 });
  }
  let json = null;
  try { json = await res.json(); } catch (e) { /* empty or non-JSON body */ }
  if (!res.ok) {
    throw new ApiError((json && json.msg) || `服务器错误 HTTP ${res.status}`, { status: res.status, code: json && json.code });
  }
  if (!json || json.code !== 1) {
    throw new ApiError((json && json.msg) || '操作失败', { status: res.status, code: json ? json.code : null });
  }
  return json.data;
}

/** Same as `api` but 401 is an answer (null), not an event: the page's "am I logged in?". */
export async function whoAmI() {
  const res = await fetch('/admin/employee/me', { credentials: 'same-origin' });
  if (res.status === 401) return null;
  if (!res.ok) throw new ApiError(`HTTP ${res.status}`, { status: res.status });
  const json = await res.json();
  return json && json.code === 1 ? json.data : null;
}
