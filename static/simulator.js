// Customer simulator: drives the customer API (/user/*) like the WeChat mini-program does, so a
// newcomer sees the dashboard ring within a minute. Customer token in header `authentication`.

import { h, hms } from './dom.js';

const $ = (id) => document.getElementById(id);

// A fresh customer per page load (mock login maps any code to a stable openid).
const loginCode = `sim-${Math.random().toString(36).slice(2, 10)}`;
let token = null;
let addressId = null;
let menuCache = { shopId: null, dishes: [] };
let lastOrder = null;
let orderCount = 0;
let autoTimer = null;
let busy = false;

function log(text, kind = 'info') {
  const box = $('sim-log');
  box.appendChild(h('div', { className: kind }, `${hms(new Date())}  ${text}`));
  while (box.children.length > 300) box.firstChild.remove();
  box.scrollTop = box.scrollHeight;
}

/** Calls the customer API; returns `data`, throws with the server's msg on code 0. */
async function call(method, path, body) {
  const headers = { accept: 'application/json' };
  if (token) headers.authentication = token;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (res.status === 401) {
    token = null;   // expired: log in again next time
    throw new Error(`${method} ${path}: 401 未登录`);
  }
  let json = null;
  try { json = await res.json(); } catch (e) { /* no body */ }
  if (!res.ok || !json || json.code !== 1) {
    throw new Error(`${method} ${path}: ${(json && json.msg) || `HTTP ${res.status}`}`);
  }
  return json.data;
}

async function ensureLogin() {
  if (token) return;
  const data = await call('POST', '/user/user/login', { code: loginCode });
  token = data.token;
  addressId = null;
  $('sim-user').textContent = `#${data.id} (${data.openid})`;
  log(`顾客已登录 customer #${data.id}`, 'ok');
}

/** The shop's dishes on sale (all dish categories), cached per shop. */
async function dishesOf(shopId) {
  if (menuCache.shopId === shopId && menuCache.dishes.length) return menuCache.dishes;
  const categories = await call('GET', `/user/category/list?shopId=${shopId}`);
  const dishes = [];
  for (const c of categories || []) {
    if (c.type === 2) continue;   // set meals: not supported by the backend's cart yet
    for (const d of (await call('GET', `/user/dish/list?categoryId=${c.id}`)) || []) dishes.push(d);
  }
  if (!dishes.length) throw new Error(`店铺 ${shopId} 没有在售菜品 (no dishes on sale)`);
  menuCache = { shopId, dishes };
  log(`店铺 ${shopId} 菜单：${dishes.length} 道菜`);
  return dishes;
}

function randomFlavor(d) {
  const f = (d.flavors || [])[0];
  if (!f) return '';
  try {
    const values = JSON.parse(f.value);
    return Array.isArray(values) && values.length ? String(values[Math.floor(Math.random() * values.length)]) : '';
  } catch (e) { return ''; }
}

async function ensureAddress() {
  if (addressId) return;
  const list0 = await call('GET', '/user/addressBook/list');
  if (!list0 || !list0.length) {
    await call('POST', '/user/addressBook', { consignee: '测试顾客', phone: '13800000000', detail: '软件园1号楼', sex: '1' });
  }
  const list = await call('GET', '/user/addressBook/list');
  if (!list || !list.length) throw new Error('地址簿为空 (no address)');
  addressId = list[list.length - 1].id;
}

/** 下单并支付: cart → address → submit → pay (mock payment raises the type-1 alert). */
async function orderOnce() {
  if (busy) { log('上一单还在进行中，跳过 (previous order still running, skipped)'); return; }
  busy = true;
  $('order-once').disabled = true;
  try {
    const shopId = Math.max(1, Number($('shop-id').value) || 1);
    await ensureLogin();
    const dishes = await dishesOf(shopId);
    const dish = dishes[Math.floor(Math.random() * dishes.length)];
    const flavor = randomFlavor(dish);
    await call('DELETE', '/user/shoppingCart/clean');      // the cart holds one shop only
    await call('POST', '/user/shoppingCart/add', { dishId: dish.id, dishFlavor: flavor });
    await ensureAddress();
    const remark = $('remark').value;
    const sub = await call('POST', '/user/order/submit', {
      addressBookId: addressId, payMethod: 1, remark, deliveryStatus: 1, tablewareNumber: 1, tablewareStatus: 1,
    });
    log(`已下单 ${dish.name}${flavor ? `(${flavor})` : ''} ¥${sub.orderAmount}，订单号 ${sub.orderNumber}`);
    await call('PUT', '/user/order/payment', { orderNumber: sub.orderNumber, payMethod: 1 });
    lastOrder = { id: sub.id, number: sub.orderNumber };
    orderCount++;
    $('last-order').textContent = `${sub.orderNumber} (#${sub.id})`;
    $('order-count').textContent = String(orderCount);
    $('remind').disabled = false;
    log(`已支付 paid — 工作台应弹出「待接单」 订单号：${sub.orderNumber}`, 'ok');
  } catch (e) {
    log(`失败 failed: ${e.message}`, 'err');
  } finally {
    busy = false;
    $('order-once').disabled = false;
  }
}

/** 催单 for the last order (the server allows one per order per 60 s). */
async function remind() {
  if (!lastOrder) return;
  try {
    await ensureLogin();
    await call('GET', `/user/order/reminder/${lastOrder.id}`);
    log(`您的催单信息已发出！订单号 ${lastOrder.number}`, 'ok');
  } catch (e) {
    log(`催单失败 reminder failed: ${e.message}`, 'err');
  }
}

function startAuto() {
  const every = Math.min(3600, Math.max(1, Number($('every').value) || 15));
  stopAuto();
  log(`自动下单：每 ${every} 秒一单 (auto order every ${every} s)`);
  orderOnce();
  // A steady rate: a tick that finds the previous order still running is skipped, not queued.
  autoTimer = setInterval(orderOnce, every * 1000);
  $('auto-start').disabled = true;
  $('auto-stop').disabled = false;
  $('every').disabled = true;
}

function stopAuto() {
  if (autoTimer) { clearInterval(autoTimer); log('已停止自动下单 (auto order stopped)'); }
  autoTimer = null;
  $('auto-start').disabled = false;
  $('auto-stop').disabled = true;
  $('every').disabled = false;
}

$('order-once').addEventListener('click', orderOnce);
$('remind').addEventListener('click', remind);
$('auto-start').addEventListener('click', startAuto);
$('auto-stop').addEventListener('click', stopAuto);
$('shop-id').addEventListener('change', () => { menuCache = { shopId: null, dishes: [] }; });
log('就绪：点击「下单并支付」 (ready: click 下单并支付)');
