// Re-alerts: a paid order nobody accepts is alerted again (realert = 1, 2, …). The dashboard
// bumps the existing notice of that order (no duplicate notice) and rings again; accepting
// the order handles all of them.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Customer, loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

// A fast re-alert schedule: 2 s after the first alert, then every 2 s, at most 2 times.
const fx = serverAndBrowser({ SKY_REALERT_DELAY_SECS: '2', SKY_REALERT_INTERVAL_SECS: '2', SKY_REALERT_MAX: '2' });

test('a re-alert bumps the same notice and rings again', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    await page.click('#enable-sound');
    const order = await new Customer(fx.server.base).paidOrder('');
    const sel = `#notices .notice.type-1[data-order-number="${order.number}"]`;
    await page.locator(sel).waitFor({ timeout: 10000 });

    // Two re-alerts later: still ONE notice, holding three alert ids, marked as the 3rd alert.
    await page.locator(`${sel} .badge`, { hasText: '第3次提醒' }).waitFor({ timeout: 15000 });
    assert.equal(await page.locator(sel).count(), 1);
    const ids = (await page.locator(sel).getAttribute('data-alert-ids')).split(',');
    assert.equal(ids.length, 3);
    const rings = await page.evaluate(() => window.__spoken.filter((s) => s.text === '您有新的外卖订单，请及时接单').length);
    assert.equal(rings, 3, 'the first alert and each re-alert are spoken');

    await page.locator(`#col-2 .card[data-number="${order.number}"] .act-confirm`).click();
    await page.locator(sel).waitFor({ state: 'detached', timeout: 10000 });
  } finally {
    await ctx.close();
  }
});
