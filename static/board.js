// The order board (待接单 / 已接单 / 派送中), the statistics, the order details dialog and the
// merchant actions. Every server string is rendered as text (see dom.js).

import { api } from './api.js';
import { h, setChildren, setText, parseLocal, toast } from './dom.js';

export const STATUS = { 1: '待付款', 2: '待接单', 3: '已接单', 4: '派送中', 5: '已完成', 6: '已取消', 7: '退款' };
const COLUMNS = [2, 3, 4];

const REJECT_REASONS = ['菜品已售完', '餐厅已打烊', '超出配送范围', '餐厅太忙'];
const CANCEL_REASONS = ['客户要求取消', '菜品已售完', '骑手无法配送', '餐厅已打烊'];

export class Board {
  /** `hooks.alerting()` → {newOrders:Set, reminded:Set} of order ids with open notices. */
  constructor(hooks) {
    this.hooks = hooks;
    this.orders = { 2: [], 3: [], 4: [] };
    this.totals = { 2: 0, 3: 0, 4: 0 };
    this.timer = null;
    this.inflight = null;
    this.again = false;
    this.openOrderId = null;
    this.dialog = document.getElementById('order-dialog');
    document.getElementById('od-close').addEventListener('click', () => this.dialog.close());
    this.dialog.addEventListener('close', () => { this.openOrderId = null; });
    // A click on the backdrop closes the dialog.
    this.dialog.addEventListener('click', (e) => { if (e.target === this.dialog) this.dialog.close(); });
    this.reasons = new ReasonDialog();
    // Waiting times on cards age: re-render each minute.
    this.ageTimer = setInterval(() => this.render(), 60000);
  }

