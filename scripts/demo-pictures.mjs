// Generates the demo menu's pictures (assets/demo-pictures/*.jpg) and the small sample
// images of the tests (tests/fixtures/images/sample.{png,jpg,webp}): drawn on a canvas in
// headless Debian chromium (driven by the browser tests' playwright-core), no network, the
// same output for the same script (a seeded random generator; chromium's encoders).
//
//   (cd tests/browser && npm ci) && node scripts/demo-pictures.mjs
//
// The pictures are committed; src/blobs/demo.rs embeds them by file name. A dish or set meal
// of the demo data without a picture of its own gets `fallback.jpg`.

import { createRequire } from 'node:module';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(path.join(ROOT, 'tests/browser/package.json'));
const { chromium } = require('playwright-core');

/** [file, label, motif, plate colour, table colour]: one picture each. */
const PICTURES = [
  ['gongbao-jiding', '宫保鸡丁', 'gongbao', '#f4f1ea', '#8a5a3b'],
  ['yuxiang-rousi', '鱼香肉丝', 'rousi', '#f7f3ec', '#6e4a33'],
  ['mapo-doufu', '麻婆豆腐', 'mapo', '#e9e4da', '#5b3b2a'],
  ['hongshao-rou', '红烧肉', 'hongshao', '#f5efe3', '#7b4f33'],
  ['mifan', '米饭', 'rice', '#e8eef2', '#9a6b46'],
  ['yangzhou-chaofan', '扬州炒饭', 'friedrice', '#f3f0e8', '#84593c'],
  ['niurou-mian', '牛肉面', 'noodles', '#efe8dc', '#5e3f2c'],
  ['suanmei-tang', '酸梅汤', 'plum', '#dfe9ee', '#a07a55'],
  ['doujiang', '豆浆', 'soymilk', '#dfe9ee', '#8f6848'],
  ['kele', '可乐', 'cola', '#dfe9ee', '#6b4a36'],
  ['danren-chuanwei', '单人川味套餐', 'family', '#f4f1ea', '#6f4a31'],
  ['shuangren-fenxiang', '双人分享套餐', 'tray2', '#f4f1ea', '#7d5336'],
  ['shangwu-jiancan', '商务简餐', 'bento', '#2b2b2b', '#94704f'],
  ['fallback', '苍穹外卖', 'fallback', '#f4f1ea', '#86603f'],
];

