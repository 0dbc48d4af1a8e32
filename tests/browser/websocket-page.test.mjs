// /websocket.html (the seed's test page): connects to /ws/{random id} with the session
// cookie and shows the raw frame of a payment, exactly the stock page's
// {"type":1,"orderId":…,"content":"订单号：…"}. Saves docs/screenshots/websocket-test-page.png.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ADMIN, Customer, newContext, screenshotPath, serverAndBrowser } from './helpers.mjs';

const fx = serverAndBrowser();

test('/websocket.html shows the raw frame of a payment', async () => {
  const ctx = await newContext(fx.browser, { viewport: { width: 1100, height: 640 } });
  try {
    // Log in through the API with the context's cookie jar: the socket handshake needs the cookie.
    const login = await ctx.request.post(`${fx.server.base}/admin/employee/login`, { data: ADMIN });
    assert.equal((await login.json()).code, 1);

    const page = await ctx.newPage();
    await page.goto(`${fx.server.base}/websocket.html`);
    await page.click('#connect');
    await page.locator('#state[data-state="open"]').waitFor();

    const customer = new Customer(fx.server.base);
    const order = await customer.paidOrder('');
    const frameLine = page.locator('#log .in').first();
    await frameLine.waitFor({ timeout: 10000 });
    const raw = (await frameLine.innerText()).split('⇐ ')[1];
    assert.deepEqual(JSON.parse(raw), { type: 1, orderId: order.id, content: `订单号：${order.number}` });

    await customer.remind(order.id);
    await page.locator('#log .in').nth(1).waitFor({ timeout: 10000 });
    const raw2 = (await page.locator('#log .in').nth(1).innerText()).split('⇐ ')[1];
    assert.deepEqual(JSON.parse(raw2), { type: 2, orderId: order.id, content: `订单号：${order.number}` });

    // Sending text works (the server ignores it on this protocol) and the socket stays open.
    await page.fill('#text', 'hello');
    await page.click('#send');
    await page.locator('#log .out', { hasText: 'hello' }).waitFor();
    await page.screenshot({ path: screenshotPath('websocket-test-page.png') });

    await page.click('#close');
    // The server answers the close handshake, so the browser reports a clean 1000.
    await page.locator('#log .sys', { hasText: 'closed 1000' }).waitFor();
    assert.equal(await page.locator('#state').innerText(), '未连接');
  } finally {
    await ctx.close();
  }
});

test('without a session the handshake is refused (shown as a close)', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await ctx.newPage();
    await page.goto(`${fx.server.base}/websocket.html`);
    await page.click('#connect');
    await page.locator('#log .sys', { hasText: 'closed 1006' }).waitFor({ timeout: 10000 });
    assert.equal(await page.locator('#state').getAttribute('data-state'), 'closed');
  } finally {
    await ctx.close();
  }
});
