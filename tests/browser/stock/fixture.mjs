// The fixture of the stock-app tests: one sky-takeout server, the course's nginx in front of
// it on http://localhost (port 80, under the machine-wide lock), one chromium, and an admin
// API client for setting up and checking what the pages did. Where the stock clients are
// absent (a user's clone without ../shared) every test skips with a loud message; under
// CI=true each fails instead.

import { after, before, test } from 'node:test';
import { Server, freePort, launchBrowser } from '../helpers.mjs';
import { Nginx, stockAdminCandidates, stockAdminDir } from './nginx.mjs';
import { PAGE_PROBE } from './probe.mjs';

/** The stock login form's own defaults (admin / 123456), used as the admin's password. */
export const STOCK_ADMIN = { username: 'admin', password: '123456' };
/** The app hard-codes ws://localhost/ws/…: it must be opened here, with nginx on port 80. */
export const STOCK_BASE = 'http://localhost';
/** Every wait of these tests: generous, for a loaded 2-core machine. */
export const TIMEOUT = 20000;

const ADMIN_DIR = stockAdminDir();
const MISSING = ADMIN_DIR ? null
  : `the stock admin app is absent (looked in ${stockAdminCandidates().join(', ')}; set SKY_STOCK_ADMIN)`;
if (MISSING) {
  const line = '!'.repeat(78);
  console.error(`${line}\n!! stock-app browser tests ${process.env.CI === 'true' ? 'FAIL' : 'SKIPPED'}: ${MISSING}\n${line}`);
}

/**
 * The server's settings behind the course's layout. No origin setting: the default admits the
 * page's loopback origin (`http://localhost`) although nginx sends `Host: webservers`.
 * - SKY_PUBLIC_BASE_URL (the base of uploaded images' URLs): the course's nginx proxies only
 *   /api/, /user/ and /ws/, so the page loads pictures straight from the server, as the
 *   mini-program does: `http://localhost:<port>`. That is also the server's default (the
 *   listener's port on localhost), so the line states the layout rather than changing it;
 *   SKY_STOCK_DEFAULT_PUBLIC_BASE=1 leaves the setting out to check the default.
 */
export function stockServerEnv(port) {
  const env = { SKY_ADMIN_PASSWORD: STOCK_ADMIN.password };
  if (!process.env.SKY_STOCK_DEFAULT_PUBLIC_BASE) env.SKY_PUBLIC_BASE_URL = `http://localhost:${port}`;
  return env;
}

/**
 * `test()` of a stock-app test: skipped (loudly) where the stock clients are absent, failing
 * instead under CI=true (a todo marker is dropped then, so the failure counts).
 */
export function stockTest(name, opts, fn) {
  if (typeof opts === 'function') { fn = opts; opts = {}; }
  if (MISSING) {
    if (process.env.CI === 'true') return test(name, () => { throw new Error(`${MISSING} (required under CI=true)`); });
    return test(name, { skip: MISSING }, () => {});
  }
  return test(name, { timeout: 180000, ...opts }, fn);
}

/**
 * `before(fn)` of a stock test file, run once `fx` (from `stockFixture`) is up; not registered
 * where the stock clients are absent. (Node 20 starts root-level hooks as they are declared,
 * without waiting for the previous one: hence the explicit wait.)
 */
export function stockBefore(fx, fn) {
  if (!MISSING) before(async () => { await fx.ready(); await fn(); });
}

/**
 * Starts, before the file's tests, a server (`extraEnv` on top of `stockServerEnv`), nginx in
 * front of it and chromium; stops all three after them. Read `fx.server`, `fx.nginx`,
 * `fx.browser`, `fx.api` inside tests.
 */
