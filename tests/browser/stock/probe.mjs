// What the stock admin app does, recorded inside the page before its own scripts run:
// every Element-UI toast (`.el-message`, with its type) and notification (`.el-notification`),
// every `HTMLMediaElement.play()` (the voice clips), and the number of XHRs in flight (so a
// test waits for the page's requests and their handlers instead of sleeping).

/** Installed with `context.addInitScript`; the page reads it as `window.__stock`. */
export const PAGE_PROBE = `(() => {
  const S = window.__stock = { toasts: [], notices: [], plays: [], inflight: 0, xhrDone: 0 };
  const seen = new WeakSet();
  const text = (el) => (el ? el.textContent.replace(/\\s+/g, ' ').trim() : '');
  const scan = () => {
    for (const el of document.querySelectorAll('.el-message')) {
      if (seen.has(el)) continue;
      seen.add(el);
      const type = ([...el.classList].find((c) => c.startsWith('el-message--')) || '').slice('el-message--'.length);
      S.toasts.push({ type, text: text(el.querySelector('.el-message__content') || el) });
    }
    for (const el of document.querySelectorAll('.el-notification')) {
      if (seen.has(el)) continue;
      seen.add(el);
      S.notices.push({ title: text(el.querySelector('.el-notification__title')), text: text(el.querySelector('.el-notification__content')) });
    }
  };
  new MutationObserver(scan).observe(document, { childList: true, subtree: true });

  // The voice: record the call and what became of it, without touching the app's promise.
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    const source = this.querySelector('source');
    const rec = { src: this.currentSrc || this.src || (source && source.src) || '', result: 'called' };
    S.plays.push(rec);
    this.addEventListener('playing', () => { rec.result = 'playing'; }, { once: true });
    this.addEventListener('error', () => { rec.result = 'error'; }, { once: true });
    return play.apply(this, arguments);
  };

  // In-flight XHRs (axios): the count drops one task after loadend, once the promise chain
  // and Vue's re-render (microtasks) have run.
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function () {
    S.inflight++;
    this.addEventListener('loadend', () => setTimeout(() => { S.inflight--; S.xhrDone++; }, 0));
    return send.apply(this, arguments);
  };
})();`;

/** Resolves once the page has no XHR in flight (its handlers included). */
export async function settled(page, timeout) {
  await page.waitForFunction(() => window.__stock && window.__stock.inflight === 0, null, { timeout });
}

/** How many toasts the page has shown so far (pass it to `nextToast`). */
export async function toastMark(page) {
  return page.evaluate(() => window.__stock.toasts.length);
}

/**
 * The first toast shown after `mark` ({type: 'success'|'error'|'warning'|'info', text}).
 * Fails with what the page did show when none comes within `timeout`.
 */
export async function nextToast(page, mark, timeout = 15000) {
  try {
    const h = await page.waitForFunction((m) => window.__stock.toasts.length > m && window.__stock.toasts[m], mark, { timeout });
    return h.jsonValue();
  } catch (e) {
    const all = await page.evaluate(() => window.__stock.toasts).catch(() => []);
    throw new Error(`no toast within ${timeout} ms (toasts so far: ${JSON.stringify(all)})`);
  }
}

/** Every notification the page has shown ({title, text}). */
export async function notices(page) {
  return page.evaluate(() => window.__stock.notices.slice());
}

/** Every `play()` call ({src, result}). */
export async function plays(page) {
  return page.evaluate(() => window.__stock.plays.map((p) => ({ ...p })));
}
