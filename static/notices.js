// Sticky alert notices. One notice per (order, type): a re-alert of the same order adds its
// id to the existing notice and bumps it instead of stacking duplicates. A notice closes when
// every alert id it holds is handled (the server's `handled` event, on every screen).

import { h, setText } from './dom.js';

export class Notices extends EventTarget {
  /** `onAck(notice)`, `onOpen(orderId)` are called from the buttons. */
  constructor(container, { onAck, onOpen }) {
    super();
    this.box = container;
    this.onAck = onAck;
    this.onOpen = onOpen;
    this.byKey = new Map();      // "orderId:type" -> notice
    this.handled = new Set();    // alert ids known handled: never reopen them (late REST answers)
  }

  /** Open alert notices (not the offline summaries). */
  get count() { return this.byKey.size; }

  /** Orders with an open notice of this type. */
  ordersWith(type) {
    const s = new Set();
    for (const n of this.byKey.values()) if (n.type === type) s.add(n.orderId);
    return s;
  }

  /**
   * Shows or bumps the notice for this alert. Returns 'new', 'bumped' (a re-alert or another
   * alert of an order already shown), or null (already shown / already handled: no sound).
   */
  upsert(a) {
    if (a.handled || this.handled.has(a.id)) return null;
    const type = a.type === 2 ? 2 : 1;
    const key = `${a.orderId}:${type}`;
    let n = this.byKey.get(key);
    if (n) {
      if (n.ids.has(a.id)) return null;
      n.ids.add(a.id);
      if (a.id > n.latestId) {
        n.latestId = a.id;
        n.realert = a.realert || 0;
        n.time = a.time;
      }
      this.render(n);
      this.box.prepend(n.el);            // bump to the top
      n.el.classList.remove('bumped');
      void n.el.offsetWidth;             // restart the animation
      n.el.classList.add('bumped');
      this.changed();
      return 'bumped';
    }
    n = {
      key, type, orderId: a.orderId, orderNumber: String(a.orderNumber || ''),
      ids: new Set([a.id]), latestId: a.id, realert: a.realert || 0, time: a.time, el: null,
    };
    n.el = h('div', {
      className: `notice type-${type}`,
      attrs: { role: 'alert' },
      dataset: { orderId: n.orderId, orderNumber: n.orderNumber, type },
    });
    this.render(n);
    this.byKey.set(key, n);
    this.box.prepend(n.el);
    this.changed();
    return 'new';
  }

  render(n) {
    const title = n.type === 2 ? '催单' : '待接单';
    const text = n.type === 2
      ? `订单号：${n.orderNumber}`
      : `您有1个订单待处理, 订单号：${n.orderNumber}, 请及时接单`;
    const clock = String(n.time || '').slice(11, 19);
    const ack = h('button', {
      type: 'button',
      className: `btn ${n.type === 2 ? 'danger' : 'primary'} notice-ack`,
      on: { click: (e) => { e.stopPropagation(); this.onAck(n); } },
    }, n.type === 2 ? '去处理' : '已处理');
    const open = h('button', {
      type: 'button', className: 'btn notice-open',
      on: { click: (e) => { e.stopPropagation(); this.onOpen(n.orderId); } },
    }, '查看订单 details');
    n.el.dataset.alertIds = [...n.ids].join(',');
    n.el.classList.remove('pending');
    n.el.replaceChildren(
      h('div', { className: 'notice-title' },
        h('span', { className: 'notice-icon', attrs: { 'aria-hidden': 'true' } }, n.type === 2 ? '!' : '新'),
        h('span', { className: 'notice-title-text' }, title),
        n.realert > 0 ? h('span', { className: 'badge' }, `第${n.realert + 1}次提醒`) : null,
        h('span', { className: 'time' }, clock)),
      h('div', {
        className: 'notice-text', title: '点击查看订单 click for details',
        on: { click: () => this.onOpen(n.orderId) },
      }, text),
      h('div', { className: 'notice-actions' }, open, ack),
    );
  }

  /** Marks a notice as waiting for the server's `handled`. */
  setPending(n, on) {
    n.el.classList.toggle('pending', on);
    for (const b of n.el.querySelectorAll('button')) b.disabled = on;
  }

  /** Alert ids are handled: drop them; close notices left without ids. Returns closed count. */
  removeIds(ids) {
    let closed = 0;
    for (const id of ids) this.handled.add(id);
    for (const [key, n] of this.byKey) {
      for (const id of ids) n.ids.delete(id);
      if (n.ids.size === 0) {
        n.el.remove();
        this.byKey.delete(key);
        closed++;
      } else {
        n.el.dataset.alertIds = [...n.ids].join(',');
      }
    }
    if (closed) this.changed();
    return closed;
  }

  /**
   * After a (re)connect: the welcome lists the shop's unhandled alert ids (at most 200, newest
   * first). Anything we show that is not in it was handled while we were away.
   */
  reconcile(unhandled) {
    if (!Array.isArray(unhandled) || unhandled.length >= 200) return 0; // list may be cut: unsafe
    const open = new Set(unhandled);
    const gone = [];
    for (const n of this.byKey.values()) for (const id of n.ids) if (!open.has(id)) gone.push(id);
    return this.removeIds(gone);
  }

  /** Ids shown on some notice. */
  has(id) {
    for (const n of this.byKey.values()) if (n.ids.has(id)) return true;
    return false;
  }

  /** One informational notice summarising alerts replayed after a reconnect. */
  summary(count) {
    const el = h('div', { className: 'notice summary', attrs: { role: 'status' } },
      h('div', { className: 'notice-title' },
        h('span', { className: 'notice-icon', attrs: { 'aria-hidden': 'true' } }, '补'),
        h('span', { className: 'notice-title-text' }, `离线期间收到 ${count} 条提醒`),
        h('span', { className: 'time' }, new Date().toTimeString().slice(0, 8))),
      h('div', { className: 'notice-text' }, `${count} alert${count > 1 ? 's' : ''} while offline — 见下方提醒 / see below`),
      h('div', { className: 'notice-actions' },
        h('button', { type: 'button', className: 'btn notice-dismiss', on: { click: () => el.remove() } }, '知道了 OK')));
    this.box.prepend(el);
    setTimeout(() => el.remove(), 60000);
    return el;
  }

  clear() {
    this.byKey.clear();
    this.handled.clear();
    this.box.replaceChildren();
    this.changed();
  }

  changed() {
    setText('notice-count', this.count);
    const empty = document.getElementById('notices-empty');
    if (empty) empty.hidden = this.count > 0;
    this.dispatchEvent(new Event('change'));
  }
}
