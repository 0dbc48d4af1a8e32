// The alert flow of the stock app, the heart of the project: a customer pays (over the API,
// as the mini-program does) → the stock page's 待接单 notification with its voice clip; a
// reminder → 催单 and the other clip; clicking a notification reloads /order?orderId=N with
// the details dialog, whose 接 单 / 拒 单 must work (today they send {"id":"N"} as a string and
// get 400: issue 11). Accepting, delivering and completing from the table rows and from the
// dashboard's order list. Screenshots: stock-alert.png, stock-order-details.png.

import assert from 'node:assert/strict';
import { Customer, screenshotPath } from '../helpers.mjs';
import { record } from './audit.mjs';
import { STOCK_BASE, TIMEOUT, adminSession, stockFixture, stockTest } from './fixture.mjs';
import { plays, settled } from './probe.mjs';
import { button, choose, dialog, formItem, openRoute, rows, toastOf } from './ui.mjs';

const fx = stockFixture();

/** The notification titled `title` (待接单 / 催单) that names order `number`. */
const notice = (page, title, number) => page.locator('.el-notification')
  .filter({ has: page.locator('.el-notification__title', { hasText: title }) })
  .filter({ hasText: number });

/** Resolves the play() call whose clip matches `re`, once it is playing. */
async function clipPlayed(page, re) {
  await page.waitForFunction((src) => window.__stock.plays.some((p) => new RegExp(src).test(p.src) && p.result === 'playing'), re.source, { timeout: TIMEOUT })
    .catch(async () => assert.fail(`no ${re} clip playing; play() calls: ${JSON.stringify(await plays(page))}`));
}

/**
 * A merchant session on 订单管理 (not the landing page: the alerts must not depend on the
 * workspace of issue 12). Resolves {ctx, page}.
 */
async function onOrderPage() {
  const { ctx, page: landing } = await adminSession(fx.browser);
  const page = await openRoute(ctx, 'order', ['order/conditionSearch', 'order/statistics']);
  await landing.close();
  return { ctx, page };
}

/** A paid order waiting for acceptance: {id, number}. */
async function waitingOrder(remark = '') {
  return new Customer(fx.server.base).paidOrder(remark);
}

/**
 * Clicks the order's 待接单 notification: the app pushes /order?orderId=N and reloads; the
 * reloaded page opens the details dialog. Resolves the dialog once the details are shown.
 */
async function openFromNotice(page, order) {
  const navigated = [];
  page.on('framenavigated', (f) => { if (f === page.mainFrame()) navigated.push(f.url()); });
  const details = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/order/details/${order.id}`);
  await notice(page, '待接单', order.number).locator('.el-notification__content').click();
  await details;
  await settled(page);
  assert.ok(navigated.includes(`${STOCK_BASE}/#/order?orderId=${order.id}`), `opened /order?orderId=${order.id} (navigations: ${navigated.join(', ')})`);
  const dlg = dialog(page, '订单信息');
  await dlg.locator('.order-num', { hasText: order.number }).waitFor();
  return dlg;
}

stockTest('a paid order → 待接单 notification naming it, and the new-order voice clip plays', async () => {
  const { ctx, page } = await onOrderPage();
  try {
    const rec = record(page);
    const order = await waitingOrder();
    const n = notice(page, '待接单', order.number);
    await n.waitFor();
    assert.equal((await n.locator('.el-notification__content').innerText()).replace(/\s+/g, ''),
      `您有1个订单待处理,订单号：${order.number},请及时接单`);
    await clipPlayed(page, /\/media\/preview\.[0-9a-f]+\.mp3$/);
    await page.screenshot({ path: screenshotPath('stock-alert.png'), animations: 'disabled' });

    const customer = new Customer(fx.server.base);
    const second = await customer.paidOrder();
    await customer.remind(second.id);
    const r = notice(page, '催单', second.number);
    await r.waitFor();
    assert.equal((await r.locator('.el-notification__content').innerText()).replace(/\s+/g, ''), `订单号：${second.number}去处理`);
    await clipPlayed(page, /\/media\/reminder\.[0-9a-f]+\.mp3$/);
    const { errorNotices, pageErrors } = await rec.report();
    assert.deepEqual({ errorNotices, pageErrors }, { errorNotices: [], pageErrors: [] });
  } finally {
    await ctx.close();
  }
});

