// The seed's test page: connect to /ws/{random id}, show each raw frame (as text, never
// HTML), send text, close. The stock admin page's protocol: the server sends only
// {"type","orderId","content"} frames; keep-alive is a WebSocket ping the browser answers.
(function () {
  'use strict';
  var ws = null;
  var log = document.getElementById('log');
  var state = document.getElementById('state');
  var text = document.getElementById('text');
  function line(cls, t) {
    var div = document.createElement('div');
    div.className = cls;
    div.textContent = new Date().toLocaleTimeString() + '  ' + t;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  function setConnected(on) {
    document.getElementById('connect').disabled = on;
    document.getElementById('close').disabled = !on;
    document.getElementById('send').disabled = !on;
    state.textContent = on ? '已连接' : '未连接';
    state.dataset.state = on ? 'open' : 'closed';
  }
  function send() {
    var t = text.value;
    if (ws && ws.readyState === 1) { ws.send(t); line('out', '⇒ ' + t); }
  }
  document.getElementById('connect').addEventListener('click', function () {
    var sid = Math.random().toString(36).slice(2);
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/' + sid;
    line('sys', 'connecting ' + url);
    document.getElementById('connect').disabled = true;
    ws = new WebSocket(url);
    ws.onopen = function () { setConnected(true); line('sys', 'open'); };
    ws.onmessage = function (e) { line('in', '⇐ ' + e.data); };
    ws.onclose = function (e) {
      setConnected(false);
      // A handshake refused before the upgrade (401 not logged in / 403 origin) shows as 1006.
      line('sys', 'closed ' + e.code + (e.reason ? ' ' + e.reason : '') +
        (e.code === 1006 ? ' (refused or dropped: logged in? see the server log)' : ''));
    };
    ws.onerror = function () { line('sys', 'error'); };
  });
  document.getElementById('close').addEventListener('click', function () { if (ws) ws.close(1000, 'bye'); });
  document.getElementById('send').addEventListener('click', send);
  text.addEventListener('keydown', function (e) { if (e.key === 'Enter') send(); });
  document.getElementById('clear').addEventListener('click', function () { log.replaceChildren(); });
}());
