// Login through the form, the session surviving a reload (HttpOnly cookie + GET
// /admin/employee/me), a wrong password's message, logout, a disabled account's page sent to
// the login at once (close 4003), and the 后台管理 links to the course's admin app.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

const fx = serverAndBrowser();

test('log in through the form; a reload keeps the session', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    assert.match(await page.locator('#shop-label').innerText(), /#1/);

    // The cookie is HttpOnly: page scripts cannot read it (the server answers /me from it).
    const cookies = await ctx.cookies();
    const session = cookies.find((c) => c.name === 'sky_session');
    assert.ok(session, 'sky_session cookie set by the login');
    assert.equal(session.httpOnly, true);
    assert.equal(await page.evaluate(() => document.cookie.includes('sky_session')), false);

    await page.reload();
    await page.locator('#app-view').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#login-view').isVisible(), false, 'login form not shown after reload');
    await waitConn(page, 'live');

    // Logout: back to the form, and a reload stays logged out.
    await page.click('#logout');
    await page.locator('#login-view').waitFor({ state: 'visible' });
    await page.reload();
    await page.locator('#login-view').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#app-view').isVisible(), false);
  } finally {
    await ctx.close();
  }
});

test('a wrong password shows the server message', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await ctx.newPage();
    await page.goto(fx.server.base + '/');
    await page.fill('#login-username', ADMIN.username);
    await page.fill('#login-password', 'wrong-password');
    await page.click('#login-submit');
    await page.locator('#login-error').waitFor({ state: 'visible' });
    assert.equal(await page.locator('#login-error').innerText(), '账号或密码错误');
    assert.equal(await page.locator('#app-view').isVisible(), false);
  } finally {
    await ctx.close();
  }
});

/** A merchant API call straight to the server; resolves the envelope. */
async function adminCall(base, token, method, path, body) {
  const headers = { token };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return res.json();
}

test('a disabled employee\'s open dashboard goes to the login at once; its login says 账号被锁定', async () => {
  const base = fx.server.base;
  const login = await (await fetch(`${base}/admin/employee/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ADMIN),
  })).json();
  const token = login.data.token;
  const added = await adminCall(base, token, 'POST', '/admin/employee', { username: 'dashstaff', name: '值班员', phone: '13812345678', sex: '1', idNumber: '110101199003071234' });
  assert.equal(added.code, 1, JSON.stringify(added));
  const list = await adminCall(base, token, 'GET', '/admin/employee/page?page=1&pageSize=10&name=%E5%80%BC%E7%8F%AD');
  const id = list.data.records[0].id;
  const ctx = await newContext(fx.browser);
  try {
    const page = await ctx.newPage();
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.goto(`${base}/`);
    await page.fill('#login-username', 'dashstaff');
    await page.fill('#login-password', '123456');
    await page.click('#login-submit');
    await waitConn(page, 'live');
    const disabled = await adminCall(base, token, 'POST', `/admin/employee/status/0?id=${id}`);
    assert.equal(disabled.code, 1);
    // The socket closes with 4003 and the page shows the login without a reconnect round.
    await page.locator('#login-view').waitFor({ state: 'visible', timeout: 3000 });
    assert.equal(await page.locator('#app-view').isVisible(), false);
    await page.waitForTimeout(1000);
    assert.equal(sockets.length, 1, 'no reconnect with the ended session');
    await page.fill('#login-username', 'dashstaff');
    await page.fill('#login-password', '123456');
    await page.click('#login-submit');
    await page.locator('#login-error', { hasText: '账号被锁定' }).waitFor();
  } finally {
    await ctx.close();
  }
});

test('后台管理 links to the course\'s admin app; only an http(s) adminAppUrl is taken', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const hrefs = async (page) => page.locator('#back-office a[data-route]').evaluateAll((as) => as.map((a) => a.href));
    let page = await loginPage(ctx, fx.server.base);
    await page.locator('#back-office summary').click();
    await page.locator('#back-office a', { hasText: '员工管理' }).waitFor();
    assert.deepEqual(await hrefs(page), ['dish', 'setmeal', 'category', 'employee', 'statistics', 'dashboard'].map((r) => `http://localhost/#/${r}`));
    await page.close();

    page = await ctx.newPage();
    await page.goto(`${fx.server.base}/?adminAppUrl=${encodeURIComponent('javascript:alert(1)')}`);
    await page.locator('#app-view').waitFor({ state: 'visible' });
    assert.equal((await hrefs(page))[3], 'http://localhost/#/employee', 'a javascript: URL is ignored');
    await page.goto(`${fx.server.base}/?adminAppUrl=${encodeURIComponent('https://admin.example.com/sky/')}`);
    await page.locator('#app-view').waitFor({ state: 'visible' });
    assert.equal((await hrefs(page))[3], 'https://admin.example.com/sky/#/employee');
    await page.goto(`${fx.server.base}/`);
    await page.locator('#app-view').waitFor({ state: 'visible' });
    assert.equal((await hrefs(page))[3], 'https://admin.example.com/sky/#/employee', 'remembered');
  } finally {
    await ctx.close();
  }
});