stockTest('clicking the notification opens /order?orderId=N with the order\'s details and 接 单 / 拒 单', async () => {
  const { ctx, page } = await onOrderPage();
  try {
    const order = await waitingOrder('不要香菜');
    await notice(page, '待接单', order.number).waitFor();
    const dlg = await openFromNotice(page, order);
    await dlg.locator('.dish-name', { hasText: '宫保鸡丁' }).waitFor();
    assert.equal(await dlg.locator('.user-remark span').innerText(), '不要香菜');
    assert.equal(await dlg.locator('.order-status').innerText(), '待接单');
    await button(dlg, '接 单').waitFor();
    await button(dlg, '拒 单').waitFor();
    await page.screenshot({ path: screenshotPath('stock-order-details.png'), animations: 'disabled' });
  } finally {
    await ctx.close();
  }
});

stockTest('接 单 in the dialog opened from the notification accepts the order', async () => {
  const { ctx, page } = await onOrderPage();
  try {
    const rec = record(page);
    const order = await waitingOrder();
    await notice(page, '待接单', order.number).waitFor();
    const dlg = await openFromNotice(page, order);
    const toast = await toastOf(page, () => button(dlg, '接 单').click());
    assert.deepEqual(toast, { type: 'success', text: '操作成功' });
    await dlg.waitFor({ state: 'hidden' });
    assert.equal(await fx.api.orderStatus(order.id), 3, 'accepted (已接单)');
    assert.deepEqual((await rec.report()).httpErrors, []);
  } finally {
    await ctx.close();
  }
});

stockTest('拒 单 in the dialog opened from the notification rejects the order with the chosen reason', async () => {
  const { ctx, page } = await onOrderPage();
  try {
    const order = await waitingOrder();
    await notice(page, '待接单', order.number).waitFor();
    const dlg = await openFromNotice(page, order);
    await button(dlg, '拒 单').click();
    const reasons = dialog(page, '拒绝原因');
    await reasons.waitFor();
    await choose(page, formItem(page, '拒绝原因：'), '菜品已销售完，暂时无法接单');
    const toast = await toastOf(page, () => button(reasons, '确 定').click());
    assert.deepEqual(toast, { type: 'success', text: '操作成功' });
    const details = await fx.api.ok('GET', `/admin/order/details/${order.id}`);
    assert.deepEqual({ status: details.status, reason: details.rejectionReason }, { status: 6, reason: '菜品已销售完，暂时无法接单' });
  } finally {
    await ctx.close();
  }
});

stockTest('订单管理: 接单, 派送, 完成 from the table rows', async () => {
  const { ctx } = await adminSession(fx.browser);
  try {
    const order = await waitingOrder();
    // Each step: the row's button, the success toast, the server's status, the next tab.
    const steps = [[2, '接单', 3], [3, '派送', 4], [4, '完成', 5]];
    for (const [tab, action, after] of steps) {
      const page = await openRoute(ctx, `order?status=${tab}`, ['order/conditionSearch', 'order/statistics']);
      const row = rows(page, order.number);
      await row.waitFor();
      const toast = await toastOf(page, () => button(row, action).click());
      assert.deepEqual(toast, { type: 'success', text: '操作成功' }, action);
      assert.equal(await fx.api.orderStatus(order.id), after, `${action} → status ${after}`);
      await page.close();
    }
  } finally {
    await ctx.close();
  }
});

stockTest('订单管理: 拒单 from a table row with a custom reason', async () => {
  const { ctx } = await adminSession(fx.browser);
  try {
    const order = await waitingOrder();
    const page = await openRoute(ctx, 'order?status=2', ['order/conditionSearch', 'order/statistics']);
    await button(rows(page, order.number), '拒单').click();
    const reasons = dialog(page, '拒绝原因');
    await reasons.waitFor();
    await choose(page, formItem(page, '拒绝原因：'), '自定义原因');
    await formItem(page, '原因：').locator('textarea').fill('今天食材不够');
    const toast = await toastOf(page, () => button(reasons, '确 定').click());
    assert.deepEqual(toast, { type: 'success', text: '操作成功' });
    const details = await fx.api.ok('GET', `/admin/order/details/${order.id}`);
    assert.deepEqual({ status: details.status, reason: details.rejectionReason }, { status: 6, reason: '今天食材不够' });
  } finally {
    await ctx.close();
  }
});

stockTest('工作台 订单信息: a waiting order is listed and 接单 from its row accepts it', async () => {
  const { ctx } = await adminSession(fx.browser);
  try {
    const order = await waitingOrder();
    const page = await openRoute(ctx, 'dashboard', ['order/conditionSearch', 'order/statistics']);
    const row = page.locator('.homecon .el-table__body-wrapper tr.el-table__row').filter({ hasText: order.number });
    await row.waitFor();
    const toast = await toastOf(page, () => button(row, '接单').click());
    assert.deepEqual(toast, { type: 'success', text: '操作成功' });
    assert.equal(await fx.api.orderStatus(order.id), 3);
  } finally {
    await ctx.close();
  }
});
