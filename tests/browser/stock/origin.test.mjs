// Issue 11 item 6: behind the course's own layout (Host: webservers, page origin
// http://localhost) the stock app's socket works with no setting at all (the default origin
// rule admits loopback pages); a foreign origin stays refused.

import assert from 'node:assert/strict';
import http from 'node:http';
import { Customer } from '../helpers.mjs';
import { record } from './audit.mjs';
import { adminSession, stockFixture, stockTest } from './fixture.mjs';

const fx = stockFixture({ SKY_ALLOWED_ORIGINS: undefined });

stockTest('without SKY_ALLOWED_ORIGINS the stock page\'s socket is accepted and a paid order pops up', async () => {
  const { ctx, page: landing } = await adminSession(fx.browser);
  try {
    await landing.close();
    const page = await ctx.newPage();
    const rec = record(page);
    const opened = page.waitForEvent('console', (m) => m.text() === '浏览器WebSocket已打开');
    opened.catch(() => {});
    const refused = page.locator('.el-notification', { hasText: '服务器错误，无法接收实时报警信息' });
    await page.goto('http://localhost/#/order');
    await Promise.race([opened, refused.waitFor().then(() => assert.fail('the socket was refused (服务器错误，无法接收实时报警信息)'))]);
    const order = await new Customer(fx.server.base).paidOrder();
    await page.locator('.el-notification').filter({ hasText: order.number }).waitFor();
    assert.deepEqual((await rec.report()).errorNotices, []);
  } finally {
    await ctx.close();
  }
});

/** A WebSocket handshake to the server itself: resolves the HTTP status (101 = accepted). */
function handshake(port, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/ws/probe', headers: {
      connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers,
    } });
    req.on('upgrade', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode); });
    req.on('error', reject);
    req.end();
  });
}

stockTest('without the setting, a logged-in socket from a foreign origin stays refused', async () => {
  const cookie = `sky_session=${fx.api.token}`;
  // Control: the request's own host is accepted, so a refusal below is the origin check's.
  assert.equal(await handshake(fx.server.port, { host: 'webservers', origin: 'http://webservers', cookie }), 101);
  assert.notEqual(await handshake(fx.server.port, { host: 'webservers', origin: 'http://evil.example', cookie }), 101);
});
