// The dashboard's own figures (issue 12): today's strip (the workspace's businessData), the
// seven-day turnover chart drawn by the page (SVG bars), and the export button downloading
// 运营数据统计报表.xlsx. The browser runs in the server's default zone (Asia/Shanghai), so its
// calendar days are the shop's.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Customer, loginPage, newContext, screenshotPath, serverAndBrowser } from './helpers.mjs';

const fx = serverAndBrowser();
const ZONE = 'Asia/Shanghai';
const today = () => new Date().toLocaleDateString('sv-SE', { timeZone: ZONE });

async function ok(request, method, url, data) {
  const res = await request.fetch(url, { method, data });
  const json = await res.json();
  assert.equal(json.code, 1, `${method} ${url}: ${JSON.stringify(json)}`);
  return json.data;
}

test('today\'s strip, the seven-day chart and the export', async () => {
  const ctx = await newContext(fx.browser, { timezoneId: ZONE, acceptDownloads: true });
  try {
    const page = await loginPage(ctx, fx.server.base);
    // Before any order: zeros, not NaN; seven empty bars.
    await page.locator('#fig-rate').filter({ hasText: '0%' }).waitFor();
    assert.equal(await page.locator('#fig-turnover').innerText(), '¥0.00');
    assert.equal(await page.locator('#trend rect.bar').count(), 7);

    // One customer: a completed order and a waiting one.
    const customer = new Customer(fx.server.base);
    const done = await customer.paidOrder();
    await customer.paidOrder();
    const base = fx.server.base;
    await ok(ctx.request, 'PUT', `${base}/admin/order/confirm`, { id: done.id });
    await ok(ctx.request, 'PUT', `${base}/admin/order/delivery/${done.id}`, {});
    await ok(ctx.request, 'PUT', `${base}/admin/order/complete/${done.id}`, {});
    const amount = (await ok(ctx.request, 'GET', `${base}/admin/order/details/${done.id}`)).amount;
    await page.evaluate(() => window.skyDashboard.figures.refresh());

    const strip = async () => Object.fromEntries(await Promise.all(
      ['turnover', 'valid', 'rate', 'unit', 'new'].map(async (k) => [k, await page.locator(`#fig-${k}`).innerText()])));
    assert.deepEqual(await strip(), {
      turnover: `¥${amount.toFixed(2)}`, valid: '1', rate: '50%', unit: `¥${amount.toFixed(2)}`, new: '1',
    });
    assert.doesNotMatch(await page.locator('#figures').innerText(), /NaN|undefined/);
    const bars = await page.locator('#trend rect.bar').evaluateAll((rs) => rs.map((r) => ({
      day: r.dataset.day, value: Number(r.dataset.value), height: Number(r.getAttribute('height')),
    })));
    assert.equal(bars.length, 7);
    assert.equal(bars[6].day, today(), 'the last bar is today');
    assert.equal(bars[6].value, amount);
    assert.ok(bars[6].height > 50, `today's bar is the tallest (${bars[6].height})`);
    assert.ok(bars.slice(0, 6).every((b) => b.value === 0 && b.height <= 1), JSON.stringify(bars));
    await page.screenshot({ path: screenshotPath('dashboard-figures.png'), animations: 'disabled' });

    const downloaded = page.waitForEvent('download');
    await page.click('#export');
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), '运营数据统计报表.xlsx');
    const bytes = readFileSync(await download.path());
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip (xlsx) file');
    assert.ok(bytes.includes(Buffer.from('xl/worksheets/sheet1.xml')), 'with a worksheet');
  } finally {
    await ctx.close();
  }
});

test('a failed export is a message, not a saved file', async () => {
  const ctx = await newContext(fx.browser, { timezoneId: ZONE, acceptDownloads: true });
  try {
    const page = await loginPage(ctx, fx.server.base);
    let downloads = 0;
    page.on('download', () => { downloads += 1; });
    await page.route('**/admin/report/export', (route) => route.fulfill({ status: 500, body: 'boom' }));
    await page.click('#export');
    await page.locator('#toasts .toast.error').filter({ hasText: '导出失败 HTTP 500' }).waitFor();
    assert.equal(downloads, 0);
  } finally {
    await ctx.close();
  }
});