/** Runs in the page: draws one picture and returns it as a JPEG data URL. */
function draw([, label, motif, plateColour, tableColour], W, H) {
  let seed = [...label].reduce((a, c) => (a * 31 + c.codePointAt(0)) >>> 0, 7);
  const rnd = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const g = canvas.getContext('2d');
  const between = (a, b) => a + rnd() * (b - a);

  // The table: a wood-like gradient with grain.
  const bg = g.createLinearGradient(0, 0, W, H);
  bg.addColorStop(0, tableColour); bg.addColorStop(1, '#2e1d12');
  g.fillStyle = bg; g.fillRect(0, 0, W, H);
  g.globalAlpha = 0.08; g.strokeStyle = '#000';
  for (let y = 0; y < H; y += 7) { g.beginPath(); g.moveTo(0, y + between(-2, 2)); g.bezierCurveTo(W / 3, y + between(-6, 6), W * 2 / 3, y + between(-6, 6), W, y); g.stroke(); }
  g.globalAlpha = 1;

  const shadow = (blur = 18) => { g.shadowColor = 'rgba(0,0,0,0.45)'; g.shadowBlur = blur; g.shadowOffsetY = 6; };
  const noShadow = () => { g.shadowColor = 'transparent'; g.shadowBlur = 0; g.shadowOffsetY = 0; };
  const plate = (x, y, r, colour = plateColour) => {
    shadow(); g.fillStyle = colour; g.beginPath(); g.arc(x, y, r, 0, 7); g.fill(); noShadow();
    g.strokeStyle = 'rgba(0,0,0,0.10)'; g.lineWidth = 3; g.beginPath(); g.arc(x, y, r * 0.8, 0, 7); g.stroke();
  };
  const bowl = (x, y, r, fill) => {
    shadow(); g.fillStyle = '#fbfbf8'; g.beginPath(); g.arc(x, y, r, 0, 7); g.fill(); noShadow();
    const inner = g.createRadialGradient(x - r * 0.2, y - r * 0.2, r * 0.1, x, y, r * 0.86);
    inner.addColorStop(0, fill[0]); inner.addColorStop(1, fill[1]);
    g.fillStyle = inner; g.beginPath(); g.arc(x, y, r * 0.86, 0, 7); g.fill();
  };
  const glass = (x, y, w, h, drink, foam) => {
    shadow(12); g.fillStyle = 'rgba(255,255,255,0.35)';
    g.beginPath(); g.moveTo(x - w / 2, y - h / 2); g.lineTo(x + w / 2, y - h / 2); g.lineTo(x + w * 0.4, y + h / 2); g.lineTo(x - w * 0.4, y + h / 2); g.closePath(); g.fill(); noShadow();
    const d = g.createLinearGradient(x - w / 2, 0, x + w / 2, 0);
    d.addColorStop(0, drink[0]); d.addColorStop(0.5, drink[1]); d.addColorStop(1, drink[0]);
    g.fillStyle = d; const top = y - h / 2 + h * 0.18;
    g.beginPath(); g.moveTo(x - w * 0.47, top); g.lineTo(x + w * 0.47, top); g.lineTo(x + w * 0.4 - 3, y + h / 2 - 4); g.lineTo(x - w * 0.4 + 3, y + h / 2 - 4); g.closePath(); g.fill();
    if (foam) { g.fillStyle = foam; g.fillRect(x - w * 0.47, top - 4, w * 0.94, 8); }
    g.fillStyle = 'rgba(255,255,255,0.35)'; g.fillRect(x - w * 0.3, top + 8, 6, h * 0.6);
  };
  const scatter = (cx, cy, r, n, piece) => {
    for (let i = 0; i < n; i++) {
      const a = rnd() * Math.PI * 2, d = Math.sqrt(rnd()) * r;
      piece(cx + Math.cos(a) * d, cy + Math.sin(a) * d * 0.9, a);
    }
  };
  const cube = (colour, s) => (x, y, a) => {
    g.save(); g.translate(x, y); g.rotate(a);
    g.fillStyle = colour; g.fillRect(-s / 2, -s / 2, s, s);
    g.fillStyle = 'rgba(255,255,255,0.25)'; g.fillRect(-s / 2, -s / 2, s, s / 4);
    g.restore();
  };
  const blob = (colour, rx, ry) => (x, y, a) => { g.fillStyle = colour; g.beginPath(); g.ellipse(x, y, rx, ry, a, 0, 7); g.fill(); };
  const strip = (colour, len, width) => (x, y, a) => {
    g.strokeStyle = colour; g.lineWidth = width; g.lineCap = 'round';
    g.beginPath(); g.moveTo(x, y); g.quadraticCurveTo(x + Math.cos(a + 0.5) * len / 2, y + Math.sin(a + 0.5) * len / 2, x + Math.cos(a) * len, y + Math.sin(a) * len); g.stroke();
  };
  const sauce = (x, y, r, colour) => {
    const s = g.createRadialGradient(x, y, r * 0.2, x, y, r);
    s.addColorStop(0, colour); s.addColorStop(1, 'rgba(0,0,0,0)');
    g.fillStyle = s; g.beginPath(); g.arc(x, y, r, 0, 7); g.fill();
  };
  const chopsticks = (x, y) => {
    g.save(); g.translate(x, y); g.rotate(-0.35); shadow(8);
    g.fillStyle = '#c9a26b'; g.fillRect(0, 0, 210, 7); g.fillRect(0, 14, 210, 7); g.restore(); noShadow();
  };
  const rice = (x, y, r, colour = '#fffdf6') => scatter(x, y, r, 420, blob(colour, 3.5, 2));
  const cx = W / 2, cy = H / 2 - 18;

  const motifs = {
    gongbao() {
      plate(cx, cy, 140); sauce(cx, cy, 110, 'rgba(170,70,20,0.55)');
      scatter(cx, cy, 95, 60, cube('#e2b27a', 18)); scatter(cx, cy, 95, 45, blob('#b06a2c', 8, 5));
      scatter(cx, cy, 95, 22, strip('#c81e10', 22, 6)); scatter(cx, cy, 95, 18, cube('#5a9a3a', 8));
    },
    rousi() {
      plate(cx, cy, 140); sauce(cx, cy, 110, 'rgba(180,60,30,0.6)');
      scatter(cx, cy, 95, 90, strip('#9c3b1d', 36, 5)); scatter(cx, cy, 90, 30, strip('#4f9a3a', 30, 5));
      scatter(cx, cy, 85, 18, blob('#2a2220', 10, 6)); scatter(cx, cy, 85, 16, strip('#e07a2a', 26, 4));
    },
    mapo() {
      bowl(cx, cy, 135, ['#d2461e', '#7a1a0a']);
      scatter(cx, cy, 90, 40, cube('#f3e6c8', 22)); scatter(cx, cy, 100, 120, blob('#5a1a0a', 2.5, 2.5));
      scatter(cx, cy, 90, 30, cube('#4c8c33', 6));
    },
    hongshao() {
      plate(cx, cy, 140); sauce(cx, cy, 115, 'rgba(120,30,10,0.7)');
      scatter(cx, cy, 80, 16, (x, y, a) => { cube('#7a2a12', 38)(x, y, a); cube('#f1d9b5', 38)(x, y - 14, a); cube('#8e3315', 30)(x, y + 4, a); });
      scatter(cx, cy, 90, 14, cube('#3f8a2f', 7));
    },
    rice() { bowl(cx, cy, 130, ['#ffffff', '#ece8dc']); rice(cx, cy - 5, 100); chopsticks(cx - 180, cy + 110); },
    friedrice() {
      plate(cx, cy, 140); rice(cx, cy, 110, '#f1c94e');
      scatter(cx, cy, 100, 50, blob('#5fa83a', 5, 5)); scatter(cx, cy, 100, 40, cube('#ee7a2b', 7));
      scatter(cx, cy, 95, 25, blob('#fff2b0', 9, 6)); scatter(cx, cy, 95, 20, cube('#d9827a', 9));
    },
    noodles() {
      bowl(cx, cy, 140, ['#c8753a', '#7a3a14']);
      for (let i = 0; i < 26; i++) { const y0 = cy - 60 + i * 5; g.strokeStyle = '#f3dfae'; g.lineWidth = 4; g.beginPath(); g.moveTo(cx - 90, y0); for (let x = -90; x <= 90; x += 15) g.lineTo(cx + x, y0 + Math.sin(x / 9 + i) * 5); g.stroke(); }
      scatter(cx, cy - 10, 70, 7, blob('#7a3b22', 26, 14)); scatter(cx, cy, 95, 40, blob('#3e8f2b', 5, 3));
      chopsticks(cx - 40, cy - 140);
    },
    plum() { glass(cx, cy + 10, 150, 230, ['#5a0f12', '#8d1e22']); scatter(cx, cy - 30, 40, 5, cube('rgba(255,255,255,0.55)', 30)); },
    soymilk() { glass(cx, cy + 10, 150, 230, ['#eadfc6', '#fbf4e2'], '#fffaf0'); },
    cola() {
      glass(cx, cy + 10, 150, 230, ['#2a120a', '#4a2212'], '#d9b48a');
      scatter(cx, cy + 30, 50, 40, blob('rgba(255,255,255,0.5)', 2, 2)); scatter(cx, cy - 20, 35, 4, cube('rgba(255,255,255,0.5)', 26));
    },
    tray2() {
      g.fillStyle = '#c0392b'; shadow(); g.fillRect(40, 40, W - 80, H - 120); noShadow();
      bowl(cx - 100, cy, 80, ['#d2461e', '#7a1a0a']); scatter(cx - 100, cy, 50, 18, cube('#f3e6c8', 14));
      bowl(cx + 100, cy, 80, ['#ffffff', '#ece8dc']); rice(cx + 100, cy, 58);
      glass(cx, cy - 40, 60, 100, ['#2a120a', '#4a2212'], '#d9b48a');
    },
    bento() {
      shadow(); g.fillStyle = plateColour; g.fillRect(60, 40, W - 120, H - 130); noShadow();
      g.fillStyle = '#1a1a1a'; g.fillRect(70, 50, 200, H - 150); g.fillRect(280, 50, W - 350, (H - 160) / 2); g.fillRect(280, 60 + (H - 160) / 2, W - 350, (H - 160) / 2);
      rice(170, cy - 5, 80); scatter(345, 100, 40, 14, strip('#9c3b1d', 26, 5)); scatter(345, 205, 40, 16, cube('#e2b27a', 14));
    },
    family() {
      plate(cx - 130, cy - 40, 85); scatter(cx - 130, cy - 40, 55, 26, cube('#e2b27a', 14)); scatter(cx - 130, cy - 40, 55, 12, strip('#c81e10', 16, 4));
      plate(cx + 130, cy - 40, 85); scatter(cx + 130, cy - 40, 50, 8, cube('#7a2a12', 24));
      bowl(cx, cy + 40, 80, ['#c8753a', '#7a3a14']); scatter(cx, cy + 40, 50, 6, blob('#7a3b22', 18, 10));
      bowl(cx - 170, cy + 95, 45, ['#ffffff', '#ece8dc']); rice(cx - 170, cy + 95, 32);
      bowl(cx + 170, cy + 95, 45, ['#ffffff', '#ece8dc']); rice(cx + 170, cy + 95, 32);
    },
    fallback() { bowl(cx, cy, 130, ['#f6e7c8', '#d9b98a']); scatter(cx, cy, 90, 30, cube('#e2b27a', 16)); scatter(cx, cy, 90, 30, cube('#5a9a3a', 7)); chopsticks(cx - 170, cy + 105); },
  };
  motifs[motif]();

  // The name, on a strip at the bottom.
  g.fillStyle = 'rgba(0,0,0,0.55)'; g.fillRect(0, H - 62, W, 62);
  g.fillStyle = '#fff'; g.font = 'bold 34px "Noto Sans CJK SC", "Noto Serif CJK SC", sans-serif';
  g.textAlign = 'center'; g.textBaseline = 'middle'; g.fillText(label, W / 2, H - 31);
  return canvas.toDataURL('image/jpeg', 0.8);
}

