// Alerts on the dashboard: a paid order pops up a sticky 待接单 notice and is spoken; a
// reminder pops up 催单; a notice opens the order's details; accepting the order closes its
// notices (the server marks them handled); mute silences; without speechSynthesis a WebAudio
// chime rings instead. Also saves docs/screenshots/dashboard-alert.png.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Customer, acceptWaitingOrders, loginPage, newContext, screenshotPath, serverAndBrowser, waitConn } from './helpers.mjs';

const NEW_ORDER_SPEECH = '您有新的外卖订单，请及时接单';
const REMINDER_SPEECH = '顾客催单了，请尽快处理';

const fx = serverAndBrowser();

const notice = (page, number, type) =>
  page.locator(`#notices .notice.type-${type}[data-order-number="${number}"]`);

const spoken = (page) => page.evaluate(() => window.__spoken.slice());

/** Polls until `fn()` is truthy (speech is recorded right after the notice renders). */
async function until(fn, what, timeout = 5000) {
  const end = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('paid order → 待接单 notice + speech; reminder → 催单; details; accept closes them', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');

    // Sound is locked until the user clicks the control, as in a real browser.
    const enable = page.locator('#enable-sound');
    await enable.waitFor({ state: 'visible' });
    await enable.click();
    await enable.waitFor({ state: 'hidden' });
    assert.equal(await page.evaluate(() => window.skyDashboard.sound.ready), true, 'AudioContext running after the click');

    const customer = new Customer(fx.server.base);
    const order = await customer.paidOrder('少辣');

    const n1 = notice(page, order.number, 1);
    await n1.waitFor({ timeout: 10000 });
    assert.equal(await n1.locator('.notice-title-text').innerText(), '待接单');
    assert.equal(await n1.locator('.notice-text').innerText(),
      `您有1个订单待处理, 订单号：${order.number}, 请及时接单`);
    const said = await until(async () => (await spoken(page)).find((s) => s.text === NEW_ORDER_SPEECH), 'type-1 speech');
    assert.equal(said.lang, 'zh-CN');

    // The board shows it in 待接单, and the statistics count it.
    const card = page.locator(`#col-2 .card[data-number="${order.number}"]`);
    await card.waitFor();
    await page.locator('#stat-toBeConfirmed', { hasText: '1' }).waitFor();

    await customer.remind(order.id);
    const n2 = notice(page, order.number, 2);
    await n2.waitFor({ timeout: 10000 });
    assert.equal(await n2.locator('.notice-title-text').innerText(), '催单');
    assert.equal(await n2.locator('.notice-text').innerText(), `订单号：${order.number}`);
    const urged = await until(async () => (await spoken(page)).find((s) => s.text.startsWith(REMINDER_SPEECH)), 'type-2 speech');
    assert.equal(urged.lang, 'zh-CN');
    assert.ok(urged.text.endsWith(order.number.slice(-4)), 'reminder speech names the last 4 digits');
    assert.equal(await page.title(), `(2) 商家工作台 · 苍穹外卖`);

    // Clicking the notice opens the order's details (GET /admin/order/details/{id}).
    await n1.locator('.notice-text').click();
    const dialog = page.locator('#order-dialog');
    await dialog.waitFor({ state: 'visible' });
    await page.locator('#od-title', { hasText: order.number }).waitFor();
    assert.match(await page.locator('#od-body').innerText(), /宫保鸡丁/);
    assert.equal(await page.locator('#od-body .od-remark').innerText(), '少辣');

    // Accepting the order handles both of its alerts: the notices close, the card moves.
    await dialog.locator('.act-confirm').click();
    await n1.waitFor({ state: 'detached', timeout: 10000 });
    await n2.waitFor({ state: 'detached', timeout: 10000 });
    await page.locator(`#col-3 .card[data-number="${order.number}"]`).waitFor();
    await page.locator('#od-title .status-pill', { hasText: '已接单' }).waitFor();
    await page.click('#od-close');

    // Then deliver and complete it from the board.
    await page.locator(`#col-3 .card[data-number="${order.number}"] .act-deliver`).click();
    await page.locator(`#col-4 .card[data-number="${order.number}"]`).waitFor();
    await page.locator(`#col-4 .card[data-number="${order.number}"] .act-complete`).click();
    await page.locator(`.card[data-number="${order.number}"]`).waitFor({ state: 'detached' });
    assert.equal(await page.title(), '商家工作台 · 苍穹外卖');
  } finally {
    await ctx.close();
  }
});

