// Client of the richer alert protocol `/ws/v2/alerts` (docs/protocol.md), built never to go
// deaf:
//  * it authenticates with the session cookie and passes the largest sequence it processed
//    (`lastSeq`, kept in localStorage per shop) so the server replays what it missed;
//  * it reconnects with exponential backoff and FULL jitter
//    (delay = random(0, min(maxBackoffMs, baseMs * 2^attempt))), resetting the attempt count
//    only after a connection stayed up for `stableMs` (a server that accepts and immediately
//    drops us must not be hammered);
//  * the server sends {"event":"ping"} every 25 s; if nothing at all arrives for `deadMs`
//    (60 s) the link is treated as dead (a half-open TCP connection never fires `close`);
//  * close 4001 (not authenticated) and 4003 (the session ended: the account was disabled or
//    its password changed) mean "log in again": no reconnect. Everything else (1012 restart,
//    4008 too slow, 1006 network, …) reconnects.
//
// Events (CustomEvent, details in `detail`):
//   status   {state: 'connecting'|'live'|'reconnecting'|'offline'|'stopped', since: Date|null}
//   welcome  {seq, shopId, unhandled, replaying}
//   alert    {alert, replayed}      replayed = it arrived between welcome and live
//   live     {replayed: [alerts]}   the replay is over (also sent when there was none)
//   handled  {alertIds, orderId}
//   truncated {fromSeq, toSeq}
//   servererror {message, alertId}
//   retry    {attempt, delay}      the next connect is scheduled in `delay` ms
//   unauthorized {}