/** Runs in the page: a small gradient picture in each format the tests check. */
function samples(W, H) {
  const canvas = document.createElement('canvas');
  canvas.width = W; canvas.height = H;
  const g = canvas.getContext('2d');
  const grad = g.createLinearGradient(0, 0, W, H);
  grad.addColorStop(0, '#f0a028'); grad.addColorStop(1, '#2860f0');
  g.fillStyle = grad; g.fillRect(0, 0, W, H);
  g.fillStyle = '#fff'; g.fillRect(W / 4, H / 4, W / 2, H / 2);
  return ['image/png', 'image/jpeg', 'image/webp'].map((t) => canvas.toDataURL(t, 0.8));
}

const decode = (dataUrl) => Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  await page.route('**', (route) => route.abort());
  await page.setContent('<html><body></body></html>');
  const out = path.join(ROOT, 'assets/demo-pictures');
  mkdirSync(out, { recursive: true });
  for (const p of PICTURES) {
    const jpeg = decode(await page.evaluate(([p, w, h]) => (0, eval)(`(${p.draw})`)(p.spec, w, h), [{ draw: draw.toString(), spec: p }, 480, 360]));
    writeFileSync(path.join(out, `${p[0]}.jpg`), jpeg);
    console.log(`${p[0]}.jpg ${p[1]} ${jpeg.length} bytes`);
  }
  const fixtures = path.join(ROOT, 'tests/fixtures/images');
  mkdirSync(fixtures, { recursive: true });
  const made = await page.evaluate(([f, w, h]) => (0, eval)(`(${f})`)(w, h), [samples.toString(), 64, 48]);
  for (const [ext, dataUrl] of [['png', made[0]], ['jpg', made[1]], ['webp', made[2]]]) {
    writeFileSync(path.join(fixtures, `sample.${ext}`), decode(dataUrl));
    console.log(`sample.${ext} ${decode(dataUrl).length} bytes`);
  }
} finally {
  await browser.close();
}
