// The seed's test page: connect to /ws/{random id}, show each raw frame (as text, never
// HTML), send text, close.
(function () {
  'use strict';
  var ws = null;
  var log = document.getElementById('log');
  var state = document.getElementById('state');
  function line(cls, text) {
    var div = document.createElement('div');
    div.className = cls;
    div.textContent = new Date().toLocaleTimeString() + '  ' + text;
    log.appendChild(div);
    log.scrollTop = log.scrollHeight;
  }
  function setConnected(on) {
    document.getElementById('connect').disabled = on;
    document.getElementById('close').disabled = !on;
    document.getElementById('send').disabled = !on;
    state.textContent = on ? '已连接' : '未连接';
  }
  document.getElementById('connect').onclick = function () {
    var sid = Math.random().toString(36).slice(2);
    var url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/ws/' + sid;
    line('sys', 'connecting ' + url);
    ws = new WebSocket(url);
    ws.onopen = function () { setConnected(true); line('sys', 'open'); };
    ws.onmessage = function (e) { line('in', '⇐ ' + e.data); };
    ws.onclose = function (e) { setConnected(false); line('sys', 'closed ' + e.code + (e.reason ? ' ' + e.reason : '')); };
    ws.onerror = function () { line('sys', 'error'); };
  };
  document.getElementById('close').onclick = function () { if (ws) ws.close(1000, 'bye'); };
  document.getElementById('send').onclick = function () {
    var t = document.getElementById('text').value;
    if (ws && ws.readyState === 1) { ws.send(t); line('out', '⇒ ' + t); }
  };
}());
