// Safe rendering: an order remark that is HTML shows as text on the board and in the
// details; no element is created from it and its handler never runs.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Customer, loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

const PAYLOAD = '<img src=x onerror="window.__xss=1">';

const fx = serverAndBrowser();

test('an HTML remark is shown as text, never as markup', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    const order = await new Customer(fx.server.base).paidOrder(PAYLOAD);

    const card = page.locator(`#col-2 .card[data-number="${order.number}"]`);
    await card.waitFor({ timeout: 10000 });
    assert.equal(await card.locator('.card-remark').innerText(), PAYLOAD);

    await card.locator('.card-dishes').click();     // opens the details dialog
    const remark = page.locator('#od-body .od-remark');
    await remark.waitFor();
    assert.equal(await remark.innerText(), PAYLOAD);

    // Give a would-be onerror time to fire, then check nothing ran and no <img> exists.
    await page.waitForTimeout(500);
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('img').count(), 0);
    assert.equal(await page.evaluate(() => document.querySelectorAll('[onerror]').length), 0);

    // The server's CSP would block inline handlers anyway; check it is there.
    const res = await ctx.request.get(`${fx.server.base}/`);
    assert.match(res.headers()['content-security-policy'] || '', /default-src 'self'/);
  } finally {
    await ctx.close();
  }
});
