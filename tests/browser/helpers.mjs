// Shared helpers of the browser tests: a real sky-takeout server per test file (restartable
// on the same port and database), Debian's chromium driven by playwright-core, a customer API
// client, and the dashboard login.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { after, before } from 'node:test';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(ROOT, 'docs/screenshots');
export const ADMIN = { username: 'admin', password: 'admin-pass-123' };

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A free loopback port (bound then released; the server binds it right after). */
export async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * One sky-takeout process with its own temporary SQLite database. `stop()` then `start()`
 * brings it back on the same port with the same database (the reconnect tests need that).
 */
export class Server {
  /** `extraEnv`: more SKY_* settings for this server (e.g. a short re-alert schedule). */
  constructor(extraEnv = {}) {
    this.extraEnv = extraEnv;
    this.bin = path.resolve(ROOT, process.env.SKY_BIN || 'target/debug/sky-takeout');
    if (!existsSync(this.bin)) {
      throw new Error(`server binary ${this.bin} not found: run \`cargo build\` first or set SKY_BIN`);
    }
    this.dir = mkdtempSync(path.join(os.tmpdir(), 'sky-browser-'));
    this.port = null;
    this.proc = null;
    this.logFile = path.join(this.dir, 'server.log');
  }

  get base() { return `http://127.0.0.1:${this.port}`; }

  async start() {
    if (this.port == null) this.port = await freePort();
    // Only our settings: an SKY_* variable of the developer's shell must not change the test.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SKY_') && k !== 'DATABASE_URL'));
    Object.assign(env, {
      SKY_LISTEN: `127.0.0.1:${this.port}`,
      DATABASE_URL: `sqlite://${this.dir}/t.db`,
      SKY_ADMIN_PASSWORD: ADMIN.password,
      SKY_PING_SECS: '5',
      RUST_LOG: process.env.RUST_LOG || 'info,sqlx=warn',
      ...this.extraEnv,
    });
    const out = openSync(this.logFile, 'a');
    const proc = spawn(this.bin, [], { cwd: this.dir, env, stdio: ['ignore', out, out] });
    this.proc = proc;
    let exited = null;
    proc.once('exit', (code, signal) => { exited = { code, signal }; });
    const deadline = Date.now() + 30000;
    for (;;) {
      if (exited) throw new Error(`server exited at start (${JSON.stringify(exited)}):\n${this.logTail()}`);
      try {
        const res = await fetch(`${this.base}/healthz`);
        if (res.ok) return this;
      } catch (e) { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`server did not answer /healthz within 30 s:\n${this.logTail()}`);
      await sleep(100);
    }
  }

  /** SIGTERM (the server closes sockets with 1012), SIGKILL if it is still there after 10 s. */
  async stop() {
    const proc = this.proc;
    this.proc = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const gone = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
    await gone;
    clearTimeout(timer);
  }

  /** Freezes / thaws the process: its sockets stay open but silent (a half-dead link). */
  pause() { this.proc.kill('SIGSTOP'); }
  resume() { this.proc.kill('SIGCONT'); }

  logTail(lines = 40) {
    try { return readFileSync(this.logFile, 'utf8').split('\n').slice(-lines).join('\n'); } catch (e) { return ''; }
  }

  async dispose() {
    if (this.proc) { try { this.resume(); } catch (e) { /* not stopped */ } }
    await this.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export async function startServer(extraEnv = {}) {
  const s = new Server(extraEnv);
  await s.start();
  return s;
}

/**
 * The fixture every test file uses: one server (with `extraEnv`) and one browser for the
 * file, started before its tests and disposed after. Read `fx.server` / `fx.browser` inside
 * tests (they are set by the `before` hook).
 */
export function serverAndBrowser(extraEnv = {}) {
  const fx = { server: undefined, browser: undefined };
  before(async () => {
    fx.server = await startServer(extraEnv);
    fx.browser = await launchBrowser();
  });
  after(async () => {
    await fx.browser?.close();
    await fx.server?.dispose();
  });
  return fx;
}

/**
 * Debian's chromium, never a downloaded browser; fails with instructions when missing.
 * `extraArgs`: more command-line switches (e.g. an autoplay policy).
 */
export async function launchBrowser(extraArgs = []) {
  const executablePath = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(executablePath)) {
    throw new Error(`chromium not found at ${executablePath}: apt-get install -y chromium fonts-noto-cjk (or set CHROMIUM); tests/browser/run.sh does it`);
  }
  return chromium.launch({
    executablePath,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', ...extraArgs],
  });
}

/**
 * Records what the page asks speechSynthesis to say into `window.__spoken` ({text, lang}).
 * Runs before the page's scripts; installs a fake speechSynthesis when the browser has none.
 */
export const RECORD_SPEECH = `(() => {
  window.__spoken = [];
  const record = (u) => window.__spoken.push({ text: u && u.text, lang: u && u.lang });
  const synth = window.speechSynthesis;
  if (synth && typeof synth.speak === 'function') {
    const real = synth.speak.bind(synth);
    synth.speak = (u) => { record(u); try { real(u); } catch (e) { /* no speech backend */ } };
  } else {
    const fake = { speak: record, cancel() {}, pause() {}, resume() {}, getVoices() { return []; },
      addEventListener() {}, removeEventListener() {}, speaking: false, pending: false, paused: false };
    Object.defineProperty(window, 'speechSynthesis', { value: fake, configurable: true });
    if (typeof window.SpeechSynthesisUtterance !== 'function') {
      window.SpeechSynthesisUtterance = class { constructor(text) { this.text = text; this.lang = ''; this.voice = null; } };
    }
  }
})();`;

/** A browser context (fresh cookies/localStorage) whose pages record speech. */
export async function newContext(browser, opts = {}) {
  const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, locale: 'zh-CN', ...opts });
  await ctx.addInitScript(RECORD_SPEECH);
  return ctx;
}

