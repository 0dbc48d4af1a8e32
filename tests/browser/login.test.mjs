// Login through the form, the session surviving a reload (HttpOnly cookie + GET
// /admin/employee/me), a wrong password's message, and logout.

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
