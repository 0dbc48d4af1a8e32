// The page audit: opens one route of the stock admin app in a fresh tab, waits for the calls
// that page makes on load (stock-clients.md §2) and for their handlers, and records what a
// merchant would notice: error toasts, HTTP errors of /api and /user, console errors and
// uncaught exceptions, `NaN` in the visible text, error notifications, and whether the main
// table has rows. With SKY_STOCK_AUDIT=<file>, each report is appended there as a JSON line.

import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { STOCK_BASE, TIMEOUT } from './fixture.mjs';
import { settled } from './probe.mjs';
import { screenshotPath } from '../helpers.mjs';

/**
 * Every route of the admin app (router.ts), with the admin calls it makes on load (without
 * the `/api/` prefix) and whether its main `.el-table` must have rows when data exists.
 */
export const ROUTES = {
  dashboard: { title: '工作台', loads: ['workspace/businessData', 'workspace/overviewOrders', 'workspace/overviewDishes', 'workspace/overviewSetmeals', 'order/conditionSearch', 'order/statistics'], table: true },
  statistics: { title: '数据统计', loads: ['report/turnoverStatistics', 'report/userStatistics', 'report/ordersStatistics', 'report/top10'], table: false },
  order: { title: '订单管理', loads: ['order/conditionSearch', 'order/statistics'], table: true },
  setmeal: { title: '套餐管理', loads: ['setmeal/page', 'category/list'], table: true },
  'setmeal/add': { title: '添加套餐', loads: ['category/list'], table: false, ready: '.addBrand-container' },
  dish: { title: '菜品管理', loads: ['dish/page', 'category/list'], table: true },
  'dish/add': { title: '添加菜品', loads: ['category/list'], table: false, ready: '.addBrand-container' },
  category: { title: '分类管理', loads: ['category/page'], table: true },
  employee: { title: '员工管理', loads: ['employee/page'], table: true },
  'employee/add': { title: '添加员工', loads: [], table: false, ready: '.addBrand-container' },
};

const ours = (url) => { const u = new URL(url); return u.hostname === 'localhost' || u.hostname === '127.0.0.1'; };
const apiPath = (url) => { const p = new URL(url).pathname; return p.startsWith('/api/') || p.startsWith('/user/'); };

/** Starts recording on `page` (before its navigation); `report()` reads everything. */
export function record(page) {
  const rec = { httpErrors: [], consoleErrors: [], pageErrors: [] };
  page.on('response', (r) => {
    if (r.status() >= 400 && apiPath(r.url())) rec.httpErrors.push(`${r.status()} ${r.request().method()} ${new URL(r.url()).pathname}${new URL(r.url()).search}`);
  });
  page.on('requestfailed', (r) => {
    if (apiPath(r.url())) rec.httpErrors.push(`failed (${r.failure()?.errorText}) ${r.method()} ${new URL(r.url()).pathname}`);
  });
  page.on('console', (m) => {
    if (m.type() !== 'error') return;
    const where = m.location()?.url;
    // The app's icon font comes from a CDN that these tests never reach: not the server's doing.
    if (where && !ours(where)) return;
    rec.consoleErrors.push(m.text());
  });
  page.on('pageerror', (e) => rec.pageErrors.push(e.message));
  rec.report = async () => {
    const seen = await page.evaluate(() => ({
      toasts: window.__stock.toasts.slice(),
      notices: window.__stock.notices.slice(),
      text: document.body.innerText,
      rows: document.querySelectorAll('.app-main .el-table__body-wrapper tr.el-table__row').length,
    }));
    const nan = seen.text.split('\n').filter((l) => /NaN/.test(l)).map((l) => l.trim());
    return {
      errorToasts: seen.toasts.filter((t) => t.type === 'error').map((t) => t.text),
      httpErrors: rec.httpErrors.slice(),
      consoleErrors: rec.consoleErrors.slice(),
      pageErrors: rec.pageErrors.slice(),
      nan,
      errorNotices: seen.notices.filter((n) => /错误/.test(n.title)).map((n) => `${n.title}: ${n.text}`),
      rows: seen.rows,
      toasts: seen.toasts,
    };
  };
  return rec;
}

/**
 * Opens `#/<route>` in a new tab of the logged-in `ctx`, waits for its loads, records, takes
 * the screenshot `docs/screenshots/stock-<name>.png` and resolves {page, report}.
 */
export async function auditRoute(ctx, route, { screenshot = `stock-${route.replace('/', '-')}.png` } = {}) {
  const spec = ROUTES[route];
  if (!spec) throw new Error(`no such route ${route}`);
  const page = await ctx.newPage();
  const rec = record(page);
  const waits = spec.loads.map((p) => page.waitForResponse((r) => new URL(r.url()).pathname === `/api/${p}`, { timeout: TIMEOUT })
    .catch(() => { throw new Error(`${route}: the page never called /api/${p}`); }));
  const shopStatus = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/shop/status');
  await page.goto(`${STOCK_BASE}/#/${route}`);
  await Promise.all([...waits, shopStatus]);
  if (spec.ready) await page.locator(spec.ready).waitFor();
  await settled(page);
  // Two frames: Vue has rendered what the last handlers set.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const report = { route, title: spec.title, ...(await rec.report()) };
  if (screenshot) await page.screenshot({ path: screenshotPath(screenshot), animations: 'disabled' });
  if (process.env.SKY_STOCK_AUDIT) appendFileSync(process.env.SKY_STOCK_AUDIT, JSON.stringify(report) + '\n');
  return { page, report };
}

/**
 * The audit's rule: no error toast, no HTTP error, no console error or uncaught exception, no
 * NaN, no error notification; rows in the main table where `rows` is asked for.
 */
export function assertClean(report, { rows = false } = {}) {
  const { errorToasts, httpErrors, consoleErrors, pageErrors, nan, errorNotices } = report;
  assert.deepEqual({ errorToasts, httpErrors, consoleErrors, pageErrors, nan, errorNotices },
    { errorToasts: [], httpErrors: [], consoleErrors: [], pageErrors: [], nan: [], errorNotices: [] },
    `${report.route} (${report.title}) is not clean`);
  if (rows) assert.ok(report.rows > 0, `${report.route}: the main table has no rows`);
}
