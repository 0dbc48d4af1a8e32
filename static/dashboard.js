// The merchant dashboard: login, the alert socket, notices, sound, desktop notifications, the
// title flasher, the connection indicator and the order board, wired together.
//
// Test knobs (URL parameter, else localStorage `sky.cfg.<name>`; production defaults otherwise):
//   maxBackoffMs (20000), deadMs (60000), stableMs (10000) — e.g. /?maxBackoffMs=2000
// Setting (same sources): adminAppUrl, where the course's admin app is served (default
// http://localhost/, behind the course's nginx), for the 后台管理 links.

import { api, whoAmI, onUnauthorized } from './api.js';
import { AlertSocket } from './alert-socket.js';
import { Board } from './board.js';
import { Figures } from './figures.js';
import { hms, toast } from './dom.js';
import { Notices } from './notices.js';
import { Sound } from './sound.js';

const BASE_TITLE = '商家工作台 · 苍穹外卖';
const $ = (id) => document.getElementById(id);

function knob(name, fallback) {
  const fromUrl = new URLSearchParams(location.search).get(name);
  let v = fromUrl;
  if (v == null) { try { v = localStorage.getItem(`sky.cfg.${name}`); } catch (e) { v = null; } }
  const n = Number(v);
  return v != null && v !== '' && Number.isFinite(n) && n > 0 ? n : fallback;
}

/** The course's admin app: an http(s) URL from the knob `adminAppUrl`, else the course's. */
function adminAppUrl() {
  const fromUrl = new URLSearchParams(location.search).get('adminAppUrl');
  let v = fromUrl;
  if (v == null) { try { v = localStorage.getItem('sky.cfg.adminAppUrl'); } catch (e) { v = null; } }
  try {
    const u = new URL(v || '');
    // Never a javascript: or data: link from a URL parameter.
    if (u.protocol === 'http:' || u.protocol === 'https:') {
      if (fromUrl != null) { try { localStorage.setItem('sky.cfg.adminAppUrl', u.href); } catch (e) { /* private mode */ } }
      return u;
    }
  } catch (e) { /* not a URL: the default */ }
  return new URL('http://localhost/');
}

/** Points the 后台管理 links at the admin app's routes (its router uses the hash). */
function wireBackOffice() {
  const base = adminAppUrl();
  for (const a of document.querySelectorAll('#back-office a[data-route]')) {
    const u = new URL(base.href);
    u.hash = `#/${a.dataset.route}`;
    a.href = u.href;
  }
  $('back-office-base').textContent = base.origin;
}
wireBackOffice();

const sound = new Sound();
const notices = new Notices($('notices'), { onAck: ackNotice, onOpen: (id) => board.openDetails(id) });
const board = new Board({
  alerting: () => ({ newOrders: notices.ordersWith(1), reminded: notices.ordersWith(2) }),
});
const figures = new Figures();
const desktop = new Map();   // notice key -> Notification
let socket = null;
let session = null;          // {id, shopId}
let replayFresh = 0;         // replayed alerts that opened/bumped a notice (for the summary)

// ---------------------------------------------------------------- login / session

async function boot() {
  if (session) return;   // a retry after the user logged in meanwhile
  let me;
  try {
    me = await whoAmI();
  } catch (e) {
    // Server unreachable at load: show the login screen with the reason, try again shortly.
    showLogin('无法连接服务器，正在重试… (server unreachable, retrying)');
    setTimeout(boot, 3000);
    return;
  } finally {
    document.body.classList.remove('booting');
  }
  if (session) return;
  if (me) startSession(me);
  else showLogin();
}

function showLogin(message) {
  $('app-view').hidden = true;
  $('login-view').hidden = false;
  const err = $('login-error');
  err.textContent = message || '';
  err.hidden = !message;
  document.title = `登录 · ${BASE_TITLE}`;
  const pw = $('login-password');
  if (!pw.value) setTimeout(() => pw.focus(), 0);
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const btn = $('login-submit');
  btn.disabled = true;
  try {
    const data = await api('POST', '/admin/employee/login', {
      username: $('login-username').value.trim(),
      password: $('login-password').value,
    });
    try { localStorage.setItem('sky.user', JSON.stringify({ id: data.id, name: data.name, userName: data.userName })); } catch (err) { /* ignore */ }
    $('login-password').value = '';
    startSession({ id: data.id, shopId: data.shopId });
  } catch (err) {
    showLogin(err.message);
  } finally {
    btn.disabled = false;
  }
});