/** Opens the dashboard and logs in through the form; resolves when the board is shown. */
export async function loginPage(ctx, base, query = '') {
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error('[pageerror]', e.message));
  await page.goto(`${base}/${query}`);
  await page.locator('#login-view').waitFor({ state: 'visible' });
  await page.fill('#login-username', ADMIN.username);
  await page.fill('#login-password', ADMIN.password);
  await page.click('#login-submit');
  await page.locator('#app-view').waitFor({ state: 'visible' });
  return page;
}

/** Waits until the connection indicator shows `state` (live / reconnecting / offline …). */
export async function waitConn(page, state, timeout = 15000) {
  await page.locator(`#conn[data-state="${state}"]`).waitFor({ timeout });
}

/**
 * A customer of the mini-program, over the REST API: logs in (mock mode), fills the cart
 * with dish 1, adds an address, submits, pays, reminds.
 */
export class Customer {
  constructor(base) {
    this.base = base;
    this.token = null;
    this.addressId = null;
  }

  async call(method, p, body) {
    const headers = {};
    if (this.token) headers.authentication = this.token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(this.base + p, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    let json;
    try { json = JSON.parse(text); } catch (e) { throw new Error(`${method} ${p}: HTTP ${res.status} ${text}`); }
    if (json.code !== 1) throw new Error(`${method} ${p}: ${res.status} ${text}`);
    return json.data;
  }

  async login() {
    const d = await this.call('POST', '/user/user/login', { code: `test-${Math.random().toString(36).slice(2)}` });
    this.token = d.token;
    return d;
  }

  async addDish(dishId = 1) {
    await this.call('POST', '/user/shoppingCart/add', { dishId, dishFlavor: '' });
  }

  async addAddress() {
    await this.call('POST', '/user/addressBook', { consignee: '测试顾客', phone: '13800000000', detail: '软件园1号楼', sex: '1' });
    const list = await this.call('GET', '/user/addressBook/list');
    this.addressId = list[list.length - 1].id;
    return this.addressId;
  }

  /**
   * Submits the cart as the mini-program does: with 立即派送 (`deliveryStatus` 1) it still
   * sends `estimatedDeliveryTime`, the phone's clock now (`presentFormat()`), here an hour
   * ahead in the shop's zone (Asia/Shanghai); resolves {id, orderNumber}.
   */
  async submit(remark = '') {
    const eta = new Date(Date.now() + 3600 * 1000).toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai' });
    return this.call('POST', '/user/order/submit', {
      addressBookId: this.addressId, payMethod: 1, remark, estimatedDeliveryTime: eta,
      deliveryStatus: 1, tablewareNumber: 1, tablewareStatus: 1,
    });
  }

  async pay(orderNumber) {
    return this.call('PUT', '/user/order/payment', { orderNumber, payMethod: 1 });
  }

  async remind(orderId) {
    return this.call('GET', `/user/order/reminder/${orderId}`);
  }

  /** Everything up to a paid order: resolves {id, number}. */
  async paidOrder(remark = '') {
    if (!this.token) await this.login();
    if (!this.addressId) await this.addAddress();
    await this.addDish(1);
    const o = await this.submit(remark);
    await this.pay(o.orderNumber);
    return { id: o.id, number: o.orderNumber };
  }
}

/** Where screenshots go (created when missing). */
export function screenshotPath(name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}

export { sleep };

/**
 * Accepts every order waiting for acceptance (which handles their alerts), so a test starts
 * without notices left by the previous ones. `request`: a context's APIRequestContext
 * (it carries that context's merchant session cookie).
 */
export async function acceptWaitingOrders(request, base) {
  const page = await (await request.get(`${base}/admin/order/conditionSearch?page=1&pageSize=100&status=2`)).json();
  for (const o of page.data.records) {
    await request.put(`${base}/admin/order/confirm`, { data: { id: o.id } });
  }
}
