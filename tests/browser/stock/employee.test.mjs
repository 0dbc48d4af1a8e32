// 员工管理 through the stock app (issue 11): add an employee (default password 123456), a
// duplicate account refused, edit, the admin row locked, disable: the employee's open page
// loses its socket at once and is sent to login on its next step, and its login is refused
// with 账号被锁定; enable again. Screenshot: stock-employee-form.png.

import assert from 'node:assert/strict';
import { screenshotPath } from '../helpers.mjs';
import { adminSession, stockBefore, stockContext, stockFixture, stockLogin, stockTest } from './fixture.mjs';
import { settled } from './probe.mjs';
import { button, confirmBox, fill, formItem, openRoute, responseTo, rows, search, toastOf } from './ui.mjs';

const fx = stockFixture();
const E = { username: 'zhangsan01', name: '张三', phone: '13812345678', idNumber: '110101199003071234' };
const S = { ctx: null };

/** The employee page filtered to `name`. */
async function employeeList(name = E.name) {
  const page = await openRoute(S.ctx, 'employee', ['employee/page']);
  await search(page, '请输入员工姓名', name, 'employee/page');
  return page;
}

/** Fills the 添加员工 form and clicks 保存; resolves the toast. */
async function submitEmployee(page, e) {
  await fill(page, '账号:', e.username);
  await fill(page, '员工姓名:', e.name);
  await fill(page, '手机号:', e.phone);
  await formItem(page, '性别:').locator('.el-radio').filter({ hasText: '女' }).click();
  await fill(page, '身份证号:', e.idNumber);
  return toastOf(page, () => button(page.locator('.subBox'), '保存').click());
}

/** The stored employee with this account, from GET /admin/employee/page. */
async function storedEmployee(username = E.username) {
  const page = await fx.api.ok('GET', '/admin/employee/page', { query: { page: 1, pageSize: 50 } });
  return page.records.find((r) => r.username === username);
}

/** Clicks the row's 启用/禁用 and confirms; resolves the toast. */
async function toggle(page, row, action) {
  return toastOf(page, async () => {
    await button(row, action).click();
    await confirmBox(page, '确认调整该账号的状态?');
  });
}

stockBefore(fx, async () => {
  S.ctx = (await adminSession(fx.browser)).ctx;
});

stockTest('添加员工: the new employee is listed 启用; no password or hash in the replies; a duplicate account is refused', async () => {
  const list = await openRoute(S.ctx, 'employee', ['employee/page']);
  await button(list.locator('.tableBar'), '+ 添加员工').click();
  await list.locator('.addBrand-container').waitFor();
  await fill(list, '账号:', E.username);
  await list.screenshot({ path: screenshotPath('stock-employee-form.png'), animations: 'disabled' });
  const listed = responseTo(list, 'employee/page');
  assert.deepEqual(await submitEmployee(list, E), { type: 'success', text: '员工添加成功！' });
  await listed;
  await search(list, '请输入员工姓名', E.name, 'employee/page');
  assert.match((await rows(list, E.username).innerText()).replace(/\s+/g, ' '), new RegExp(`${E.name} ${E.username} ${E.phone} 启用`));

  const rec = await storedEmployee();
  const one = await fx.api.ok('GET', `/admin/employee/${rec.id}`);
  assert.deepEqual({ sex: one.sex, idNumber: one.idNumber, status: one.status }, { sex: '0', idNumber: E.idNumber, status: 1 });
  for (const r of [rec, one]) {
    assert.ok(!('password' in r) || r.password === '****', `no password in ${JSON.stringify(r)}`);
    assert.doesNotMatch(JSON.stringify(r), /\$argon2|[0-9a-f]{32}/, 'no hash in the reply');
  }

  const again = await openRoute(S.ctx, 'employee/add', []);
  await again.locator('.addBrand-container').waitFor();
  assert.deepEqual(await submitEmployee(again, { ...E, name: '张三二' }), { type: 'error', text: `'${E.username}'已存在` });
  await list.close();
  await again.close();
});

stockTest('员工管理: 修改 changes the phone; the admin row cannot be edited or disabled', async () => {
  const page = await employeeList();
  const loaded = responseTo(page, `employee/${(await storedEmployee()).id}`);
  await button(rows(page, E.username), '修改').click();
  await loaded;
  await settled(page);
  assert.equal(await formItem(page, '账号:').locator('input').inputValue(), E.username);
  assert.equal(await formItem(page, '性别:').locator('.el-radio.is-checked').innerText(), '女');
  await fill(page, '手机号:', '13900001111');
  const listed = responseTo(page, 'employee/page');
  assert.deepEqual(await toastOf(page, () => button(page.locator('.subBox'), '保存').click()), { type: 'success', text: '员工信息修改成功！' });
  await listed;
  assert.equal((await storedEmployee()).phone, '13900001111');

  await search(page, '请输入员工姓名', '管理员', 'employee/page');
  const admin = rows(page, 'admin');
  for (const b of ['修改', '禁用']) assert.equal(await button(admin, b).isDisabled(), true, `admin's ${b} is disabled`);
  await page.close();
});

stockTest('禁用: the employee\'s open page loses its socket, is sent to login, and its login says 账号被锁定', async () => {
  // The employee, logged in with the default password, has the order page open.
  const staff = await stockContext(fx.browser);
  try {
    const { page: theirs } = await stockLogin(staff, { username: E.username, password: '123456' });
    // A reload gives a socket this test watches from its start; the app logs its onopen.
    const socket = theirs.waitForEvent('websocket');
    const opened = theirs.waitForEvent('console', (m) => m.text() === '浏览器WebSocket已打开');
    await theirs.reload();
    const ws = await socket;
    await opened;

    const page = await employeeList();
    const row = rows(page, E.username);
    const closed = ws.waitForEvent('close');
    closed.catch(() => {});
    assert.deepEqual(await toggle(page, row, '禁用'), { type: 'success', text: '账号状态更改成功！' });
    await row.locator('.tableColumn-status', { hasText: '禁用' }).waitFor();
    await closed; // at once, not at the token's expiry

    // Their next step (the 订单管理 menu) is refused with 401 and the app shows the login form.
    await theirs.locator('.el-menu-item').filter({ hasText: '订单管理' }).click();
    await theirs.waitForURL(/#\/login/);
    const relogin = await stockContext(fx.browser);
    const { page: form, reply } = await stockLogin(relogin, { username: E.username, password: '123456', expectDashboard: false });
    assert.deepEqual({ code: reply.code, msg: reply.msg }, { code: 0, msg: '账号被锁定' });
    await form.locator('.el-message--error', { hasText: '账号被锁定' }).waitFor();
    assert.match(form.url(), /#\/login/);
    await relogin.close();

    assert.deepEqual(await toggle(page, row, '启用'), { type: 'success', text: '账号状态更改成功！' });
    await row.locator('.tableColumn-status', { hasText: '启用' }).waitFor();
    const back = await stockContext(fx.browser);
    await stockLogin(back, { username: E.username, password: '123456' });
    await back.close();
    await page.close();
  } finally {
    await staff.close();
  }
});