export class AlertSocket extends EventTarget {
  constructor(opts) {
    super();
    this.shopId = opts.shopId;
    this.url = opts.url || `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/v2/alerts`;
    this.baseMs = opts.baseMs || 500;
    this.maxBackoffMs = opts.maxBackoffMs || 20000;
    this.deadMs = opts.deadMs || 60000;
    this.stableMs = opts.stableMs || 10000;
    // Before the welcome, give up sooner than deadMs: a connect that hangs is a dead link too.
    this.connectTimeoutMs = Math.min(this.deadMs, opts.connectTimeoutMs || 15000);
    // Called after a connection failed before its welcome: resolves false when the session is
    // gone (the handshake may then be refused with a bare 401, which a browser cannot see).
    this.checkSession = opts.checkSession || (async () => true);
    this.random = opts.random || Math.random;
    this.storageKey = `sky.lastSeq.shop${this.shopId}`;
    this.lastSeq = readSeq(this.storageKey);
    this.ws = null;
    this.gen = 0;           // bumps on every connect/stop: callbacks of older sockets are ignored
    this.attempt = 0;
    this.downSince = null;  // when the link went down (for "reconnecting since HH:MM:SS")
    this.state = 'stopped';
    this.timers = {};
    this.stopped = true;
    this.onOnline = () => { if (!this.stopped && !this.ws) { this.attempt = 0; this.connectNow(); } };
    this.onOffline = () => { if (!this.stopped && this.state !== 'live') this.setState('offline'); };
  }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
    this.connectNow();
  }

  /** Stops for good (logout): no reconnect. */
  stop() {
    this.stopped = true;
    this.gen++;
    this.clearTimers();
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    if (this.ws) { try { this.ws.close(1000, 'bye'); } catch (e) { /* already closed */ } }
    this.ws = null;
    this.setState('stopped');
  }

  get isLive() { return this.state === 'live' && this.ws && this.ws.readyState === WebSocket.OPEN; }

  /** Sends an ack; false when the socket is not up (the caller falls back to REST). */
  ack(alertId) {
    if (!this.isLive) return false;
    this.ws.send(JSON.stringify({ type: 'ack', alertId }));
    return true;
  }

  // ---- internals ----

  emit(type, detail) { this.dispatchEvent(new CustomEvent(type, { detail })); }

  setState(state) {
    this.state = state;
    this.emit('status', { state, since: this.downSince });
  }

  clearTimers() {
    for (const t of Object.values(this.timers)) clearTimeout(t);
    this.timers = {};
  }

  rememberSeq(seq) {
    if (typeof seq !== 'number' || !(seq >= 0)) return;
    if (this.lastSeq == null || seq > this.lastSeq) {
      this.lastSeq = seq;
      // Several tabs of one shop share the key: keep the larger value.
      const stored = readSeq(this.storageKey);
      if (stored == null || seq > stored) writeSeq(this.storageKey, seq);
    }
  }

  connectNow() {
    this.clearTimers();
    const gen = ++this.gen;
    if (this.state !== 'reconnecting' && this.state !== 'offline') this.setState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch (e) {
      this.down(gen, 1006, false);
      return;
    }
    this.ws = ws;
    const conn = { welcomed: false, replaying: false, replayed: [], sentSeq: null };
    this.armDeadTimer(gen, this.connectTimeoutMs);

    ws.onopen = () => {
      if (gen !== this.gen) return;
      // No token: the browser sent the HttpOnly session cookie with the handshake. lastSeq is
      // omitted when this shop was never seen from this browser (no history replayed).
      const auth = { type: 'auth' };
      if (this.lastSeq != null) auth.lastSeq = this.lastSeq;
      conn.sentSeq = auth.lastSeq == null ? null : auth.lastSeq;
      ws.send(JSON.stringify(auth));
    };
    ws.onmessage = (e) => {
      if (gen !== this.gen) return;
      this.armDeadTimer(gen, conn.welcomed ? this.deadMs : this.connectTimeoutMs);
      let msg;
      try { msg = JSON.parse(e.data); } catch (err) { return; }
      if (msg && typeof msg === 'object') this.handle(gen, conn, msg);
    };
    ws.onclose = (e) => {
      if (gen !== this.gen) return;
      this.down(gen, e.code, conn.welcomed);
    };
    ws.onerror = () => { /* a close event follows */ };
  }

  handle(gen, conn, msg) {
    switch (msg.event) {
      case 'welcome': {
        if (conn.sentSeq != null && typeof msg.seq === 'number' && msg.seq < conn.sentSeq) {
          // The shop's sequence went backwards (a new database): the server would skip every
          // alert up to our old lastSeq. Adopt its sequence and connect again at once.
          this.lastSeq = msg.seq;
          writeSeq(this.storageKey, msg.seq);
          this.restart(gen);
          return;
        }
        conn.welcomed = true;
        conn.replaying = conn.sentSeq != null && msg.seq > conn.sentSeq;
        this.downSince = null;
        this.armDeadTimer(gen, this.deadMs);
        // The connection counts as stable (backoff reset) only after it stayed up a while.
        this.timers.stable = setTimeout(() => { if (gen === this.gen) this.attempt = 0; }, this.stableMs);
        this.emit('welcome', { seq: msg.seq, shopId: msg.shopId, unhandled: msg.unhandled || [], replaying: conn.replaying });
        if (!conn.replaying) {
          this.rememberSeq(msg.seq);
          this.setState('live');
          this.emit('live', { replayed: [] });
        }
        break;
      }
      case 'alert':
        this.rememberSeq(msg.seq);
        if (conn.replaying) conn.replayed.push(msg);
        this.emit('alert', { alert: msg, replayed: conn.replaying });
        break;
      case 'live':
        this.rememberSeq(msg.seq);
        if (conn.replaying) {
          conn.replaying = false;
          this.setState('live');
          this.emit('live', { replayed: conn.replayed });
          conn.replayed = [];
        }
        break;
      case 'truncated':
        this.emit('truncated', { fromSeq: msg.fromSeq, toSeq: msg.toSeq });
        break;
      case 'handled':
        this.emit('handled', { alertIds: msg.alertIds || [], orderId: msg.orderId });
        break;
      case 'error':
        this.emit('servererror', { message: msg.message, alertId: msg.alertId });
        break;
      default:
        // ping / pong / future events: receiving them already re-armed the dead timer.
        break;
    }
  }

  /** No message for `ms`: the link is dead even if the browser did not notice. */
  armDeadTimer(gen, ms) {
    clearTimeout(this.timers.dead);
    this.timers.dead = setTimeout(() => {
      if (gen !== this.gen) return;
      this.restart(gen, true);
    }, ms);
  }

  /** Drops the current socket without waiting for its close handshake. */
  restart(gen, dead = false) {
    const ws = this.ws;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
      try { ws.close(); } catch (e) { /* ignore */ }
    }
    // A dead link is not a refused session: skip the session check (it could hang as well).
    if (dead) this.down(gen, 4000, true);
    else this.connectNow();
  }

  async down(gen, code, welcomed) {
    this.ws = null;
    this.clearTimers();
    if (this.stopped || gen !== this.gen) return;
    if (code === 4001 || code === 4003) {
      this.setState('stopped');
      this.stopped = true;
      this.emit('unauthorized', {});
      return;
    }
    if (!this.downSince) this.downSince = new Date();
    this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
    if (!welcomed) {
      // Failed before the welcome: maybe the session expired (bare 401 on the handshake).
      let ok = true;
      try { ok = await this.checkSession(); } catch (e) { ok = true; /* server unreachable */ }
      if (this.stopped || gen !== this.gen) return;
      if (ok === false) {
        this.stopped = true;
        this.setState('stopped');
        this.emit('unauthorized', {});
        return;
      }
    }
    const cap = Math.min(this.maxBackoffMs, this.baseMs * 2 ** this.attempt);
    const delay = Math.floor(this.random() * cap);   // FULL jitter: anywhere in [0, cap)
    this.emit('retry', { attempt: this.attempt, delay });
    this.attempt = Math.min(this.attempt + 1, 30);
    this.timers.retry = setTimeout(() => { if (gen === this.gen && !this.stopped) this.connectNow(); }, delay);
  }
}

function readSeq(key) {
  try {
    const v = localStorage.getItem(key);
    const n = v == null ? NaN : Number(v);
    return Number.isInteger(n) && n >= 0 ? n : null;
  } catch (e) { return null; }
}

function writeSeq(key, n) {
  try { localStorage.setItem(key, String(n)); } catch (e) { /* private mode: memory only */ }
}