  /** Coalesces bursts (an alert, its handled event and an action land together). */
  refreshSoon(ms = 150) {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), ms);
  }

  /** Fetches the three columns and the statistics. One fetch at a time; a call during a fetch
   *  schedules exactly one more, so the board never shows an older state last. */
  async refresh() {
    if (this.inflight) { this.again = true; return this.inflight; }
    this.inflight = (async () => {
      try {
        const [pages, stats] = await Promise.all([
          Promise.all(COLUMNS.map((s) => api('GET', `/admin/order/conditionSearch?page=1&pageSize=50&status=${s}`))),
          api('GET', '/admin/order/statistics'),
        ]);
        COLUMNS.forEach((s, i) => {
          this.orders[s] = (pages[i] && pages[i].records) || [];
          this.totals[s] = (pages[i] && pages[i].total) || 0;
        });
        for (const k of ['toBeConfirmed', 'confirmed', 'deliveryInProgress']) setText(`stat-${k}`, (stats && stats[k]) || 0);
        this.status('');
        this.render();
        if (this.openOrderId != null) this.reloadDetails();
      } catch (e) {
        if (e.status !== 401) this.status(`看板刷新失败：${e.message} (refresh failed, retrying)`, true);
        // Retry later even without events: the socket may be down too.
        this.refreshSoon(10000);
      }
    })();
    try { await this.inflight; } finally {
      this.inflight = null;
      if (this.again) { this.again = false; this.refresh(); }
    }
  }

  status(text, error = false) {
    const el = document.getElementById('board-status');
    el.textContent = text;
    el.classList.toggle('error', error);
  }

  clear() {
    this.orders = { 2: [], 3: [], 4: [] };
    this.totals = { 2: 0, 3: 0, 4: 0 };
    if (this.dialog.open) this.dialog.close();
    this.render();
  }

  render() {
    const { newOrders, reminded } = this.hooks.alerting();
    for (const s of COLUMNS) {
      setText(`count-${s}`, this.totals[s]);
      const col = document.getElementById(`col-${s}`);
      const cards = this.orders[s].map((o) => this.card(o, newOrders.has(o.id), reminded.has(o.id)));
      if (cards.length === 0) cards.push(h('p', { className: 'empty' }, '暂无订单 · none'));
      setChildren(col, cards);
    }
  }

  card(o, alerting, reminded) {
    const number = String(o.number || '');
    const waited = minutesSince(o.checkoutTime || o.orderTime);
    return h('article', {
      className: `card${alerting ? ' alerting' : ''}${reminded ? ' reminded' : ''}`,
      dataset: { orderId: o.id, status: o.status, number },
      on: { click: (e) => { if (!e.target.closest('button')) this.openDetails(o.id); } },
    },
    h('div', { className: 'card-head' },
      h('span', { className: 'card-num' },
        h('span', { className: 'lead' }, number.slice(0, -4)), h('span', { className: 'tail' }, number.slice(-4))),
      h('span', { className: 'card-amount' }, `¥${money(o.amount)}`)),
    h('div', { className: 'card-meta' },
      h('span', null, String(o.orderTime || '')),
      o.status === 2 && waited != null ? h('span', { className: 'badge wait' }, `已等 ${waited} 分钟`) : null,
      reminded ? h('span', { className: 'badge' }, '催单') : null),
    h('div', { className: 'card-line card-dishes' }, String(o.orderDishes || '')),
    h('div', { className: 'card-line' }, `${o.consignee || ''} ${o.phone || ''}`),
    h('div', { className: 'card-line card-address' }, String(o.address || '')),
    o.remark ? h('div', { className: 'remark card-remark' }, String(o.remark)) : null,
    h('div', { className: 'card-actions' }, this.actionButtons(o, false)));
  }

  /** The buttons for an order's current status. */
  actionButtons(o, inDialog) {
    const b = (label, cls, fn, name) => h('button', {
      type: 'button', className: `btn ${cls} act-${name}`,
      on: { click: async (e) => { e.stopPropagation(); const btn = e.currentTarget; btn.disabled = true; try { await fn(); } finally { btn.disabled = false; } } },
    }, label);
    const out = [];
    if (o.status === 2) {
      out.push(b('接单 accept', 'primary', () => this.confirm(o), 'confirm'));
      out.push(b('拒单 reject', 'danger', () => this.reject(o), 'reject'));
    } else if (o.status === 3) {
      out.push(b('派送 deliver', 'blue', () => this.deliver(o), 'deliver'));
      out.push(b('取消 cancel', 'danger', () => this.cancel(o), 'cancel'));
    } else if (o.status === 4) {
      out.push(b('完成 complete', 'green', () => this.complete(o), 'complete'));
      if (inDialog) out.push(b('取消 cancel', 'danger', () => this.cancel(o), 'cancel'));
    } else if (o.status === 1 && inDialog) {
      out.push(b('取消 cancel', 'danger', () => this.cancel(o), 'cancel'));
    }
    return out;
  }

  // ---- actions: errors (HTTP 200 with code 0 and a Chinese msg) are shown as is ----

  async run(label, fn) {
    try {
      await fn();
      toast(`${label}成功`, 'ok');
      return true;
    } catch (e) {
      toast(e.message, 'error');
      return false;
    } finally {
      // Also after a failure: "订单状态错误" usually means another screen moved it.
      this.refreshSoon(0);
    }
  }

  confirm(o) { return this.run('接单', () => api('PUT', '/admin/order/confirm', { id: o.id })); }
  deliver(o) { return this.run('派送', () => api('PUT', `/admin/order/delivery/${o.id}`)); }
  complete(o) { return this.run('完成', () => api('PUT', `/admin/order/complete/${o.id}`)); }

  async reject(o) {
    const why = await this.reasons.ask('拒单原因 reason for rejecting', REJECT_REASONS, o);
    if (why == null) return false;
    return this.run('拒单', () => api('PUT', '/admin/order/rejection', { id: o.id, rejectionReason: why }));
  }

  async cancel(o) {
    const why = await this.reasons.ask('取消原因 reason for cancelling', CANCEL_REASONS, o);
    if (why == null) return false;
    return this.run('取消', () => api('PUT', '/admin/order/cancel', { id: o.id, cancelReason: why }));
  }

  // ---- details ----

  async openDetails(id) {
    this.openOrderId = id;
    setText('od-title', '订单详情 order details');
    setChildren(document.getElementById('od-body'), h('p', { className: 'empty' }, '加载中… loading'));
    setChildren(document.getElementById('od-actions'));
    if (!this.dialog.open) this.dialog.showModal();
    await this.reloadDetails();
  }

  async reloadDetails() {
    const id = this.openOrderId;
    if (id == null) return;
    let o;
    try {
      o = await api('GET', `/admin/order/details/${id}`);
    } catch (e) {
      if (this.openOrderId === id) setChildren(document.getElementById('od-body'), h('p', { className: 'form-error' }, e.message));
      return;
    }
    if (this.openOrderId !== id) return;
    this.renderDetails(o);
  }

  renderDetails(o) {
    setChildren(document.getElementById('od-title'), '订单 ', String(o.number || ''), ' ',
      h('span', { className: `status-pill s${o.status}` }, STATUS[o.status] || String(o.status)));
    const kv = [
      ['下单时间', o.orderTime], ['支付时间', o.checkoutTime], ['收货人', `${o.consignee || ''}`],
      ['电话', o.phone], ['地址', o.address], ['预计送达', o.estimatedDeliveryTime],
      ['餐具', o.tablewareStatus === 1 ? '按餐量提供' : `${o.tablewareNumber} 份`],
      ['拒单原因', o.rejectionReason], ['取消原因', o.cancelReason],
    ].filter(([, v]) => v != null && v !== '');
    const lines = (o.orderDetailList || []).map((d) => h('tr', null,
      h('td', null, String(d.name || ''), d.dishFlavor ? h('span', { className: 'hint' }, ` (${d.dishFlavor})`) : null),
      h('td', { className: 'num' }, `×${d.number}`),
      h('td', { className: 'num' }, `¥${money(d.amount * d.number)}`)));
    setChildren(document.getElementById('od-body'),
      o.remark ? h('div', { className: 'remark od-remark' }, String(o.remark)) : null,
      h('dl', { className: 'kv' }, kv.map(([k, v]) => [h('dt', null, k), h('dd', null, String(v))])),
      h('table', { className: 'lines' },
        h('thead', null, h('tr', null, h('th', null, '菜品'), h('th', { className: 'num' }, '数量'), h('th', { className: 'num' }, '小计'))),
        h('tbody', null, lines),
        h('tfoot', null,
          h('tr', null, h('td', null, '打包费'), h('td'), h('td', { className: 'num' }, `¥${money(o.packAmount)}`)),
          h('tr', null, h('th', null, '实付 total'), h('td'), h('th', { className: 'num' }, `¥${money(o.amount)}`)))));
    setChildren(document.getElementById('od-actions'), this.actionButtons(o, true),
      h('button', { type: 'button', className: 'btn', on: { click: () => this.dialog.close() } }, '关闭 close'));
  }
}

