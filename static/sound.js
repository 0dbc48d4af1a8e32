// Sound for alerts: a spoken line per alert type (speechSynthesis, zh-CN) and a WebAudio chime
// (OscillatorNode) when speech cannot be heard. Browsers keep audio locked until the user
// interacts with the page, so the dashboard shows an "enable sound" control until the
// AudioContext runs; the same click asks for desktop-notification permission.

export const SPEECH = {
  1: '您有新的外卖订单，请及时接单',
  2: '顾客催单了，请尽快处理',
};

const MUTE_KEY = 'sky.muted';

export class Sound extends EventTarget {
  constructor() {
    super();
    this.ctx = null;
    this.voice = null;
    this.muted = readMuted();
    const synth = window.speechSynthesis;
    if (synth && typeof synth.getVoices === 'function') {
      const pick = () => { this.voice = pickVoice(synth.getVoices()); };
      pick();
      // Chrome fills the voice list asynchronously.
      if (typeof synth.addEventListener === 'function') synth.addEventListener('voiceschanged', pick);
    }
  }

  /** True once an AudioContext runs (the browser unlocked audio after a user gesture). */
  get ready() { return !!this.ctx && this.ctx.state === 'running'; }

  /** Whether speech can be heard: the API exists and the system has at least one voice. */
  get canSpeak() {
    const synth = window.speechSynthesis;
    if (!synth || typeof synth.speak !== 'function' || typeof window.SpeechSynthesisUtterance !== 'function') return false;
    try { return synth.getVoices().length > 0; } catch (e) { return false; }
  }

  setMuted(m) {
    this.muted = !!m;
    try { localStorage.setItem(MUTE_KEY, this.muted ? '1' : '0'); } catch (e) { /* ignore */ }
    if (this.muted && window.speechSynthesis && window.speechSynthesis.cancel) window.speechSynthesis.cancel();
    this.changed();
  }

  changed() { this.dispatchEvent(new Event('change')); }

  /**
   * Must run inside the click handler (a user gesture): creates/resumes the AudioContext,
   * asks for notification permission, and confirms with a short chime and voice.
   */
  async enable() {
    if ('Notification' in window && Notification.permission === 'default') {
      // Not awaited: the permission prompt must not delay unlocking audio.
      try { Notification.requestPermission().catch(() => {}); } catch (e) { /* old callback API */ }
    }
    const Ctx = window.AudioContext || window.webkitAudioContext;
    if (Ctx) {
      if (!this.ctx) {
        this.ctx = new Ctx();
        this.ctx.addEventListener('statechange', () => this.changed());
      }
      try { await this.ctx.resume(); } catch (e) { /* stays suspended: the control stays visible */ }
    }
    // Speaking once inside the gesture also unlocks speechSynthesis in Chrome.
    if (!this.muted) {
      this.chime(0);
      this.say('声音已启用');
    }
    this.changed();
    return this.ready;
  }

  /** Rings for one alert: its voice line (the reminder with the order's last 4 digits). */
  announce(type, orderNumber) {
    if (this.muted) return;
    let text = SPEECH[type] || SPEECH[1];
    if (type === 2 && orderNumber) text += `，订单尾号${String(orderNumber).slice(-4)}`;
    this.chime(type);
    this.say(text);
  }

  /** Speaks a summary line (e.g. "离线期间收到 3 条提醒"). */
  announceText(text) {
    if (this.muted) return;
    this.chime(1);
    this.say(text);
  }

  say(text) {
    const synth = window.speechSynthesis;
    if (!synth || typeof synth.speak !== 'function' || typeof window.SpeechSynthesisUtterance !== 'function') return false;
    try {
      const u = new SpeechSynthesisUtterance(text);
      u.lang = 'zh-CN';
      if (this.voice) u.voice = this.voice;
      u.rate = 1;
      synth.speak(u);
      return true;
    } catch (e) {
      return false;
    }
  }

  /**
   * The WebAudio chime. Played only when speech would be silent (no API or no voice), so an
   * alert is never mute; kind 1 = rising two-tone, 2 = three urgent beeps, 0 = one soft blip.
   */
  chime(kind) {
    if (this.canSpeak || !this.ready) return false;
    const ctx = this.ctx;
    const notes = kind === 2
      ? [[1320, 0, 0.12], [1320, 0.18, 0.12], [1320, 0.36, 0.12]]
      : kind === 1 ? [[660, 0, 0.25], [990, 0.28, 0.4]] : [[880, 0, 0.12]];
    const t0 = ctx.currentTime + 0.02;
    for (const [freq, at, len] of notes) {
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = kind === 2 ? 'square' : 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t0 + at);
      gain.gain.exponentialRampToValueAtTime(kind === 2 ? 0.15 : 0.3, t0 + at + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t0 + at + len);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t0 + at);
      osc.stop(t0 + at + len + 0.05);
    }
    return true;
  }
}

function pickVoice(voices) {
  const norm = (l) => String(l || '').replace('_', '-').toLowerCase();
  return voices.find((v) => norm(v.lang) === 'zh-cn')
    || voices.find((v) => norm(v.lang).startsWith('zh'))
    || null;
}

function readMuted() {
  try { return localStorage.getItem(MUTE_KEY) === '1'; } catch (e) { return false; }
}