test('screenshot: dashboard with a 待接单 notice and the board', async () => {
  const ctx = await newContext(fx.browser, { viewport: { width: 1366, height: 768 } });
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    await page.click('#enable-sound');
    // A lunch-rush board: orders in every column, two waiting (one urged), their notices open.
    const c = new Customer(fx.server.base);
    const delivering = await c.paidOrder('请放门口，谢谢');
    const accepted = await c.paidOrder('不要香菜');
    const accepted2 = await c.paidOrder('');
    for (const o of [delivering, accepted, accepted2]) {
      await ctx.request.put(`${fx.server.base}/admin/order/confirm`, { data: { id: o.id } });
    }
    await ctx.request.put(`${fx.server.base}/admin/order/delivery/${delivering.id}`);
    const urged = await c.paidOrder('');
    await c.remind(urged.id);
    const fresh = await c.paidOrder('少辣，多放葱');
    await notice(page, fresh.number, 1).waitFor({ timeout: 10000 });
    await notice(page, urged.number, 2).waitFor({ timeout: 10000 });
    await page.locator(`#col-4 .card[data-number="${delivering.number}"]`).waitFor();
    await page.locator(`#col-3 .card[data-number="${accepted2.number}"]`).waitFor();
    await page.locator(`#col-2 .card[data-number="${fresh.number}"]`).waitFor();
    // Let the pop-in animation finish so the picture is stable.
    await page.waitForTimeout(600);
    await page.screenshot({ path: screenshotPath('dashboard-alert.png') });

    // Leave the shop clean for the next tests: accept both waiting orders.
    for (const o of [urged, fresh]) {
      await ctx.request.put(`${fx.server.base}/admin/order/confirm`, { data: { id: o.id } });
    }
    await notice(page, fresh.number, 1).waitFor({ state: 'detached', timeout: 10000 });
  } finally {
    await ctx.close();
  }
});

test('a business error (code 0) shows the server msg; reject asks for a reason', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    const order = await new Customer(fx.server.base).paidOrder('');
    const card = page.locator(`#col-2 .card[data-number="${order.number}"]`);
    await card.waitFor({ timeout: 10000 });

    // A stale screen: its board cannot refresh (list requests fail) while another screen
    // accepts the order. Clicking 接单 on the stale card gets the server's business error
    // (HTTP 200, code 0, 订单状态错误), which must be shown as is.
    await page.route('**/admin/order/conditionSearch*', (route) => route.abort());
    const r = await ctx.request.put(`${fx.server.base}/admin/order/confirm`, { data: { id: order.id } });
    assert.equal((await r.json()).code, 1);
    await card.locator('.act-confirm').click();
    await page.locator('.toast.error', { hasText: '订单状态错误' }).waitFor();
    await page.unroute('**/admin/order/conditionSearch*');

    // Reject another order with a preset reason through the reason dialog.
    const other = await new Customer(fx.server.base).paidOrder('');
    const otherCard = page.locator(`#col-2 .card[data-number="${other.number}"]`);
    await otherCard.waitFor({ timeout: 10000 });
    // The alert refreshed the board again: the accepted order has moved on.
    await page.locator(`#col-3 .card[data-number="${order.number}"]`).waitFor();
    await otherCard.locator('.act-reject').click();
    await page.locator('#reason-dialog').waitFor({ state: 'visible' });
    await page.locator('#reason-presets .btn', { hasText: '菜品已售完' }).click();
    await page.click('#reason-ok');
    await otherCard.waitFor({ state: 'detached' });
    const d = await (await ctx.request.get(`${fx.server.base}/admin/order/details/${other.id}`)).json();
    assert.equal(d.data.status, 6);
    assert.equal(d.data.rejectionReason, '菜品已售完');
  } finally {
    await ctx.close();
  }
});

test('open notices survive a reload (restored silently, still sticky)', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await acceptWaitingOrders(ctx.request, fx.server.base);
    await waitConn(page, 'live');
    const order = await new Customer(fx.server.base).paidOrder('');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });

    await page.reload();
    await waitConn(page, 'live');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });
    await page.waitForTimeout(300);
    // Not new: no second ring, no "while offline" summary.
    assert.deepEqual(await spoken(page), []);
    assert.equal(await page.locator('#notices .notice.summary').count(), 0);
    await acceptWaitingOrders(ctx.request, fx.server.base);
    await notice(page, order.number, 1).waitFor({ state: 'detached', timeout: 10000 });
  } finally {
    await ctx.close();
  }
});

