// 工作台 and 数据统计 of the stock app (issue 12) against a known day: one customer orders
// three times today (one completed, one waiting, one cancelled). The landing page's figures
// are numbers (not `¥ ` and `NaN%`), the four charts get their series, and 数据导出 downloads
// an xlsx. Screenshots: stock-dashboard-figures.png, stock-statistics-month.png.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Customer, screenshotPath } from '../helpers.mjs';
import { adminSession, stockBefore, stockFixture, stockTest } from './fixture.mjs';
import { settled } from './probe.mjs';
import { confirmBox, openRoute, zipEntries } from './ui.mjs';

const fx = stockFixture();
const day = { customer: null, amount: 0 };

/** The text of each card of a dashboard panel, by its label ({'营业额': '¥ 44', …}). */
async function cards(page, panel) {
  return page.locator(panel).evaluate((box) => Object.fromEntries([...box.querySelectorAll('li')]
    .map((li) => [li.querySelector('.tit, .status')?.textContent.trim(), li.querySelector('.num')?.textContent.replace(/\s+/g, ' ').trim()])
    .filter(([k]) => k)));
}

/** The statistics page's component state: what it hands to its four charts. */
async function chartData(page) {
  return page.evaluate(() => {
    const vm = document.querySelector('.title-index').__vue__.$parent;
    const canvases = ['main', 'usermain', 'ordermain', 'top'].map((id) => !!document.querySelector(`#${id} canvas`));
    return { turnover: vm.turnoverData, user: vm.userData, order: vm.orderData, top10: vm.top10Data, canvases };
  });
}

/** The local date (Asia/Shanghai, as the app computes it) as yyyy-MM-dd. */
const today = () => new Date().toLocaleDateString('sv-SE', { timeZone: 'Asia/Shanghai' });

// Today, one customer: a completed, a waiting and a cancelled order.
stockBefore(fx, async () => {
  const customer = new Customer(fx.server.base);
  const done = await customer.paidOrder();
  await fx.api.completeOrder(done.id);
  day.customer = customer;
  day.amount = (await fx.api.ok('GET', `/admin/order/details/${done.id}`)).amount;
  await customer.paidOrder();
  const cancelled = await customer.paidOrder();
  await customer.call('PUT', `/user/order/cancel/${cancelled.id}`);
  assert.equal(await fx.api.orderStatus(cancelled.id), 6);
});

stockTest('工作台: today\'s figures, order counts and menu overview are numbers', async () => {
  const { ctx, page: landing } = await adminSession(fx.browser);
  try {
    await landing.close();
    const page = await openRoute(ctx, 'dashboard', ['workspace/businessData', 'workspace/overviewOrders', 'workspace/overviewDishes', 'workspace/overviewSetmeals']);
    await page.screenshot({ path: screenshotPath('stock-dashboard-figures.png'), animations: 'disabled' });
    assert.deepEqual(await cards(page, '.overviewBox'), {
      营业额: `¥ ${day.amount}`, 有效订单: '1', 订单完成率: '33%', 平均客单价: `¥ ${day.amount}`, 新增用户: '1',
    });
    assert.deepEqual(await cards(page, '.orderviewBox >> nth=0'), { 待接单: '1', 待派送: '0', 已完成: '1', 已取消: '1', 全部订单: '3' });
    // The demo menu's dishes are all on sale: count them through the customer API.
    const cats = await day.customer.call('GET', '/user/category/list?type=1');
    let onSale = 0;
    for (const c of cats) onSale += (await day.customer.call('GET', `/user/dish/list?categoryId=${c.id}`)).length;
    const dishes = await cards(page, '.orderviewBox >> nth=1');
    assert.equal(dishes['已启售'], String(onSale), '菜品总览 已启售');
    assert.match(dishes['已停售'], /^\d+$/, '菜品总览 已停售');
    const setmeals = await cards(page, '.orderviewBox >> nth=2');
    assert.match(`${setmeals['已启售']} ${setmeals['已停售']}`, /^\d+ \d+$/, '套餐总览');
  } finally {
    await ctx.close();
  }
});

stockTest('数据统计: the four charts get their series (近7日, then 本月 with today\'s orders)', async () => {
  const { ctx, page: landing } = await adminSession(fx.browser);
  try {
    await landing.close();
    const loads = ['report/turnoverStatistics', 'report/userStatistics', 'report/ordersStatistics', 'report/top10'];
    const page = await openRoute(ctx, 'statistics', loads);
    let data = await chartData(page);
    assert.deepEqual(data.canvases, [true, true, true, true], 'each chart drawn');
    assert.equal(data.turnover.dateList.length, 7, '近7日 = 7 days');
    assert.ok(data.turnover.turnoverList.every((v) => Number.isFinite(Number(v))), 'turnover numbers');
    assert.doesNotMatch(await page.locator('.app-main').innerText(), /NaN/);

    // 本月 includes today: the day's orders appear in every series.
    const requeried = loads.map((p) => page.waitForResponse((r) => new URL(r.url()).pathname === `/api/${p}`));
    await page.locator('.title-index .li-tab').filter({ hasText: '本月' }).click();
    await Promise.all(requeried);
    await settled(page);
    data = await chartData(page);
    const at = data.turnover.dateList.indexOf(today());
    assert.ok(at >= 0, `本月 lists today (${today()})`);
    assert.equal(Number(data.turnover.turnoverList[at]), day.amount, 'today\'s turnover');
    const o = data.order.data;
    assert.deepEqual([Number(o.orderCountList[o.dateList.indexOf(today())]), Number(o.validOrderCountList[o.dateList.indexOf(today())])], [3, 1], 'today\'s orders / valid');
    assert.deepEqual([data.order.totalOrderCount, data.order.validOrderCount], [3, 1]);
    assert.equal(Number(data.user.newUserList[data.user.dateList.indexOf(today())]), 1, 'today\'s new users');
    assert.deepEqual({ names: data.top10.nameList, numbers: data.top10.numberList.map(Number) }, { names: ['宫保鸡丁'], numbers: [1] }, 'top 10');
    const proportion = (await page.locator('.orderProportion').innerText()).replace(/\s+/g, ' ');
    assert.match(proportion, /订单完成率 33\.3% = 有效订单 1 \/ 订单总数 3/);
    await page.screenshot({ path: screenshotPath('stock-statistics-month.png'), animations: 'disabled' });
  } finally {
    await ctx.close();
  }
});

stockTest('数据统计 数据导出: confirm, then an xlsx named 运营数据统计报表.xlsx downloads', async () => {
  const { ctx, page: landing } = await adminSession(fx.browser);
  try {
    await landing.close();
    const page = await openRoute(ctx, 'statistics', []);
    await page.locator('.title-index .right-el-button').click();
    const exported = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/report/export');
    const downloaded = page.waitForEvent('download');
    downloaded.catch(() => {}); // awaited below, once the reply is known to be an xlsx
    await confirmBox(page, '是否确认导出最近30天运营数据?');
    const res = await exported;
    assert.equal(res.status(), 200, 'GET /api/report/export');
    assert.equal(res.headers()['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    const download = await downloaded;
    assert.equal(download.suggestedFilename(), '运营数据统计报表.xlsx');
    const entries = zipEntries(readFileSync(await download.path()));
    for (const name of ['[Content_Types].xml', 'xl/workbook.xml']) assert.ok(entries.includes(name), `the xlsx holds ${name} (${entries.join(', ')})`);
    assert.ok(entries.some((e) => /^xl\/worksheets\/sheet\d+\.xml$/.test(e)), 'a worksheet');
  } finally {
    await ctx.close();
  }
});