/** Asks for a reason (presets + free text); resolves the text or null when dismissed. */
class ReasonDialog {
  constructor() {
    this.dialog = document.getElementById('reason-dialog');
    this.input = document.getElementById('reason-input');
    this.resolve = null;
    document.getElementById('reason-cancel').addEventListener('click', () => this.dialog.close(''));
    document.getElementById('reason-form').addEventListener('submit', (e) => {
      e.preventDefault();
      const v = this.input.value.trim();
      if (v) this.dialog.close('ok');
    });
    this.dialog.addEventListener('close', () => {
      const r = this.resolve;
      this.resolve = null;
      if (r) r(this.dialog.returnValue === 'ok' ? this.input.value.trim() : null);
    });
  }

  ask(title, presets, order) {
    if (this.resolve) this.resolve(null);
    setChildren(document.getElementById('reason-title'), title, h('div', { className: 'hint' }, `订单号：${order.number}`));
    setChildren(document.getElementById('reason-presets'), presets.map((p) => h('button', {
      type: 'button', className: 'btn', on: { click: () => { this.input.value = p; this.input.focus(); } },
    }, p)));
    this.input.value = '';
    this.dialog.returnValue = '';
    this.dialog.showModal();
    this.input.focus();
    return new Promise((resolve) => { this.resolve = resolve; });
  }
}

function money(v) {
  const n = Number(v);
  return Number.isFinite(n) ? n.toFixed(2) : '-';
}

function minutesSince(s) {
  const d = parseLocal(s);
  if (!d) return null;
  return Math.max(0, Math.floor((Date.now() - d.getTime()) / 60000));
}
