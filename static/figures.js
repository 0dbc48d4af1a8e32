// Today's strip (the workspace's businessData), a seven-day turnover chart drawn here as SVG
// (no chart library, no external script) and the Excel export. Days are the browser's
// calendar days, which the server reads as the shop's local days (`--time-zone`).

import { api, ApiError } from './api.js';
import { h, setChildren, setText, toast } from './dom.js';

const SVG = 'http://www.w3.org/2000/svg';
const EXPORT_NAME = '运营数据统计报表.xlsx';
const REFRESH_MS = 30000;

/** yyyy-MM-dd of a Date, local calendar. */
export function ymd(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}

/** ¥ with two decimals (the server sends yuan as a number). */
const yuan = (v) => `¥${Number(v || 0).toFixed(2)}`;

function svg(tag, attrs, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  if (text != null) el.textContent = String(text);
  return el;
}

/** Draws bars of `values` (labels under them, amounts over them) into the <svg>. */
export function drawBars(el, labels, values) {
  const W = 420, H = 150, top = 18, bottom = 20, gap = 10;
  const max = Math.max(...values, 0) || 1;
  const w = (W - gap * (values.length + 1)) / values.length;
  el.setAttribute('viewBox', `0 0 ${W} ${H}`);
  el.replaceChildren();
  values.forEach((v, i) => {
    const x = gap + i * (w + gap);
    const bh = Math.round((v / max) * (H - top - bottom));
    const y = H - bottom - bh;
    const bar = svg('rect', { x, y, width: w, height: Math.max(bh, 1), rx: 3, class: 'bar' });
    bar.dataset.day = labels[i];
    bar.dataset.value = String(v);
    bar.appendChild(svg('title', {}, `${labels[i]} ${yuan(v)}`));
    el.appendChild(bar);
    el.appendChild(svg('text', { x: x + w / 2, y: H - 5, class: 'day' }, labels[i].slice(5)));
    el.appendChild(svg('text', { x: x + w / 2, y: y - 4, class: 'amount' }, v ? Number(v).toFixed(0) : '0'));
  });
}

export class Figures {
  constructor() {
    this.timer = null;
    this.soon = null;
    document.getElementById('export').addEventListener('click', () => this.export());
  }

  start() {
    this.stop();
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    clearTimeout(this.soon);
    this.timer = null;
  }

  /** Coalesces bursts (an alert and the actions that follow it). */
  refreshSoon(ms = 500) {
    clearTimeout(this.soon);
    this.soon = setTimeout(() => this.refresh(), ms);
  }

  async refresh() {
    const today = new Date();
    const from = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 6);
    try {
      const [b, t] = await Promise.all([
        api('GET', '/admin/workspace/businessData'),
        api('GET', `/admin/report/turnoverStatistics?begin=${ymd(from)}&end=${ymd(today)}`),
      ]);
      setText('fig-turnover', yuan(b.turnover));
      setText('fig-valid', b.validOrderCount);
      setText('fig-rate', `${(b.orderCompletionRate * 100).toFixed(0)}%`);
      setText('fig-unit', yuan(b.unitPrice));
      setText('fig-new', b.newUsers);
      const days = t.dateList ? t.dateList.split(',') : [];
      const values = t.turnoverList ? t.turnoverList.split(',').map(Number) : [];
      drawBars(document.getElementById('trend'), days, values);
      setChildren(document.getElementById('figures-status'));
    } catch (e) {
      if (e.status !== 401) setChildren(document.getElementById('figures-status'), `数据刷新失败：${e.message}`);
    }
  }

  /** Downloads the last 30 days' workbook; an error reply is shown, never saved as the file. */
  async export() {
    const btn = document.getElementById('export');
    btn.disabled = true;
    try {
      const res = await fetch('/admin/report/export', { credentials: 'same-origin' });
      if (!res.ok) throw new ApiError(res.status === 401 ? '登录已失效，请重新登录' : `导出失败 HTTP ${res.status}`, { status: res.status });
      const url = URL.createObjectURL(await res.blob());
      const a = h('a', { attrs: { href: url, download: EXPORT_NAME } });
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10000);
    } catch (e) {
      toast(e.message || '导出失败', 'error');
    } finally {
      btn.disabled = false;
    }
  }
}
