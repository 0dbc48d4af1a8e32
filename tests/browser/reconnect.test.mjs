// "Never deaf": the connection indicator follows the link (live → reconnecting since
// HH:MM:SS → live), the page reconnects by itself after a server restart and gets the alerts
// raised meanwhile, alerts missed while no page was open are replayed and summarised in ONE
// notice / spoken line, and a silent (half-dead) link is detected and replaced.
//
// The page's backoff cap and dead-link timeout are shortened through URL knobs
// (?maxBackoffMs=…&deadMs=…); the production defaults (20 s, 60 s) are untouched.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Customer, loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

const fx = serverAndBrowser();

const notice = (page, number, type) =>
  page.locator(`#notices .notice.type-${type}[data-order-number="${number}"]`);

test('server restart: reconnecting indicator, then live with the alerts raised meanwhile', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await loginPage(ctx, fx.server.base, '?maxBackoffMs=2000');
    await waitConn(page, 'live');
    const customer = new Customer(fx.server.base);
    const first = await customer.paidOrder('');
    await notice(page, first.number, 1).waitFor({ timeout: 10000 });

    // SIGTERM: the server closes the socket with 1012 and goes away.
    await fx.server.stop();
    await waitConn(page, 'reconnecting');
    assert.match(await page.locator('#conn-text').innerText(), /reconnecting since \d\d:\d\d:\d\d/);
    assert.equal(await page.locator('#offline-banner').isVisible(), true);
    await page.waitForTimeout(1500);   // a few refused attempts: still reconnecting, not given up
    await waitConn(page, 'reconnecting', 1000);

    // Same port, same database; raise alerts at once, racing the page's reconnect: whether
    // they arrive live or as a replay after the welcome, each must show up exactly once.
    await fx.server.start();
    const second = await customer.paidOrder('');
    await customer.remind(first.id);

    await waitConn(page, 'live', 15000);
    await notice(page, second.number, 1).waitFor({ timeout: 10000 });
    await notice(page, first.number, 2).waitFor({ timeout: 10000 });
    assert.equal(await notice(page, first.number, 1).count(), 1, 'the notice from before the restart is still open');
    assert.equal(await notice(page, second.number, 1).count(), 1);
    assert.equal(await page.locator('#offline-banner').isVisible(), false);

    // And it is live for real: a new alert arrives.
    const third = await customer.paidOrder('');
    await notice(page, third.number, 1).waitFor({ timeout: 10000 });
  } finally {
    await ctx.close();
  }
});

test('alerts missed while away are replayed (lastSeq) and summarised once', async () => {
  const ctx = await newContext(fx.browser);
  try {
    let page = await loginPage(ctx, fx.server.base);
    await waitConn(page, 'live');
    const lastSeq = await page.evaluate(() => Object.entries(localStorage).find(([k]) => k.startsWith('sky.lastSeq.'))?.[1]);
    assert.ok(lastSeq != null, 'the page keeps its last sequence in localStorage');
    await page.close();

    // Three alerts while no screen of this browser is open.
    const customer = new Customer(fx.server.base);
    const a = await customer.paidOrder('');
    const b = await customer.paidOrder('');
    await customer.remind(a.id);

    // The next connect sends lastSeq: the server replays them between welcome and live.
    page = await ctx.newPage();
    await page.goto(`${fx.server.base}/`);
    await waitConn(page, 'live');
    await notice(page, a.number, 1).waitFor();
    await notice(page, b.number, 1).waitFor();
    await notice(page, a.number, 2).waitFor();
    const summary = page.locator('#notices .notice.summary');
    await summary.waitFor();
    assert.equal(await summary.count(), 1);
    assert.equal(await summary.locator('.notice-title-text').innerText(), '离线期间收到 3 条提醒');

    const spoken = await page.evaluate(() => window.__spoken.map((s) => s.text));
    assert.deepEqual(spoken, ['离线期间收到 3 条提醒'], 'one spoken summary, not one line per alert');
  } finally {
    await ctx.close();
  }
});