test('mute silences speech and is remembered', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    await page.click('#enable-sound');
    await page.check('#mute');
    await page.reload();
    await waitConn(page, 'live');
    assert.equal(await page.isChecked('#mute'), true, 'mute persisted');
    const order = await new Customer(fx.server.base).paidOrder('');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });
    await page.waitForTimeout(300);
    assert.deepEqual((await spoken(page)).filter((s) => s.text === NEW_ORDER_SPEECH), []);
    await page.uncheck('#mute');
  } finally {
    await ctx.close();
  }
});

test('without speechSynthesis a WebAudio chime rings', async () => {
  const ctx = await fx.browser.newContext({ viewport: { width: 1280, height: 800 } });
  // No speech at all, and count oscillators started.
  await ctx.addInitScript(() => {
    Object.defineProperty(window, 'speechSynthesis', { value: undefined, configurable: true });
    window.__oscillators = 0;
    const create = AudioContext.prototype.createOscillator;
    AudioContext.prototype.createOscillator = function () { window.__oscillators++; return create.call(this); };
  });
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    await page.click('#enable-sound');
    await page.locator('#enable-sound').waitFor({ state: 'hidden' });
    const before = await page.evaluate(() => window.__oscillators);
    const order = await new Customer(fx.server.base).paidOrder('');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });
    await until(async () => (await page.evaluate(() => window.__oscillators)) > before, 'a chime');
  } finally {
    await ctx.close();
  }
});

test('hidden tab: desktop notification (permission asked by the enable-sound click) and a flashing title', async () => {
  const ctx = await newContext(fx.browser);
  // A hideable document and a recording Notification (permission "default" until asked).
  await ctx.addInitScript(() => {
    window.__hidden = false;
    Object.defineProperty(Document.prototype, 'hidden', { configurable: true, get: () => window.__hidden });
    Object.defineProperty(Document.prototype, 'visibilityState', { configurable: true, get: () => (window.__hidden ? 'hidden' : 'visible') });
    window.__notifications = [];
    window.__permissionAsked = 0;
    class FakeNotification {
      constructor(title, opts) { this.title = title; this.body = opts && opts.body; this.closed = false; window.__notifications.push(this); }
      close() { this.closed = true; }
      static requestPermission() { window.__permissionAsked++; FakeNotification.permission = 'granted'; return Promise.resolve('granted'); }
    }
    FakeNotification.permission = 'default';
    window.Notification = FakeNotification;
  });
  try {
    const page = await loginPage(ctx, fx.server.base);
    await acceptWaitingOrders(ctx.request, fx.server.base);   // no notices left by earlier tests
    await waitConn(page, 'live');
    await page.locator('#notices .notice').first().waitFor({ state: 'detached' });
    await page.click('#enable-sound');
    assert.equal(await page.evaluate(() => window.__permissionAsked), 1);

    await page.evaluate(() => { window.__hidden = true; document.dispatchEvent(new Event('visibilitychange')); });
    const order = await new Customer(fx.server.base).paidOrder('');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });
    const shown = await until(() => page.evaluate(() => window.__notifications.map((n) => ({ title: n.title, body: n.body }))[0]), 'a desktop notification');
    assert.deepEqual(shown, { title: '待接单', body: `您有1个订单待处理, 订单号：${order.number}, 请及时接单` });

    // The title alternates while hidden, always with the count.
    const titles = new Set();
    for (let i = 0; i < 12; i++) { titles.add(await page.title()); await page.waitForTimeout(250); }
    assert.ok(titles.has('(1) 新订单…'), `flashing titles: ${[...titles].join(' | ')}`);
    assert.ok(titles.size >= 2, 'the title flashes');

    // Handled elsewhere → the desktop notification closes too.
    await ctx.request.put(`${fx.server.base}/admin/order/confirm`, { data: { id: order.id } });
    await notice(page, order.number, 1).waitFor({ state: 'detached', timeout: 10000 });
    await until(() => page.evaluate(() => window.__notifications[0].closed), 'the desktop notification to close');
    await page.evaluate(() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); });
    assert.equal(await page.title(), '商家工作台 · 苍穹外卖');
  } finally {
    await ctx.close();
  }
});
