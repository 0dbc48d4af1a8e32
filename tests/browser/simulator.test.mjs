// The customer simulator page raises real alerts: "下单并支付" pops a 待接单 notice on the
// dashboard, "催单" a 催单 notice, and "每 N 秒自动下单" keeps ordering until stopped.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

const fx = serverAndBrowser();

test('simulator orders, reminds and auto-orders; the dashboard rings', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const dash = await loginPage(ctx, fx.server.base);
    await waitConn(dash, 'live');
    // The dashboard links to the simulator.
    assert.equal(await dash.locator('#app-view a[href="/static/simulator.html"]').isVisible(), true);

    const sim = await ctx.newPage();
    sim.on('pageerror', (e) => console.error('[simulator pageerror]', e.message));
    await sim.goto(`${fx.server.base}/static/simulator.html`);
    await sim.fill('#remark', '模拟：多放辣');
    await sim.click('#order-once');
    await sim.locator('#order-count', { hasText: '1' }).waitFor({ timeout: 10000 });
    const number = (await sim.locator('#last-order').innerText()).split(' ')[0];
    await dash.locator(`#notices .notice.type-1[data-order-number="${number}"]`).waitFor({ timeout: 10000 });
    await dash.locator(`#col-2 .card[data-number="${number}"] .card-remark`, { hasText: '模拟：多放辣' }).waitFor();

    await sim.click('#remind');
    await dash.locator(`#notices .notice.type-2[data-order-number="${number}"]`).waitFor({ timeout: 10000 });
    // A second reminder within 60 s is refused by the server; the simulator shows its msg.
    await sim.click('#remind');
    await sim.locator('#sim-log .err', { hasText: '催单' }).waitFor();

    // Auto mode at one order per second: at least two more, then it stops.
    await sim.fill('#every', '1');
    await sim.click('#auto-start');
    await sim.locator('#order-count', { hasText: '3' }).waitFor({ timeout: 15000 });
    await sim.click('#auto-stop');
    const stoppedAt = Number(await sim.locator('#order-count').innerText());
    await sim.waitForTimeout(2500);
    const later = Number(await sim.locator('#order-count').innerText());
    assert.ok(later <= stoppedAt + 1, `auto order stopped (${stoppedAt} → ${later})`);
    await dash.locator('#notices .notice.type-1').nth(2).waitFor({ timeout: 10000 });
  } finally {
    await ctx.close();
  }
});