export function stockFixture(extraEnv = {}) {
  const fx = { server: undefined, nginx: undefined, browser: undefined, api: undefined, ready: async () => {} };
  if (MISSING) return fx;
  let started;
  fx.ready = () => (started ??= start());
  const start = async () => {
    const server = new Server();
    server.port = await freePort();
    Object.assign(server.extraEnv, stockServerEnv(server.port), extraEnv);
    for (const [k, v] of Object.entries(server.extraEnv)) if (v === undefined) delete server.extraEnv[k];
    await server.start();
    fx.server = server;
    fx.nginx = await new Nginx(server.port, ADMIN_DIR).start();
    // The app plays its voice clip without a user gesture, as a merchant's long-open tab may.
    fx.browser = await launchBrowser(['--autoplay-policy=no-user-gesture-required']);
    fx.api = await AdminApi.login(server.base);
  };
  before(() => fx.ready());
  after(async () => {
    await started?.catch(() => {});
    await fx.browser?.close();
    await fx.nginx?.dispose();
    await fx.server?.dispose();
  });
  return fx;
}

const isLocal = (url) => ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname) || url.protocol === 'blob:' || url.protocol === 'data:';

/**
 * A fresh browser context for the stock app: its own cookies and storage (the app keeps its
 * token in a cookie), service workers blocked (the app's one imports a script from a CDN),
 * every non-loopback request aborted (the app's icon font lives on a CDN), the page probe
 * installed, the course's time zone.
 */
export async function stockContext(browser) {
  const ctx = await browser.newContext({
    viewport: { width: 1440, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai',
    serviceWorkers: 'block', acceptDownloads: true,
  });
  ctx.setDefaultTimeout(TIMEOUT);
  await ctx.route((url) => !isLocal(url), (route) => route.abort('blockedbyclient'));
  await ctx.addInitScript(PAGE_PROBE);
  return ctx;
}

/**
 * Opens http://localhost/ and submits the stock login form. Resolves {page, reply} once the
 * login has answered; with `expectDashboard` (default) also waits for #/dashboard.
 */
export async function stockLogin(ctx, { username = STOCK_ADMIN.username, password = STOCK_ADMIN.password, expectDashboard = true } = {}) {
  const page = await ctx.newPage();
  await page.goto(`${STOCK_BASE}/`);
  await page.waitForURL(/#\/login/);
  await page.getByPlaceholder('账号').fill(username);
  await page.getByPlaceholder('密码').fill(password);
  const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/employee/login');
  await page.locator('.login-btn').click();
  const res = await answered;
  const reply = await res.json().catch(() => null);
  if (expectDashboard) {
    if (!reply || reply.code !== 1) throw new Error(`login of ${username} refused: HTTP ${res.status()} ${JSON.stringify(reply)}`);
    await page.waitForURL(/#\/dashboard/);
  }
  return { page, reply };
}

/** A logged-in stock context (login through the form) and its dashboard page. */
export async function adminSession(browser, creds) {
  const ctx = await stockContext(browser);
  const { page } = await stockLogin(ctx, creds);
  return { ctx, page };
}

/**
 * The merchant API, straight to the server (for setting up data and checking what a page
 * did): `call` resolves {status, body}; `ok` resolves `data` and throws unless HTTP 200 and
 * code 1.
 */
export class AdminApi {
  constructor(base, token) { this.base = base; this.token = token; }

  static async login(base, { username, password } = STOCK_ADMIN) {
    const api = new AdminApi(base, null);
    const data = await api.ok('POST', '/admin/employee/login', { body: { username, password } });
    api.token = data.token;
    return api;
  }

  async call(method, path, { query, body } = {}) {
    const url = new URL(this.base + path);
    for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, String(v));
    const headers = {};
    if (this.token) headers.token = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch (e) { /* not JSON */ }
    return { status: res.status, body: parsed };
  }

  async ok(method, path, opts) {
    const { status, body } = await this.call(method, path, opts);
    if (status !== 200 || !body || body.code !== 1) throw new Error(`${method} ${path}: HTTP ${status} ${JSON.stringify(body)}`);
    return body.data;
  }

  /** The order's current status (GET /admin/order/details/{id}). */
  async orderStatus(id) {
    return (await this.ok('GET', `/admin/order/details/${id}`)).status;
  }

  /** Takes a paid order through accept → deliver → complete (status 5). */
  async completeOrder(id) {
    await this.ok('PUT', '/admin/order/confirm', { body: { id } });
    await this.ok('PUT', `/admin/order/delivery/${id}`);
    await this.ok('PUT', `/admin/order/complete/${id}`);
  }
}