$('logout').addEventListener('click', async () => {
  endSession();
  try { await api('POST', '/admin/employee/logout'); } catch (e) { /* the cookie may be gone already */ }
  showLogin();
});

onUnauthorized(() => {
  if (session) { endSession(); showLogin('登录已失效，请重新登录 (session expired)'); }
});

function startSession(me) {
  if (socket) endSession();
  session = me;
  $('login-view').hidden = true;
  $('app-view').hidden = false;
  $('shop-label').textContent = `店铺 #${me.shopId}`;
  let user = null;
  try { user = JSON.parse(localStorage.getItem('sky.user') || 'null'); } catch (e) { user = null; }
  $('user-label').textContent = user && user.id === me.id ? `${user.name || user.userName}` : `员工 #${me.id}`;
  notices.clear();
  board.clear();
  board.refresh();
  figures.start();
  updateSoundControls();
  socket = new AlertSocket({
    shopId: me.shopId,
    maxBackoffMs: knob('maxBackoffMs', 20000),
    deadMs: knob('deadMs', 60000),
    stableMs: knob('stableMs', 10000),
    checkSession: async () => {
      const ctl = new AbortController();
      const t = setTimeout(() => ctl.abort(), 5000);
      try {
        const res = await fetch('/admin/employee/me', { credentials: 'same-origin', signal: ctl.signal });
        return res.status !== 401;
      } finally { clearTimeout(t); }
    },
  });
  wireSocket(socket);
  socket.start();
}

function endSession() {
  if (socket) socket.stop();
  figures.stop();
  socket = null;
  session = null;
  notices.clear();
  board.clear();
  for (const n of desktop.values()) n.close();
  desktop.clear();
}

// ---------------------------------------------------------------- alerts

function wireSocket(s) {
  s.addEventListener('status', (e) => showConnection(e.detail));
  s.addEventListener('unauthorized', () => {
    endSession();
    showLogin('登录已失效，请重新登录 (session expired)');
  });
  let unhandledAtWelcome = [];
  s.addEventListener('welcome', (e) => {
    replayFresh = 0;
    unhandledAtWelcome = e.detail.unhandled;
    notices.reconcile(e.detail.unhandled);
    board.refreshSoon();
  });
  s.addEventListener('alert', (e) => {
    const { alert, replayed } = e.detail;
    const result = notices.upsert(alert);
    if (result) {
      if (replayed) replayFresh++;
      else {
        // Live: ring once per alert; re-alerts (realert > 0) bump the notice and ring again.
        sound.announce(alert.type, alert.orderNumber);
        notifyDesktop(`${alert.orderId}:${alert.type}`,
          alert.type === 2 ? '催单' : '待接单',
          alert.type === 2 ? `订单号：${alert.orderNumber}` : `您有1个订单待处理, 订单号：${alert.orderNumber}, 请及时接单`,
          alert.orderId);
      }
    }
    board.refreshSoon();
    figures.refreshSoon();
  });
  s.addEventListener('live', () => {
    // Unhandled alerts at or below our lastSeq (e.g. shown before a reload) are not replayed:
    // fetch them, silently, once the replay is over (so the replay is what rings).
    if (unhandledAtWelcome.some((id) => !notices.has(id))) restoreUnhandled();
    unhandledAtWelcome = [];
    // Alerts replayed after a reconnect are summarised in ONE notice and ONE spoken line.
    if (replayFresh > 0) {
      const n = replayFresh;
      replayFresh = 0;
      notices.summary(n);
      sound.announceText(`离线期间收到 ${n} 条提醒`);
      notifyDesktop('offline-summary', `离线期间收到 ${n} 条提醒`, `${n} alerts while offline`, null);
    }
    board.refreshSoon();
  });
  s.addEventListener('handled', (e) => {
    notices.removeIds(e.detail.alertIds);
    board.refreshSoon();
    figures.refreshSoon();
  });
  s.addEventListener('truncated', () => restoreUnhandled());
  s.addEventListener('servererror', (e) => {
    const { message, alertId } = e.detail;
    toast(`提醒处理失败：${message || ''}`, 'error');
    for (const n of notices.byKey.values()) if (alertId != null && n.ids.has(alertId)) notices.setPending(n, false);
  });
}

