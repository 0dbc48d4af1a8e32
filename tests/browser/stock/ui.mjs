// Driving the stock app's Element-UI widgets the way a merchant does (labels, placeholders,
// dropdowns, confirm boxes), plus the test files the pages need (a real PNG) and a check of
// what a download is (an xlsx is a zip with a workbook).

import { deflateSync } from 'node:zlib';
import { STOCK_BASE } from './fixture.mjs';
import { nextToast, settled, toastMark } from './probe.mjs';

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
/** Matches an element whose whole text is `s` (spaces around it allowed). */
export const exactly = (s) => new RegExp(`^\\s*${esc(s)}\\s*$`);

/** The `.el-form-item` whose label reads `label` (e.g. '菜品名称:'). */
export function formItem(page, label) {
  return page.locator('.el-form-item').filter({ has: page.locator(':scope > .el-form-item__label', { hasText: exactly(label) }) });
}

/** Types into the input of the form item labelled `label`. */
export async function fill(page, label, value) {
  await formItem(page, label).locator('input, textarea').first().fill(String(value));
}

/** Opens the `el-select` in `scope` and picks the option reading `text`. */
export async function choose(page, scope, text) {
  await scope.locator('.el-select').first().click();
  const option = page.locator('.el-select-dropdown').filter({ visible: true })
    .locator('.el-select-dropdown__item').filter({ hasText: exactly(text) });
  await option.first().click();
  await page.locator('.el-select-dropdown').filter({ visible: true }).first().waitFor({ state: 'hidden' }).catch(() => {});
}

/** A button whose text reads `text` (Element pads some: '确 定'), inside `scope`. */
export function button(scope, text) {
  return scope.locator('button').filter({ hasText: exactly(text) });
}

/** The `el-message-box` confirm showing `text`: clicks its primary button, waits until it closes. */
export async function confirmBox(page, text) {
  const box = page.locator('.el-message-box').filter({ hasText: text }).filter({ visible: true });
  await box.waitFor();
  await box.locator('.el-message-box__btns .el-button--primary').click();
  await box.waitFor({ state: 'hidden' });
}

/** The visible dialog titled `title`. */
export function dialog(page, title) {
  return page.locator('.el-dialog').filter({ has: page.locator('.el-dialog__title', { hasText: exactly(title) }) }).filter({ visible: true });
}

/** Runs `action` and resolves the toast it caused ({type, text}). */
export async function toastOf(page, action) {
  const mark = await toastMark(page);
  await action();
  return nextToast(page, mark);
}

/** Rows of the page's main table (`.app-main .el-table`) containing `text`. */
export function rows(page, text) {
  const all = page.locator('.app-main .el-table__body-wrapper tr.el-table__row');
  return text === undefined ? all : all.filter({ hasText: text });
}

/**
 * The next response of `/api/<apiPath>` on `page`. The promise is safe to leave unawaited
 * when an earlier assertion fails (its rejection is handled); awaiting it still throws.
 */
export function responseTo(page, apiPath) {
  const p = page.waitForResponse((r) => new URL(r.url()).pathname === `/api/${apiPath}`);
  p.catch(() => {});
  return p;
}

/**
 * Opens `#/<route>` in a new tab of `ctx` and waits for the given `/api/...` loads; throws at
 * once when one of them is an HTTP error (the page cannot work; say which call).
 */
export async function openRoute(ctx, route, loads = []) {
  const page = await ctx.newPage();
  const waits = loads.map((p) => responseTo(page, p));
  await page.goto(`${STOCK_BASE}/#/${route}`);
  const failed = (await Promise.all(waits)).filter((r) => r.status() >= 400);
  if (failed.length) {
    throw new Error(`#/${route}: ${failed.map((r) => `${r.request().method()} ${new URL(r.url()).pathname} answered ${r.status()}`).join('; ')}`);
  }
  await settled(page);
  return page;
}

/** Types `name` into the list page's search box (placeholder `placeholder`) and queries. */
export async function search(page, placeholder, name, apiPath) {
  await page.getByPlaceholder(placeholder).fill(name);
  const answered = responseTo(page, apiPath);
  await button(page.locator('.tableBar'), '查询').click();
  await answered;
  await settled(page);
}

/** Uploads `png` through the page's `ImgUpload` (el-upload → POST /api/common/upload). */
export async function upload(page, png, name = 'dish.png') {
  const answered = responseTo(page, 'common/upload');
  await page.locator('.avatar-uploader input[type=file]').setInputFiles({ name, mimeType: 'image/png', buffer: png });
  return answered;
}

/** Resolves the uploaded picture's {src, width} once the page shows it (width 0 = broken). */
export async function shownImage(page) {
  const img = page.locator('.avatar-uploader img.avatar');
  await img.waitFor();
  await page.waitForFunction((el) => el.complete, await img.elementHandle());
  return img.evaluate((el) => ({ src: el.src, width: el.naturalWidth }));
}

let crcTable;
function crc32(buf) {
  if (!crcTable) {
    crcTable = new Uint32Array(256).map((_, n) => {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      return c >>> 0;
    });
  }
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A real `w`×`h` RGB PNG of one colour with a darker diagonal (not a stub file). */
export function makePng(w = 200, h = 200, [r, g, b] = [240, 160, 40]) {
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    const row = y * (w * 3 + 1);
    for (let x = 0; x < w; x++) {
      const dark = Math.abs(x - y) < 8 ? 0.5 : 1;
      raw.set([r * dark, g * dark, b * dark], row + 1 + x * 3);
    }
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0); ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/**
 * The entry names of a zip file, from its central directory (an xlsx is a zip holding
 * `[Content_Types].xml` and `xl/workbook.xml`). Throws when `buf` is not a zip.
 */
export function zipEntries(buf) {
  const eocd = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (buf.readUInt32LE(0) !== 0x04034b50 || eocd < 0) throw new Error(`not a zip file (starts ${buf.subarray(0, 16).toString('hex')})`);
  const count = buf.readUInt16LE(eocd + 10);
  let at = buf.readUInt32LE(eocd + 16);
  const names = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(at) !== 0x02014b50) throw new Error('broken zip central directory');
    const nameLen = buf.readUInt16LE(at + 28);
    const extra = buf.readUInt16LE(at + 30);
    const comment = buf.readUInt16LE(at + 32);
    names.push(buf.subarray(at + 46, at + 46 + nameLen).toString('utf8'));
    at += 46 + nameLen + extra + comment;
  }
  return names;
}
