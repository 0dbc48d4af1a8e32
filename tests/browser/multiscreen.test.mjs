// Two screens of one shop (two browser contexts, each logged in): acknowledging a notice on
// one closes it on the other (the server's `handled` event reaches every screen), and an
// action on one screen refreshes the other's board.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Customer, loginPage, newContext, serverAndBrowser, waitConn } from './helpers.mjs';

const fx = serverAndBrowser();

test('ack on one screen closes the notice on the other', async () => {
  const ctxA = await newContext(fx.browser);
  const ctxB = await newContext(fx.browser);
  try {
    const a = await loginPage(ctxA, fx.server.base);
    const b = await loginPage(ctxB, fx.server.base);
    await waitConn(a, 'live');
    await waitConn(b, 'live');

    const customer = new Customer(fx.server.base);
    const order = await customer.paidOrder('');
    const sel = `#notices .notice.type-1[data-order-number="${order.number}"]`;
    await a.locator(sel).waitFor({ timeout: 10000 });
    await b.locator(sel).waitFor({ timeout: 10000 });

    await a.locator(`${sel} .notice-ack`).click();   // {"type":"ack","alertId":…} over A's socket
    // Within 4 s: the page falls back to REST after 5 s, and this must go through the socket.
    await b.locator(sel).waitFor({ state: 'detached', timeout: 4000 });
    await a.locator(sel).waitFor({ state: 'detached', timeout: 4000 });

    // Handled is not accepted: the order still waits on both boards. Accepting it on B moves
    // it on A as well.
    const cardA = a.locator(`#col-2 .card[data-number="${order.number}"]`);
    await cardA.waitFor();
    await b.locator(`#col-2 .card[data-number="${order.number}"] .act-confirm`).click();
    await a.locator(`#col-3 .card[data-number="${order.number}"]`).waitFor({ timeout: 10000 });
    assert.equal(await cardA.count(), 0);

    // A reminder acked on B closes on A too ("去处理" also opens the details on B).
    await customer.remind(order.id);
    const sel2 = `#notices .notice.type-2[data-order-number="${order.number}"]`;
    await a.locator(sel2).waitFor({ timeout: 10000 });
    await b.locator(sel2).waitFor({ timeout: 10000 });
    await b.locator(`${sel2} .notice-ack`).click();
    await a.locator(sel2).waitFor({ state: 'detached', timeout: 10000 });
    await b.locator('#order-dialog').waitFor({ state: 'visible' });
  } finally {
    await ctxA.close();
    await ctxB.close();
  }
});