/** Silently shows the shop's unhandled alerts we have no notice for (no sound: not new). */
async function restoreUnhandled() {
  try {
    const list = await api('GET', '/admin/alerts?unhandled=true&limit=200');
    for (const a of (list || []).slice().reverse()) notices.upsert(a);
    board.render();
  } catch (e) { /* the socket's events keep us right; the next welcome retries */ }
}

/** Ack over the socket ({"type":"ack"}); REST when the socket is down or stays silent. */
function ackNotice(n) {
  const id = n.latestId;
  notices.setPending(n, true);
  if (n.type === 2) board.openDetails(n.orderId);   // 去处理: go and look at the order
  const viaRest = async () => {
    try {
      const r = await api('POST', `/admin/alerts/${id}/ack`);
      notices.removeIds((r && r.handledIds) || [id]);
      board.refreshSoon();
    } catch (e) {
      toast(e.message, 'error');
      if (notices.byKey.get(n.key) === n) notices.setPending(n, false);
    }
  };
  if (socket && socket.ack(id)) {
    // The server answers with `handled` to every screen; if that does not come, use REST.
    setTimeout(() => { if (notices.byKey.get(n.key) === n && n.ids.has(id)) viaRest(); }, 5000);
  } else {
    viaRest();
  }
}

function notifyDesktop(key, title, body, orderId) {
  if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  try {
    const old = desktop.get(key);
    if (old) old.close();
    const n = new Notification(title, { body, tag: `sky-${key}`, requireInteraction: orderId != null });
    n.onclick = () => {
      window.focus();
      if (orderId != null) board.openDetails(orderId);
      n.close();
    };
    desktop.set(key, n);
  } catch (e) { /* some platforms only allow notifications from a service worker */ }
}

notices.addEventListener('change', () => {
  // Close desktop notifications of notices that are gone (handled on this or another screen).
  for (const [key, n] of desktop) {
    if (key !== 'offline-summary' && !notices.byKey.has(key)) { n.close(); desktop.delete(key); }
  }
  updateTitle();
  board.render();
});

// ---------------------------------------------------------------- title flashing

let flashOn = false;
function updateTitle() {
  if (!session) return;
  const n = notices.count;
  if (n === 0) document.title = BASE_TITLE;
  else if (document.hidden) document.title = flashOn ? `(${n}) 新订单…` : `(${n}) ★★★★★★`;
  else document.title = `(${n}) ${BASE_TITLE}`;
}
setInterval(() => { flashOn = !flashOn; updateTitle(); }, 1000);
document.addEventListener('visibilitychange', () => {
  flashOn = true;
  updateTitle();
  if (!document.hidden) {
    for (const [key, n] of desktop) if (key === 'offline-summary') { n.close(); desktop.delete(key); }
  }
});

// ---------------------------------------------------------------- connection indicator

function showConnection({ state, since }) {
  const el = $('conn');
  el.dataset.state = state;
  const at = since ? hms(since) : '';
  const text = {
    live: '实时 live',
    connecting: '连接中… connecting',
    reconnecting: `重连中 reconnecting since ${at}`,
    offline: `离线 offline since ${at}`,
    stopped: '未连接 not connected',
  }[state] || state;
  $('conn-text').textContent = text;
  el.title = state === 'live' ? '提醒通道正常 alerts are live' : '提醒通道中断，恢复后自动补发 alerts will be replayed on reconnect';
  const banner = $('offline-banner');
  if (state === 'reconnecting' || state === 'offline') {
    banner.hidden = false;
    banner.classList.toggle('bad', state === 'offline');
    banner.textContent = state === 'offline'
      ? `网络已断开（自 ${at}）— 恢复后自动补发期间的提醒 · offline, alerts will be replayed`
      : `与服务器的连接中断（自 ${at}），正在重连… 期间的提醒会在恢复后补发 · reconnecting`;
  } else {
    banner.hidden = true;
  }
}

// ---------------------------------------------------------------- sound controls

function updateSoundControls() {
  $('enable-sound').hidden = sound.ready;
  $('mute').checked = sound.muted;
}
sound.addEventListener('change', updateSoundControls);
$('enable-sound').addEventListener('click', async () => {
  const ok = await sound.enable();
  updateSoundControls();
  if (!ok) toast('浏览器仍未允许播放声音，请再点一次 (sound still blocked, click again)', 'error');
});
$('mute').addEventListener('change', (e) => sound.setMuted(e.target.checked));
boot();

// Exposed for debugging in the console (not used by the page itself).
window.skyDashboard = { get socket() { return socket; }, notices, board, sound, figures };