test('after a reconnect: handled-while-away notices close, missed alerts are summarised', async () => {
  const ctx = await newContext(fx.browser);
  try {
    // Every alert socket of this context goes through a gate: open = proxied to the server,
    // closed = refused at once (close 1012), as when the server is unreachable. This makes
    // "something happened while we were disconnected" deterministic.
    let open = true;
    let current = null;
    await ctx.routeWebSocket(/\/ws\/v2\/alerts$/, (ws) => {
      if (!open) { ws.close({ code: 1012, reason: 'gated by the test' }); return; }
      current = ws;
      ws.connectToServer();
    });
    const page = await loginPage(ctx, fx.server.base, '?maxBackoffMs=1000');
    await waitConn(page, 'live');
    const customer = new Customer(fx.server.base);
    const before = await customer.paidOrder('');
    await notice(page, before.number, 1).waitFor({ timeout: 10000 });
    const spokenBefore = await page.evaluate(() => window.__spoken.length);

    open = false;
    current.close({ code: 1012 });
    await waitConn(page, 'reconnecting');

    // While we are away: another screen handles the open alert (its `handled` event is not
    // replayed; the welcome's `unhandled` list tells), and two new alerts are raised.
    const open1 = await (await ctx.request.get(`${fx.server.base}/admin/alerts?unhandled=true`)).json();
    const mine = open1.data.find((a) => a.orderNumber === before.number);
    const acked = await (await ctx.request.post(`${fx.server.base}/admin/alerts/${mine.id}/ack`)).json();
    assert.deepEqual(acked.data.handledIds, [mine.id]);
    const x = await customer.paidOrder('');
    await customer.remind(x.id);
    await page.waitForTimeout(1200);   // refused attempts meanwhile
    assert.equal(await notice(page, before.number, 1).count(), 1, 'still shown while disconnected');

    open = true;
    await waitConn(page, 'live', 15000);
    await notice(page, before.number, 1).waitFor({ state: 'detached', timeout: 5000 });
    await notice(page, x.number, 1).waitFor();
    await notice(page, x.number, 2).waitFor();
    const summary = page.locator('#notices .notice.summary');
    await summary.waitFor();
    assert.equal(await summary.count(), 1);
    assert.equal(await summary.locator('.notice-title-text').innerText(), '离线期间收到 2 条提醒');
    const spoken = await page.evaluate((n) => window.__spoken.slice(n).map((s) => s.text), spokenBefore);
    assert.deepEqual(spoken, ['离线期间收到 2 条提醒']);
  } finally {
    await ctx.close();
  }
});

test('a silent link (no ping) is declared dead and replaced', async () => {
  const ctx = await newContext(fx.browser);
  try {
    // deadMs must exceed the server's ping period (SKY_PING_SECS=5 in these tests).
    const page = await loginPage(ctx, fx.server.base, '?deadMs=8000&maxBackoffMs=1000');
    await waitConn(page, 'live');

    // SIGSTOP: the TCP connection stays open but nothing arrives any more, the case a browser
    // never reports by itself.
    fx.server.pause();
    try {
      await waitConn(page, 'reconnecting', 15000);
    } finally {
      fx.server.resume();
    }
    await waitConn(page, 'live', 20000);

    const order = await new Customer(fx.server.base).paidOrder('');
    await notice(page, order.number, 1).waitFor({ timeout: 10000 });
  } finally {
    await ctx.close();
  }
});

test('backoff is exponential with full jitter, capped', async () => {
  const ctx = await newContext(fx.browser);
  try {
    const page = await ctx.newPage();
    await page.goto(`${fx.server.base}/websocket.html`);   // any page of the origin: CSP 'self'
    // The dashboard's own client module against a port that refuses at once, with a fixed
    // "random" and a small base so the schedule is quick to observe.
    const delays = await page.evaluate(async () => {
      const { AlertSocket } = await import('/static/alert-socket.js');
      const run = (r) => new Promise((resolve) => {
        const got = [];
        const s = new AlertSocket({ shopId: 999, url: 'ws://127.0.0.1:9/', baseMs: 10, maxBackoffMs: 100, random: () => r, checkSession: async () => true });
        s.addEventListener('retry', (e) => {
          got.push(e.detail.delay);
          if (got.length === 6) { s.stop(); resolve(got); }
        });
        s.start();
      });
      return { high: await run(0.999), low: await run(0) };
    });
    // delay = random(0, min(max, base * 2^attempt)): with random → 1 it follows the cap.
    assert.deepEqual(delays.high, [9, 19, 39, 79, 99, 99]);
    assert.deepEqual(delays.low, [0, 0, 0, 0, 0, 0]);
  } finally {
    await ctx.close();
  }
});

