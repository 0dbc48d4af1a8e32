// Tiny DOM helpers. Every string from the server goes through textContent / text nodes:
// nothing here ever parses HTML, so an order remark like `<img src=x onerror=…>` stays text.

/**
 * Creates an element. `props`: className, dataset (object), attrs (object), on (object of
 * listeners), title, hidden, disabled, type. Children: nodes, strings (as text nodes),
 * numbers, null/false (skipped), arrays (flattened).
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  const p = props || {};
  if (p.className) el.className = p.className;
  if (p.title != null) el.title = String(p.title);
  if (p.type) el.type = p.type;
  if (p.hidden) el.hidden = true;
  if (p.disabled) el.disabled = true;
  for (const [k, v] of Object.entries(p.dataset || {})) el.dataset[k] = String(v);
  for (const [k, v] of Object.entries(p.attrs || {})) el.setAttribute(k, String(v));
  for (const [k, v] of Object.entries(p.on || {})) el.addEventListener(k, v);
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces all children of `el` (text-safe). */
export function setChildren(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

/** Sets an element's text by id. */
export function setText(id, text) {
  const el = document.getElementById(id);
  if (el) el.textContent = String(text);
}

/** HH:MM:SS of a Date, local time. */
export function hms(d) {
  const p = (n) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Parses the contract's `yyyy-MM-dd HH:mm[:ss]` (local time); null when malformed. */
export function parseLocal(s) {
  const m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(s || ''));
  if (!m) return null;
  return new Date(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +(m[6] || 0));
}

/** Short toast at the bottom of the page. kind: '' | 'error' | 'ok'. */
export function toast(message, kind = '') {
  const box = document.getElementById('toasts');
  if (!box) return;
  const t = h('div', { className: `toast ${kind}`, attrs: { role: kind === 'error' ? 'alert' : 'status' } }, message);
  box.appendChild(t);
  setTimeout(() => t.remove(), kind === 'error' ? 6000 : 3500);
  while (box.children.length > 4) box.firstChild.remove();
}
