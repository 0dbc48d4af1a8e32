// The stock login page and the Navbar on every page: log in through the stock form (its
// socket opens through nginx), a wrong password's toast, 营业状态设置, 修改密码, 退出登录.
// Screenshots: stock-login.png, stock-shop-status.png, stock-password.png.

import assert from 'node:assert/strict';
import { screenshotPath } from '../helpers.mjs';
import { record } from './audit.mjs';
import { AdminApi, STOCK_ADMIN, STOCK_BASE, adminSession, stockContext, stockFixture, stockTest } from './fixture.mjs';
import { button, dialog, fill, toastOf } from './ui.mjs';

const fx = stockFixture();

/** Opens the Navbar's user menu (it shows on mouseenter) and clicks `item`. */
async function userMenu(page, item) {
  await page.locator('.avatar-wrapper .el-button').hover();
  await page.locator('.userList p').filter({ hasText: item }).click();
}

stockTest('login page: the stock form logs admin in; the socket opens through nginx', async () => {
  const ctx = await stockContext(fx.browser);
  try {
    const page = await ctx.newPage();
    const rec = record(page);
    const sockets = [];
    page.on('websocket', (ws) => sockets.push(ws));
    await page.goto(`${STOCK_BASE}/`);
    await page.waitForURL(/#\/login/);
    await page.locator('.login-btn').waitFor();
    await page.screenshot({ path: screenshotPath('stock-login.png'), animations: 'disabled' });

    await page.getByPlaceholder('账号').fill(STOCK_ADMIN.username);
    await page.getByPlaceholder('密码').fill(STOCK_ADMIN.password);
    const opened = page.waitForEvent('websocket');
    await page.locator('.login-btn').click();
    await page.waitForURL(/#\/dashboard/);
    const ws = await opened;
    assert.match(ws.url(), /^ws:\/\/localhost\/ws\/[0-9a-z]+$/);
    // The Navbar greets the merchant by name and shows the shop's status.
    await page.locator('.avatar-wrapper .el-button', { hasText: '管理员' }).waitFor();
    await page.locator('.businessBtn', { hasText: '营业中' }).waitFor();
    const cookies = Object.fromEntries((await ctx.cookies(STOCK_BASE)).map((c) => [c.name, c]));
    assert.ok(cookies.token?.value, 'the app keeps its token in the `token` cookie');
    assert.ok(cookies.sky_session?.httpOnly, 'the server\'s HttpOnly session cookie reaches the socket');
    const report = await rec.report();
    assert.deepEqual(report.errorNotices, [], 'no 服务器错误 notification: the socket was accepted');
    assert.equal(ws.isClosed(), false, 'socket still open');
  } finally {
    await ctx.close();
  }
});

stockTest('login page: a wrong password shows the server\'s message and stays on the form', async () => {
  const ctx = await stockContext(fx.browser);
  try {
    const page = await ctx.newPage();
    await page.goto(`${STOCK_BASE}/`);
    await page.waitForURL(/#\/login/);
    await page.getByPlaceholder('密码').fill('wrong-password');
    const toast = await toastOf(page, () => page.locator('.login-btn').click());
    assert.deepEqual(toast, { type: 'error', text: '账号或密码错误' });
    assert.match(page.url(), /#\/login/);
  } finally {
    await ctx.close();
  }
});

stockTest('Navbar 营业状态设置: 打烊中 then 营业中, seen by the customer side', async () => {
  const { ctx, page } = await adminSession(fx.browser);
  try {
    const setTo = async (label, expected) => {
      await page.locator('.operatingState').click();
      const dlg = dialog(page, '营业状态设置');
      await dlg.waitFor();
      await dlg.locator('.el-radio').filter({ hasText: new RegExp('^\\s*' + label) }).click();
      if (label === '打烊中') await page.screenshot({ path: screenshotPath('stock-shop-status.png'), animations: 'disabled' });
      const saved = page.waitForResponse((r) => r.request().method() === 'PUT' && /\/api\/shop\/\d$/.test(r.url()));
      await button(dlg, '确 定').click();
      await saved;
      await dlg.waitFor({ state: 'hidden' });
      await page.locator('.businessBtn', { hasText: label }).waitFor();
      const status = await (await fetch(`${fx.server.base}/user/shop/status`)).json();
      assert.equal(status.data, expected, `/user/shop/status after ${label}`);
    };
    await setTo('打烊中', 0);
    await setTo('营业中', 1);
  } finally {
    await ctx.close();
  }
});

stockTest('Navbar 修改密码: a wrong old password is refused; the new one works; the other sessions end, this one goes on', async () => {
  const { ctx, page } = await adminSession(fx.browser);
  const elsewhere = await AdminApi.login(fx.server.base);
  const changeTo = async (oldPassword, newPassword, shot) => {
    await userMenu(page, '修改密码');
    const dlg = dialog(page, '修改密码');
    await dlg.waitFor();
    await fill(page, '原始密码：', oldPassword);
    await fill(page, '新密码：', newPassword);
    await fill(page, '确认密码：', newPassword);
    if (shot) await page.screenshot({ path: screenshotPath('stock-password.png'), animations: 'disabled' });
    return toastOf(page, () => button(dlg, '保 存').click());
  };
  try {
    assert.deepEqual(await changeTo('000000', 'newpass88', true), { type: 'error', text: '密码错误' });
    assert.deepEqual(await changeTo(STOCK_ADMIN.password, 'newpass88'), { type: 'success', text: '密码修改成功' });
    assert.equal((await elsewhere.call('GET', '/admin/order/statistics')).status, 401, 'the other session ended');
    // This page's session goes on: the dialog stayed, and the change back below is made from it.
    await AdminApi.login(fx.server.base, { username: STOCK_ADMIN.username, password: 'newpass88' });
    await assert.rejects(AdminApi.login(fx.server.base), /账号或密码错误|密码错误/, 'the old password no longer logs in');
    assert.deepEqual(await changeTo('newpass88', STOCK_ADMIN.password), { type: 'success', text: '密码修改成功' });
    await AdminApi.login(fx.server.base);
  } finally {
    await ctx.close();
  }
});

stockTest('Navbar 退出登录: back to the login form; the app forgets its token', async () => {
  const { ctx, page } = await adminSession(fx.browser);
  try {
    const out = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/employee/logout');
    await userMenu(page, '退出登录');
    await out;
    await page.waitForURL(/#\/login/);
    assert.equal((await ctx.cookies(STOCK_BASE)).some((c) => c.name === 'token'), false, 'token cookie removed');
    // A protected route now sends the merchant back to the form.
    await page.goto(`${STOCK_BASE}/#/order`);
    await page.waitForURL(/#\/login/);
  } finally {
    await ctx.close();
  }
});
